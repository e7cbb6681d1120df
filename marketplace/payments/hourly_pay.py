"""What an hour of the work pays, as each party may read it: the annotator per task type
and per day, the team owner per order and per member, the client per order (at her price
and what reaches the performing teams). Read-only (docs/hourly-pay.md)."""

from collections import defaultdict
from datetime import datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from marketplace.identity.actor import Actor
from marketplace.identity.models import Party, Role
from marketplace.orders.models import Batch, Order
from marketplace.orders.service import get_order
from marketplace.payments.work_days import check_period, her_team, team_today
from marketplace.subcontract.chains import chain_tree, pass_through
from marketplace.subcontract.service import order_contracts
from marketplace.wages.service import wage_in_force
from marketplace.workers.hours import (
    Pace,
    median,
    order_pace,
    pay_at_pace,
    rate_card_below_wage,
    task_type_pace,
)
from marketplace.workers.levels import team_of
from marketplace.workers.models import Submission, SubmissionStatus


class Tally:
    """Accepted, measured items of one group: their seconds (sorted) and their pay."""

    def __init__(self) -> None:
        self.seconds: list[int] = []
        self.earned_micros = 0

    def add(self, seconds: int, rate_micros: int) -> None:
        self.seconds.append(seconds)
        self.earned_micros += rate_micros

    def row(self, session: Session, currency: str, wages: dict) -> dict[str, Any]:
        """The group's items, pay and an hour's pay: its mean piece rate x 3600 / its
        median seconds, beside the currency's reference wage."""
        items = len(self.seconds)
        if not items:
            return {"currency": currency, "items": 0, "earned_micros": 0, "pay": None}
        if currency not in wages:
            wages[currency] = wage_in_force(session, currency)
        pace = Pace(median(self.seconds), "measured", items)
        rate = Fraction(self.earned_micros, items)
        return {
            "currency": currency,
            "items": items,
            "earned_micros": self.earned_micros,
            "pay": pay_at_pace(session, rate, currency, pace, wages[currency]),
        }


def _period(team: Party, since, until) -> tuple[Any, Any, datetime, datetime]:
    """The period asked for in the team's days, and its bounds as moments."""
    since, until = check_period(since, until, team_today(team))
    zone = ZoneInfo(team.timezone)
    start = datetime.combine(since, time.min, zone)
    return since, until, start, datetime.combine(until + timedelta(days=1), time.min, zone)


def _measured(team_id: int, start: datetime, end: datetime, *where) -> Any:
    return (
        select(
            Submission.order_id,
            Submission.annotator_user_id,
            Submission.submitted_at,
            Order.task_type,
            Order.currency,
            Submission.rate_micros,
            Submission.work_seconds,
        )
        .join(Order, Order.id == Submission.order_id)
        .where(
            Submission.team_party_id == team_id,
            Submission.status == SubmissionStatus.ACCEPTED,
            Submission.work_seconds.is_not(None),
            Submission.submitted_at >= start,
            Submission.submitted_at < end,
            *where,
        )
        .order_by(Submission.work_seconds)
    )


def annotator_hours(session: Session, actor: Actor, team_id, since, until) -> dict[str, Any]:
    """The annotator's hourly pay in one of her teams over a period (default: this month),
    per task type and per day (her team's day) and task type: her accepted items submitted
    then, her mean piece rate x 3600 / her median seconds per item."""
    team = her_team(session, actor, team_id)
    since, until, start, end = _period(team, since, until)
    zone = ZoneInfo(team.timezone)
    by_type: dict[tuple, Tally] = defaultdict(Tally)
    by_day: dict[tuple, Tally] = defaultdict(Tally)
    rows = session.execute(
        _measured(team.id, start, end, Submission.annotator_user_id == actor.user_id)
    )
    for _, _, submitted_at, task_type, currency, rate, seconds in rows:
        by_type[(task_type, currency)].add(seconds, rate)
        by_day[(submitted_at.astimezone(zone).date(), task_type, currency)].add(seconds, rate)
    wages: dict = {}
    return {
        "team_id": team.id,
        "from": since,
        "to": until,
        "task_types": [
            {"task_type": task_type, **by_type[(task_type, currency)].row(session, currency, wages)}
            for task_type, currency in sorted(by_type)
        ],
        "days": [
            {"day": day, "task_type": task_type, **by_day[key].row(session, currency, wages)}
            for key in sorted(by_day)
            for day, task_type, currency in [key]
        ],
    }


def team_hours(session: Session, actor: Actor, team_id: int, since, until) -> dict[str, Any]:
    """For the team's owner, over a period (default: this month): per order the team works
    (holds batches of, or had items accepted of), what its annotators earned an hour (mean
    piece rate x 3600 / median seconds of its accepted items) and whether its rate card
    pays below the reference wage at the order's pace; per member and task type the same."""
    team = team_of(session, actor, team_id, manage=True)
    since, until, start, end = _period(team, since, until)
    by_order: dict[int, Tally] = defaultdict(Tally)
    by_member: dict[tuple, Tally] = defaultdict(Tally)
    for order_id, user_id, _, task_type, currency, rate, seconds in session.execute(
        _measured(team.id, start, end)
    ):
        by_order[order_id].add(seconds, rate)
        by_member[(user_id, task_type, currency)].add(seconds, rate)
    held = select(Batch.order_id).where(Batch.claimed_by_party_id == team.id)
    orders = session.scalars(
        select(Order)
        .where(or_(Order.id.in_(held), Order.id.in_(list(by_order))))
        .order_by(Order.id)
    ).all()
    wages: dict = {}
    return {
        "team_id": team.id,
        "from": since,
        "to": until,
        "orders": [
            {
                "order_id": order.id,
                "title": order.title,
                "task_type": order.task_type,
                **(by_order.get(order.id) or Tally()).row(session, order.currency, wages),
                "rate_card_below_reference_wage": rate_card_below_wage(session, [team.id], order),
            }
            for order in orders
        ],
        "members": [
            {
                "user_id": user_id,
                "task_type": task_type,
                **by_member[key].row(session, currency, wages),
            }
            for key in sorted(by_member)
            for user_id, task_type, currency in [key]
        ],
    }


def order_hours(session: Session, actor: Actor, order_id: int) -> dict[str, Any]:
    """For the order's client (and admins): the order's pace (median seconds per accepted
    item from MEASURED_ITEMS on, the client's estimate until then) beside its task type's
    over every order, what an hour pays at
    her price, and at the share of it that reaches the performing teams (the pass-through,
    hers to know), beside the reference wage. A team's own piece rates are its own."""
    order = get_order(session, actor, order_id)
    if not actor.is_platform_admin:
        actor.require(Role.CLIENT_ADMIN, party_id=order.client_party_id)
    pace = order_pace(session, order)
    wage = wage_in_force(session, order.currency)
    share = _pass_through(session, order)
    return {
        "order_id": order.id,
        "currency": order.currency,
        "pace": pace,
        "task_type_pace": task_type_pace(session, order.task_type),
        "at_your_price": pay_at_pace(session, order.unit_price_micros, order.currency, pace, wage),
        "pass_through": share,
        "reaching_performers": None
        if share is None
        else pay_at_pace(session, order.unit_price_micros * share, order.currency, pace, wage),
    }


def _pass_through(session: Session, order: Order) -> Decimal | None:
    """The share of the client's lines that reaches the performing teams, over all the
    order's chains (each chain's share weighted by its client line)."""
    tops = [c for c in order_contracts(session, order.id) if c.parent_contract_id is None]
    lines = sum(top.quantity * top.unit_price_micros for top in tops)
    if not lines:
        return None
    reaching = sum(
        (pass_through(chain_tree(session, top)) or 0) * top.quantity * top.unit_price_micros
        for top in tops
    )
    return Decimal(reaching / lines).quantize(Decimal("0.0001"))
