"""Getting an account: sign-up, the invite a team e-mailed, the e-mail address's
verification, and a forgotten password. Each is the page its e-mail's link leads to.

The same services as the API's accounts and invites (accounts.signup, accounts.passwords,
workers.invites), throttled with the same settings: per address and per account for
the accounts' doors, per address and per invite for an invite's. A page that ends
signed in holds the token the service issued, as the sign-in page does.
"""

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from sqlalchemy import select

from marketplace import clock
from marketplace.accounts import passwords, signup
from marketplace.accounts.schemas import ResetCompleteIn, ResetRequestIn, SecretIn, SignupIn
from marketplace.db import db, unit_of_work
from marketplace.identity.models import Party, User
from marketplace.identity.service import digest
from marketplace.limits import limiter, throttled
from marketplace.pages.auth import ROLE_NAMES, home_url
from marketplace.pages.form_input import attempt, read_form, refusal_errors
from marketplace.pages.viewer import TOKEN_KEY, begin_session, viewer
from marketplace.workers import invites
from marketplace.workers.invite_schemas import AcceptIn
from marketplace.workers.models import InviteStatus, TeamInvite

blp = Blueprint("account", __name__)

# The API's words for the languages (LocaleField), by the page's language.
LANGUAGE_OF_PAGE = {"zh": "zh-CN", "en": "en"}
# Refusals that name no field of their own, and the field they are about.
FIELDS = {
    "email_taken": "email",
    "weak_password": "password",
    "invalid_credentials": "password",
    "password_required": "password",
}


def nav_links(viewer) -> list[tuple[str, str]]:
    return []


@blp.errorhandler(RateLimitExceeded)
def too_many(error: RateLimitExceeded):
    """Throttled as the API is (429, Retry-After), said in her language."""
    message = _("Too many attempts. Wait a minute, then try again.")
    page = render_template("error.html", title=_("Too many attempts"), message=message, status=429)
    return page, 429


def _page_language() -> str:
    return LANGUAGE_OF_PAGE.get(get_locale().language, "en")


def _fields(names) -> dict[str, str]:
    return {name: request.form.get(name, "") for name in names}


def _attempt(write) -> tuple:
    return attempt(write, FIELDS)


# Sign-up


@blp.get("/sign-up")
def sign_up():
    """The sign-up form: a team (with its owner) or a client (with its first admin)."""
    form = {"kind": "team", "locale": _page_language(), "timezone": "Asia/Shanghai"}
    return render_template("account/sign_up.html", form=form, errors={})


@blp.post("/sign-up")
@throttled()
def sign_up_post():
    """POST /signup: the party, its first user and the verification mail, together; she
    is signed in at once."""
    names = ("kind", "email", "name", "password", "party_name", "locale", "timezone")
    form = _fields(names)
    data, errors = read_form(SignupIn(), form)
    status = 422
    if data is not None:
        made, errors, status = _attempt(
            lambda work: signup.sign_up(
                work,
                data,
                approval=current_app.config["SIGNUP_APPROVAL"],
                public_url=current_app.config["PUBLIC_URL"],
            )
        )
    if errors:
        form.pop("password")
        return render_template("account/sign_up.html", form=form, errors=errors), status
    begin_session(made[1])
    flash(_("Welcome! We sent you a link to confirm your e-mail address."), "info")
    return redirect(home_url(), 303)


# E-mail verification (the sign-up mail's link)


@blp.get("/signup/verify")
def verify():
    """The verification link's page: one button confirms (a link prefetched by a mail
    program must not use it up)."""
    return render_template("account/verify.html", token=request.args.get("token", ""), errors={})


@blp.post("/signup/verify")
@throttled()
def verify_post():
    """POST /signup/verify: the address is verified, the link used up."""
    data, errors = read_form(SecretIn(), _fields(("token",)))
    if data is not None:
        _result, errors, _status = _attempt(lambda work: signup.verify_email(work, data["token"]))
    if errors:
        page = render_template("account/verify.html", token="", errors=errors)
        return page, 422
    flash(_("Your e-mail address is confirmed."), "info")
    return redirect(home_url() if viewer() else url_for("pages.auth.sign_in"), 303)


# Forgotten passwords


@blp.get("/password-resets")
def reset_request():
    """The form asking for a reset link."""
    return render_template("account/reset_request.html", form={}, errors={}, sent=False)


@blp.post("/password-resets")
@throttled()
def reset_request_post():
    """POST /password-resets: the same answer whether the address has an account or not."""
    form = _fields(("email",))
    data, errors = read_form(ResetRequestIn(), form)
    if data is None:
        return render_template(
            "account/reset_request.html", form=form, errors=errors, sent=False
        ), 422
    with unit_of_work() as work:
        passwords.request_reset(work, data["email"], public_url=current_app.config["PUBLIC_URL"])
    return render_template("account/reset_request.html", form={}, errors={}, sent=True), 202


@blp.get("/password-resets/complete")
def reset():
    """The reset link's page: choose a new password."""
    return render_template("account/reset.html", token=request.args.get("token", ""), errors={})


@blp.post("/password-resets/complete")
@throttled()
def reset_post():
    """POST /password-resets/complete: the new password, every session signed out."""
    form = _fields(("token", "password"))
    data, errors = read_form(ResetCompleteIn(), form)
    if data is not None:
        _result, errors, _status = _attempt(
            lambda work: passwords.complete_reset(work, data["token"], data["password"])
        )
    if errors:
        page = render_template("account/reset.html", token=form["token"], errors=errors)
        return page, 422
    session.pop(TOKEN_KEY, None)  # revoked with every other token of hers
    flash(_("Your new password is set. Sign in with it."), "info")
    return redirect(url_for("pages.auth.sign_in"), 303)


# Invites (the team's invitation mail's link)


def _by_invite() -> str:
    """The invite an acceptance names, by its token's digest, as the API counts it."""
    return "invite:" + digest(request.form.get("token", ""))


def _invite_shown(token: str) -> dict | None:
    """What the page tells of the invite whose token she holds: the team, the role, the
    address and whether it has an account (to sign in, or choose a name and password).
    None for a token that is no pending invite's; accepting says why."""
    found = db.session.scalar(select(TeamInvite).where(TeamInvite.token_digest == digest(token)))
    if found is None or found.status_at(clock.now()) != InviteStatus.PENDING:
        return None
    user = db.session.scalar(select(User).where(User.email == found.email))
    return {
        "team": db.session.get(Party, found.team_party_id).name,
        "role": ROLE_NAMES[found.role],
        "email": found.email,
        "has_account": user is not None,
        "is_viewer": user is not None
        and viewer() is not None
        and viewer().actor.user_id == user.id,
        "expires_at": found.expires_at,
    }


def _invite_page(token: str, *, form: dict, errors: dict, status: int = 200):
    shown = _invite_shown(token) if token else None
    page = render_template(
        "account/invite.html", token=token, invite=shown, form=form, errors=errors
    )
    return page, status if shown or errors else 404


@blp.get("/invites/accept")
def invite():
    """The invitation's page: she joins the team, new (name and password) or with her account."""
    return _invite_page(request.args.get("token", ""), form={}, errors={})


@blp.post("/invites/accept")
@limiter.limit(
    lambda: current_app.config["INVITE_ACCEPT_LIMIT_PER_ADDRESS"], key_func=get_remote_address
)
@limiter.limit(lambda: current_app.config["INVITE_ACCEPT_LIMIT_PER_INVITE"], key_func=_by_invite)
def invite_post():
    """POST /invites/accept: she holds the role in the team and is signed in, or the
    refusal is said beside its field (a wrong password counts toward her lock)."""
    form = _fields(("token", "name", "password"))
    form["locale"] = _page_language()
    data, errors = read_form(AcceptIn(), form, optional=("name", "password"))
    if data is None:
        return _invite_page(form["token"], form=form, errors=errors, status=422)
    signed_in = viewer().actor if viewer() else None
    outcome, errors, status = _attempt(
        lambda work: invites.accept(work, signed_in=signed_in, **data)
    )
    if outcome is not None and outcome.refusal is not None:  # committed: the failure counts
        errors, status = refusal_errors(outcome.refusal, FIELDS), outcome.refusal.status
    if errors:
        form.pop("password")
        return _invite_page(form["token"], form=form, errors=errors, status=status)
    team = outcome.invite.team_party_id
    begin_session(outcome.token)
    flash(_("Welcome to %(team)s!", team=db.session.get(Party, team).name), "info")
    return redirect(home_url(), 303)
