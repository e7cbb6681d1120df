"""Items from a file: a client uploads CSV or JSON Lines to its order (docs/items.md)."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from flask import current_app, request
from flask.views import MethodView
from sqlalchemy.orm import Session

from marketplace.db import db, unit_of_work
from marketplace.errors import DomainError, Invalid
from marketplace.identity.auth import BEARER_AUTH, current_actor
from marketplace.orders.import_schemas import ItemImportArgs, ItemImportHeaders, ItemImportOut
from marketplace.orders.imports import import_items, item_schema_to_import, spool_items
from marketplace.orders.item_files import CSV, JSON_LINES
from marketplace.web import Blueprint

blp = Blueprint("items", __name__, url_prefix="/api/v1", description="Items from files")

FORMATS = {
    "text/csv": CSV,
    "application/x-ndjson": JSON_LINES,
    "application/jsonl": JSON_LINES,
}
EXTENSIONS = {".csv": CSV, ".jsonl": JSON_LINES, ".ndjson": JSON_LINES}


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"


_FILE = {"type": "string", "format": "binary"}
_BODY = {
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        "application/x-ndjson": {"schema": {"type": "string"}},
        "multipart/form-data": {
            "schema": {"type": "object", "required": ["file"], "properties": {"file": _FILE}}
        },
    },
}


@blp.route("/orders/<int:order_id>/items")
class OrderItems(MethodView):
    @blp.doc(security=BEARER_AUTH, requestBody=_BODY)
    @blp.arguments(ItemImportArgs, location="query")
    @blp.arguments(ItemImportHeaders, location="headers")
    @blp.response(201, ItemImportOut)
    @blp.alt_response(413, description="More rows or bytes than one upload may hold.")
    @blp.alt_response(415, description="Not CSV, JSON Lines or a multipart file of either.")
    def post(self, args, headers, order_id):
        """Add items to your draft or published order from a CSV or JSON Lines file

        One item a row: `ref` and the task type's item fields (CSV columns or
        JSON keys). The whole file goes in, or nothing does: 422 `invalid_rows`
        lists the first 100 bad rows by row, line and field. On a published
        order the items become new batches, released by the order's next drop
        (or at once: then teams hear `drop.released`). The body is read in full
        before anything is written (nothing waits on a slow upload).
        """
        actor = current_actor()
        with _reading() as session:  # before the body is read: 404 and 403 cost no upload
            item_schema = item_schema_to_import(session, actor, order_id)
        config = current_app.config
        # This endpoint alone takes bodies past MAX_CONTENT_LENGTH: its rows are read as
        # they come, to disk.
        request.max_content_length = config["ITEMS_UPLOAD_MAX_BYTES"]
        fmt, stream = _upload()
        with (
            spool_items(
                stream,
                fmt=fmt,
                item_schema=item_schema,
                max_rows=config["ITEMS_IMPORT_MAX_ROWS"],
                max_bytes=config["ITEMS_UPLOAD_MAX_BYTES"],
            ) as spool,
            unit_of_work() as session,  # the write lock, once the whole body is in
        ):
            record, replayed = import_items(
                session,
                actor,
                order_id,
                spool,
                on_duplicate=args["on_duplicate"],
                idempotency_key=headers["idempotency_key"],
            )
        return record, 201, {"Idempotent-Replayed": "true"} if replayed else {}


@contextmanager
def _reading() -> Iterator[Session]:
    """A read-only transaction (on SQLite `BEGIN`, not the write lock) that ends before
    the body is read; the token lookup's transaction ends first, for the same reason."""
    session = db.session
    session.rollback()
    session.connection(execution_options={"read_only": True})
    try:
        yield session
    finally:
        session.rollback()  # it wrote nothing


def _upload() -> tuple[str, BinaryIO]:
    """The body's format and its bytes: the request's own, or its multipart `file`."""
    _check_charset(request.mimetype_params)
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise Invalid("Send the items as the form's `file` field.", code="file_missing")
        _check_charset(upload.mimetype_params)
        name = (upload.filename or "").lower()
        fmt = FORMATS.get(upload.mimetype) or next(
            (f for ext, f in EXTENSIONS.items() if name.endswith(ext)), None
        )
        if fmt is None:
            raise _unsupported()
        return fmt, upload.stream
    if request.mimetype not in FORMATS:
        raise _unsupported()
    return FORMATS[request.mimetype], request.stream


def _check_charset(params: dict[str, str]) -> None:
    charset = params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(
            f"Items are UTF-8 text, not {charset}: save the file as UTF-8.",
            code="unsupported_charset",
        )


def _unsupported() -> UnsupportedMediaType:
    return UnsupportedMediaType(
        "Send items as text/csv, application/x-ndjson (JSON Lines), or a multipart/form-data "
        "`file` of either (by its type or a .csv, .jsonl or .ndjson name).",
        accepted=[*sorted(FORMATS), "multipart/form-data"],
    )
