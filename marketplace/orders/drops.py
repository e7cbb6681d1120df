"""Drops: an order's batches released on its plan, each occurrence taken exactly once.

Every occurrence of a plan becomes one `Drop` row keyed by (order, scheduled
moment). Whoever inserts that row releases the drop's batches; a second
scheduler (or a second run) finds the row taken and does nothing, so two
processes never release one drop twice. An occurrence found late, because the
scheduler was down, is released if it is no later than the plan's grace time,
and recorded as skipped with the reason otherwise; never both. While the client
is on credit hold (identity/standing.py) each occurrence is recorded as held, with
the hold's reason, and its batches wait for the first drop after the hold lifts. So is
an occurrence whose money is not there (orders/funding.py): its batches wait until the
client's top-up lands, and then drop at once. A released drop first runs its lottery
(orders/lottery.py) for the teams that asked in advance; what is left is on the board,
first come.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice, takewhile
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.errors import Invalid
from marketplace.identity.standing import active_hold, hold_client
from marketplace.orders.announce import drop_taken
from marketplace.orders.funding import WAITING_FOR_FUNDS, fund_release
from marketplace.orders.lottery import allot_drop
from marketplace.orders.models import (
    Batch,
    BatchStatus,
    Drop,
    DropStatus,
    Order,
    OrderStatus,
    ReleasePlan,
)

# After a long downtime, at most this many occurrences per order are taken in one run;
# the next run goes on where this one stopped.
MAX_OCCURRENCES_PER_RUN = 500
JUST_BEFORE = timedelta(microseconds=1)


def check_plan(cron: str, timezone: str) -> None:
    """Refuse a plan whose cron expression or IANA time zone is not valid (422)."""
    zone = zone_named(timezone)
    try:
        CronSim(cron, datetime.now(zone))
    except CronSimError as exc:
        raise Invalid(f"Not a cron expression: {exc}", code="invalid_cron", cron=cron) from exc


# Names the tz database holds that are not places: they follow the server's own settings.
NOT_PLACES = {"localtime", "posixrules", "Factory"}


def zone_named(name: str) -> ZoneInfo:
    try:
        if name in NOT_PLACES:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(f"{name!r} is not an IANA time zone.", code="invalid_timezone") from exc


def occurrences(plan: ReleasePlan, after: datetime) -> Iterator[datetime]:
    """The plan's moments strictly after `after`, in UTC, up to the end of its window."""
    for local in CronSim(plan.cron, after.astimezone(ZoneInfo(plan.timezone))):
        moment = local.astimezone(UTC)
        if plan.ends_at and moment > plan.ends_at:
            return
        yield moment


def first_possible(plan: ReleasePlan, order: Order) -> datetime:
    """Occurrences count from publication, or from the window's start if that is later."""
    start = order.published_at
    if plan.starts_at and plan.starts_at - JUST_BEFORE > start:
        start = plan.starts_at - JUST_BEFORE
    return start


def release_due_batches(session: Session) -> list[Drop]:
    """Take every plan occurrence that is due now, once: release its batches or record
    why it was skipped. Safe to run at any time, as often as wanted, by several
    processes at once."""
    now = clock.now()
    waiting = exists().where(Batch.order_id == Order.id, Batch.status == BatchStatus.SCHEDULED)
    orders = session.scalars(
        select(Order).where(Order.status == OrderStatus.PUBLISHED, waiting).order_by(Order.id)
    ).all()
    taken = []
    for order in orders:
        plan = order.release_plan
        due = takewhile(lambda m: m <= now, occurrences(plan, _counting_from(session, order)))
        for moment in islice(due, MAX_OCCURRENCES_PER_RUN):
            drop = _take(session, order, plan, moment, now)
            if drop is not None:
                taken.append(drop)
            if not _waiting(session, order):
                break
    return taken


def _counting_from(session: Session, order: Order) -> datetime:
    """Where the order's due occurrences start: after its last drop, but never before its
    oldest waiting batch was cut (items returned from an expired lease wait from then;
    the occurrences before, when nothing waited, were not missed)."""
    last = session.scalar(select(func.max(Drop.scheduled_at)).where(Drop.order_id == order.id))
    waiting_since = session.scalar(
        select(func.min(Batch.created_at)).where(
            Batch.order_id == order.id, Batch.status == BatchStatus.SCHEDULED
        )
    )
    start = last or first_possible(order.release_plan, order)
    return max(start, waiting_since - JUST_BEFORE) if waiting_since else start


def _take(
    session: Session, order: Order, plan: ReleasePlan, moment: datetime, now: datetime
) -> Drop | None:
    """Record the occurrence and act on it; None if another process already took it."""
    lateness = int((now - moment).total_seconds())
    hold = active_hold(session, order.client_party_id)
    status, reason = DropStatus.RELEASED, None
    if hold is not None:
        status, reason = DropStatus.HELD, f"the client is on credit hold: {hold.reason}"[:300]
    elif lateness > plan.grace_seconds:
        status = DropStatus.SKIPPED
        reason = (
            f"missed by {lateness} s (the scheduler was not running); grace is "
            f"{plan.grace_seconds} s"
        )
    drop = Drop(
        order_id=order.id,
        scheduled_at=moment,
        status=status,
        taken_at=now,
        lateness_seconds=lateness,
        batch_count=0,
        reason=reason,
    )
    try:
        with session.begin_nested():
            session.add(drop)
    except IntegrityError:
        return None
    if status == DropStatus.RELEASED:
        _release(session, order, drop, now)
    drop_taken(session, order, drop)
    return drop


def _release(session: Session, order: Order, drop: Drop, now: datetime) -> None:
    """Release the drop's batches, once their money is there; else hold the drop, saying
    why (funded orders reserve it now: orders/funding.py)."""
    # The client first, then the batches, as every use case moving its money locks them:
    # the batches reserved for are the batches released.
    hold_client(session, order.client_party_id)
    # Items returned from an expired lease go out first, in the next drop.
    next_batches = session.execute(
        select(Batch.id, Batch.item_count)
        .where(Batch.order_id == order.id, Batch.status == BatchStatus.SCHEDULED)
        .order_by(Batch.returned_from_batch_id.is_(None), Batch.seq)
        .limit(order.release_plan.batches_per_drop)
        .with_for_update()
    ).all()
    short = fund_release(session, order, sum(count for _, count in next_batches), drop_id=drop.id)
    if short is not None:
        drop.status, drop.reason = DropStatus.HELD, short.reason
        return
    released_ids = session.scalars(
        update(Batch)
        .where(
            Batch.id.in_([id_ for id_, _ in next_batches]), Batch.status == BatchStatus.SCHEDULED
        )
        .values(status=BatchStatus.RELEASED, released_at=now, drop_id=drop.id)
        .returning(Batch.id)
    ).all()
    drop.batch_count = len(released_ids)
    batches = session.scalars(
        select(Batch).where(Batch.id.in_(released_ids)).order_by(Batch.seq)
    ).all()
    allot_drop(session, order, drop, list(batches))


def release_funded_drops(session: Session, client_party_id: int, currency: str) -> list[Drop]:
    """Now that the client's money arrived: release the latest drop of each of its orders
    in `currency` that waits for funds, if its balance now covers it. The drop keeps
    its moment, and counts late from it."""
    if active_hold(session, client_party_id) is not None:
        return []  # its drops wait for the hold to lift, then for the plan's next
    now = clock.now()
    latest = (
        select(func.max(Drop.id))
        .join(Order, Order.id == Drop.order_id)
        .where(
            Order.client_party_id == client_party_id,
            Order.currency == currency,
            Order.status == OrderStatus.PUBLISHED,
        )
        .group_by(Drop.order_id)
    )
    waiting = session.scalars(
        select(Drop)
        .where(
            Drop.id.in_(latest),
            Drop.status == DropStatus.HELD,
            Drop.reason.startswith(WAITING_FOR_FUNDS),
        )
        .order_by(Drop.id)
        .with_for_update()
    ).all()
    released = []
    for drop in waiting:
        order = session.get(Order, drop.order_id)
        if not _waiting(session, order):
            continue
        drop.status, drop.reason = DropStatus.RELEASED, None
        _release(session, order, drop, now)
        if drop.status == DropStatus.RELEASED:
            # Taken now, late from its moment; a drop still short keeps its first try's.
            drop.taken_at = now
            drop.lateness_seconds = int((now - drop.scheduled_at).total_seconds())
            drop_taken(session, order, drop)
            released.append(drop)
    return released


def _waiting(session: Session, order: Order) -> bool:
    return session.scalar(
        select(exists().where(Batch.order_id == order.id, Batch.status == BatchStatus.SCHEDULED))
    )


def upcoming(session: Session, order: Order, count: int) -> list[dict]:
    """The order's next drops from now, each with how many batches it will release, or
    why it will not: the client's credit hold, while it lasts."""
    plan = order.release_plan
    if plan is None or order.status != OrderStatus.PUBLISHED:
        return []
    left = session.scalar(
        select(func.count()).where(
            Batch.order_id == order.id, Batch.status == BatchStatus.SCHEDULED
        )
    )
    last = session.scalar(select(func.max(Drop.scheduled_at)).where(Drop.order_id == order.id))
    after = max(clock.now(), last or first_possible(plan, order))
    hold = active_hold(session, order.client_party_id)
    drops = []
    for moment in islice(occurrences(plan, after), count):
        if left <= 0:
            break
        drops.append(
            {
                "scheduled_at": moment,
                "batch_count": min(left, plan.batches_per_drop),
                "credit_hold": hold and {"since": hold.created_at, "reason": hold.reason},
            }
        )
        left -= plan.batches_per_drop
    return drops


def history(session: Session, order: Order) -> list[Drop]:
    return list(
        session.scalars(select(Drop).where(Drop.order_id == order.id).order_by(Drop.scheduled_at))
    )
