"""What the orders package tells people and their systems (notices/events.py, mail.py).

Each function runs inside the unit of work of what it reports, so it is told exactly
when it happened. Teams are told ids and counts, never the client's budget; the client
is never told which team (perhaps deep in a chain) does the work.
"""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.identity.models import Party, PartyKind, Role
from marketplace.notices.events import publish
from marketplace.notices.letters import drop_not_released
from marketplace.notices.mail import platform_admins, queue, recipients
from marketplace.notices.preferences import mark_once
from marketplace.orders.funding import WAITING_FOR_FUNDS
from marketplace.orders.models import (
    Batch,
    BatchStatus,
    Claimant,
    Drop,
    DropStatus,
    Order,
    Sourcing,
)

# A team is told its lease on a batch is ending this long before it ends.
LEASE_WARNING = timedelta(hours=1)


def claimers(order: Order):
    """The teams that may claim the order's batches: every team for a claims order; for a
    bids order, the teams with a standing on it (awarded, or holding its work)."""
    if order.sourcing == Sourcing.CLAIMS:
        return select(Party.id).where(Party.kind == PartyKind.TEAM)
    return select(Claimant.team_party_id).where(Claimant.order_id == order.id)


def drop_taken(session: Session, order: Order, drop: Drop) -> None:
    """A released drop to the teams that may claim it; a skipped or held one to the client,
    and by e-mail to the platform's admins (and to the client's, when it waits for funds)."""
    data = {
        "drop_id": drop.id,
        "order_id": order.id,
        "title": order.title,
        "task_type": order.task_type,
        "status": drop.status,
        "scheduled_at": drop.scheduled_at.isoformat(),
        "batch_count": drop.batch_count,
    }
    if drop.status == DropStatus.RELEASED:
        publish(
            session, "drop.released", claimers(order), data | {"lottery": bool(drop.lottery_seed)}
        )
        return
    publish(session, f"drop.{drop.status}", [order.client_party_id], data | {"reason": drop.reason})
    readers = platform_admins(session)
    if drop.reason and drop.reason.startswith(WAITING_FOR_FUNDS):
        # The client alone can end this wait, by topping up: it hears at once.
        readers = recipients(session, order.client_party_id, Role.CLIENT_ADMIN) + readers
    for reader in readers:
        subject, body = drop_not_released(
            reader,
            status=drop.status,
            order_id=order.id,
            title=order.title,
            client=order.client.name,
            reason=drop.reason,
        )
        queue(session, reader.email, subject, body)


def announce_claim(session: Session, batch: Batch) -> None:
    """A claim, to the claiming team and the order's client (subscribes to
    orders.events.batch_claimed, so a claim rolled back tells nobody)."""
    order = batch.order
    data = {
        "batch_id": batch.id,
        "order_id": order.id,
        "item_count": batch.item_count,
        "kind": batch.kind,
        "claimed_at": batch.claimed_at.isoformat(),
        "lease_expires_at": batch.lease_expires_at and batch.lease_expires_at.isoformat(),
    }
    publish(session, "batch.claimed", [batch.claimed_by_party_id, order.client_party_id], data)


def warn_expiring_leases(session: Session) -> int:
    """Tell each team whose lease on a batch ends within LEASE_WARNING, once per lease;
    how many were told."""
    now = clock.now()
    batches = session.scalars(
        select(Batch)
        .where(
            Batch.status == BatchStatus.CLAIMED,
            Batch.lease_expires_at > now,
            Batch.lease_expires_at <= now + LEASE_WARNING,
        )
        .order_by(Batch.lease_expires_at, Batch.id)
    ).all()
    told = 0
    for batch in batches:
        if not mark_once(
            session, "lease_expiring", f"{batch.id}@{batch.lease_expires_at.isoformat()}"
        ):
            continue
        publish(
            session,
            "batch.lease_expiring",
            [batch.claimed_by_party_id],
            {
                "batch_id": batch.id,
                "order_id": batch.order_id,
                "lease_expires_at": batch.lease_expires_at.isoformat(),
            },
        )
        told += 1
    return told
