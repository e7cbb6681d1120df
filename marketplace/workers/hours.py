"""What an hour of the work takes and pays: the median seconds per accepted item, the
pace an order is judged at, and a team's rate card beside the reference wage
(docs/hourly-pay.md)."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.identity.actor import Actor
from marketplace.identity.models import TEAM_ROLES
from marketplace.orders.models import Batch, Order
from marketplace.wages.models import ReferenceWage
from marketplace.wages.service import HourlyPay, hourly_pay
from marketplace.workers.models import Level, LevelRate, PieceRate, Submission, SubmissionStatus

# Until this many of an order's items are accepted and measured, its pace is the
# client's estimate: a few fast or slow items say little.
MEASURED_ITEMS = 30


def median(values: Sequence[int]) -> Decimal | None:
    """The middle of sorted `values`; of an even count, the mean of the two middle ones
    (a whole or a half second). None for no values."""
    if not values:
        return None
    middle = len(values) // 2
    if len(values) % 2:
        return Decimal(values[middle])
    return Decimal(values[middle - 1] + values[middle]) / 2


def measured_median(session: Session, *where) -> tuple[Decimal | None, int]:
    """The median seconds of the accepted, measured items matching `where`, and how many
    there are: a count, then the one or two middle times (SQLite has no percentile
    function; neither query reads more than two rows back, however large the order)."""
    measured = (
        Submission.status == SubmissionStatus.ACCEPTED,
        Submission.work_seconds.is_not(None),
        *where,
    )
    count = session.scalar(select(func.count()).select_from(Submission).where(*measured))
    if not count:
        return None, 0
    middle = session.scalars(
        select(Submission.work_seconds)
        .where(*measured)
        .order_by(Submission.work_seconds)
        .offset((count - 1) // 2)
        .limit(2 - count % 2)
    ).all()
    return Decimal(sum(middle)) / len(middle), count


@dataclass(frozen=True)
class Pace:
    """The seconds an order's item takes, and where that figure comes from."""

    seconds: Decimal | None
    basis: str  # "measured": the median of accepted items; "estimate": the client's
    measured_items: int


def order_pace(session: Session, order: Order) -> Pace:
    """The order's median seconds per accepted item once MEASURED_ITEMS are measured;
    until then the client's estimate (None if it gave none)."""
    seconds, count = measured_median(session, Submission.order_id == order.id)
    if count >= MEASURED_ITEMS:
        return Pace(seconds, "measured", count)
    estimate = order.estimated_seconds_per_item
    return Pace(None if estimate is None else Decimal(estimate), "estimate", count)


def task_type_pace(session: Session, task_type: str) -> Pace | None:
    """The median seconds per accepted item of the task type over every order, once
    MEASURED_ITEMS are measured (None until then): what such an item takes elsewhere."""
    orders = select(Order.id).where(Order.task_type == task_type)
    seconds, count = measured_median(session, Submission.order_id.in_(orders))
    return Pace(seconds, "measured", count) if count >= MEASURED_ITEMS else None


def pay_at_pace(
    session: Session,
    price_micros: Fraction | Decimal | int,
    currency: str,
    pace: Pace,
    wage: ReferenceWage | None = None,
) -> HourlyPay:
    """An hour's pay at a price per item and the order's pace, beside the reference wage."""
    return hourly_pay(
        session,
        price_micros=price_micros,
        currency=currency,
        seconds=pace.seconds,
        basis=pace.basis,
        wage=wage,
    )


def lowest_rate(session: Session, team_ids: Sequence[int], order: Order) -> int | None:
    """The least the teams' rate cards pay an annotator per item of the order: a team's
    piece rate of the order, or any of its levels' rates for the task type and currency."""
    piece = select(func.min(PieceRate.unit_price_micros)).where(
        PieceRate.team_party_id.in_(team_ids), PieceRate.order_id == order.id
    )
    level = (
        select(func.min(LevelRate.unit_price_micros))
        .join(Level, Level.id == LevelRate.level_id)
        .where(
            Level.team_party_id.in_(team_ids),
            LevelRate.task_type == order.task_type,
            LevelRate.currency == order.currency,
        )
    )
    rates = [rate for rate in (session.scalar(piece), session.scalar(level)) if rate is not None]
    return min(rates, default=None)


def rate_card_below_wage(session: Session, team_ids: Sequence[int], order: Order) -> bool | None:
    """Whether the teams' lowest rate for the order pays less an hour, at the order's
    pace, than the reference wage; None when there is no rate, pace or wage to compare."""
    rate = lowest_rate(session, team_ids, order)
    if rate is None:
        return None
    return pay_at_pace(
        session, rate, order.currency, order_pace(session, order)
    ).below_reference_wage


def note_board(session: Session, *, actor: Actor, batches: list[Batch]) -> None:
    """React to a read of the drop board: mark each batch whose order the reader's teams'
    rate cards would pay below the reference wage at the order's pace (their own rates
    only: another team's card is not the reader's business)."""
    teams = sorted(actor.party_ids(*TEAM_ROLES))
    flags: dict[int, bool | None] = {}
    for batch in batches:
        if batch.order_id not in flags:
            flags[batch.order_id] = (
                rate_card_below_wage(session, teams, batch.order) if teams else None
            )
        batch.below_reference_wage = flags[batch.order_id]
