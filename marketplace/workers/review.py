"""Review: a sample of each finished batch is checked, the batch passes or goes back for
rework, and what nobody reviewed in time is accepted."""

import math
import random
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.db import MAX_ID, find, keyset_page
from marketplace.errors import Conflict, Forbidden, Invalid, NotFound
from marketplace.identity.actor import Actor
from marketplace.identity.models import Role
from marketplace.orders.claims import may_see_batch
from marketplace.orders.models import Batch, Order
from marketplace.orders.task_types import get_task_type
from marketplace.workers.decisions import Verdict, decide
from marketplace.workers.levels import current_level, deactivated_in
from marketplace.workers.models import (
    BatchReview,
    Decision,
    DecisionSource,
    ReviewDecision,
    Submission,
    SubmissionStatus,
)

REVIEWER_ROLES = (Role.REVIEWER, Role.TEAM_OWNER)


def may_review(session: Session, actor: Actor, team_id: int) -> bool:
    """Reviewers and owners review their team's work, and so do its quality inspectors
    (annotators at a level that reviews)."""
    if any(actor.has(role, team_id) for role in REVIEWER_ROLES):
        return True
    level = actor.has(Role.ANNOTATOR, team_id) and current_level(session, team_id, actor.user_id)
    return bool(level and level.reviews)


def _reviewing_teams(session: Session, actor: Actor) -> list[int]:
    teams = actor.party_ids(*REVIEWER_ROLES, Role.ANNOTATOR)
    return [team for team in sorted(teams) if may_review(session, actor, team)]


def draw_sample(session: Session, batch_id: int, order: Order) -> None:
    """The batch's last item came in: draw its review sample (a new round after a rework)
    from its submitted items nobody decided yet, at the order's sampling rate (rounded up).
    The draw is seeded by batch and round, so it can be drawn again and checked."""
    waiting = session.scalars(
        select(Submission.id)
        .where(
            Submission.batch_id == batch_id,
            Submission.status == SubmissionStatus.SUBMITTED,
            Submission.sample_round.is_(None),
        )
        .order_by(Submission.id)
    ).all()
    if not waiting:
        return
    round_ = 1 + (
        session.scalar(
            select(func.max(Submission.sample_round)).where(Submission.batch_id == batch_id)
        )
        or 0
    )
    size = math.ceil(len(waiting) * order.review_sample_bps / 10_000)
    chosen = random.Random(f"{batch_id}:{round_}").sample(waiting, size)
    session.execute(
        Submission.__table__.update().where(Submission.id.in_(chosen)).values(sample_round=round_)
    )


def batch_sample(session: Session, actor: Actor, batch_id: int) -> list[Submission]:
    """The batch's current review sample, for a reviewer of its team."""
    batch = find(session, Batch, batch_id)
    if batch is None or not may_see_batch(actor, batch):
        raise NotFound(f"No batch {batch_id}.", code="batch_not_found")
    if not may_review(session, actor, batch.claimed_by_party_id or 0):
        raise Forbidden("Only those who review the team holding the batch see its review.")
    current = select(func.max(Submission.sample_round)).where(Submission.batch_id == batch_id)
    return list(
        session.scalars(
            select(Submission)
            .where(
                Submission.batch_id == batch_id,
                Submission.sample_round == current.scalar_subquery(),
            )
            .order_by(Submission.id)
        )
    )


def list_submissions(
    session: Session,
    actor: Actor,
    *,
    status: SubmissionStatus,
    sampled: bool | None,
    limit: int,
    after: int,
) -> list[Submission]:
    """Submissions of the teams the actor reviews, oldest first (only sampled ones, or only
    the rest, if asked); an annotator who does not review sees her own, so she finds what
    was rejected and why."""
    teams = _reviewing_teams(session, actor)
    if teams:
        query = select(Submission).where(Submission.team_party_id.in_(teams))
    elif actor.party_ids(Role.ANNOTATOR):
        query = select(Submission).where(Submission.annotator_user_id == actor.user_id)
    else:
        actor.require(*REVIEWER_ROLES)
    query = query.where(Submission.status == status)
    if sampled is not None:
        query = query.where(
            Submission.sample_round.is_not(None) if sampled else Submission.sample_round.is_(None)
        )
    return keyset_page(session, query, limit=limit, after=after)


def decision_history(session: Session, actor: Actor, submission_id: int) -> list[ReviewDecision]:
    """Every decision on a submission, oldest first, with who, when, why and how: for its
    annotator and for those who review her team's work (404 for anyone else)."""
    submission = find(session, Submission, submission_id)
    if submission is None or not (
        submission.annotator_user_id == actor.user_id
        or may_review(session, actor, submission.team_party_id)
    ):
        raise NotFound(f"No submission {submission_id}.", code="submission_not_found")
    return list(
        session.scalars(
            select(ReviewDecision)
            .where(ReviewDecision.submission_id == submission_id)
            .order_by(ReviewDecision.id)
        )
    )


def review(session: Session, actor: Actor, decisions: list[dict[str, Any]]) -> list[Submission]:
    """Accept or reject submitted items, all or none, each decision recorded with who, when
    and why (a rejection names a reason code of the task type).

    A reviewer, owner or quality inspector of the submitting team decides; nobody
    reviews her own work. An accepted item becomes billable at its rate in force.
    When a decision completes a finished batch's sample, the batch is concluded
    in the same unit of work: at or above the order's accuracy threshold the rest
    of the batch is accepted; below it, the rest goes back to its annotators for
    rework (the decided items keep their decisions).
    """
    ids = [d["submission_id"] for d in decisions]
    if len(set(ids)) != len(ids):
        raise Conflict("A submission appears twice in one review.", code="duplicate_decision")
    found = {
        s.id: s
        for s in session.scalars(
            select(Submission)
            .where(Submission.id.in_([i for i in ids if 0 < i <= MAX_ID]))
            .order_by(Submission.id)
            .with_for_update(of=Submission)
        )
    }
    # A submission is visible to the members of its team (and admins): others get 404
    # before any role is checked, as everywhere else.
    members_of = actor.party_ids(*REVIEWER_ROLES, Role.ANNOTATOR)
    benched = deactivated_in(session, actor.user_id)
    now = clock.now()
    for decision in decisions:
        submission = found.get(decision["submission_id"])
        if submission is None or not (
            actor.is_platform_admin or submission.team_party_id in members_of
        ):
            raise NotFound(
                f"No submission {decision['submission_id']}.", code="submission_not_found"
            )
        if not may_review(session, actor, submission.team_party_id):
            raise Forbidden(
                "Reviewers, owners and quality inspectors of the team review its work.",
                required_roles=[str(r) for r in REVIEWER_ROLES],
            )
        if submission.team_party_id in benched:
            raise Forbidden(
                "Your team has deactivated you: you no longer review its work.",
                code="member_deactivated",
            )
        if submission.annotator_user_id == actor.user_id:
            raise Forbidden("Nobody reviews her own work.", code="own_submission")
        if submission.status != SubmissionStatus.SUBMITTED:
            raise Conflict(
                "This submission was already reviewed.",
                code="already_reviewed",
                submission_id=submission.id,
            )
        _check_reason_code(session, submission, decision)
    # Decisions alike are applied together: a review of 1,000 items is a few statements.
    alike: dict[Verdict, list[int]] = {}
    for decision in decisions:
        accepted = decision["decision"] == Decision.ACCEPT
        verdict = Verdict(
            status=SubmissionStatus.ACCEPTED if accepted else SubmissionStatus.REJECTED,
            source=DecisionSource.REVIEW,
            by_user_id=actor.user_id,
            reason_code=decision.get("reason_code"),
            note=decision.get("reason"),
        )
        alike.setdefault(verdict, []).append(decision["submission_id"])
    for verdict, same in alike.items():
        decide(session, same, verdict, now)
    for batch_id in sorted({found[i].batch_id for i in ids if found[i].sample_round}):
        _conclude_if_sampled(session, batch_id, actor)
    return list(
        session.scalars(select(Submission).where(Submission.id.in_(ids)).order_by(Submission.id))
    )


def _check_reason_code(session: Session, submission: Submission, decision: dict) -> None:
    code = decision.get("reason_code")
    if code is None:
        return
    order = session.get(Order, submission.order_id)
    known = get_task_type(session, order.task_type).reason_codes
    if code not in known:
        raise Invalid(
            f"No reason code {code!r} for {order.task_type}.",
            code="unknown_reason_code",
            submission_id=submission.id,
            reason_codes=known,
        )


def _conclude_if_sampled(session: Session, batch_id: int, actor: Actor) -> None:
    """Conclude the batch's current round once its sample is decided and nothing of the
    batch is still being worked."""
    round_ = session.scalar(
        select(func.max(Submission.sample_round)).where(Submission.batch_id == batch_id)
    )
    in_round = (Submission.batch_id == batch_id, Submission.sample_round == round_)
    counts = dict(
        session.execute(
            select(Submission.status, func.count()).where(*in_round).group_by(Submission.status)
        ).all()
    )
    concluded = session.scalar(
        select(BatchReview.id).where(BatchReview.batch_id == batch_id, BatchReview.round == round_)
    )
    if concluded or counts.get(SubmissionStatus.SUBMITTED):
        return
    batch = session.get(Batch, batch_id)
    order = batch.order
    size = sum(counts.values())
    accepted = counts.get(SubmissionStatus.ACCEPTED, 0)
    accuracy = accepted * 10_000 // size
    passed = accuracy >= order.accuracy_threshold_bps
    session.add(
        BatchReview(
            batch_id=batch_id,
            round=round_,
            sample_size=size,
            accepted=accepted,
            accuracy_bps=accuracy,
            threshold_bps=order.accuracy_threshold_bps,
            outcome="passed" if passed else "rework",
            reviewer_user_id=actor.user_id,
        )
    )
    rest = session.scalars(
        select(Submission.id)
        .where(Submission.batch_id == batch_id, Submission.status == SubmissionStatus.SUBMITTED)
        .with_for_update()
    ).all()
    now = clock.now()
    if passed:
        verdict = Verdict(SubmissionStatus.ACCEPTED, DecisionSource.SAMPLE_PASSED, actor.user_id)
    else:
        verdict = Verdict(
            SubmissionStatus.RETURNED,
            DecisionSource.REWORK,
            actor.user_id,
            note=f"The batch's sample was {accuracy / 100:.2f} % accurate, under "
            f"{order.accuracy_threshold_bps / 100:.2f} %.",
            lease_until=now + timedelta(minutes=order.task_lease_minutes),
        )
    decide(session, rest, verdict, now)
    session.flush()


def batch_reviews(session: Session, actor: Actor, batch_id: int) -> list[BatchReview]:
    """Every concluded round of the batch's review."""
    batch_sample(session, actor, batch_id)
    return list(
        session.scalars(
            select(BatchReview).where(BatchReview.batch_id == batch_id).order_by(BatchReview.round)
        )
    )


def accept_overdue_work(session: Session) -> int:
    """Accept every submitted item nobody reviewed within its order's review window, as the
    big crowd platforms do, so nobody's pay waits on a forgotten review. Items already
    decided are left alone; running it twice accepts nothing twice. How many it accepted."""
    now = clock.now()
    accepted = 0
    for window in session.scalars(select(Order.review_window_days).distinct()).all():
        overdue = session.scalars(
            select(Submission.id)
            .join(Order, Order.id == Submission.order_id)
            .where(
                Submission.status == SubmissionStatus.SUBMITTED,
                Order.review_window_days == window,
                Submission.submitted_at <= now - timedelta(days=window),
            )
            .with_for_update(skip_locked=True, of=Submission)
        ).all()
        decide(session, overdue, Verdict(SubmissionStatus.ACCEPTED, DecisionSource.AUTO), now)
        accepted += len(overdue)
    return accepted
