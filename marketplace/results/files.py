"""The files an export streams: JSON Lines and CSV here, COCO in coco.py."""

import csv
import io
import json
import logging
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Connection, Engine

from marketplace.results.coco import coco_chunks
from marketplace.results.exports import Export, decided_at, json_string, parsed, rows

log = logging.getLogger(__name__)

MEDIA_TYPES = {
    "jsonl": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
    "coco": "application/json",
}
# The columns of a CSV export around the result's own fields.
CSV_LEADING = ("ref", "batch_id")
CSV_TRAILING = ("status", "decided_at", "reason_code", "reason", "annotator")


def jsonl_chunks(connection: Connection, export: Export) -> Iterator[str]:
    """One JSON object a line: the item, its result and the decision on it. The line is
    written around the JSON the database holds (valid, as it was stored), not re-encoded."""
    name = export.pseudonym
    for chunk in rows(connection, export.query):
        yield "".join(
            f'{{"ref":{json_string(ref)},"item":{payload or "null"},"result":{result or "null"},'
            f'"status":"{status}","decided_at":{json_string(decided_at(at))},'
            f'"reason_code":{json_string(code)},"reason":{json_string(reason)},'
            f'"annotator":"{name(user)}","batch_id":{batch},"submission_id":{id_}}}\n'
            for id_, batch, status, at, code, reason, user, result, ref, payload in chunk
        )


def _cell(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value


def _csv_text(lines: Iterable[Iterable[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(lines)
    return buffer.getvalue()


def csv_chunks(connection: Connection, export: Export) -> Iterator[str]:
    """A header, then one row an item: its ref and batch, the result's fields (a list as
    JSON), the decision and the annotator's pseudonym."""
    yield _csv_text([(*CSV_LEADING, *export.csv_fields, *CSV_TRAILING)])
    for chunk in rows(connection, export.query):
        yield _csv_text(
            (
                row.ref,
                row.batch_id,
                *(_cell((parsed(row.result) or {}).get(name)) for name in export.csv_fields),
                row.status,
                decided_at(row.reviewed_at),
                row.reason_code,
                row.reason,
                export.pseudonym(row.annotator_user_id),
            )
            for row in chunk
        )


WRITERS = {"jsonl": jsonl_chunks, "csv": csv_chunks, "coco": coco_chunks}


def stream(engine: Engine, export: Export) -> Iterator[bytes]:
    """The export's bytes, chunk by chunk, read in one read-only transaction of its own
    (the request's is over by then; one snapshot for COCO's two passes) that ends with
    the stream, however it ends. A failure midway is logged and raised: the server then
    cuts the response short, so a client never takes a truncated file for a whole one
    (the chunked body never gets its end)."""
    options: dict[str, Any] = {"read_only": True}
    if engine.dialect.name == "postgresql":
        options |= {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    try:
        with engine.connect().execution_options(**options) as connection:
            for text in WRITERS[export.format](connection, export):
                yield text.encode()
    except GeneratorExit:  # the client went away; the connection was closed on the way out
        raise
    except Exception:
        log.exception("The export of order %s's results failed midway", export.order_id)
        raise
