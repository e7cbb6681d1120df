"""Leases: a claimed batch is finished in time, or its unfinished items go back to the board."""

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from marketplace.orders.claims import lock_order
from marketplace.orders.drops import occurrences
from marketplace.orders.models import Batch, BatchKind, BatchStatus, Item, Order


def lock_batch(session: Session, batch_id: int) -> str:
    """Lock a batch row (FOR UPDATE) for the rest of the unit of work; its status."""
    return session.scalars(select(Batch.status).where(Batch.id == batch_id).with_for_update()).one()


def finish_batch(session: Session, batch_id: int) -> None:
    """Mark a claimed batch finished (its team submitted every item): it is held no longer."""
    session.execute(
        update(Batch)
        .where(Batch.id == batch_id, Batch.status == BatchStatus.CLAIMED)
        .values(status=BatchStatus.FINISHED)
    )


def expiring_clients(session: Session, now: datetime) -> list[int]:
    """The clients whose orders have claimed batches with a lease run out, in id order."""
    return list(
        session.scalars(
            select(Order.client_party_id)
            .join(Batch, Batch.order_id == Order.id)
            .where(Batch.status == BatchStatus.CLAIMED, Batch.lease_expires_at <= now)
            .distinct()
            .order_by(Order.client_party_id)
        )
    )


def expired_leases(session: Session, now: datetime) -> list[Batch]:
    """Claimed batches whose lease ran out, locked; rows another run holds are skipped."""
    # In order id order: orders are then locked in the same order as the drop pass does.
    return list(
        session.scalars(
            select(Batch)
            .where(Batch.status == BatchStatus.CLAIMED, Batch.lease_expires_at <= now)
            .order_by(Batch.order_id, Batch.id)
            .with_for_update(skip_locked=True, of=Batch)
        )
    )


def return_to_board(
    session: Session, batch: Batch, item_ids: list[int], now: datetime
) -> Batch | None:
    """Close an expired batch and move its unfinished `item_ids` into a new batch.

    The new batch goes out first in the order's next drop, or at once if the
    order's plan has no drop left, it has none, or it is a trial. What the team
    did stays in the old batch.
    """
    batch.status = BatchStatus.EXPIRED
    if not item_ids:
        return None
    lock_order(session, batch.order_id)  # one numbering of new batches at a time
    order = batch.order
    # Trial batches are never part of a drop: a returned trial is open to claim at once;
    # so are items of an order whose plan has no drop left.
    plan = order.release_plan
    scheduled = (
        batch.kind == BatchKind.REGULAR
        and plan is not None
        and next(occurrences(plan, now), None) is not None
    )
    returned = Batch(
        order_id=order.id,
        seq=session.scalar(select(func.max(Batch.seq)).where(Batch.order_id == order.id)) + 1,
        kind=batch.kind,
        item_count=len(item_ids),
        status=BatchStatus.SCHEDULED if scheduled else BatchStatus.RELEASED,
        released_at=None if scheduled else now,
        returned_from_batch_id=batch.id,
        created_at=now,
    )
    session.add(returned)
    session.flush()
    session.execute(update(Item).where(Item.id.in_(item_ids)).values(batch_id=returned.id))
    batch.item_count -= len(item_ids)
    batch.returned_items = len(item_ids)
    return returned
