"""Signing in and out of the pages, and choosing their language.

Sign-in calls the accounts sign-in service the API's POST /auth/tokens calls: the same
lockout, the same one answer for a wrong password, an unknown address and a locked
account, and the same throttling (one shared count for both doors).
"""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext, lazy_gettext
from flask_limiter.errors import RateLimitExceeded
from marshmallow import ValidationError

from marketplace.accounts import signin
from marketplace.accounts.profile import set_locale
from marketplace.db import db, unit_of_work
from marketplace.identity.models import Role, User
from marketplace.identity.schemas import LoginIn
from marketplace.limits import throttled
from marketplace.pages import navigation
from marketplace.pages.messages import field_errors, translated
from marketplace.pages.viewer import LOCALE_KEY, LOCALES, begin_session, safe_next, viewer

blp = Blueprint("auth", __name__)


# Roles as people call them, for who has no page of her role yet.
ROLE_NAMES = {
    Role.ANNOTATOR: lazy_gettext("Annotator"),
    Role.REVIEWER: lazy_gettext("Reviewer"),
    Role.TEAM_OWNER: lazy_gettext("Team owner"),
    Role.CLIENT_ADMIN: lazy_gettext("Client"),
    Role.PLATFORM_ADMIN: lazy_gettext("Platform admin"),
}


def home_url() -> str:
    """Where a signed-in person starts her day."""
    return url_for("pages.auth.home")


@blp.get("/")
def home():
    """The site's front door: the sign-in page, else the first page of her day (an
    annotator's workspace, a reviewer's queue, an owner's drop board); for a role whose
    pages are still to come, where she stands."""
    if viewer() is None:
        return redirect(url_for(".sign_in"))
    mine = navigation.links(viewer())
    if mine:
        return redirect(url_for(mine[0][0]))
    user = db.session.get(User, viewer().actor.user_id)
    roles = [(m.party.name, ROLE_NAMES[Role(m.role)]) for m in user.memberships]
    return render_template("auth/home.html", roles=roles)


@blp.get("/sign-in")
def sign_in():
    """The sign-in form."""
    if viewer() is not None:
        return redirect(safe_next(request.args.get("next"), home_url()))
    return render_template("auth/sign_in.html", form={}, errors={}, next=request.args.get("next"))


@blp.post("/sign-in")
@throttled(scope="sign-in")
def sign_in_post():
    """Check the e-mail and password with the accounts service; on success the session
    holds the token it issued."""
    form = {"email": request.form.get("email", ""), "password": request.form.get("password", "")}
    target = safe_next(request.form.get("next"), home_url())
    try:
        credentials = LoginIn().load(form)
    except ValidationError as invalid:
        return _form_again(form, field_errors(invalid.messages), target, 422)
    with unit_of_work() as work:
        outcome = signin.sign_in(work, **credentials)
    if outcome.refusal is not None:  # committed first: the failure counts toward the lock
        return _form_again(form, {"password": translated(outcome.refusal.message)}, target, 401)
    begin_session(outcome.token)
    return redirect(target)


def _form_again(form: dict, errors: dict, target: str, status: int):
    """The form with what she typed (never the password) and each error beside its field."""
    kept = {"email": form["email"]}
    return render_template("auth/sign_in.html", form=kept, errors=errors, next=target), status


@blp.errorhandler(RateLimitExceeded)
def too_many(error: RateLimitExceeded):
    """Throttled: the form again, saying to wait (429 with Retry-After, as the API answers;
    Flask-Limiter adds the header)."""
    message = gettext("Too many attempts. Wait a minute, then try again.")
    form = {"email": request.form.get("email", "")}
    answer = render_template("auth/sign_in.html", form=form, errors={"password": message}, next="")
    return answer, 429


@blp.post("/sign-out")
def sign_out():
    """Revoke the session's token (as DELETE /auth/tokens/current does) and forget it."""
    begin_session(None)
    flash(gettext("You are signed out."), "info")
    return redirect(url_for(".sign_in"))


@blp.post("/language")
def language():
    """The language switch: this session reads the pages in the chosen language, and a
    signed-in user keeps it as her own (PUT /me/locale): her next sessions and her mails."""
    chosen = request.form.get("locale")
    if chosen in LOCALES:
        session[LOCALE_KEY] = chosen
        if viewer() is not None:
            with unit_of_work() as db_session:
                set_locale(db_session, viewer().actor, chosen)
    return redirect(safe_next(request.form.get("next"), url_for(".home")))
