"""The annotator's money: her earnings, her days, her hourly pay and her statements.

Each page reads through the service the API's own endpoint calls, with the session's
actor: the earnings page is GET /api/v1/me/earnings (with /days and /hourly) in her
language and time zone; a statement is GET /api/v1/me/earnings/statement?format=csv.
"""

from flask import Blueprint, abort, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from marshmallow import ValidationError

from marketplace import clock
from marketplace.db import db
from marketplace.errors import Invalid
from marketplace.identity.models import Role
from marketplace.pages.messages import field_errors, known
from marketplace.pages.viewer import Viewer, signed_in, viewer
from marketplace.pages.work_record import work_records
from marketplace.payments.earnings import earnings_of
from marketplace.payments.earnings_schemas import StatementArgs
from marketplace.payments.work_days import her_team, statement, statement_csv
from marketplace.web import csv_download

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
    return _earnings_page(_team_argument())


@blp.get("/me/earnings/statement")
@signed_in
def statement_download():
    """Her statement of a period as a CSV file, its numbers written for her language; a
    period the service refuses is said beside its field on the earnings page (422)."""
    try:
        args = StatementArgs().load(request.args)
        report = statement(db.session, viewer().actor, args["team_id"], args["from"], args["to"])
    except ValidationError as error:
        return _earnings_page(_team_argument("team_id"), field_errors(error.messages), 422)
    except Invalid as error:
        field = "team_id" if error.code == "team_required" else "from"
        message = known(error.message) or _("Choose a period of at most a year, first day first.")
        return _earnings_page(args["team_id"], {field: message}, 422)
    name = f"statement-{report['from']}-{report['to']}.csv"
    return csv_download(statement_csv(report, get_locale()), name)


def _earnings_page(team_id: int | None, statement_errors: dict | None = None, status=200):
    actor = viewer().actor
    if team_id is None:
        actor.require(Role.ANNOTATOR)
    else:
        team_id = her_team(db.session, actor, team_id).id
    mine = [h for h in earnings_of(db.session, actor) if h["holder"] == "annotator"]
    teams = dict.fromkeys((h["party_id"], h["party_name"]) for h in mine)
    shown = [h for h in mine if team_id is None or h["party_id"] == team_id]
    page = render_template(
        "annotator/earnings.html",
        holdings=shown,
        records=work_records(db.session, actor, shown),
        teams=list(teams),
        team_id=team_id,
        as_of=clock.now(),
        statement_errors=statement_errors or {},
        asked=request.args,
    )
    return page, status


def _team_argument(name: str = "team") -> int | None:
    """`?team=` as a team id; anything else names no team of hers (404)."""
    raw = request.args.get(name) or None
    if raw is None:
        return None
    if not raw.isdigit():
        abort(404)
    return int(raw)
