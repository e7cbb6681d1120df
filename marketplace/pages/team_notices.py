"""What a team is told: its webhook endpoints (add, enable or disable, rotate the secret,
remove) and each person's e-mail choices.

The endpoints are the API's /webhook-endpoints for the team named in the URL, through
the same service: another party's endpoint is 404, a member who does not own the team
gets 403. A signing secret is shown once, on the answer to the form that made it, and
never kept in the session (its cookie is signed, not secret).
"""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from marketplace.db import db, unit_of_work
from marketplace.errors import NotFound
from marketplace.identity.models import Role
from marketplace.notices import endpoints, preferences
from marketplace.notices.events import CATALOGUE, EVERY_TYPE
from marketplace.notices.schemas import EndpointIn, PreferencesIn
from marketplace.pages.form_input import attempt, read_form
from marketplace.pages.viewer import Viewer, signed_in, viewer
from marketplace.workers.levels import team_of

blp = Blueprint("notices", __name__)


def nav_links(viewer: Viewer) -> list[tuple[str, str]]:
    """None in the header: the team console links these pages."""
    return []


def _team(team_id: int):
    return team_of(db.session, viewer().actor, team_id, manage=True)


def _endpoint(team_id: int, endpoint_id: int):
    """One of this team's endpoints, as the API finds it (404 for another party's)."""
    found = endpoints.get_endpoint(db.session, viewer().actor, endpoint_id)
    if found.party_id != team_id:
        raise NotFound(f"No webhook endpoint {endpoint_id}.", code="webhook_endpoint_not_found")
    return found


def _page(team_id: int, *, form=None, errors=None, secret=None, status: int = 200):
    team = _team(team_id)
    mine = [
        e for e in endpoints.list_endpoints(db.session, viewer().actor) if e.party_id == team_id
    ]
    owned = [_team(t) for t in sorted(viewer().actor.party_ids(Role.TEAM_OWNER))]
    page = render_template(
        "team/webhooks.html",
        team=team,
        teams=owned,
        endpoints=mine,
        catalogue=CATALOGUE,
        every=EVERY_TYPE,
        form=form or {"events": [EVERY_TYPE]},
        errors=errors or {},
        secret=secret,
    )
    return page, status


@blp.get("/teams/<int:team_id>/webhooks")
@signed_in
def webhooks(team_id: int):
    """The team's endpoints and the form to add one."""
    return _page(team_id)


@blp.post("/teams/<int:team_id>/webhooks")
@signed_in
def add_webhook(team_id: int):
    """Register an endpoint (POST /webhook-endpoints): its secret is on this answer only."""
    _team(team_id)
    form = {
        "url": request.form.get("url", ""),
        "events": request.form.getlist("events"),
        "description": request.form.get("description", ""),
    }
    data, errors = read_form(EndpointIn(), form, optional=("description",))
    status = 422
    if data is not None:
        allow_private = current_app.config["WEBHOOK_ALLOW_PRIVATE_URLS"]
        made, errors, status = attempt(
            lambda work: endpoints.register_endpoint(
                work, viewer().actor, party_id=team_id, allow_private=allow_private, **data
            )
        )
    if errors:
        return _page(team_id, form=form, errors=errors, status=status)
    secret = (made.id, made.secret)
    return _page(team_id, secret=secret, status=201)


@blp.post("/teams/<int:team_id>/webhooks/<int:endpoint_id>/rotate")
@signed_in
def rotate_webhook(team_id: int, endpoint_id: int):
    """A new signing secret at once, shown on this answer only."""
    _endpoint(team_id, endpoint_id)
    with unit_of_work() as work:
        rotated = endpoints.rotate_secret(work, viewer().actor, endpoint_id)
        secret = (rotated.id, rotated.secret)
    return _page(team_id, secret=secret)


@blp.post("/teams/<int:team_id>/webhooks/<int:endpoint_id>/enabled")
@signed_in
def enable_webhook(team_id: int, endpoint_id: int):
    """Disable an endpoint (nothing new is sent to it) or enable it again."""
    _endpoint(team_id, endpoint_id)
    enabled = request.form.get("enabled") == "true"
    with unit_of_work() as work:
        endpoints.update_endpoint(work, viewer().actor, endpoint_id, {"enabled": enabled})
    flash(_("The endpoint is enabled.") if enabled else _("The endpoint is disabled."), "info")
    return redirect(url_for(".webhooks", team_id=team_id), 303)


@blp.post("/teams/<int:team_id>/webhooks/<int:endpoint_id>/delete")
@signed_in
def remove_webhook(team_id: int, endpoint_id: int):
    """Remove the endpoint and its delivery log (DELETE /webhook-endpoints/{id})."""
    _endpoint(team_id, endpoint_id)
    with unit_of_work() as work:
        endpoints.delete_endpoint(work, viewer().actor, endpoint_id)
    flash(_("The endpoint is removed."), "info")
    return redirect(url_for(".webhooks", team_id=team_id), 303)


# E-mail choices: the signed-in person's own (GET and PUT /me/notice-preferences).


@blp.get("/me/notifications")
@signed_in
def preferences_page():
    """What she is told by e-mail."""
    return _preferences(form=None, errors={})


def _preferences(*, form: dict | None, errors: dict, status: int = 200):
    actor = viewer().actor
    chosen = preferences.preferences_of(db.session, actor.user_id)
    shown = form or {
        "drop_released_email": chosen.drop_released_email,
        "lead_minutes": chosen.lead_minutes,
        "earnings_email": chosen.earnings_email,
    }
    page = render_template(
        "team/notifications.html",
        form=shown,
        errors=errors,
        owner=actor.has(Role.TEAM_OWNER),
        annotator=actor.has(Role.ANNOTATOR),
    )
    return page, status


@blp.post("/me/notifications")
@signed_in
def save_preferences():
    """Change her choices (PUT /me/notice-preferences); a drop e-mail is for team owners."""
    form = {"lead_minutes": request.form.get("lead_minutes", "")}
    for choice in ("drop_released_email", "earnings_email"):
        form[choice] = "true" if request.form.get(choice) == "on" else "false"
    data, errors = read_form(PreferencesIn(), form, integers=("lead_minutes",))
    status = 422
    if data is not None:
        # A drop e-mail asked by who owns no team: the service's 403, said beside its box.
        _result, errors, status = attempt(
            lambda work: preferences.set_preferences(work, viewer().actor, data),
            {"forbidden": "drop_released_email"},
            also=(403,),
        )
    if errors:
        shown = {
            **form,
            **{k: form[k] == "true" for k in ("drop_released_email", "earnings_email")},
        }
        return _preferences(form=shown, errors=errors, status=status)
    flash(_("Your choices are saved."), "info")
    return redirect(url_for(".preferences_page"), 303)
