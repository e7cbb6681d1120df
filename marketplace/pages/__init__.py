"""The people's pages: server-rendered HTML beside the API, never a second copy of its rules.

One blueprint per role's day (auth, annotator; reviewer, team and admin to come) nested in
the `pages` blueprint, which gives them one layout, one error page, the session's
viewer, Flask-Babel's language and time zone, and the security headers. A handler parses
a form (with the API's own schema where there is one), calls the service function the
API calls with the session's actor, and renders a template. See docs/pages.md.
"""

import logging
from pathlib import Path

from flask import Blueprint, Flask, g, render_template, request
from flask_babel import Babel, get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from marketplace.errors import DomainError
from marketplace.pages import (
    account,
    annotator,
    auth,
    board,
    chain,
    fair,
    navigation,
    review,
    standing,
    team,
    team_notices,
    workspace,
)
from marketplace.pages.formatting import FILTERS, zone_name
from marketplace.pages.messages import error_text
from marketplace.pages.viewer import LOCALES, load_viewer, select_locale, select_timezone

TRANSLATIONS = Path(__file__).parent / "translations"
# No inline script or style, nothing from another site: what an injected tag could load
# or run is refused by the browser. Forms post to this site only; no site may frame us.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # A person's earnings stay out of shared caches and the back-forward cache of a
    # shared phone after she signs out.
    "Cache-Control": "no-store",
}

pages = Blueprint(
    "pages",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/pages/static",
)
# Each role's day: a module with a blueprint `blp` and `nav_links(viewer)`, the header's
# links to its pages for a viewer who has them (in this order).
ROLE_DAYS = (workspace, annotator, standing, board, fair, chain, review, team, team_notices)
pages.register_blueprint(auth.blp)
pages.register_blueprint(account.blp)
for day in ROLE_DAYS:
    pages.register_blueprint(day.blp)
    navigation.register(day)
pages.before_request(load_viewer)

csrf = CSRFProtect()
babel = Babel()
log = logging.getLogger(__name__)


@pages.after_request
def _security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        if name == "Cache-Control" and request.endpoint == "pages.static":
            continue  # the stylesheet may be cached; it holds nobody's data
        response.headers.setdefault(name, value)
    return response


@pages.context_processor
def _page_context():
    return {
        "viewer": g.get("viewer"),
        "html_lang": _language_tag(),
        "locales": LOCALES,
        "zone_name": zone_name,
        "nav_links": lambda: navigation.links(g.get("viewer")),
    }


def _language_tag() -> str:
    """The page's language as HTML names it: zh-CN, en (babel says zh_Hans_CN)."""
    locale = get_locale()
    return "-".join(filter(None, (locale.language, locale.territory)))


@pages.errorhandler(DomainError)
def _refused(error: DomainError):
    """A service's refusal, as the API's status (404 for what she may not see, 403 for
    what her role may not do), on a page in her language."""
    return _error_page(error.status, error_text(error) or _generic(error.status))


@pages.errorhandler(CSRFError)
def _forged(error: CSRFError):
    """A form without this session's CSRF token: refused before anything is written."""
    return _error_page(
        400,
        _(
            "This form was not sent from this site, or it has expired. "
            "Go back, reload the page and try again."
        ),
    )


@pages.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return _error_page(error.code or 500, _generic(error.code or 500))


def _generic(status: int) -> str:
    if status == 404:
        return _("There is no such page, or it is not yours to see.")
    if status == 403:
        return _("Your role does not allow this.")
    return _("Go back and try again; if it happens again, tell the platform.")


def _error_page(status: int, message: str):
    titles = {
        400: _("The request was refused"),
        403: _("Not allowed"),
        404: _("Not found"),
        429: _("Too many attempts"),
    }
    title = titles.get(status, _("Something went wrong"))
    return render_template("error.html", title=title, message=message, status=status), status


def init_pages(app: Flask, api_blueprints) -> None:
    """Register the pages, with Flask-Babel and CSRF protection on every form.

    The API's blueprints are exempt from CSRF: they authenticate with bearer tokens,
    which a browser never sends on its own, so another site cannot forge their requests.
    """
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    csrf.init_app(app)
    for blueprint in api_blueprints:
        csrf.exempt(blueprint)
    app.jinja_env.filters.update(FILTERS)
    app.register_blueprint(pages)
    _warn_of_uncompiled_catalogs()


def _warn_of_uncompiled_catalogs() -> None:
    """`make` compiles the catalogs (.po to .mo); without it the pages speak English only."""
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            log.warning("%s is not compiled: run `make translations`", po)
