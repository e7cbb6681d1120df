"""The annotator's workspace: take the next tasks within her quota, do each on its task
type's surface, submit it or put it back (skip).

Every write calls the service the API's endpoint calls, with the session's actor:
POST /tasks/next (`tasks.take_tasks`), /tasks/{id}/submit (`tasks.submit`, which checks
the result against the task type's schema and rules) and /tasks/{id}/skip
(`tasks.skip`). A refused result comes back beside the field it names; nothing is
written. The same 403 (no annotator) and 404 (a task not in her hands) as the API.
"""

from datetime import datetime

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from marshmallow import ValidationError
from sqlalchemy import select

from marketplace import clock
from marketplace.db import MAX_ID, db, unit_of_work
from marketplace.errors import Conflict, Invalid, NotFound
from marketplace.identity.models import Party, Role
from marketplace.orders.models import Order
from marketplace.orders.task_types import get_task_type
from marketplace.pages.messages import field_errors, known
from marketplace.pages.surfaces import (
    SCHEMA_WORDS,
    media_url,
    refusal_field,
    result_from_form,
    schema_fields,
)
from marketplace.pages.viewer import Viewer, signed_in, viewer
from marketplace.workers import tasks
from marketplace.workers.levels import current_level, quota_left
from marketplace.workers.models import Task, TaskStatus
from marketplace.workers.schemas import SkipIn, SubmitIn, TakeIn

blp = Blueprint("workspace", __name__)
# The surfaces' helpers, for any page that shows a result (a reviewer's, read-only).
blp.add_app_template_global(media_url, "media_url")
blp.add_app_template_global(schema_fields, "schema_fields")
# The task services' refusals, marked for the catalogs (looked up by their English text).
REFUSALS = (
    lazy_gettext("You reached your daily quota in this team."),
    lazy_gettext("Your team has work whose pay is not set yet; ask your team owner."),
    lazy_gettext("This task was already submitted."),
    lazy_gettext("The batch's lease expired; the task went back."),
    lazy_gettext(
        "Your team has deactivated you: you can no longer take its work. What you "
        "earned stays yours."
    ),
)
# Tasks she may hold at once is her quota's business; the page lists this many.
SHOWN = 100


def nav_links(viewer: Viewer) -> list[tuple[str, str]]:
    """The workspace in the header, for who annotates."""
    if not viewer.annotates:
        return []
    return [("pages.workspace.index", _("Work"))]


@blp.get("/work")
@signed_in
def index():
    """Her quota per team today, the tasks in her hands with their leases, and the form
    that takes the next ones (403 for who is no annotator, as the API's take)."""
    viewer().actor.require(Role.ANNOTATOR)
    return _index()


def _index(errors: dict | None = None, status: int = 200):
    actor = viewer().actor
    held = tasks.my_tasks(db.session, actor, status=TaskStatus.ASSIGNED, limit=SHOWN, after=0)
    ids = {t.order_id for t in held}
    orders = {o.id: o for o in db.session.scalars(select(Order).where(Order.id.in_(ids)))}
    page = render_template(
        "workspace/index.html",
        quotas=_quotas(),
        held=held,
        orders=orders,
        now=clock.now(),
        errors=errors or {},
        seconds_left=seconds_left,
    )
    return page, status


@blp.post("/work/take")
@signed_in
def take():
    """Take the next tasks (POST /tasks/next): the first of them opens; her quota, a
    missing piece rate or a deactivation is said on the workspace with the API's status."""
    raw = request.form.get("count", "").strip()
    try:
        count = TakeIn().load({"count": int(raw) if raw.isdigit() else raw})["count"]
    except ValidationError as invalid:
        return _index(field_errors(invalid.messages), 422)
    try:
        with unit_of_work() as session:
            taken = [t.id for t in tasks.take_tasks(session, viewer().actor, count=count)]
    except Conflict as refused:
        return _index({"count": known(refused.message) or _("You cannot take tasks now.")}, 409)
    if not taken:
        flash(_("There is no open work for you right now."), "info")
        return redirect(url_for(".index"))
    return redirect(url_for(".task", task_id=taken[0]))


@blp.get("/work/tasks/<int:task_id>")
@signed_in
def task(task_id: int):
    """One task in her hands, on its task type's surface (404 for any other task)."""
    held = _held(task_id)
    return _task_page(held, result=None, errors={})


@blp.post("/work/tasks/<int:task_id>/submit")
@signed_in
def submit(task_id: int):
    """Submit the surface's result (POST /tasks/{id}/submit): the next task in her
    hands opens; a refused result comes back beside its field, nothing written."""
    held = _held(task_id)
    order = db.session.get(Order, held.order_id)
    task_type = get_task_type(db.session, order.task_type)
    result = result_from_form(task_type, request.form)
    try:
        loaded = SubmitIn().load({"result": result})["result"]
    except ValidationError:
        return _task_page(held, result, {"": SCHEMA_WORDS["type"]}, 422)
    try:
        with unit_of_work() as session:
            tasks.submit(
                session,
                viewer().actor,
                task_id,
                loaded,
                idle_limit_seconds=current_app.config["IDLE_LIMIT_SECONDS"],
            )
    except Invalid as refused:
        field, message = refusal_field(task_type, refused, loaded)
        held = _held(task_id)
        return _task_page(held, result, {field: message}, 422)
    flash(_("Submitted."), "info")
    return _next(task_id)


@blp.post("/work/tasks/<int:task_id>/skip")
@signed_in
def skip(task_id: int):
    """Put the task back with a reason (POST /tasks/{id}/skip): it returns to the team,
    and she is not handed it again."""
    held = _held(task_id)
    try:
        reason = SkipIn().load({"reason": request.form.get("reason", "")})["reason"]
    except ValidationError as invalid:
        return _task_page(held, None, field_errors(invalid.messages), 422)
    with unit_of_work() as session:
        tasks.skip(session, viewer().actor, task_id, reason)
    flash(_("Skipped: the task went back to your team."), "info")
    return _next(task_id)


def _held(task_id: int) -> Task:
    """The task in her hands, as the API finds it: 403 for who is no annotator, 404 for
    a task that is not hers or no longer open to her."""
    actor = viewer().actor
    actor.require(Role.ANNOTATOR)
    found = (0 < task_id <= MAX_ID or None) and db.session.scalar(
        select(Task).where(
            Task.id == task_id,
            Task.annotator_user_id == actor.user_id,
            Task.status == TaskStatus.ASSIGNED,
        )
    )
    if found is None:
        raise NotFound(f"No task {task_id} in your hands.", code="task_not_found")
    return found


def _next(done: int):
    """After a task: the next one in her hands, else the workspace."""
    following = db.session.scalar(
        select(Task.id)
        .where(
            Task.annotator_user_id == viewer().actor.user_id,
            Task.status == TaskStatus.ASSIGNED,
            Task.id != done,
        )
        .order_by(Task.id)
        .limit(1)
    )
    if following is None:
        return redirect(url_for(".index"))
    return redirect(url_for(".task", task_id=following))


def _task_page(held: Task, result, errors: dict, status: int = 200):
    order = db.session.get(Order, held.order_id)
    task_type = get_task_type(db.session, order.task_type)
    page = render_template(
        "workspace/task.html",
        task=held,
        order=order,
        task_type=task_type,
        item=held.item,
        result=result,
        errors=errors,
        rule_messages=_rule_messages(task_type),
        schema_words={key: str(words) for key, words in SCHEMA_WORDS.items()},
        quotas=_quotas(),
        now=clock.now(),
        seconds_left=seconds_left,
    )
    return page, status


def _rule_messages(task_type) -> dict[str, str]:
    """The task type's rules' messages in her language, for the page's own check."""
    general = _("This result does not fit the task's rules.")
    return {
        rule["name"]: (rule.get("message") and known(rule["message"])) or general
        for rule in task_type.rules
    }


def _quotas() -> list[dict]:
    """Her day in each team she annotates for: items taken or submitted today against her
    level's daily quota ("12 of 40 today"), and when the quota resets."""
    actor, now = viewer().actor, clock.now()
    found = []
    for team_id in sorted(actor.party_ids(Role.ANNOTATOR)):
        team = db.session.get(Party, team_id)
        level = current_level(db.session, team_id, actor.user_id)
        left, resets_at = quota_left(db.session, team, actor.user_id, now)
        quota = level.daily_quota if level is not None else None
        found.append(
            {
                "team": team.name,
                "quota": quota,
                "used": None if quota is None else quota - left,
                "resets_at": resets_at,
            }
        )
    return found


def seconds_left(until: datetime | None, now: datetime) -> int | None:
    """Whole seconds until a lease ends (0 once it has), or None without a lease."""
    if until is None:
        return None
    return max(int((until - now).total_seconds()), 0)
