"""Items added to an order from a file (CSV or JSON Lines): the whole file or nothing.

An upload goes in two passes, so that no write lock waits on the network:

1. `item_schema_to_import` checks, in a read-only transaction, that the actor may
   add items to the order (404, 403) before a byte of the body is read.
2. `spool_items` reads the body as it comes, without any lock: rows are parsed one at
   a time (orders/item_files.py) and checked against the task type's item schema;
   each row, parsed, goes to a temporary file (memory up to `SPOOL_IN_MEMORY`, then
   disk). The byte and row limits (413) and a file that cannot be read (422) are
   answered here.
3. `import_items`, in the request's write unit of work, locks the order, checks the
   actor again, answers an idempotent replay, refuses a client on credit hold, and
   reads the spool back from local disk: each ref against the order's refs, and the
   items written in chunks (COPY on PostgreSQL).

Memory holds a chunk and a digest table of the order's refs (at most 16 bytes a
ref), never the file. A refusal lists the first `MAX_BAD_ROWS` bad rows and the
unit of work rolls every chunk back. On a published order the new items are cut
into new regular batches as they are written: released by the order's next drop,
or at once (without a plan, or with no drop left: the teams hear `drop.released`),
at the order's price.
"""

import hashlib
import json
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, BinaryIO

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.errors import Conflict, Invalid
from marketplace.identity.actor import Actor
from marketplace.identity.models import Role
from marketplace.identity.standing import hold_client, refuse_if_held
from marketplace.orders.announce import drop_taken
from marketplace.orders.claims import lock_order
from marketplace.orders.drops import occurrences
from marketplace.orders.events import items_added
from marketplace.orders.funding import require_funds
from marketplace.orders.item_checks import ItemChecker, RefDigests
from marketplace.orders.item_files import RowProblem, Source, TooLarge, read_rows
from marketplace.orders.models import (
    Batch,
    BatchKind,
    BatchStatus,
    Drop,
    DropStatus,
    Item,
    ItemImport,
    Order,
    OrderStatus,
)
from marketplace.orders.service import get_order
from marketplace.orders.task_types import get_task_type

MAX_BAD_ROWS = 100
# Items are written this many at a time, or sooner once their rows make this many
# bytes: a chunk of long rows stays small too.
CHUNK_ROWS = 5000
CHUNK_BYTES = 1024 * 1024
# A spool this small stays in memory; a larger one goes to a temporary file.
SPOOL_IN_MEMORY = 1024 * 1024
ON_DUPLICATE = ("refuse", "skip")
ITEM_COLUMNS = ("order_id", "seq", "ref", "payload", "batch_id")
_to_json = json.JSONEncoder(ensure_ascii=False).encode


def _order_to_import_into(session: Session, actor: Actor, order_id: int) -> Order:
    order = get_order(session, actor, order_id)
    actor.require(Role.CLIENT_ADMIN, party_id=order.client_party_id)
    if order.status == OrderStatus.PUBLISHED:
        # Its items reach teams: as for publishing, the address must be verified. A
        # draft's items reach nobody yet.
        actor.require_verified()
    return order


def item_schema_to_import(session: Session, actor: Actor, order_id: int) -> dict | None:
    """The item schema the file's rows must match, once the actor may add items to the
    order: its client's admin's, draft or published (404 for another's order, 403 for
    another role, 403 `email_not_verified` for a published order). Takes no lock:
    `import_items` checks again under its own."""
    order = _order_to_import_into(session, actor, order_id)
    return get_task_type(session, order.task_type).item_schema


@dataclass
class Spool:
    """An upload read through and parsed (`spool_items`): one JSON line a row, a good
    row as [number, line, ref, payload], a bad one as its `_bad_row` object."""

    file: IO[bytes]
    fmt: str
    body_sha256: str
    rows: int
    bad_rows: int

    def entries(self) -> Iterator[tuple[list | dict, int]]:
        """Each row as spooled, with its size in bytes."""
        self.file.seek(0)
        for raw in self.file:
            yield json.loads(raw), len(raw)


@contextmanager
def spool_items(
    stream: BinaryIO,
    *,
    fmt: str,
    item_schema: dict | None,
    max_rows: int,
    max_bytes: int,
    on_progress: Callable[[int], None] | None = None,
) -> Iterator[Spool]:
    """Read the whole body, taking no lock, into a spool deleted on leaving the block.

    Every row is parsed and checked against `item_schema` (its refs against the
    order's come later, in `import_items`); reading rows stops at the `MAX_BAD_ROWS`th
    bad one, but the rest is still read, for the body's digest. More than `max_rows`
    rows: 413 `too_many_rows`; more than `max_bytes`: 413 `upload_too_large`; a file
    that cannot be read at all: 422 (orders/item_files.py). `on_progress` hears the
    bytes read so far.
    """
    source = Source(stream, max_bytes)
    checker = ItemChecker(item_schema)
    rows = bad = 0
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as file:
        for row in read_rows(source, fmt, item_schema):
            rows = row.number
            if rows > max_rows:
                raise TooLarge(
                    f"An upload holds at most {max_rows} items.",
                    code="too_many_rows",
                    max_rows=max_rows,
                )
            problem = row.fields if isinstance(row.fields, RowProblem) else checker.problem(row)
            entry = (
                [row.number, row.line, row.ref, row.fields or None]
                if problem is None
                else _bad_row(row.number, row.line, problem)
            )
            file.write(json.dumps(entry).encode() + b"\n")
            bad += problem is not None
            if bad == MAX_BAD_ROWS:
                break
            if on_progress and rows % CHUNK_ROWS == 0:
                on_progress(source.size)
        body_sha256 = source.drain()
        if on_progress:
            on_progress(source.size)
        yield Spool(file, fmt, body_sha256, rows, bad)


def import_items(
    session: Session,
    actor: Actor,
    order_id: int,
    spool: Spool,
    *,
    on_duplicate: str = "refuse",
    idempotency_key: str | None = None,
) -> tuple[ItemImport, bool]:
    """Add every item of the spooled file to the order, or none, the order locked until
    the unit of work ends (imports of one order queue: one numbering at a time).

    The actor is checked again as in `item_schema_to_import`. Returns the import and
    whether it is a replay: an earlier import of the same `idempotency_key` on this
    order with the same content and options is answered again and nothing is written
    (409 `idempotency_key_reused` for other content), even while the client is on
    credit hold; otherwise a client on hold adds nothing (409 `client_on_credit_hold`).
    422 `invalid_rows` lists up to 100 bad rows (row, line, field); a ref already in
    the order or earlier in the file is one of them, unless `on_duplicate` is "skip"
    (then counted). Items released at once are announced as `drop.released`.
    """
    order = _order_to_import_into(session, actor, order_id)
    # The client before the order, as a drop locks them: items released at once reserve
    # their money under the client's lock.
    hold_client(session, order.client_party_id)
    lock_order(session, order.id)
    request_sha256 = _request_digest(spool.body_sha256, spool.fmt, on_duplicate)
    if idempotency_key is not None:
        earlier = session.scalar(
            select(ItemImport).where(
                ItemImport.order_id == order.id, ItemImport.idempotency_key == idempotency_key
            )
        )
        if earlier is not None:
            if request_sha256 != earlier.request_sha256:
                raise Conflict(
                    "This Idempotency-Key was used for another upload to this order.",
                    code="idempotency_key_reused",
                    import_id=earlier.id,
                )
            return earlier, True
    refuse_if_held(session, order.client_party_id)
    writer = _Writer(session, order)
    refs = _known_refs(session, order.id)
    bad: list[dict[str, Any]] = []
    skipped = 0
    for entry, size in spool.entries():
        if isinstance(entry, dict):
            bad.append(entry)
        elif not refs.add(entry[2]):
            if on_duplicate == "skip":
                skipped += 1
                continue
            problem = RowProblem("ref", "duplicate_ref", "The order has this ref already.")
            bad.append(_bad_row(entry[0], entry[1], problem))
        elif not bad and not spool.bad_rows:  # a file with a bad row keeps nothing
            writer.add(entry[2], entry[3], size)
        if len(bad) == MAX_BAD_ROWS:
            break
    if bad:
        more = " (the first ones: reading stopped there)" if len(bad) == MAX_BAD_ROWS else ""
        raise Invalid(
            f"{len(bad)} rows are not valid items{more}; nothing was added.",
            code="invalid_rows",
            rows=bad,
        )
    added, batches = writer.finish()
    order.quantity += added
    if added and writer.published and not writer.scheduled:
        # Released at once: their money must be there now, or nothing is added.
        require_funds(session, order, 0, "Adding these items")
    if added:
        items_added.send(session, order=order, items=added)
    if batches and writer.published and not writer.scheduled:
        _announce_release(session, order, batches, writer.now)
    record = ItemImport(
        order_id=order.id,
        created_by_user_id=actor.user_id,
        idempotency_key=idempotency_key,
        request_sha256=request_sha256,
        format=spool.fmt,
        rows_read=spool.rows,
        items_added=added,
        duplicates_skipped=skipped,
        batches_created=batches,
        quantity=order.quantity,
    )
    session.add(record)
    session.flush()
    return record, False


def _announce_release(session: Session, order: Order, batches: int, now: datetime) -> None:
    # Told as a plan's drop is, so a team's webhook handler needs nothing new. No Drop
    # row is stored (no plan's occurrence was taken): the event's drop_id is null.
    release = Drop(
        order_id=order.id,
        scheduled_at=now,
        status=DropStatus.RELEASED,
        taken_at=now,
        lateness_seconds=0,
        batch_count=batches,
    )
    drop_taken(session, order, release)


def _request_digest(body_sha256: str, fmt: str, on_duplicate: str) -> str:
    return hashlib.sha256(f"{fmt}\n{on_duplicate}\n{body_sha256}".encode()).hexdigest()


def _known_refs(session: Session, order_id: int) -> RefDigests:
    refs = RefDigests()
    known = select(Item.ref).where(Item.order_id == order_id).execution_options(yield_per=10_000)
    for ref in session.scalars(known):
        refs.add(ref)
    return refs


def _bad_row(number: int, line: int, problem: RowProblem) -> dict[str, Any]:
    return {
        "row": number,
        "line": line,
        "field": problem.field,
        "code": problem.code,
        "message": problem.message,
    }


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
        self.pending_bytes = 0
        self.copy = session.get_bind().dialect.name == "postgresql"

    def add(self, ref: str, payload: dict[str, Any] | None, size: int) -> None:
        """Write the item with the chunk it completes; `size` is its row's, in bytes."""
        self.pending.append((ref, payload))
        self.pending_bytes += size
        if len(self.pending) >= CHUNK_ROWS or self.pending_bytes >= CHUNK_BYTES:
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
        self.pending, self.pending_bytes = [], 0

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
