"""Use cases of the team's work: piece rates, taking and submitting tasks, review."""

from typing import Any

from sqlalchemy import exists, func, insert, literal, select, update
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.db import MAX_ID, find, keyset_page
from marketplace.errors import Conflict, Forbidden, NotFound
from marketplace.identity.actor import Actor
from marketplace.identity.models import Role
from marketplace.money import format_micros
from marketplace.orders.claims import lock_claimant
from marketplace.orders.leases import finish_batch, lock_batch
from marketplace.orders.models import Batch, BatchStatus, Item
from marketplace.orders.service import get_order
from marketplace.subcontract.models import Contract
from marketplace.subcontract.service import performing_contracts
from marketplace.workers.models import (
    Decision,
    PieceRate,
    Submission,
    SubmissionStatus,
    Task,
    TaskStatus,
)

REVIEWER_ROLES = (Role.REVIEWER, Role.TEAM_OWNER)
UNFINISHED = Task.status.in_([TaskStatus.OPEN, TaskStatus.ASSIGNED])


def open_tasks(session: Session, *, batch: Batch) -> None:
    """React to a claim: every item of the batch becomes an open task of the claiming team."""
    session.execute(
        insert(Task).from_select(
            ["item_id", "batch_id", "order_id", "team_party_id", "status", "created_at"],
            select(
                Item.id,
                Item.batch_id,
                Item.order_id,
                literal(batch.claimed_by_party_id),
                literal(TaskStatus.OPEN.value),
                literal(clock.now(), type_=Task.__table__.c.created_at.type),
            ).where(Item.batch_id == batch.id),
        )
    )


def set_piece_rate(
    session: Session, actor: Actor, order_id: int, unit_price_micros: int
) -> PieceRate:
    """Set what the team pays its annotators per accepted item of an order.

    Any team holding a contract on the order sets it, batches claimed or not. The
    rate may not exceed what the team's own contracts pay it (the lowest, if it
    works under several): the team would pay out money nobody owes it.
    Items already accepted keep the rate they got.
    """
    working = [
        team
        for team in sorted(actor.party_ids(Role.TEAM_OWNER))
        if 0 < order_id <= MAX_ID and performing_contracts(session, order_id=order_id, team_id=team)
    ]
    if not working:
        get_order(session, actor, order_id)  # 404 for an order the caller may not see
        raise Forbidden("Only the owner of a team working this order sets its piece rate.")
    team = working[0]
    # Deals that give the team a new contract hold this lock too: the rate and the
    # prices it must stay within are read one after the other, never interleaved.
    lock_claimant(session, order_id, team)
    contracts = performing_contracts(session, order_id=order_id, team_id=team)
    order = contracts[0].order
    cheapest = min(contracts, key=lambda contract: contract.unit_price_micros)
    if unit_price_micros > cheapest.unit_price_micros:
        raise Conflict(
            "The piece rate is above what the contract pays the team.",
            code="rate_above_contract_price",
            contract_id=cheapest.id,
        )
    rate = session.scalar(
        select(PieceRate).where(PieceRate.team_party_id == team, PieceRate.order_id == order.id)
    )
    if rate is None:
        rate = PieceRate(team_party_id=team, order_id=order.id)
        session.add(rate)
    rate.unit_price_micros = unit_price_micros
    rate.currency = order.currency
    rate.set_by_user_id = actor.user_id
    session.flush()
    return rate


def check_piece_rate_within(session: Session, *, contract: Contract) -> None:
    """React to a new contract: refuse it (409 `rate_above_contract_price`) if its team
    already pays its annotators more per item of the order than it pays. The deal holds
    the team's standing on the order locked, as `set_piece_rate` does."""
    rate = session.scalar(
        select(PieceRate.unit_price_micros).where(
            PieceRate.team_party_id == contract.downstream_party_id,
            PieceRate.order_id == contract.order_id,
        )
    )
    if rate is not None and rate > contract.unit_price_micros:
        raise Conflict(
            "The team pays its annotators more per item of this order than this contract "
            "pays; it lowers its piece rate first.",
            code="rate_above_contract_price",
            piece_rate=format_micros(rate),
        )


def hand_over_tasks(session: Session, *, batch_ids: list[int], team_id: int) -> None:
    """React to batches passed down a chain: their tasks become the new team's.

    Only batches nobody has started go down: 409 `batch_not_passable` if an
    annotator took or did any of their tasks, even one taken a moment ago (the
    move takes only open tasks, and a task being taken waits or is skipped).
    """
    of_batches = Task.batch_id.in_(batch_ids)
    moved = session.scalars(
        update(Task)
        .where(of_batches, Task.status == TaskStatus.OPEN)
        .values(team_party_id=team_id)
        .returning(Task.id)
    ).all()
    if len(moved) != session.scalar(select(func.count()).where(of_batches)):
        started = session.scalar(
            select(Task.batch_id).where(of_batches, Task.status != TaskStatus.OPEN).limit(1)
        )
        raise Conflict(
            f"Batch {started} cannot be passed down: your annotators have started it.",
            code="batch_not_passable",
            batch_id=started,
        )


def take_tasks(session: Session, actor: Actor, *, count: int) -> list[Task]:
    """Hand the annotator up to `count` open tasks of her team's claimed batches.

    Only orders whose piece rate is set are handed out, so nobody works without
    knowing the pay. On PostgreSQL concurrent takers skip each other's rows
    (SKIP LOCKED) and never get the same task.
    """
    actor.require(Role.ANNOTATOR)
    teams = actor.party_ids(Role.ANNOTATOR)
    rated = exists().where(
        PieceRate.team_party_id == Task.team_party_id, PieceRate.order_id == Task.order_id
    )
    candidates = (
        select(Task.id)
        .where(Task.team_party_id.in_(teams), Task.status == TaskStatus.OPEN, rated)
        .order_by(Task.id)
        .limit(count)
        .with_for_update(skip_locked=True)
    )
    taken = session.scalars(
        update(Task)
        .where(Task.id.in_(candidates), Task.status == TaskStatus.OPEN)
        .values(
            status=TaskStatus.ASSIGNED, annotator_user_id=actor.user_id, assigned_at=clock.now()
        )
        .returning(Task.id)
    ).all()
    if not taken:
        unrated = session.scalar(
            select(Task.order_id).where(
                Task.team_party_id.in_(teams), Task.status == TaskStatus.OPEN, ~rated
            )
        )
        if unrated is not None:
            raise Conflict(
                "Your team has work whose piece rate is not set yet; ask your team owner.",
                code="piece_rate_missing",
                order_id=unrated,
            )
    return list(session.scalars(select(Task).where(Task.id.in_(taken)).order_by(Task.id)))


def my_tasks(session: Session, actor: Actor, *, status: TaskStatus, limit: int, after: int):
    mine = select(Task).where(Task.annotator_user_id == actor.user_id, Task.status == status)
    return keyset_page(session, mine, limit=limit, after=after)


def submit(session: Session, actor: Actor, task_id: int, result: dict[str, Any]) -> Submission:
    """Record the annotator's result for a task she holds; a task is submitted once.

    The batch's last submission finishes the batch, so its team holds one fewer.
    A task whose batch's lease expired is refused (409 `lease_expired`).
    """
    task = find(session, Task, task_id)
    if task is not None and task.annotator_user_id == actor.user_id:
        # Submits of one batch, and the lease pass, queue on the batch row (always batch,
        # then task): the last submit sees every other, and no item is both submitted
        # and returned to the board.
        if lock_batch(session, task.batch_id) == BatchStatus.EXPIRED:
            raise Conflict("The batch's lease expired; the task went back.", code="lease_expired")
        task = session.get(Task, task_id, populate_existing=True)
    if task is None or task.annotator_user_id != actor.user_id:
        raise NotFound(f"No task {task_id} in your hands.", code="task_not_found")
    if task.status != TaskStatus.ASSIGNED:
        raise Conflict("This task was already submitted.", code="task_not_open", status=task.status)
    task.status = TaskStatus.SUBMITTED
    submission = Submission(
        task_id=task.id,
        order_id=task.order_id,
        team_party_id=task.team_party_id,
        annotator_user_id=actor.user_id,
        result=result,
        submitted_at=clock.now(),
    )
    session.add(submission)
    session.flush()
    if not session.scalar(select(exists().where(Task.batch_id == task.batch_id, UNFINISHED))):
        finish_batch(session, task.batch_id)
    return submission


def list_submissions(
    session: Session, actor: Actor, *, status: SubmissionStatus, limit: int, after: int
) -> list[Submission]:
    """Submissions of the reviewer's teams, oldest first."""
    actor.require(*REVIEWER_ROLES)
    teams = select(Submission).where(
        Submission.team_party_id.in_(actor.party_ids(*REVIEWER_ROLES)), Submission.status == status
    )
    return keyset_page(session, teams, limit=limit, after=after)


def review(session: Session, actor: Actor, decisions: list[dict[str, Any]]) -> list[Submission]:
    """Accept or reject submitted items, all or none.

    A reviewer or owner of the submitting team decides; nobody reviews her own
    work. An accepted item becomes billable at the team's current piece rate; a
    rejected one carries its reason.
    """
    # A submission is visible to the members of its team (and admins): others get 404
    # before any role is checked, as everywhere else.
    visible_teams = actor.party_ids(Role.TEAM_OWNER, Role.REVIEWER, Role.ANNOTATOR)
    ids = [d["submission_id"] for d in decisions]
    if len(set(ids)) != len(ids):
        raise Conflict("A submission appears twice in one review.", code="duplicate_decision")
    found = {
        s.id: s
        for s in session.scalars(
            select(Submission)
            .where(Submission.id.in_([i for i in ids if 0 < i <= MAX_ID]))
            .with_for_update(of=Submission)
        )
    }
    now = clock.now()
    reviewed = []
    for decision in decisions:
        submission = found.get(decision["submission_id"])
        if submission is None or not (
            actor.is_platform_admin or submission.team_party_id in visible_teams
        ):
            raise NotFound(
                f"No submission {decision['submission_id']}.", code="submission_not_found"
            )
        actor.require(*REVIEWER_ROLES, party_id=submission.team_party_id)
        if submission.annotator_user_id == actor.user_id:
            raise Forbidden("Nobody reviews her own work.", code="own_submission")
        if submission.status != SubmissionStatus.SUBMITTED:
            raise Conflict(
                "This submission was already reviewed.",
                code="already_reviewed",
                submission_id=submission.id,
            )
        accepted = decision["decision"] == Decision.ACCEPT
        submission.status = SubmissionStatus.ACCEPTED if accepted else SubmissionStatus.REJECTED
        submission.reason = decision.get("reason")
        submission.reviewer_user_id = actor.user_id
        submission.reviewed_at = now
        submission.task.status = TaskStatus.ACCEPTED if accepted else TaskStatus.REJECTED
        if accepted:
            submission.rate_micros = _rate(session, submission)
        reviewed.append(submission)
    session.flush()
    return reviewed


def _rate(session: Session, submission: Submission) -> int:
    return session.scalars(
        select(PieceRate.unit_price_micros).where(
            PieceRate.team_party_id == submission.team_party_id,
            PieceRate.order_id == submission.order_id,
        )
    ).one()
