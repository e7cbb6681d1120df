"""An annotator's tasks: taking the next ones (within her quota), submitting, skipping, and
tasks whose lease ran out going back to the team."""

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.db import find, keyset_page
from marketplace.errors import Conflict, Forbidden, NotFound
from marketplace.identity.actor import Actor
from marketplace.identity.models import Membership, Party, Role
from marketplace.orders.leases import finish_batch, lock_batch
from marketplace.orders.models import BatchStatus, Order
from marketplace.orders.task_types import check_result, get_task_type
from marketplace.workers.decisions import add_to_tally, team_day
from marketplace.workers.levels import current_level, quota_left
from marketplace.workers.models import (
    UNFINISHED,
    LevelRate,
    PieceRate,
    Submission,
    Task,
    TaskSkip,
    TaskStatus,
)
from marketplace.workers.review import draw_sample


def take_tasks(session: Session, actor: Actor, *, count: int) -> list[Task]:
    """Hand the annotator up to `count` open tasks of her teams' claimed batches.

    Only work whose pay she knows is handed out: her level's rate for the task
    type, or the team's piece rate of the order. Never more than her daily quota
    allows (409 `daily_quota_reached` with when it resets), never a task she
    skipped, never a task of a team that deactivated her (403 `member_deactivated`
    when all her teams did). On PostgreSQL concurrent takers skip each other's rows (SKIP
    LOCKED) and never get the same task. Each task is hers until its lease ends.
    """
    actor.require(Role.ANNOTATOR)
    now = clock.now()
    taken: list[int] = []
    blocked = None
    working: list[int] = []
    for team_id in sorted(actor.party_ids(Role.ANNOTATOR)):
        if not _queue_her_takes(session, team_id, actor.user_id):
            continue
        working.append(team_id)
        team = session.get(Party, team_id)
        left, resets_at = quota_left(session, team, actor.user_id, now)
        wanted = count - len(taken) if left is None else min(count - len(taken), left)
        if wanted <= 0:
            blocked = blocked or (team, resets_at)
            continue
        taken += _take(session, actor.user_id, team_id, wanted, now)
        if len(taken) == count:
            break
    if not working:
        raise _deactivated()
    if not taken and blocked and _open_work(session, blocked[0].id, actor.user_id) is not None:
        team, resets_at = blocked
        raise Conflict(
            "You reached your daily quota in this team.",
            code="daily_quota_reached",
            team_id=team.id,
            resets_at=resets_at.isoformat(),
        )
    if not taken:
        for team_id in working:
            unrated = _open_work(session, team_id, actor.user_id, rated=False)
            if unrated is not None:
                raise Conflict(
                    "Your team has work whose pay is not set yet; ask your team owner.",
                    code="piece_rate_missing",
                    order_id=unrated,
                )
    return list(session.scalars(select(Task).where(Task.id.in_(taken)).order_by(Task.id)))


def _queue_her_takes(session: Session, team_id: int, user_id: int) -> bool:
    """Lock her membership of the team, so her takes from several tabs at once count her
    quota one after the other (each sees what the one before it took), and a
    deactivation waits for a take under way (its tasks are then returned too). Whether
    she works for the team: not deactivated."""
    membership = session.execute(
        select(Membership.deactivated_at)
        .where(
            Membership.party_id == team_id,
            Membership.user_id == user_id,
            Membership.role == Role.ANNOTATOR,
        )
        .with_for_update()
    ).first()
    return membership is not None and membership.deactivated_at is None


def _deactivated() -> Forbidden:
    return Forbidden(
        "Your team has deactivated you: you can no longer take its work. What you "
        "earned stays yours.",
        code="member_deactivated",
    )


def _pay_known(level_id: int | None):
    """Tasks whose pay the annotator knows: a piece rate, or her level's rate card."""
    piece_rate = exists().where(
        PieceRate.team_party_id == Task.team_party_id, PieceRate.order_id == Task.order_id
    )
    if level_id is None:
        return piece_rate
    level_rate = (
        exists()
        .where(
            LevelRate.level_id == level_id,
            Order.id == Task.order_id,
            LevelRate.task_type == Order.task_type,
            LevelRate.currency == Order.currency,
        )
        .correlate(Task)
    )
    return or_(piece_rate, level_rate)


def _takeable(team_id: int, user_id: int):
    skipped = exists().where(TaskSkip.task_id == Task.id, TaskSkip.user_id == user_id)
    return and_(Task.team_party_id == team_id, Task.status == TaskStatus.OPEN, ~skipped)


def _open_work(session: Session, team_id: int, user_id: int, *, rated: bool = True):
    """An order with open tasks she could take (or, with `rated=False`, unpaid ones)."""
    paid = _pay_known(getattr(current_level(session, team_id, user_id), "id", None))
    return session.scalar(
        select(Task.order_id).where(_takeable(team_id, user_id), paid if rated else ~paid).limit(1)
    )


def _take(session: Session, user_id: int, team_id: int, wanted: int, now: datetime) -> list[int]:
    """Assign her up to `wanted` of the team's open tasks, each leased for its order's task
    lease. Every task row is written once: a second write of a row this transaction made
    would re-check its foreign keys and wait on a batch a deal holds locked."""
    level = current_level(session, team_id, user_id)
    level_id = level.id if level else None
    candidates = session.execute(
        select(Task.id, Order.task_lease_minutes)
        .join(Order, Order.id == Task.order_id)
        .where(_takeable(team_id, user_id), _pay_known(level_id))
        .order_by(Task.id)
        .limit(wanted)
        .with_for_update(skip_locked=True, of=Task)
    ).all()
    by_lease: dict[int, list[int]] = defaultdict(list)
    for task_id, minutes in candidates:
        by_lease[minutes].append(task_id)
    taken: list[int] = []
    for minutes, task_ids in by_lease.items():
        taken += session.scalars(
            update(Task)
            .where(Task.id.in_(task_ids), Task.status == TaskStatus.OPEN)
            .values(
                status=TaskStatus.ASSIGNED,
                annotator_user_id=user_id,
                assigned_at=now,
                level_id=level_id,
                lease_expires_at=now + timedelta(minutes=minutes),
            )
            .returning(Task.id)
        ).all()
    return sorted(taken)


def my_tasks(session: Session, actor: Actor, *, status: TaskStatus, limit: int, after: int):
    mine = select(Task).where(Task.annotator_user_id == actor.user_id, Task.status == status)
    return keyset_page(session, mine, limit=limit, after=after)


def _held_task(session: Session, actor: Actor, task_id: int) -> Task:
    """The task in the annotator's hands, its batch locked first (submits of one batch, and
    the lease pass, queue on the batch row: batch, then task). 403 `member_deactivated`
    once her team deactivated her."""
    task = find(session, Task, task_id)
    if task is not None and task.annotator_user_id == actor.user_id:
        if lock_batch(session, task.batch_id) == BatchStatus.EXPIRED:
            raise Conflict("The batch's lease expired; the task went back.", code="lease_expired")
        # Her membership next: a deactivation under way finishes first (and takes the task
        # back), one after waits for this submit.
        if not _queue_her_takes(session, task.team_party_id, actor.user_id):
            raise _deactivated()
        task = session.get(Task, task_id, populate_existing=True)
    if task is None or task.annotator_user_id != actor.user_id:
        raise NotFound(f"No task {task_id} in your hands.", code="task_not_found")
    if task.status != TaskStatus.ASSIGNED:
        raise Conflict("This task was already submitted.", code="task_not_open", status=task.status)
    if task.lease_expires_at is not None and task.lease_expires_at <= clock.now():
        raise Conflict(
            "Your hold on this task ran out; it goes back to the team.",
            code="task_lease_expired",
            expired_at=task.lease_expires_at.isoformat(),
        )
    return task


def submit(
    session: Session,
    actor: Actor,
    task_id: int,
    result: dict[str, Any],
    *,
    idle_limit_seconds: int,
) -> Submission:
    """Record the annotator's result for a task she holds; a task is submitted once.

    The result must keep its task type's schema and rules (422
    `result_breaks_rule` naming the rule). The batch's last submission finishes
    the batch and draws its review sample. A task whose batch's lease, or whose
    own lease, ran out is refused (409 `lease_expired`, `task_lease_expired`).
    The submission keeps the seconds she worked on it (`work_seconds`): from
    when she took the task to now, at most `idle_limit_seconds`.
    """
    task = _held_task(session, actor, task_id)
    order = session.get(Order, task.order_id)
    check_result(
        get_task_type(session, order.task_type),
        result,
        item=task.item.payload,
        options=order.task_options,
    )
    now = clock.now()
    task.status = TaskStatus.SUBMITTED
    submission = Submission(
        task_id=task.id,
        batch_id=task.batch_id,
        order_id=task.order_id,
        team_party_id=task.team_party_id,
        annotator_user_id=actor.user_id,
        level_id=task.level_id,
        result=result,
        submitted_at=now,
        work_seconds=min((now - task.assigned_at) // timedelta(seconds=1), idle_limit_seconds),
    )
    session.add(submission)
    session.flush()
    add_to_tally(
        session,
        user_id=actor.user_id,
        team_party_id=task.team_party_id,
        day=team_day(session, task.team_party_id, now),
        currency=order.currency,
        submitted=1,
    )
    if not session.scalar(select(exists().where(Task.batch_id == task.batch_id, UNFINISHED))):
        finish_batch(session, task.batch_id)
        draw_sample(session, task.batch_id, order)
    return submission


def skip(session: Session, actor: Actor, task_id: int, reason: str) -> Task:
    """Put a task back with a reason: it returns to the team's open tasks, and she is not
    handed it again."""
    task = _held_task(session, actor, task_id)
    session.add(
        TaskSkip(task_id=task.id, user_id=actor.user_id, reason=reason, skipped_at=clock.now())
    )
    _reopen(task)
    session.flush()
    return task


def _reopen(task: Task) -> None:
    task.status = TaskStatus.OPEN
    task.annotator_user_id = None
    task.assigned_at = None
    task.lease_expires_at = None
    task.level_id = None


def return_expired_tasks(session: Session) -> int:
    """Tasks held past their lease go back to their team's open tasks; how many did."""
    return _return_held(session, Task.lease_expires_at <= clock.now())


def return_member_tasks(session: Session, *, team_id: int, user_id: int) -> int:
    """Every task of the team in the member's hands goes back to its open tasks at once, as
    an expired one does (her team deactivated her); how many did."""
    return _return_held(session, Task.team_party_id == team_id, Task.annotator_user_id == user_id)


def _return_held(session: Session, *held) -> int:
    tasks = session.scalars(
        select(Task)
        .where(Task.status == TaskStatus.ASSIGNED, *held)
        .with_for_update(skip_locked=True, of=Task)
    ).all()
    for task in tasks:
        _reopen(task)
    session.flush()
    return len(tasks)
