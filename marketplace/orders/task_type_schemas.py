"""What a client posts to define a task type, and how a task type reads."""

from marshmallow import Schema, fields, validate

from marketplace.orders.result_rules import NAME_PATTERN
from marketplace.web import FreeJSON, not_blank


class TaskTypeIn(Schema):
    client_id = fields.Integer(
        strict=True,
        load_default=None,
        metadata={"description": "Needed only if you administer several clients."},
    )
    key = fields.String(
        required=True,
        validate=validate.Regexp(NAME_PATTERN, error="Lowercase letters, digits and _."),
        metadata={"example": "polygon_2d"},
    )
    name = fields.String(required=True, validate=[validate.Length(min=1, max=200), not_blank])
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    result_schema = FreeJSON(
        keys=fields.String(),
        required=True,
        metadata={"description": "A JSON Schema (2020-12) of a result."},
    )
    item_schema = FreeJSON(
        keys=fields.String(),
        load_default=None,
        metadata={"description": "A JSON Schema of each item's payload, checked at posting."},
    )
    options_schema = FreeJSON(
        keys=fields.String(),
        load_default=None,
        metadata={"description": "A JSON Schema of the task options an order sets."},
    )
    rules = fields.List(
        FreeJSON(keys=fields.String()),
        load_default=list,
        metadata={"description": "Checks across result, item and order: see the README."},
    )
    reason_codes = fields.List(
        fields.String(validate=validate.Regexp(NAME_PATTERN)),
        required=True,
        validate=validate.Length(min=1, max=50),
        metadata={"example": ["wrong_shape", "other"]},
    )


class TaskTypeOut(Schema):
    key = fields.String()
    name = fields.String()
    description = fields.String()
    client_id = fields.Integer(attribute="client_party_id", allow_none=True)
    result_schema = fields.Dict()
    item_schema = fields.Dict(allow_none=True)
    options_schema = fields.Dict(allow_none=True)
    rules = fields.List(fields.Dict())
    reason_codes = fields.List(fields.String())
