"""What an import of items from a file takes (besides the file) and answers."""

from marshmallow import Schema, fields, validate

from marketplace.orders.imports import ON_DUPLICATE


class ItemImportArgs(Schema):
    on_duplicate = fields.String(
        load_default="refuse",
        validate=validate.OneOf(ON_DUPLICATE),
        metadata={
            "description": "A row whose ref the order (or the file, earlier) has already: "
            "`refuse` the upload (422, listing the rows) or `skip` the row (counted)."
        },
    )


class ItemImportHeaders(Schema):
    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        load_default=None,
        validate=validate.Length(min=1, max=255),
        metadata={
            "description": "The same key and content again replays the first answer (and "
            "writes nothing); the same key with other content is refused (409)."
        },
    )


class ItemImportOut(Schema):
    id = fields.Integer(metadata={"description": "The import's id."})
    order_id = fields.Integer()
    format = fields.String(metadata={"description": "`csv` or `jsonl`."})
    rows_read = fields.Integer()
    items_added = fields.Integer()
    duplicates_skipped = fields.Integer()
    batches_created = fields.Integer(
        metadata={"description": "New batches of a published order, released by its next drop."}
    )
    quantity = fields.Integer(metadata={"description": "The order's quantity, items added."})
    created_at = fields.DateTime()
