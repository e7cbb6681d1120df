"""The reviewer's day (and the quality inspector's: an annotator at a level that reviews):
the queue of her teams' submitted items, one at a time or many at once in a table, a
batch's review sample, and the disputes she may decide.

Every page reads and writes through the services of the API's endpoints, with the
session's actor: the queue is GET /submissions, a decision POST /reviews (one item or
many, all or none), a batch's sample GET /batches/{id}/sample and /reviews, a dispute's
decision POST /disputes/{id}/decision. Who may review is `review.may_review`, as the
API decides: the same 404 for another team's item, the same 403 for a role that does not
review.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import select

from marketplace.db import MAX_ID, db, unit_of_work
from marketplace.errors import DomainError, Forbidden, Invalid
from marketplace.identity.models import Role, User
from marketplace.orders.models import Order
from marketplace.orders.task_types import get_task_type
from marketplace.pages import reasons
from marketplace.pages.messages import field_errors, translated
from marketplace.pages.viewer import Viewer, safe_next, signed_in, viewer
from marketplace.workers import disputes, review
from marketplace.workers.models import DisputeStatus, Submission, SubmissionStatus
from marketplace.workers.schemas import DecisionIn, DisputeDecisionIn, ReviewIn

blp = Blueprint("review", __name__, url_prefix="/review")
for _name, _filter in reasons.FILTERS.items():
    blp.add_app_template_filter(_filter, _name)

QUEUE_PAGE = 50


def reviews_somewhere(viewer: Viewer) -> bool:
    """Whether she reviews any of her teams' work, as the API decides (`may_review`)."""
    actor = viewer.actor
    teams = actor.party_ids(*review.REVIEWER_ROLES, Role.ANNOTATOR)
    return any(review.may_review(db.session, actor, team) for team in sorted(teams))


def nav_links(viewer: Viewer) -> list[tuple[str, str]]:
    """The review queue in the header, for who reviews (quality inspectors included)."""
    return [("pages.review.queue", _("Review"))] if reviews_somewhere(viewer) else []


def _require_reviewer() -> None:
    """403 for who reviews no team's work, as POST /reviews answers her."""
    if not reviews_somewhere(viewer()):
        raise Forbidden(
            "Reviewers, owners and quality inspectors of the team review its work.",
            required_roles=[str(r) for r in review.REVIEWER_ROLES],
        )


@blp.get("")
@signed_in
def queue():
    """Her teams' submitted items, oldest first, 50 a page (`?after=` the last id seen);
    `?sampled=1` only those in a batch's review sample, `?sampled=0` the rest."""
    _require_reviewer()
    sampled = {"1": True, "0": False}.get(request.args.get("sampled", ""))
    after = _id_argument("after", default=0)
    waiting = review.list_submissions(
        db.session,
        viewer().actor,
        status=SubmissionStatus.SUBMITTED,
        sampled=sampled,
        limit=QUEUE_PAGE,
        after=after,
    )
    return _queue_page(waiting, sampled=sampled, after=after)


def _queue_page(waiting, *, sampled, after, errors=None, form=None, status=200):
    return render_template(
        "review/queue.html",
        rows=_rows(waiting),
        reason_codes=_reason_codes_of(waiting),
        sampled=sampled,
        after=after,
        more=len(waiting) == QUEUE_PAGE,
        errors=errors or {},
        form=form or {},
    ), status


@blp.post("/decisions")
@signed_in
def decide_many():
    """Accept or reject the ticked items at once, all or none (POST /reviews): a
    rejection names a reason code of the task type, and a note for the annotators."""
    ids = [int(i) for i in request.form.getlist("submission_id") if i.isdigit()]
    form = _decision_form()
    try:
        data = ReviewIn().load({"decisions": [{"submission_id": i, **form} for i in ids]})
    except ValidationError as invalid:
        return _decided_again(ids, form, _bulk_errors(invalid.messages), 422)
    try:
        with unit_of_work() as work:
            decided = review.review(work, viewer().actor, data["decisions"])
    except Invalid as refused:  # a reason code the task type does not have
        return _decided_again(ids, form, {"reason_code": translated(refused.message)}, 422)
    flash(_decided_message(decided), "info")
    return redirect(safe_next(request.form.get("back"), url_for(".queue")))


def _decided_again(ids, form, errors, status):
    """The page the table was on (the queue, or a batch's sample) again, the ticked items
    still ticked, each error beside its field."""
    batch_id = request.form.get("batch", "")
    if batch_id.isdigit():
        return _batch_page(int(batch_id), errors=errors, form=form | {"ids": ids}, status=status)
    _require_reviewer()
    waiting = review.list_submissions(
        db.session,
        viewer().actor,
        status=SubmissionStatus.SUBMITTED,
        sampled=None,
        limit=QUEUE_PAGE,
        after=0,
    )
    return _queue_page(
        waiting, sampled=None, after=0, errors=errors, form=form | {"ids": ids}, status=status
    )


def _bulk_errors(messages: dict) -> dict[str, str]:
    """ReviewIn's errors by the form's fields: none ticked, or one decision's field."""
    found = messages.get("decisions", {})
    if isinstance(found, list):  # the list itself: nothing ticked
        return {"submission_id": _("Tick at least one item.")}
    first = next(iter(found.values()), {})
    return field_errors(first) if isinstance(first, dict) else {}


@blp.get("/items/<int:submission_id>")
@signed_in
def item(submission_id: int):
    """One submitted item, its result read-only, its decisions so far, and the form to
    accept or reject it."""
    return _item_page(submission_id)


def _item_page(submission_id: int, *, errors=None, form=None, status=200):
    submission, history = _reviewable(submission_id)
    order = db.session.get(Order, submission.order_id)
    task_type = get_task_type(db.session, order.task_type)
    return render_template(
        "review/item.html",
        task_type=task_type,
        submission=submission,
        order=order,
        history=history,
        names=_names({submission.annotator_user_id} | {d.decided_by_user_id for d in history}),
        reason_codes=task_type.reason_codes,
        errors=errors or {},
        form=form or {},
    ), status


@blp.post("/items/<int:submission_id>")
@signed_in
def decide_one(submission_id: int):
    """Accept or reject this item (POST /submissions/{id}/review); then the next one."""
    form = _decision_form()
    try:
        data = DecisionIn().load(form)
    except ValidationError as invalid:
        return _item_page(
            submission_id, errors=field_errors(invalid.messages), form=form, status=422
        )
    try:
        with unit_of_work() as work:
            [decided] = review.review(
                work, viewer().actor, [{"submission_id": submission_id, **data}]
            )
    except Invalid as refused:
        errors = {"reason_code": translated(refused.message)}
        return _item_page(submission_id, errors=errors, form=form, status=422)
    flash(_decided_message([decided]), "info")
    return redirect(_next_item(submission_id))


def _reviewable(submission_id: int):
    """The submission and its decisions: 404 for who may not see it (GET
    /submissions/{id}/decisions), 403 for its annotator who does not review."""
    if not 0 < submission_id <= MAX_ID:
        abort(404)
    actor = viewer().actor
    history = review.decision_history(db.session, actor, submission_id)
    submission = db.session.get(Submission, submission_id)
    if not review.may_review(db.session, actor, submission.team_party_id):
        raise Forbidden("Reviewers, owners and quality inspectors of the team review its work.")
    return submission, history


def _next_item(after: int) -> str:
    """One at a time: the next submitted item after this one, else the queue."""
    [following] = review.list_submissions(
        db.session,
        viewer().actor,
        status=SubmissionStatus.SUBMITTED,
        sampled=None,
        limit=1,
        after=after,
    ) or [None]
    return url_for(".item", submission_id=following.id) if following else url_for(".queue")


@blp.get("/batches/<int:batch_id>")
@signed_in
def batch(batch_id: int):
    """A batch's current review sample (GET /batches/{id}/sample) with the table to decide
    it, and its concluded rounds (GET /batches/{id}/reviews)."""
    return _batch_page(batch_id)


def _batch_page(batch_id: int, *, errors=None, form=None, status=200):
    if not 0 < batch_id <= MAX_ID:
        abort(404)
    actor = viewer().actor
    sample = review.batch_sample(db.session, actor, batch_id)
    rounds = review.batch_reviews(db.session, actor, batch_id)
    waiting = [s for s in sample if s.status == SubmissionStatus.SUBMITTED]
    return render_template(
        "review/batch.html",
        batch_id=batch_id,
        rows=_rows(sample),
        waiting=len(waiting),
        reason_codes=_reason_codes_of(sample),
        rounds=rounds,
        errors=errors or {},
        form=form or {},
    ), status


@blp.get("/disputes")
@signed_in
def dispute_list():
    """The disputes of the teams she reviews for: open ones to decide, decided ones."""
    return _disputes_page()


def _disputes_page(*, errors=None, form=None, status=200):
    _require_reviewer()
    actor = viewer().actor
    found = [
        d
        for d in disputes.list_disputes(db.session, actor, status=None, limit=200, after=0)
        if d.annotator_user_id != actor.user_id  # her own are on her standing page
    ]
    people = {d.annotator_user_id for d in found} | {d.reviewer_user_id for d in found}
    return render_template(
        "review/disputes.html",
        open_disputes=[d for d in found if d.status == DisputeStatus.OPEN],
        decided=[d for d in found if d.status != DisputeStatus.OPEN],
        names=_names(people | {d.decided_by_user_id for d in found}),
        errors=errors or {},
        form=form or {},
    ), status


@blp.post("/disputes/<int:dispute_id>")
@signed_in
def decide_dispute(dispute_id: int):
    """Uphold (the item is accepted) or dismiss a dispute (POST /disputes/{id}/decision)."""
    form = {k: request.form.get(k, "") for k in ("decision", "note")}
    try:
        data = DisputeDecisionIn().load(form)
    except ValidationError as invalid:
        return _dispute_refused(dispute_id, field_errors(invalid.messages), form, 422)
    if not 0 < dispute_id <= MAX_ID:
        abort(404)
    try:
        with unit_of_work() as work:
            decided = disputes.decide_dispute(
                work,
                viewer().actor,
                dispute_id,
                uphold=data["decision"] == "uphold",
                note=data["note"],
            )
    except DomainError as refused:
        if refused.status == 404:
            raise
        errors = {"note": translated(refused.message)}
        return _dispute_refused(dispute_id, errors, form, refused.status)
    flash(
        _(
            "Dispute %(id)d: %(state)s",
            id=decided.id,
            state=reasons.label_of(reasons.DISPUTE_STATES, decided.status),
        ),
        "info",
    )
    return redirect(url_for(".dispute_list"))


def _dispute_refused(dispute_id, errors, form, status):
    """The disputes again with the error beside the dispute's note, at the API's status
    (422 for the form, 403 for who may not decide it, 409 for one decided already)."""
    return _disputes_page(errors={dispute_id: errors}, form={dispute_id: form}, status=status)


def _decision_form() -> dict:
    """The decision fields as the API's schema reads them: an empty field is left out."""
    fields = {k: request.form.get(k, "").strip() for k in ("decision", "reason_code", "reason")}
    if fields["decision"] == "accept":  # the reason chooser belongs to the reject button
        fields["reason_code"] = ""
    return {k: v for k, v in fields.items() if v}


def _decided_message(decided: list[Submission]) -> str:
    accepted = sum(s.status == SubmissionStatus.ACCEPTED for s in decided)
    rejected = sum(s.status == SubmissionStatus.REJECTED for s in decided)
    return _("Accepted %(accepted)d, rejected %(rejected)d.", accepted=accepted, rejected=rejected)


def _rows(submissions: list[Submission]) -> list[dict]:
    """The table's rows: each submission with its task type and its annotator's name."""
    orders = {s.order_id for s in submissions}
    task_types = dict(
        db.session.execute(select(Order.id, Order.task_type).where(Order.id.in_(orders))).all()
    )
    names = _names({s.annotator_user_id for s in submissions})
    return [
        {
            "submission": s,
            "task_type": task_types[s.order_id],
            "annotator": names.get(s.annotator_user_id, ""),
        }
        for s in submissions
    ]


def _reason_codes_of(submissions: list[Submission]) -> list[str]:
    """The reason codes of the task types in view, for the table's one reject reason: the
    service refuses a code that an item's own task type does not have."""
    orders = {s.order_id for s in submissions}
    keys = db.session.scalars(select(Order.task_type).where(Order.id.in_(orders)).distinct()).all()
    codes: list[str] = []
    for key in sorted(keys):
        codes += [c for c in get_task_type(db.session, key).reason_codes if c not in codes]
    return codes


def _names(user_ids) -> dict[int, str]:
    ids = {i for i in user_ids if i is not None}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def _id_argument(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) > MAX_ID:
        abort(404)
    return int(raw)
