"""Who is looking at a page: the signed-in user's actor, her language and her time zone.

A session holds the bearer token that the sign-in service issued, so a page's viewer is
the very Actor the API builds from that token (`actor_for_token`): the same roles, the
same 404/403. Signing out, or a password change, revokes the token, and with it every
session that holds it.
"""

from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for
from sqlalchemy import select

from marketplace.db import db, unit_of_work
from marketplace.identity.actor import Actor
from marketplace.identity.models import Party, Role, User
from marketplace.identity.service import actor_for_token, revoke_token

# The languages of the pages, as users.locale keeps them (CLDR).
LOCALES = ("zh_CN", "en")
TOKEN_KEY = "token"
LOCALE_KEY = "locale"


@dataclass(frozen=True)
class Viewer:
    """A signed-in person as the pages know her."""

    actor: Actor
    name: str
    locale: str
    timezone: str

    @property
    def annotates(self) -> bool:
        """Whether she annotates for a team (and so has the annotator's pages)."""
        return self.actor.has(Role.ANNOTATOR)


def load_viewer() -> None:
    """Before a page: find the session's viewer, if its token is still live."""
    g.viewer = None
    token = session.get(TOKEN_KEY)
    if not token:
        return
    actor = actor_for_token(db.session, token)
    if actor is None:  # revoked (signed out elsewhere, password changed) or expired
        session.pop(TOKEN_KEY, None)
        return
    user = db.session.get(User, actor.user_id)
    g.viewer = Viewer(actor, user.name, user.locale, _timezone_of(actor))


def _timezone_of(actor: Actor) -> str:
    """Her team's time zone, in which her days and her team's drops are counted (users
    have no zone of their own); the platform's business zone for who has no party."""
    zone = db.session.scalar(
        select(Party.timezone).where(Party.id.in_(actor.party_ids())).order_by(Party.id)
    )
    return zone or current_app.config["BUSINESS_TIMEZONE"]


def begin_session(token: str | None) -> None:
    """A new session for who signs in (with the token the service issued) or out (None):
    nothing of the previous one carries over but the language she chose (a fresh CSRF
    token comes with the next form), and the token it held is revoked, as signing out
    does."""
    previous = session.get(TOKEN_KEY)
    if previous and previous != token:
        with unit_of_work() as work:
            revoke_token(work, previous)
    chosen = session.get(LOCALE_KEY)
    session.clear()
    if chosen:
        session[LOCALE_KEY] = chosen
    if token:
        session[TOKEN_KEY] = token


def viewer() -> Viewer | None:
    """The signed-in viewer of this page, or None."""
    return g.get("viewer")


def signed_in(view):
    """A page for signed-in people: the others are sent to sign in, and come back after."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if viewer() is None:
            return redirect(url_for("pages.auth.sign_in", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


def select_locale() -> str:
    """The language of a page: the one chosen with the switch in this session, else the
    signed-in user's own (her profile), else the best her browser asks for."""
    chosen = session.get(LOCALE_KEY)
    if chosen in LOCALES:
        return chosen
    if viewer() is not None and viewer().locale in LOCALES:
        return viewer().locale
    return (
        request.accept_languages.best_match(LOCALES) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def select_timezone() -> str:
    """Times on a page are in the viewer's team's zone, else the business zone."""
    if viewer() is not None:
        return viewer().timezone
    return current_app.config["BUSINESS_TIMEZONE"]


def safe_next(target: str | None, default: str) -> str:
    """Where to go after a form: a path on this site only, never another site's address."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:  # browsers read /\evil.example as //evil.example
        return default
    return target
