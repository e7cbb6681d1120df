"""Deciding submissions, set-based: the status, the price of what is accepted, the history
and each member's daily tally move together in one unit of work."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, exists, func, insert, literal, select, update
from sqlalchemy.orm import Session

from marketplace.db import upsert
from marketplace.identity.models import Membership, Party
from marketplace.orders.models import Order
from marketplace.workers.announce import announce_decided
from marketplace.workers.models import (
    DailyTally,
    LevelRate,
    PieceRate,
    ReviewDecision,
    Submission,
    SubmissionStatus,
    Task,
    TaskStatus,
)

# Statements take ids in slices of this many (SQLite binds at most 32,766 values).
CHUNK = 1000


@dataclass(frozen=True)
class Verdict:
    """What becomes of the submissions decided together, by whom and why."""

    status: SubmissionStatus
    source: str
    by_user_id: int | None = None
    reason_code: str | None = None
    note: str | None = None
    # For work sent back: the annotator holds the task again until then.
    lease_until: datetime | None = None


def item_rate() -> ColumnElement[int]:
    """The rate an accepted submission earns: its annotator's level's rate for the order's
    task type and currency when the level has one, else the team's piece rate of the order."""
    level_rate = (
        select(LevelRate.unit_price_micros)
        .join(
            Order,
            (Order.task_type == LevelRate.task_type) & (Order.currency == LevelRate.currency),
        )
        .where(LevelRate.level_id == Submission.level_id, Order.id == Submission.order_id)
        .correlate(Submission)
        .scalar_subquery()
    )
    piece_rate = (
        select(PieceRate.unit_price_micros)
        .where(
            PieceRate.team_party_id == Submission.team_party_id,
            PieceRate.order_id == Submission.order_id,
        )
        .correlate(Submission)
        .scalar_subquery()
    )
    return func.coalesce(level_rate, piece_rate)


def team_day(session: Session, team_id: int, at: datetime) -> date:
    """The date in the team's time zone at `at`: the day its quotas and tallies count in."""
    zone = session.scalar(select(Party.timezone).where(Party.id == team_id))
    return at.astimezone(ZoneInfo(zone)).date()


def decide(session: Session, ids: Iterable[int], verdict: Verdict, now: datetime) -> None:
    """Apply `verdict` to the submissions `ids` (locked by the caller): an accepted one is
    priced at its rate in force now; its task follows; the decision is recorded; the
    annotators' tallies of the team's today count what was accepted or rejected."""
    ids = sorted(ids)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        mine = Submission.id.in_(chunk)
        accepted = verdict.status == SubmissionStatus.ACCEPTED
        _untally_revised(session, chunk)
        session.execute(
            update(Submission)
            .where(mine)
            .values(
                status=verdict.status,
                reason_code=verdict.reason_code,
                reason=verdict.note,
                reviewer_user_id=verdict.by_user_id,
                reviewed_at=now,
                rate_micros=item_rate() if accepted else None,
            )
            .execution_options(synchronize_session=False)
        )
        _move_tasks(session, chunk, verdict, now)
        session.execute(
            insert(ReviewDecision).from_select(
                [
                    "submission_id",
                    "status",
                    "source",
                    "reason_code",
                    "note",
                    "decided_by_user_id",
                    "decided_at",
                ],
                select(
                    Submission.id,
                    literal(verdict.status.value),
                    literal(verdict.source),
                    literal(verdict.reason_code, type_=ReviewDecision.reason_code.type),
                    literal(verdict.note, type_=ReviewDecision.note.type),
                    literal(verdict.by_user_id, type_=ReviewDecision.decided_by_user_id.type),
                    literal(now, type_=ReviewDecision.decided_at.type),
                ).where(mine),
            )
        )
        if verdict.status in (SubmissionStatus.ACCEPTED, SubmissionStatus.REJECTED):
            _tally_decided(session, chunk, accepted, now)
    announce_decided(session, ids, verdict.status, verdict.source)
    session.expire_all()


def _move_tasks(session: Session, chunk: list[int], verdict: Verdict, now: datetime) -> None:
    tasks = Task.id.in_(select(Submission.task_id).where(Submission.id.in_(chunk)))
    if verdict.status != SubmissionStatus.RETURNED:
        session.execute(update(Task).where(tasks).values(status=TaskStatus(verdict.status.value)))
        return
    # Back to the annotator who did it, to redo; unless her team deactivated her, when it
    # goes back to the team's open tasks for another annotator, as her held tasks did.
    gone = exists().where(
        Membership.user_id == Task.annotator_user_id,
        Membership.party_id == Task.team_party_id,
        Membership.deactivated_at.is_not(None),
    )
    session.execute(
        update(Task)
        .where(tasks, ~gone)
        .values(
            status=TaskStatus.ASSIGNED,
            assigned_at=now,
            lease_expires_at=verdict.lease_until,
            reworks=Task.reworks + 1,
        )
    )
    session.execute(
        update(Task)
        .where(tasks, gone)
        .values(
            status=TaskStatus.OPEN,
            annotator_user_id=None,
            assigned_at=None,
            lease_expires_at=None,
            level_id=None,
            reworks=Task.reworks + 1,
        )
    )


def _tally_decided(session: Session, chunk: list[int], accepted: bool, now: datetime) -> None:
    teams = session.scalars(
        select(Submission.team_party_id).where(Submission.id.in_(chunk)).distinct()
    ).all()
    for team in teams:
        day = team_day(session, team, now)
        rows = (
            select(
                Submission.annotator_user_id,
                Submission.team_party_id,
                literal(day, type_=DailyTally.day.type),
                Order.currency,
                literal(0),
                func.count() if accepted else literal(0),
                literal(0) if accepted else func.count(),
                func.coalesce(func.sum(Submission.rate_micros), 0),
            )
            .join(Order, Order.id == Submission.order_id)
            .where(Submission.id.in_(chunk), Submission.team_party_id == team)
            .group_by(Submission.annotator_user_id, Submission.team_party_id, Order.currency)
        )
        tally(session, rows)


def _untally_revised(session: Session, chunk: list[int]) -> None:
    """Take back, on the day it was made, an earlier decision that this one revises (a
    rejection an upheld dispute turns into an acceptance): a day never counts an item as
    both. Only disputes revise, so these are few rows."""
    revised = session.execute(
        select(
            Submission.annotator_user_id,
            Submission.team_party_id,
            Order.currency,
            Submission.status,
            Submission.reviewed_at,
            Submission.rate_micros,
        )
        .join(Order, Order.id == Submission.order_id)
        .where(
            Submission.id.in_(chunk),
            Submission.status.in_([SubmissionStatus.ACCEPTED, SubmissionStatus.REJECTED]),
        )
    )
    for user_id, team_id, currency, status, reviewed_at, rate in revised:
        counts = (
            {"accepted": -1, "earned_micros": -(rate or 0)}
            if status == SubmissionStatus.ACCEPTED
            else {"rejected": -1}
        )
        day = team_day(session, team_id, reviewed_at)
        add_to_tally(
            session, user_id=user_id, team_party_id=team_id, day=day, currency=currency, **counts
        )


TALLY_KEY = ["user_id", "team_party_id", "day", "currency"]
TALLY_COUNTS = ["submitted", "accepted", "rejected", "earned_micros"]


def _adding(statement):
    """On a tally that exists, add to its counts."""
    return statement.on_conflict_do_update(
        index_elements=TALLY_KEY,
        set_={c: getattr(DailyTally, c) + getattr(statement.excluded, c) for c in TALLY_COUNTS},
    )


def tally(session: Session, rows) -> None:
    """Add `rows` (a SELECT of the key and the counts) to the daily tallies, set-based."""
    session.execute(
        _adding(upsert(session, DailyTally).from_select(TALLY_KEY + TALLY_COUNTS, rows))
    )


def add_to_tally(session: Session, *, user_id, team_party_id, day, currency, **counts) -> None:
    """Add `counts` (say submitted=1) to one member's tally of a day."""
    values = dict.fromkeys(TALLY_COUNTS, 0) | counts
    key = {"user_id": user_id, "team_party_id": team_party_id, "day": day, "currency": currency}
    session.execute(_adding(upsert(session, DailyTally).values(**key, **values)))
