"""The team owner running her team: members and invites, levels with their rates and
quotas, each member's earnings and the team's own.

Every page is an API call in a browser: the same service with the session's actor, so
the same 404 (another team's team, member, level or invite) and 403 (a member of the
team who is not its owner). Webhook endpoints and e-mail choices are in team_notices.py.
"""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded

from marketplace.db import db
from marketplace.errors import NotFound
from marketplace.identity.models import Role
from marketplace.limits import limiter
from marketplace.orders.task_types import list_task_types
from marketplace.pages.auth import ROLE_NAMES
from marketplace.pages.form_input import attempt, read_form
from marketplace.pages.viewer import Viewer, signed_in, viewer
from marketplace.payments.earnings import earnings_of
from marketplace.payments.work_days import team_members_earnings
from marketplace.workers import invites, levels, members
from marketplace.workers.invite_schemas import InviteIn
from marketplace.workers.level_schemas import LevelChangeIn, LevelIn, LevelPatch, LevelRateIn
from marketplace.workers.models import InviteStatus

blp = Blueprint("team", __name__)

LEVEL_NUMBERS = ("rank", "daily_quota")
INVITE_FIELDS = ("email", "role", "level_id", "locale", "expires_in_days")


def nav_links(viewer: Viewer) -> list[tuple[str, str]]:
    """The team console in the header, for who owns a team."""
    if not viewer.actor.party_ids(Role.TEAM_OWNER):
        return []
    return [("pages.team.home", _("Team"))]


@blp.errorhandler(RateLimitExceeded)
def too_many(error: RateLimitExceeded):
    """Throttled as the API is (429, Retry-After), said in her language."""
    message = _("Too many attempts. Wait a minute, then try again.")
    page = render_template("error.html", title=_("Too many attempts"), message=message, status=429)
    return page, 429


def _team(team_id: int):
    """Her team, as the API finds it for its owner: 404 for a team not hers, 403 for a
    member who does not own it."""
    return levels.team_of(db.session, viewer().actor, team_id, manage=True)


def _owned_teams() -> list:
    actor = viewer().actor
    return [_team(team_id) for team_id in sorted(actor.party_ids(Role.TEAM_OWNER))]


def _render(template: str, team_id: int, status: int = 200, **values):
    """A page of the console: its team, her other teams to switch to, and `values`."""
    team = _team(team_id)
    if "levels" in values:
        values["level_options"] = [(level.id, level.name) for level in values["levels"]]
        values["level_names"] = dict(values["level_options"])
    page = render_template(
        template, team=team, teams=_owned_teams(), role_names=ROLE_NAMES, **values
    )
    return page, status


@blp.get("/team")
@signed_in
def home():
    """Her team's members; the first of her teams if she owns several (403 for who owns none)."""
    owned = sorted(viewer().actor.party_ids(Role.TEAM_OWNER))
    if not owned:
        viewer().actor.require(Role.TEAM_OWNER)
    return redirect(url_for(".members_page", team_id=owned[0]))


# Members and invites


@blp.get("/teams/<int:team_id>/members")
@signed_in
def members_page(team_id: int):
    """Members (level, today's items against the quota, next level), pending invites, and
    the invite form."""
    return _members(team_id, form={"locale": "zh-CN", "expires_in_days": "7"}, errors={})


def _members(team_id: int, *, form: dict, errors: dict, status: int = 200):
    actor = viewer().actor
    _team(team_id)
    pending = invites.list_invites(
        db.session, actor, team_id, status=InviteStatus.PENDING, limit=1000, after=0
    )
    return _render(
        "team/members.html",
        team_id,
        status,
        members=levels.members(db.session, actor, team_id),
        levels=levels.list_levels(db.session, actor, team_id),
        invites=pending,
        form=form,
        errors=errors,
    )


def _by_team() -> str:
    """The team an invitation is sent from, counted as the API counts it."""
    return f"team:{request.view_args['team_id']}"


@blp.post("/teams/<int:team_id>/invites")
@signed_in
@limiter.limit(
    lambda: current_app.config["TEAM_INVITES_LIMIT"],
    key_func=_by_team,
    deduct_when=lambda response: response.status_code == 303,
)
def invite(team_id: int):
    """Invite by e-mail (POST /teams/{id}/invites): the invite and its mail are written
    together, or nothing is."""
    form = {k: request.form.get(k, "") for k in INVITE_FIELDS}
    data, errors = read_form(
        InviteIn(), form, integers=("level_id", "expires_in_days"), optional=("level_id",)
    )
    status = 422
    if data is not None:
        link_base = current_app.config["PUBLIC_URL"]
        _invite, errors, status = attempt(
            lambda work: invites.invite(work, viewer().actor, team_id, link_base=link_base, **data),
            {"invite_pending": "email", "already_member": "email"},
        )
    if errors:
        return _members(team_id, form=form, errors=errors, status=status)
    email = data["email"].strip().lower()
    flash(_("We sent an invitation to %(email)s.", email=email), "info")
    return redirect(url_for(".members_page", team_id=team_id), 303)


@blp.post("/teams/<int:team_id>/invites/<int:invite_id>/revoke")
@signed_in
def revoke_invite(team_id: int, invite_id: int):
    """Take back a pending invite: its link stops working."""
    return _member_change(
        lambda work: invites.revoke(work, viewer().actor, team_id, invite_id),
        _("The invitation is revoked."),
        url_for(".members_page", team_id=team_id),
    )


def _member_change(change, done: str, back: str):
    """Apply a change; a conflict (409: she is deactivated already) is told on the page
    it came from, above its content."""
    _result, errors, _status = attempt(change)
    if errors:
        flash(next(iter(errors.values())), "error")
    else:
        flash(done, "info")
    return redirect(back, 303)


@blp.get("/teams/<int:team_id>/members/<int:user_id>")
@signed_in
def member_page(team_id: int, user_id: int):
    """One member: her roles, level and its history, her earnings, and the owner's
    changes (level, deactivate or take back)."""
    return _member(team_id, user_id, form={}, errors={})


def _member(team_id: int, user_id: int, *, form: dict, errors: dict, status: int = 200):
    actor = viewer().actor
    _team(team_id)
    rows = [m for m in levels.members(db.session, actor, team_id) if m["user_id"] == user_id]
    if not rows:
        raise NotFound(f"No member {user_id} in your team.", code="member_not_found")
    annotates = any(m["role"] == Role.ANNOTATOR for m in rows)
    history = levels.level_history(db.session, actor, team_id, user_id) if annotates else []
    money = [
        e for e in team_members_earnings(db.session, actor, team_id) if e["user_id"] == user_id
    ]
    return _render(
        "team/member.html",
        team_id,
        status,
        rows=rows,
        member=rows[0],
        annotates=annotates,
        history=history,
        earnings=money,
        levels=levels.list_levels(db.session, actor, team_id),
        form=form,
        errors=errors,
    )


@blp.post("/teams/<int:team_id>/members/<int:user_id>/level")
@signed_in
def change_level(team_id: int, user_id: int):
    """Move her to a level (POST /teams/{id}/members/{user}/levels): a move up needs her
    eligible under the level's promotion rule."""
    form = {k: request.form.get(k, "") for k in ("level_id", "note")}
    data, errors = read_form(LevelChangeIn(), form, integers=("level_id",), optional=("note",))
    status = 422
    if data is not None:
        _result, errors, status = attempt(
            lambda work: levels.change_level(
                work, viewer().actor, team_id, user_id, data["level_id"], data["note"]
            ),
            {"not_eligible": "level_id", "same_level": "level_id"},
        )
    if errors:
        return _member(team_id, user_id, form=form, errors=errors, status=status)
    flash(_("Her level is changed."), "info")
    return redirect(url_for(".member_page", team_id=team_id, user_id=user_id), 303)


@blp.post("/teams/<int:team_id>/members/<int:user_id>/deactivate")
@signed_in
def deactivate(team_id: int, user_id: int):
    """Deactivate her: her tasks in hand go back, she takes no more work, her money stays hers."""
    return _member_change(
        lambda work: members.deactivate(work, viewer().actor, team_id, user_id),
        _("She is deactivated: her tasks in hand went back to the team."),
        url_for(".member_page", team_id=team_id, user_id=user_id),
    )


@blp.post("/teams/<int:team_id>/members/<int:user_id>/reactivate")
@signed_in
def reactivate(team_id: int, user_id: int):
    """Take her back: she takes the team's work again, at her level."""
    return _member_change(
        lambda work: members.reactivate(work, viewer().actor, team_id, user_id),
        _("She is back: she takes the team's work again."),
        url_for(".member_page", team_id=team_id, user_id=user_id),
    )


# Levels: rates and quotas


@blp.get("/teams/<int:team_id>/levels")
@signed_in
def levels_page(team_id: int):
    """The team's ladder: each level's daily quota and its rates per task type."""
    return _levels(team_id, form={}, errors={})


def _levels(team_id: int, *, form: dict, errors: dict, failed: str = "", status: int = 200):
    """The levels page; `failed` names the form the errors belong to (`new`, `quota-7`,
    `rate-7`), so each is shown beside its own field."""
    return _render(
        "team/levels.html",
        team_id,
        status,
        levels=levels.list_levels(db.session, viewer().actor, team_id),
        task_types=[(t.key, t.key) for t in list_task_types(db.session)],
        form=form,
        errors=errors,
        failed=failed,
    )


def _level_write(team_id: int, failed: str, form: dict, schema, write, **reading):
    """Read the form with the API's schema, write through the service, and show the levels
    again; a refusal beside the field it names, in the form it came from."""
    data, errors = read_form(schema, form, **reading)
    status = 422
    if data is not None:
        _result, errors, status = attempt(
            lambda work: write(work, data),
            {"level_exists": "name", "rate_above_contract_price": "unit_price"},
        )
    if errors:
        return _levels(team_id, form=form, errors=errors, failed=failed, status=status)
    flash(_("Saved."), "info")
    return redirect(url_for(".levels_page", team_id=team_id), 303)


def _their_level(team_id: int, level_id: int):
    """A level of this team that she owns (404 for another team's, as the API's)."""
    level = levels.get_level(db.session, viewer().actor, level_id, manage=True)
    if level.team_party_id != team_id:
        raise NotFound(f"No level {level_id} of your team.", code="level_not_found")
    return level


@blp.post("/teams/<int:team_id>/levels")
@signed_in
def add_level(team_id: int):
    """Add a level (POST /teams/{id}/levels)."""
    form = {k: request.form.get(k, "") for k in ("name", "rank", "daily_quota")}
    return _level_write(
        team_id,
        "new",
        form,
        LevelIn(),
        lambda work, data: levels.save_level(work, viewer().actor, data, team_id=team_id),
        integers=LEVEL_NUMBERS,
        optional=("daily_quota",),
    )


@blp.post("/teams/<int:team_id>/levels/<int:level_id>/quota")
@signed_in
def set_quota(team_id: int, level_id: int):
    """A level's daily quota (PATCH /levels/{id}); empty: no quota."""
    _their_level(team_id, level_id)
    form = {"daily_quota": request.form.get("daily_quota", "")}
    return _level_write(
        team_id,
        f"quota-{level_id}",
        form,
        LevelPatch(partial=True),
        lambda work, data: levels.save_level(work, viewer().actor, data, level_id=level_id),
        integers=LEVEL_NUMBERS,
        nullable=("daily_quota",),
    )


@blp.post("/teams/<int:team_id>/levels/<int:level_id>/rates")
@signed_in
def set_rate(team_id: int, level_id: int):
    """A level's pay per accepted item of a task type (PUT /levels/{id}/rates)."""
    _their_level(team_id, level_id)
    form = {k: request.form.get(k, "") for k in ("task_type", "currency", "unit_price")}
    return _level_write(
        team_id,
        f"rate-{level_id}",
        form,
        LevelRateIn(),
        lambda work, data: levels.set_level_rate(
            work,
            viewer().actor,
            level_id,
            task_type=data["task_type"],
            currency=data["currency"],
            micros=data["unit_price"],
        ),
    )


# Earnings


@blp.get("/teams/<int:team_id>/earnings")
@signed_in
def earnings(team_id: int):
    """The team's own money (pending with what it waits on, available, paid) and each
    member's (GET /me/earnings's team holding, GET /teams/{id}/earnings)."""
    actor = viewer().actor
    _team(team_id)
    own = [
        h
        for h in earnings_of(db.session, actor)
        if h["holder"] == "team" and h["party_id"] == team_id
    ]
    return _render(
        "team/earnings.html",
        team_id,
        holdings=own,
        members=team_members_earnings(db.session, actor, team_id),
    )
