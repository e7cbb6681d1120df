"""Exports of an order's results: who may read which, and the rows they hold.

An export is decided (who reads what, which items are held back) in the request's unit
of work; its rows are then read by a stream of its own (files.py, coco.py), over a
server-side cursor in one read-only transaction, so the first bytes leave at once and
memory stays flat however large the order. Nothing here writes.
"""

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Select, Text, cast, select
from sqlalchemy.orm import Session

from marketplace.db import find
from marketplace.errors import Conflict, NotFound
from marketplace.identity.actor import Actor
from marketplace.identity.models import Role
from marketplace.orders.models import Batch, Item, Order
from marketplace.orders.service import get_order
from marketplace.orders.task_types import get_task_type
from marketplace.results.holdback import HeldBack, held_back
from marketplace.workers.models import Submission, SubmissionStatus, Task

FORMATS = ("jsonl", "csv", "coco")
# `status=all`: every decided item, the rejected with their reasons, for the client's audit.
STATUSES = {
    "accepted": (SubmissionStatus.ACCEPTED,),
    "all": (SubmissionStatus.ACCEPTED, SubmissionStatus.REJECTED),
}
# Rows fetched from the cursor at a time: one chunk of the stream.
ROWS_PER_CHUNK = 2000
SCALAR_TYPES = {"string", "integer", "number", "boolean", "null"}


@dataclass(frozen=True)
class Export:
    """An export decided: its rows' query, the result fields of a CSV, what is held back.

    `query` selects `ROW_COLUMNS`, in submission order; `results_query` the same
    submissions' ids and results alone (COCO's boxes); `pseudonym` names an annotator."""

    order_id: int
    format: str
    query: Select
    results_query: Select
    held_back: HeldBack
    csv_fields: tuple[str, ...]
    labels: tuple[str, ...]
    pseudonym: Callable[[int], str]

    @property
    def filename(self) -> str:
        return f"order-{self.order_id}-results.{'json' if self.format == 'coco' else self.format}"


# The result and the item's payload as the JSON text the database holds: JSON Lines copy
# it as it is; decoding it in the driver would be most of the cost of a row.
RESULT_TEXT = cast(Submission.result, Text).label("result")
PAYLOAD_TEXT = cast(Item.payload, Text).label("payload")
# In this order: the JSON Lines writer unpacks a row by position.
ROW_COLUMNS = (
    Submission.id,
    Submission.batch_id,
    Submission.status,
    Submission.reviewed_at,
    Submission.reason_code,
    Submission.reason,
    Submission.annotator_user_id,
    RESULT_TEXT,
    Item.ref,
    PAYLOAD_TEXT,
)


def pseudonyms(secret: str, order_id: int) -> Callable[[int], str]:
    """An annotator's name in the exports of one order: the same in every export of it,
    another in every other order, and nothing that leads back to her."""
    key = secret.encode()
    known: dict[int, str] = {}

    def name(user_id: int) -> str:
        if user_id not in known:
            digest = hmac.new(key, f"{order_id}:{user_id}".encode(), hashlib.sha256)
            known[user_id] = "a-" + digest.hexdigest()[:12]
        return known[user_id]

    return name


def _reader_scope(actor: Actor, order: Order) -> ColumnElement[bool] | None:
    """Which submissions of the order the actor reads: all for its client and admins (None),
    a team owner its own teams' work; 403 for a team's other roles."""
    if actor.is_platform_admin or actor.has(Role.CLIENT_ADMIN, order.client_party_id):
        return None
    teams = actor.party_ids(Role.TEAM_OWNER)
    if not teams:
        actor.require(Role.CLIENT_ADMIN, Role.TEAM_OWNER)
    return Submission.team_party_id.in_(teams)


def _is_flat(schema: Any) -> bool:
    """A field a CSV cell holds: a scalar, or a list of scalars (written as JSON)."""
    if not isinstance(schema, dict):
        return False
    if "enum" in schema or "const" in schema:
        values = schema.get("enum", [schema.get("const")])
        return all(not isinstance(value, dict | list) for value in values)
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    if None not in types and set(types) <= SCALAR_TYPES:
        return True
    return (
        types == ["array"]
        and _is_flat(schema.get("items"))
        and schema["items"].get("type") != "array"
    )


def csv_fields(result_schema: dict) -> tuple[str, ...]:
    """The result's top-level fields, one CSV column each; 409 `format_not_flat` when a
    field holds more than a cell can (objects, such as a box)."""
    properties = _schema(result_schema.get("properties"))
    if not properties or not all(_is_flat(schema) for schema in properties.values()):
        raise Conflict(
            "This order's results are not flat: download them as jsonl (or coco for boxes).",
            code="format_not_flat",
        )
    return tuple(properties)


def _schema(value: Any) -> dict:
    """A subschema as an object: JSON Schema also allows `true` and `false` there."""
    return value if isinstance(value, dict) else {}


def box_labels(result_schema: dict) -> tuple[str, ...]:
    """The labels a box may have, when the type lists them (COCO's categories, in order);
    409 `format_not_supported` unless the results are boxes of numbers, labelled by text
    if at all (bbox_2d's shape)."""
    boxes = _schema(_schema(result_schema.get("properties")).get("boxes"))
    fields = _schema(_schema(boxes.get("items")).get("properties"))
    numbers = ("number", "integer")
    edges = [_schema(fields.get(edge)).get("type") for edge in ("x", "y", "w", "h")]
    label = _schema(fields.get("label"))
    if (
        boxes.get("type") != "array"
        or not all(edge in numbers for edge in edges)
        or label.get("type", "string") != "string"
    ):
        raise Conflict(
            "COCO is for boxes (task type bbox_2d): download these results as jsonl.",
            code="format_not_supported",
        )
    return tuple(label.get("enum", ()))


def prepare_export(
    session: Session,
    actor: Actor,
    order_id: int,
    *,
    format: str,
    status: str,
    batch_id: int | None,
    since: datetime | None,
    today: date,
    secret: str,
) -> Export:
    """Decide an export of the order's results for the actor, before a byte is sent.

    The client (and platform admins) read every decided item of the order, a team owner
    its own teams' work; others 404 (no such order) or 403 (a team's other roles). The
    client's export leaves out what `held_back` holds back while it is on credit hold.
    404 `batch_not_found` for a batch of another order; 409 for a format the order's
    task type has no shape for."""
    order = get_order(session, actor, order_id)
    scope = _reader_scope(actor, order)
    result_schema = get_task_type(session, order.task_type).result_schema
    fields = csv_fields(result_schema) if format == "csv" else ()
    labels = box_labels(result_schema) if format == "coco" else ()
    shown = [Submission.order_id == order.id]
    if scope is not None:
        shown.append(scope)
    if batch_id is not None:
        batch = find(session, Batch, batch_id)
        if batch is None or batch.order_id != order.id:
            raise NotFound(f"No batch {batch_id} in order {order.id}.", code="batch_not_found")
        shown.append(Submission.batch_id == batch_id)
    if since is not None:
        shown.append(Submission.reviewed_at > since)
    held = (
        held_back(session, order, shown, today=today)
        if actor.has(Role.CLIENT_ADMIN, order.client_party_id)
        else HeldBack()
    )
    where = (*shown, Submission.status.in_(STATUSES[status]), held.released())
    query = (
        select(*ROW_COLUMNS)
        .join(Task, Task.id == Submission.task_id)
        .join(Item, Item.id == Task.item_id)
        .where(*where)
        .order_by(Submission.id)
    )
    results = select(Submission.id, RESULT_TEXT).where(*where).order_by(Submission.id)
    return Export(
        order.id, format, query, results, held, fields, labels, pseudonyms(secret, order.id)
    )


def rows(connection: Connection, query: Select) -> Iterator[list[Row]]:
    """The query's rows, a chunk at a time, from a server-side cursor."""
    result = connection.execution_options(stream_results=True, yield_per=ROWS_PER_CHUNK).execute(
        query
    )
    yield from result.partitions()


def json_string(value: str | None) -> str:
    """Text as a JSON string (null for None), as json.dumps would write it, only faster."""
    return "null" if value is None else encode_basestring(value)


def parsed(text: str | None) -> Any:
    """A JSON column read as text (`RESULT_TEXT`, `PAYLOAD_TEXT`), as Python values."""
    return None if text is None else json.loads(text)


def decided_at(moment: datetime | None) -> str | None:
    """A decision's moment as the files write it: ISO 8601 with its offset (UTC)."""
    return None if moment is None else moment.isoformat()
