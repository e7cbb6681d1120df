"""A team's ladder: levels with rate cards and daily quotas, promotion, and level history."""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.db import MAX_ID, find
from marketplace.errors import Conflict, Invalid, NotFound
from marketplace.identity.actor import Actor
from marketplace.identity.models import TEAM_ROLES, Membership, Party, PartyKind, Role, User
from marketplace.money import format_micros
from marketplace.orders.drops import zone_named
from marketplace.orders.models import Order
from marketplace.orders.task_types import stored_task_type
from marketplace.subcontract.models import Contract
from marketplace.subcontract.service import performing_contracts
from marketplace.workers.models import (
    DailyTally,
    Level,
    LevelChange,
    LevelRate,
    Submission,
    SubmissionStatus,
    Task,
    TaskStatus,
)


def team_of(session: Session, actor: Actor, team_id: int, *, manage: bool = False) -> Party:
    """A team the actor belongs to (404 otherwise); with `manage`, one she owns (403)."""
    team = find(session, Party, team_id)
    if team is None or team.kind != PartyKind.TEAM or team_id not in actor.party_ids(*TEAM_ROLES):
        raise NotFound(f"No team {team_id} of yours.", code="team_not_found")
    if manage:
        actor.require(Role.TEAM_OWNER, party_id=team_id)
    return team


def deactivated_in(session: Session, user_id: int) -> set[int]:
    """The teams that deactivated the user: every role she holds there is deactivated
    (an owner's never is)."""
    return set(
        session.scalars(
            select(Membership.party_id)
            .where(Membership.user_id == user_id)
            .group_by(Membership.party_id)
            .having(func.count(Membership.deactivated_at) == func.count())
        )
    )


def set_team_timezone(session: Session, actor: Actor, team_id: int, timezone: str) -> Party:
    """Set the zone of the team's day (quotas reset, tallies count, at its midnight)."""
    team = team_of(session, actor, team_id, manage=True)
    team.timezone = zone_named(timezone).key
    return team


def list_levels(session: Session, actor: Actor, team_id: int) -> list[Level]:
    team_of(session, actor, team_id)
    return list(
        session.scalars(select(Level).where(Level.team_party_id == team_id).order_by(Level.rank))
    )


def get_level(session: Session, actor: Actor, level_id: int, *, manage: bool = False) -> Level:
    level = find(session, Level, level_id)
    if level is None or level.team_party_id not in actor.party_ids(*TEAM_ROLES):
        raise NotFound(f"No level {level_id} of your team.", code="level_not_found")
    if manage:
        actor.require(Role.TEAM_OWNER, party_id=level.team_party_id)
    return level


def save_level(
    session: Session, actor: Actor, data: dict[str, Any], *, team_id=None, level_id=None
) -> Level:
    """Create a level of the owner's team (`team_id`) or change one (`level_id`); a name
    and a rank are taken once per team (409 `level_exists`)."""
    if level_id is None:
        team_of(session, actor, team_id, manage=True)
        level = Level(team_party_id=team_id)
        session.add(level)
    else:
        level = get_level(session, actor, level_id, manage=True)
    if "promotion" in data:
        rule = data.pop("promotion") or {}
        level.promote_min_accuracy_bps = rule.get("min_accuracy")
        level.promote_over_items = rule.get("over_items")
    for key, value in data.items():
        setattr(level, key, value)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict("Your team has a level of that name or rank.", code="level_exists") from exc
    return level


def set_level_rate(
    session: Session, actor: Actor, level_id: int, *, task_type: str, currency: str, micros: int
) -> Level:
    """Set what a level is paid per accepted item of a task type in a currency.

    409 `rate_above_contract_price` if a contract the team works of that task type
    and currency pays it less: the team would promise money nobody owes it.
    """
    level = get_level(session, actor, level_id, manage=True)
    if stored_task_type(session, task_type) is None:
        raise Invalid(f"No task type {task_type!r}.", code="unknown_task_type", field="task_type")
    cheapest = session.scalar(
        select(Contract)
        .join(Order, Order.id == Contract.order_id)
        .where(
            Contract.downstream_party_id == level.team_party_id,
            Order.task_type == task_type,
            Contract.currency == currency,
            Contract.unit_price_micros < micros,
        )
        .order_by(Contract.unit_price_micros)
        .limit(1)
    )
    if cheapest is not None and performing_contracts(
        session, order_id=cheapest.order_id, team_id=level.team_party_id
    ):
        raise Conflict(
            "The rate is above what a contract of your team pays for this task type.",
            code="rate_above_contract_price",
            contract_id=cheapest.id,
            contract_price=format_micros(cheapest.unit_price_micros),
        )
    rate = next(
        (r for r in level.rates if (r.task_type, r.currency) == (task_type, currency)), None
    )
    if rate is None:
        level.rates.append(LevelRate(task_type=task_type, currency=currency, unit_price_micros=0))
        rate = level.rates[-1]
    rate.unit_price_micros = micros
    session.flush()
    return level


def highest_level_rate(session: Session, team_id: int, task_type: str, currency: str):
    """The most any level of the team is paid per item of that task type and currency."""
    return session.scalar(
        select(func.max(LevelRate.unit_price_micros))
        .join(Level, Level.id == LevelRate.level_id)
        .where(
            Level.team_party_id == team_id,
            LevelRate.task_type == task_type,
            LevelRate.currency == currency,
        )
    )


def current_level(session: Session, team_id: int, user_id: int) -> Level | None:
    """The member's level in the team now: her latest level change."""
    return session.scalar(
        select(Level)
        .join(LevelChange, LevelChange.level_id == Level.id)
        .where(LevelChange.team_party_id == team_id, LevelChange.user_id == user_id)
        .order_by(LevelChange.id.desc())
        .limit(1)
    )


def accuracy(session: Session, team_id: int, user_id: int, over: int) -> tuple[int, int]:
    """(accepted, reviewed) over the member's last `over` items a person reviewed."""
    last = (
        select(Submission.status)
        .where(
            Submission.team_party_id == team_id,
            Submission.annotator_user_id == user_id,
            Submission.reviewer_user_id.is_not(None),
            Submission.status.in_([SubmissionStatus.ACCEPTED, SubmissionStatus.REJECTED]),
        )
        .order_by(Submission.reviewed_at.desc(), Submission.id.desc())
        .limit(over)
        .subquery()
    )
    accepted, reviewed = session.execute(
        select(
            func.count().filter(last.c.status == SubmissionStatus.ACCEPTED), func.count()
        ).select_from(last)
    ).one()
    return accepted, reviewed


def eligibility(session: Session, team_id: int, user_id: int, level: Level | None) -> dict | None:
    """The next level up and whether the member meets its promotion rule (None at the top)."""
    above = session.scalar(
        select(Level)
        .where(Level.team_party_id == team_id, Level.rank > (level.rank if level else -1))
        .order_by(Level.rank)
        .limit(1)
    )
    if above is None:
        return None
    if above.promote_over_items is None:
        return {"level": above, "eligible": False, "accepted": 0, "reviewed": 0}
    accepted, reviewed = accuracy(session, team_id, user_id, above.promote_over_items)
    meets = reviewed >= above.promote_over_items and (
        accepted * 10_000 >= above.promote_min_accuracy_bps * reviewed
    )
    return {"level": above, "eligible": meets, "accepted": accepted, "reviewed": reviewed}


def members(session: Session, actor: Actor, team_id: int) -> list[dict[str, Any]]:
    """The team's annotators and reviewers, one row a role: whether she is active (or
    deactivated, since when), her level, today's work against the quota, and (an
    annotator) the next level she is (or is not yet) eligible for. Owners and reviewers
    see them."""
    team = team_of(session, actor, team_id)
    actor.require(Role.TEAM_OWNER, Role.REVIEWER, party_id=team_id)
    today = clock.now().astimezone(ZoneInfo(team.timezone)).date()
    found = session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.party_id == team_id,
            Membership.role.in_([Role.ANNOTATOR, Role.REVIEWER]),
        )
        .order_by(User.id, Membership.id)
    ).all()
    rows = []
    for user, membership in found:
        level = current_level(session, team_id, user.id)
        annotator = membership.role == Role.ANNOTATOR
        rows.append(
            {
                "user_id": user.id,
                "name": user.name,
                "role": membership.role,
                "active": membership.deactivated_at is None,
                "deactivated_at": membership.deactivated_at,
                "level": level,
                "submitted_today": submitted_on(session, team_id, user.id, today),
                "next": eligibility(session, team_id, user.id, level) if annotator else None,
            }
        )
    return rows


def submitted_on(session: Session, team_id: int, user_id: int, day) -> int:
    return session.scalar(
        select(func.coalesce(func.sum(DailyTally.submitted), 0)).where(
            DailyTally.user_id == user_id,
            DailyTally.team_party_id == team_id,
            DailyTally.day == day,
        )
    )


def _check_annotator_of(session: Session, team_id: int, user_id: int) -> None:
    """404 `member_not_found` unless the user annotates for the team."""
    is_member = 0 < user_id <= MAX_ID and session.scalar(
        select(Membership.id).where(
            Membership.party_id == team_id,
            Membership.user_id == user_id,
            Membership.role == Role.ANNOTATOR,
        )
    )
    if not is_member:
        raise NotFound(f"No annotator {user_id} in your team.", code="member_not_found")


def change_level(
    session: Session, actor: Actor, team_id: int, user_id: int, level_id: int, note: str | None
) -> LevelChange:
    """The owner moves an annotator to a level. A first level and a move down are hers to
    make; a move up needs the member eligible under the target level's promotion rule
    (409 `not_eligible` with the figures). The history keeps every move."""
    team_of(session, actor, team_id, manage=True)
    _check_annotator_of(session, team_id, user_id)
    target = find(session, Level, level_id)
    if target is None or target.team_party_id != team_id:
        raise NotFound(f"No level {level_id} of your team.", code="level_not_found")
    level = current_level(session, team_id, user_id)
    if level is not None and level.id == target.id:
        raise Conflict("She is at that level already.", code="same_level")
    figures = None
    if level is not None and target.rank > level.rank and target.promote_over_items is not None:
        accepted, reviewed = accuracy(session, team_id, user_id, target.promote_over_items)
        figures = accepted * 10_000 // reviewed if reviewed else 0
        if reviewed < target.promote_over_items or figures < target.promote_min_accuracy_bps:
            raise Conflict(
                "She does not meet the level's promotion rule yet.",
                code="not_eligible",
                accepted=accepted,
                reviewed=reviewed,
                needed_items=target.promote_over_items,
            )
    change = LevelChange(
        team_party_id=team_id,
        user_id=user_id,
        level_id=target.id,
        from_level_id=level.id if level else None,
        changed_by_user_id=actor.user_id,
        note=note,
        accuracy_bps=figures,
    )
    session.add(change)
    session.flush()
    return change


def level_history(session: Session, actor: Actor, team_id: int, user_id: int) -> list:
    """A member's level changes, oldest first: the member herself, owners and reviewers."""
    team_of(session, actor, team_id)
    if user_id != actor.user_id:
        actor.require(Role.TEAM_OWNER, Role.REVIEWER, party_id=team_id)
    _check_annotator_of(session, team_id, user_id)
    return list(
        session.scalars(
            select(LevelChange)
            .where(LevelChange.team_party_id == team_id, LevelChange.user_id == user_id)
            .order_by(LevelChange.id)
        )
    )


def quota_left(
    session: Session, team: Party, user_id: int, now: datetime
) -> tuple[int | None, datetime]:
    """Items the member may still take today in the team (None: no quota), and when the
    team's day ends: submitted today and tasks in her hands count against her quota."""
    zone = ZoneInfo(team.timezone)
    local = now.astimezone(zone)
    resets_at = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), zone)
    level = current_level(session, team.id, user_id)
    if level is None or level.daily_quota is None:
        return None, resets_at
    held = session.scalar(
        select(func.count()).where(
            Task.team_party_id == team.id,
            Task.annotator_user_id == user_id,
            Task.status == TaskStatus.ASSIGNED,
        )
    )
    used = submitted_on(session, team.id, user_id, local.date()) + held
    return max(level.daily_quota - used, 0), resets_at
