"""The annotator's standing: her level in each of her teams and what the next level needs,
her rejected items with their reasons, and a dispute of a rejection, with its state.

Her level and the next level's figures are what the team's members list (GET
/teams/{id}/members) shows her owner, from the same functions (`levels.current_level`,
`levels.eligibility`), after `levels.level_history` has checked, as GET
/teams/{id}/members/{her id}/levels does, that she annotates for the team. A dispute is
POST /submissions/{id}/dispute (`disputes.open_dispute`): the same 404, the same 409s.
"""

from types import SimpleNamespace

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import select

from marketplace import clock
from marketplace.db import MAX_ID, db, unit_of_work
from marketplace.errors import DomainError
from marketplace.identity.models import Party, Role
from marketplace.orders.models import Order
from marketplace.pages.messages import field_errors, translated
from marketplace.pages.viewer import Viewer, signed_in, viewer
from marketplace.workers import disputes, levels, review
from marketplace.workers.models import Submission, SubmissionStatus
from marketplace.workers.schemas import DisputeIn

blp = Blueprint("standing", __name__)

# Her rejections, newest first: the last so many (older ones can no longer be disputed).
REJECTIONS_SHOWN = 100


def nav_links(viewer: Viewer) -> list[tuple[str, str]]:
    """Her level and her rejections in the header, for who annotates."""
    return [("pages.standing.standing", _("My level"))] if viewer.annotates else []


@blp.get("/me/standing")
@signed_in
def standing():
    """Her level per team, the next level's rule and her figures against it, her
    rejections with their reasons and her disputes' states (403 for who annotates for
    no team, as the API's annotator reads)."""
    return _standing_page()


def _standing_page(*, errors=None, form=None, status=200):
    actor = viewer().actor
    actor.require(Role.ANNOTATOR)
    teams = [_team_standing(team_id) for team_id in sorted(actor.party_ids(Role.ANNOTATOR))]
    mine = {
        d.submission_id: d
        for d in disputes.list_disputes(db.session, actor, status=None, limit=1000, after=0)
        if d.annotator_user_id == actor.user_id
    }
    return render_template(
        "standing/standing.html",
        teams=teams,
        rejections=_rejections(actor.user_id, mine),
        disputes=mine,
        errors=errors or {},
        form=form or {},
    ), status


def _team_standing(team_id: int) -> dict:
    """Her level in the team, since when, and the next level with her figures."""
    user_id = viewer().actor.user_id
    history = levels.level_history(db.session, viewer().actor, team_id, user_id)
    level = levels.current_level(db.session, team_id, user_id)
    return {
        "team": db.session.get(Party, team_id),
        "level": level,
        "since": history[-1].created_at if history else None,
        "next": levels.eligibility(db.session, team_id, user_id, level),
    }


def _rejections(user_id: int, disputed: dict) -> list[dict]:
    """Her rejected items and the items she disputed (an upheld one is accepted now),
    newest decision first, with the order's title and the last day to dispute."""
    found = db.session.execute(
        select(Submission, Order)
        .join(Order, Order.id == Submission.order_id)
        .where(
            Submission.annotator_user_id == user_id,
            (Submission.status == SubmissionStatus.REJECTED) | Submission.id.in_(list(disputed)),
        )
        .order_by(Submission.reviewed_at.desc(), Submission.id.desc())
        .limit(REJECTIONS_SHOWN)
    ).all()
    now, rows = clock.now(), []
    for submission, order in found:
        rejection = _the_rejection(submission)
        closes = disputes.dispute_window_closes(db.session, submission)
        rows.append(
            {
                "submission": submission,
                "order": order,
                "dispute": disputed.get(submission.id),
                "rejected_at": rejection.decided_at,
                "reason_code": rejection.reason_code,
                "note": rejection.note,
                "dispute_by": closes,
                "may_dispute": now <= closes,  # else the service would refuse (409)
            }
        )
    return rows


def _the_rejection(submission: Submission):
    """The rejection of the item: the decision in force while it stands; once a dispute
    has overturned it, the last rejection in its history (GET /submissions/{id}/decisions),
    so the page still says when and why it was rejected."""
    if submission.status == SubmissionStatus.REJECTED:
        return SimpleNamespace(
            decided_at=submission.reviewed_at,
            reason_code=submission.reason_code,
            note=submission.reason,
        )
    history = review.decision_history(db.session, viewer().actor, submission.id)
    return next(d for d in reversed(history) if d.status == SubmissionStatus.REJECTED)


@blp.post("/me/standing/rejections/<int:submission_id>/dispute")
@signed_in
def dispute(submission_id: int):
    """Dispute the rejection of her item, with a reason (POST /submissions/{id}/dispute)."""
    form = {"reason": request.form.get("reason", "")}
    try:
        data = DisputeIn().load(form)
    except ValidationError as invalid:
        return _standing_page(
            errors={submission_id: field_errors(invalid.messages)},
            form={submission_id: form},
            status=422,
        )
    if not 0 < submission_id <= MAX_ID:
        abort(404)
    try:
        with unit_of_work() as work:
            disputes.open_dispute(work, viewer().actor, submission_id, data["reason"])
    except DomainError as refused:
        if refused.status == 404:
            raise
        return _standing_page(
            errors={submission_id: {"reason": translated(refused.message)}},
            form={submission_id: form},
            status=refused.status,
        )
    flash(_("Your dispute is sent: someone other than the reviewer decides it."), "info")
    return redirect(url_for(".standing") + f"#rejection-{submission_id}")
