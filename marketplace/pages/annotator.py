"""The annotator's day: for now her earnings; the workspace, her level and her
statements come next (issue 20).

Each page reads through the service the API's own endpoint calls, with the session's
actor: the earnings page is GET /api/v1/me/earnings in her language and time zone.
"""

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _

from marketplace import clock
from marketplace.db import db
from marketplace.identity.models import Role
from marketplace.pages.viewer import Viewer, signed_in, viewer
from marketplace.payments.earnings import earnings_of
from marketplace.payments.work_days import her_team

blp = Blueprint("annotator", __name__)


def nav_links(viewer: Viewer) -> list[tuple[str, str]]:
    """The annotator's pages in the header, for who annotates."""
    if not viewer.annotates:
        return []
    return [("pages.annotator.earnings", _("Earnings"))]


@blp.get("/me/earnings")
@signed_in
def earnings():
    """Her pay per team and currency: pending (and the invoices, funded reviews and
    unbilled work it waits on), available, paid; `?team=` for one of her teams.

    As the API's annotator reads: 403 for who is no annotator, 404 for a team she does
    not annotate for.
    """
    actor = viewer().actor
    team_id = _team_argument()
    if team_id is None:
        actor.require(Role.ANNOTATOR)
    else:
        team_id = her_team(db.session, actor, team_id).id
    mine = [h for h in earnings_of(db.session, actor) if h["holder"] == "annotator"]
    teams = dict.fromkeys((h["party_id"], h["party_name"]) for h in mine)
    shown = [h for h in mine if team_id is None or h["party_id"] == team_id]
    return render_template(
        "annotator/earnings.html",
        holdings=shown,
        teams=list(teams),
        team_id=team_id,
        as_of=clock.now(),
    )


def _team_argument() -> int | None:
    """`?team=` as a team id; anything else names no team of hers (404)."""
    raw = request.args.get("team")
    if raw is None:
        return None
    if not raw.isdigit():
        abort(404)
    return int(raw)
