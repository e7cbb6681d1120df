"""Disputes: an annotator challenges a rejection; someone other than its reviewer decides."""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.db import find, keyset_page
from marketplace.errors import Conflict, Forbidden, NotFound
from marketplace.identity.actor import Actor
from marketplace.identity.models import Role
from marketplace.orders.models import Order
from marketplace.workers.announce import announce_dispute
from marketplace.workers.decisions import Verdict, decide
from marketplace.workers.models import (
    DecisionSource,
    Dispute,
    DisputeStatus,
    Submission,
    SubmissionStatus,
)
from marketplace.workers.review import REVIEWER_ROLES, may_review


def open_dispute(session: Session, actor: Actor, submission_id: int, reason: str) -> Dispute:
    """The annotator disputes the rejection of her own item, within the order's review
    window from the rejection (409 `dispute_window_closed`), once (409 `already_disputed`)."""
    submission = find(session, Submission, submission_id)
    if submission is None or submission.annotator_user_id != actor.user_id:
        raise NotFound(f"No submission {submission_id} of yours.", code="submission_not_found")
    if submission.status != SubmissionStatus.REJECTED:
        raise Conflict(
            "Only a rejection can be disputed.", code="not_rejected", status=submission.status
        )
    closes = dispute_window_closes(session, submission)
    if clock.now() > closes:
        raise Conflict(
            "The time to dispute this rejection has passed.",
            code="dispute_window_closed",
            closed_at=closes.isoformat(),
        )
    dispute = Dispute(
        submission_id=submission.id,
        team_party_id=submission.team_party_id,
        annotator_user_id=actor.user_id,
        reviewer_user_id=submission.reviewer_user_id,
        reason_code=submission.reason_code,
        reason=reason,
    )
    try:
        with session.begin_nested():
            session.add(dispute)
    except IntegrityError as exc:
        raise Conflict("This rejection is already disputed.", code="already_disputed") from exc
    return dispute


def dispute_window_closes(session: Session, submission: Submission) -> datetime:
    """When the rejection of the item may no longer be disputed: the order's review window
    from the rejection."""
    window = session.scalar(select(Order.review_window_days).where(Order.id == submission.order_id))
    return submission.reviewed_at + timedelta(days=window)


def _visible(session: Session, actor: Actor):
    """Disputes the actor sees: her own, and those of the teams she reviews for."""
    teams = [
        t for t in actor.party_ids(*REVIEWER_ROLES, Role.ANNOTATOR) if may_review(session, actor, t)
    ]
    return select(Dispute).where(
        (Dispute.annotator_user_id == actor.user_id) | Dispute.team_party_id.in_(teams)
    )


def list_disputes(
    session: Session, actor: Actor, *, status: DisputeStatus | None, limit: int, after: int
) -> list[Dispute]:
    query = _visible(session, actor)
    if status is not None:
        query = query.where(Dispute.status == status)
    return keyset_page(session, query, limit=limit, after=after)


def get_dispute(session: Session, actor: Actor, dispute_id: int) -> Dispute:
    dispute = find(session, Dispute, dispute_id)
    if (
        dispute is None
        or session.scalar(_visible(session, actor).where(Dispute.id == dispute_id)) is None
    ):
        raise NotFound(f"No dispute {dispute_id}.", code="dispute_not_found")
    return dispute


def decide_dispute(
    session: Session, actor: Actor, dispute_id: int, *, uphold: bool, note: str
) -> Dispute:
    """A reviewer, owner or quality inspector of the team, other than the one who rejected
    the item (403 `original_reviewer`) and other than its annotator, decides an open
    dispute. Upheld, the item becomes accepted at its rate in force and its earnings
    accrue like any accepted item's; dismissed, the rejection stands."""
    dispute = get_dispute(session, actor, dispute_id)
    # Lock the dispute row alone: PostgreSQL cannot lock the outer-joined submission.
    session.refresh(dispute, with_for_update={"of": Dispute})
    if not may_review(session, actor, dispute.team_party_id):
        raise Forbidden("Reviewers, owners and quality inspectors decide disputes.")
    if actor.user_id == dispute.annotator_user_id:
        raise Forbidden("Nobody decides her own dispute.", code="own_dispute")
    if actor.user_id == dispute.reviewer_user_id:
        raise Forbidden(
            "Someone other than the reviewer who rejected the item decides.",
            code="original_reviewer",
        )
    if dispute.status != DisputeStatus.OPEN:
        raise Conflict("This dispute was decided.", code="dispute_decided", status=dispute.status)
    now = clock.now()
    dispute.status = DisputeStatus.UPHELD if uphold else DisputeStatus.DISMISSED
    dispute.decided_by_user_id = actor.user_id
    dispute.decided_at = now
    dispute.note = note
    if uphold:
        verdict = Verdict(
            SubmissionStatus.ACCEPTED, DecisionSource.DISPUTE, actor.user_id, note=note
        )
        decide(session, [dispute.submission_id], verdict, now)
    announce_dispute(session, dispute)
    session.flush()
    return dispute
