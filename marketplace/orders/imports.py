"""Items added to an order from a file (CSV or JSON Lines), streamed: the whole file or nothing.

Rows are read one at a time (orders/item_files.py), checked against the task
type's item schema and the order's refs, and written in chunks (COPY on
PostgreSQL); memory holds a chunk and a digest table of the order's refs (at
most 16 bytes a ref), never the file. A refusal lists the first `MAX_BAD_ROWS`
bad rows and the unit of work rolls every chunk back. On a published order the
new items are cut into new regular batches as they are written: released by the
order's next drop (or at once, without a plan or with no drop left), at the
order's price.

The order stays locked while the file is read (imports of one order queue); on
SQLite, whose writers take the whole database, other writes wait for the upload.
"""

import hashlib
import json
from array import array
from collections.abc import Callable
from typing import Any, BinaryIO

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.errors import Conflict, Invalid
from marketplace.identity.actor import Actor
from marketplace.identity.models import Role
from marketplace.identity.standing import refuse_if_held
from marketplace.orders.claims import lock_order
from marketplace.orders.drops import occurrences
from marketplace.orders.events import items_added
from marketplace.orders.item_files import Row, RowProblem, Source, TooLarge, read_rows
from marketplace.orders.models import (
    Batch,
    BatchKind,
    BatchStatus,
    Item,
    ItemImport,
    Order,
    OrderStatus,
)
from marketplace.orders.service import get_order
from marketplace.orders.task_types import get_task_type

MAX_BAD_ROWS = 100
# Items are written this many at a time, or sooner once this many bytes were read
# since the last write: a chunk of long rows stays small too.
CHUNK_ROWS = 5000
CHUNK_BYTES = 1024 * 1024
MAX_REF_LENGTH = 2048
ON_DUPLICATE = ("refuse", "skip")
ITEM_COLUMNS = ("order_id", "seq", "ref", "payload", "batch_id")
_to_json = json.JSONEncoder(ensure_ascii=False).encode


def order_to_import_into(session: Session, actor: Actor, order_id: int) -> Order:
    """The order items may be added to, locked until the unit of work ends (imports of
    one order queue: one numbering at a time): the caller's client's, draft or
    published (404 for another's, 403 for a role other than its client admin, 409
    while the client is on credit hold). Called before the file is read."""
    order = get_order(session, actor, order_id)
    actor.require(Role.CLIENT_ADMIN, party_id=order.client_party_id)
    lock_order(session, order.id)
    refuse_if_held(session, order.client_party_id)
    return order


def import_items(
    session: Session,
    actor: Actor,
    order: Order,
    stream: BinaryIO,
    *,
    fmt: str,
    max_rows: int,
    max_bytes: int,
    on_duplicate: str = "refuse",
    idempotency_key: str | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[ItemImport, bool]:
    """Add every item of the file to the order (`order_to_import_into`), or none.

    Returns the import and whether it is a replay: an earlier import of the same
    `idempotency_key` on this order with the same content and options is
    answered again and nothing is written (409 `idempotency_key_reused` for other
    content). 422 `invalid_rows` lists up to 100 bad rows (row, line, field);
    a ref already in the order or earlier in the file is one of them, unless
    `on_duplicate` is "skip" (then counted). More than `max_rows` rows: 413
    `too_many_rows`; more than `max_bytes`: 413 `upload_too_large`. `on_progress`
    hears the bytes read so far.
    """
    source = Source(stream, max_bytes)
    if idempotency_key is not None:
        earlier = session.scalar(
            select(ItemImport).where(
                ItemImport.order_id == order.id, ItemImport.idempotency_key == idempotency_key
            )
        )
        if earlier is not None:
            if _request_digest(source.drain(), fmt, on_duplicate) != earlier.request_sha256:
                raise Conflict(
                    "This Idempotency-Key was used for another upload to this order.",
                    code="idempotency_key_reused",
                    import_id=earlier.id,
                )
            return earlier, True
    checker = _Checker(get_task_type(session, order.task_type).item_schema)
    writer = _Writer(session, order)
    refs = _known_refs(session, order.id)
    bad: list[dict[str, Any]] = []
    rows = skipped = 0
    for row in read_rows(source, fmt, checker.schema):
        rows = row.number
        if rows > max_rows:
            raise TooLarge(
                f"An upload holds at most {max_rows} items.",
                code="too_many_rows",
                max_rows=max_rows,
            )
        problem = row.fields if isinstance(row.fields, RowProblem) else checker.problem(row)
        if problem is None and not refs.add(row.ref):
            if on_duplicate == "skip":
                skipped += 1
                continue
            problem = RowProblem("ref", "duplicate_ref", "The order has this ref already.")
        if problem is not None:
            bad.append(_bad_row(row, problem))
            if len(bad) == MAX_BAD_ROWS:
                break
        elif not bad:  # once a row is bad nothing will be kept: only look for more
            writer.add(row.ref, row.fields or None, source.size)
        if on_progress and rows % CHUNK_ROWS == 0:
            on_progress(source.size)
    if bad:
        more = " (the first ones: reading stopped there)" if len(bad) == MAX_BAD_ROWS else ""
        raise Invalid(
            f"{len(bad)} rows are not valid items{more}; nothing was added.",
            code="invalid_rows",
            rows=bad,
        )
    added, batches = writer.finish()
    order.quantity += added
    if added:
        items_added.send(session, order=order, items=added)
    record = ItemImport(
        order_id=order.id,
        created_by_user_id=actor.user_id,
        idempotency_key=idempotency_key,
        request_sha256=_request_digest(source.drain(), fmt, on_duplicate),
        format=fmt,
        rows_read=rows,
        items_added=added,
        duplicates_skipped=skipped,
        batches_created=batches,
        quantity=order.quantity,
    )
    session.add(record)
    session.flush()
    if on_progress:
        on_progress(source.size)
    return record, False


def _request_digest(body_sha256: str, fmt: str, on_duplicate: str) -> str:
    return hashlib.sha256(f"{fmt}\n{on_duplicate}\n{body_sha256}".encode()).hexdigest()


class _RefDigests:
    """The refs seen, as 8-byte digests in an open-addressing table: at most 16 bytes a
    ref (a set of ints takes about 80), whatever the refs' length. The digest is
    Python's own string hash (SipHash, keyed afresh in each process: nobody can make
    two refs collide on purpose, and it is computed once per string); two refs sharing
    one by chance (about 1 in 10^7 for a million) would read as a duplicate."""

    def __init__(self) -> None:
        self.slots = array("Q", bytes(8 * 1024))
        self.count = 0

    def add(self, ref: str) -> bool:
        """Remember the ref; False if it was there already."""
        if 2 * (self.count + 1) > len(self.slots):
            self._grow()
        return self._put(hash(ref) & 0xFFFF_FFFF_FFFF_FFFF or 1)

    def _put(self, digest: int) -> bool:
        slots, mask = self.slots, len(self.slots) - 1
        at = digest & mask
        while slots[at]:
            if slots[at] == digest:
                return False
            at = (at + 1) & mask
        slots[at] = digest
        self.count += 1
        return True

    def _grow(self) -> None:
        old, self.slots, self.count = self.slots, array("Q", bytes(16 * len(self.slots))), 0
        for digest in old:
            if digest:
                self._put(digest)


def _known_refs(session: Session, order_id: int) -> _RefDigests:
    refs = _RefDigests()
    known = select(Item.ref).where(Item.order_id == order_id).execution_options(yield_per=10_000)
    for ref in session.scalars(known):
        refs.add(ref)
    return refs


def _bad_row(row: Row, problem: RowProblem) -> dict[str, Any]:
    return {
        "row": row.number,
        "line": row.line,
        "field": problem.field,
        "code": problem.code,
        "message": problem.message,
    }


class _Checker:
    """A row's ref and its fields against the item schema. Valid flat payloads are
    remembered (a data set's images share a few sizes): each is checked once."""

    MEMORY = 4096

    def __init__(self, schema: dict | None) -> None:
        self.schema = schema
        self.validator = Draft202012Validator(schema) if schema is not None else None
        self.valid: set[tuple] = set()

    def problem(self, row: Row) -> RowProblem | None:
        """What is wrong with the row's ref or its fields (the item's payload), if anything."""
        ref, payload = row.ref, row.fields
        if not isinstance(ref, str) or not ref.strip() or len(ref) > MAX_REF_LENGTH:
            return RowProblem(
                "ref", "invalid_ref", f"A ref is text of 1 to {MAX_REF_LENGTH} characters."
            )
        if self.validator is None:
            return None
        key = _flat_key(payload)
        if key is not None and key in self.valid:
            return None
        error = best_match(self.validator.iter_errors(payload))
        if error is None:
            if key is not None and len(self.valid) < self.MEMORY:
                self.valid.add(key)
            return None
        field = "/".join(map(str, error.absolute_path)) or None
        if error.validator == "required" and field is None:
            field = next((name for name in error.validator_value if name not in payload), None)
        return RowProblem(field, "invalid_field", error.message)


def _flat_key(payload: dict[str, Any]) -> tuple | None:
    """A hashable key of a payload of plain values (typed: True is not 1), else None."""
    key = (tuple(payload.items()), tuple(map(type, payload.values())))
    try:
        hash(key)
    except TypeError:
        return None
    return key


class _Writer:
    """Writes accepted items a chunk at a time, numbered after the order's last item; on
    a published order it cuts them into new regular batches of the order's size."""

    def __init__(self, session: Session, order: Order) -> None:
        self.session = session
        self.order = order
        self.now = clock.now()
        self.next_seq = (
            session.scalar(select(func.max(Item.seq)).where(Item.order_id == order.id)) or 0
        ) + 1
        self.published = order.status == OrderStatus.PUBLISHED
        self.last_batch_seq, self.scheduled = 0, False
        if self.published:
            self.last_batch_seq = (
                session.scalar(select(func.max(Batch.seq)).where(Batch.order_id == order.id)) or 0
            )
            plan = order.release_plan
            # Like items back from an expired lease: the next drop takes them, or, with
            # no plan or no drop left, they are on the board at once.
            self.scheduled = (
                plan is not None and next(occurrences(plan, self.now), None) is not None
            )
        self.batch_ids: list[int] = []
        self.added = 0
        self.pending: list[tuple[str, dict[str, Any] | None]] = []
        self.flushed_at = 0  # bytes of the file read at the last write
        self.copy = session.get_bind().dialect.name == "postgresql"

    def add(self, ref: str, payload: dict[str, Any] | None, read: int) -> None:
        self.pending.append((ref, payload))
        if len(self.pending) >= CHUNK_ROWS or read - self.flushed_at >= CHUNK_BYTES:
            self.flushed_at = read
            self._flush()

    def finish(self) -> tuple[int, int]:
        """Write what is left; the items added and the batches cut."""
        self._flush()
        if self.batch_ids:
            last = self.added - (len(self.batch_ids) - 1) * self.order.batch_size
            self.session.execute(
                update(Batch).where(Batch.id == self.batch_ids[-1]).values(item_count=last)
            )
        return self.added, len(self.batch_ids)

    def _flush(self) -> None:
        if not self.pending:
            return
        size = self.order.batch_size
        if self.published:
            self._cut_batches((self.added + len(self.pending) - 1) // size + 1)
        rows = [
            (
                self.order.id,
                self.next_seq + n,
                ref,
                payload,
                self.batch_ids[(self.added + n) // size] if self.published else None,
            )
            for n, (ref, payload) in enumerate(self.pending)
        ]
        self._insert(rows)
        self.next_seq += len(rows)
        self.added += len(rows)
        self.pending = []

    def _cut_batches(self, wanted: int) -> None:
        first_seq = self.last_batch_seq + 1
        new = [
            {
                "order_id": self.order.id,
                "seq": first_seq + n,
                "kind": BatchKind.REGULAR,
                "item_count": self.order.batch_size,
                "status": BatchStatus.SCHEDULED if self.scheduled else BatchStatus.RELEASED,
                "released_at": None if self.scheduled else self.now,
                "created_at": self.now,
            }
            for n in range(wanted - len(self.batch_ids))
        ]
        if new:
            ids = self.session.scalars(
                insert(Batch).returning(Batch.id, sort_by_parameter_order=True), new
            )
            self.batch_ids += list(ids)
            self.last_batch_seq += len(new)

    def _insert(self, rows: list[tuple]) -> None:
        if not self.copy:
            # The table, not the mapped class: a plain executemany, no ORM bookkeeping.
            self.session.execute(
                insert(Item.__table__), [dict(zip(ITEM_COLUMNS, row, strict=True)) for row in rows]
            )
            return
        # COPY is several times faster than a multi-row INSERT for thousands of rows.
        connection = self.session.connection().connection.dbapi_connection
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY items ({', '.join(ITEM_COLUMNS)}) FROM STDIN") as copy,
        ):
            for order_id, seq, ref, payload, batch_id in rows:
                text = None if payload is None else _to_json(payload)
                copy.write_row((order_id, seq, ref, text, batch_id))
