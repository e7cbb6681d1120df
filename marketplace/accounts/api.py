"""Getting in: sign-up, verification, approval, sign-in, password resets, own tokens.

The doors a password or a mailed token opens (sign-up, sign-in, resets, verification,
a password change) are throttled per address and per account (the e-mail a request
names, or the signed-in user): 429 with Retry-After beyond ACCOUNTS_LIMIT_PER_ADDRESS or
ACCOUNTS_LIMIT_PER_ACCOUNT, counted per door (sign-in's two doors, this one and the
sign-in page, as one)."""

from flask import current_app
from flask.views import MethodView

from marketplace.accounts import passwords, profile, signin, signup, tokens
from marketplace.accounts.schemas import (
    ApiTokenOut,
    LocaleIn,
    LocaleOut,
    NewTokenOut,
    PasswordChangeIn,
    ResetCompleteIn,
    ResetRequestIn,
    SecretIn,
    SentOut,
    SignedUpOut,
    SignupArgs,
    SignupDecisionIn,
    SignupIn,
    SignupOut,
    StandingOut,
    TokenIn,
    VerifiedOut,
)
from marketplace.db import db, unit_of_work
from marketplace.identity.auth import BEARER_AUTH, bearer_token, current_actor
from marketplace.identity.schemas import LoginIn, TokenOut
from marketplace.limits import throttled
from marketplace.web import Blueprint, PageArgs

blp = Blueprint(
    "accounts",
    __name__,
    url_prefix="/api/v1",
    description="Sign-up, e-mail verification, approval, sign-in, password resets, own tokens",
)


def by_caller() -> str:
    return f"user:{current_actor().user_id}"


def public_url() -> str:
    return current_app.config["PUBLIC_URL"]


@blp.route("/signup")
class Signup(MethodView):
    @throttled()
    @blp.doc(security=[])
    @blp.arguments(SignupIn)
    @blp.response(201, SignedUpOut)
    def post(self, data):
        """Sign up a client or a team with its first user; mails a link to verify the
        e-mail address. The answer's token works at once; orders are published and work
        is claimed only once the address is verified (and, if the platform asks for it,
        a client is approved)."""
        with unit_of_work() as session:
            created, token = signup.sign_up(
                session,
                data,
                approval=current_app.config["SIGNUP_APPROVAL"],
                public_url=public_url(),
            )
        return {"signup": created, "user": created.user, "token": token}

    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, StandingOut)
    def get(self):
        """Where your account stands: your address verified or not, and your sign-up
        pending, approved or refused, and why"""
        return signup.standing(db.session, current_actor())


@blp.route("/signup/verify")
class Verify(MethodView):
    @throttled()
    @blp.doc(security=[])
    @blp.arguments(SecretIn)
    @blp.response(200, VerifiedOut)
    def post(self, data):
        """Verify an e-mail address with the token of the link we mailed (once, 24 hours)"""
        with unit_of_work() as session:
            return signup.verify_email(session, data["token"])


@blp.route("/signup/verification")
class Verification(MethodView):
    @throttled(by_caller)
    @blp.doc(security=BEARER_AUTH)
    @blp.response(202, SentOut)
    def post(self):
        """Mail yourself another verification link"""
        actor = current_actor()
        with unit_of_work() as session:
            signup.resend_verification(session, actor, public_url=public_url())
        return {"message": "We sent you a new link; it works for 24 hours."}


@blp.route("/signups")
class Signups(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(SignupArgs, location="query")
    @blp.response(200, SignupOut(many=True))
    def get(self, args):
        """Sign-ups, of a status if named (platform admins)"""
        return signup.signups_page(db.session, current_actor(), **args)


@blp.route("/signups/<int:signup_id>/approve")
class Approve(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(SignupDecisionIn)
    @blp.response(200, SignupOut)
    def post(self, data, signup_id):
        """Approve a pending sign-up, with an optional note; the applicant is told
        (platform admins)"""
        actor = current_actor()
        with unit_of_work() as session:
            return signup.decide(session, actor, signup_id, approve=True, reason=data["reason"])


@blp.route("/signups/<int:signup_id>/refuse")
class Refuse(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(SignupDecisionIn)
    @blp.response(200, SignupOut)
    def post(self, data, signup_id):
        """Refuse a pending sign-up with a reason; the applicant is told (platform admins)"""
        actor = current_actor()
        with unit_of_work() as session:
            return signup.decide(session, actor, signup_id, approve=False, reason=data["reason"])


@blp.route("/auth/tokens")
class SignIn(MethodView):
    # One door with the sign-in page (marketplace/pages/auth.py): the same counts.
    @throttled(scope="sign-in")
    @blp.doc(security=[])
    @blp.arguments(LoginIn)
    @blp.response(201, TokenOut)
    def post(self, credentials):
        """Sign in with e-mail and password; returns a new bearer token. Ten wrong
        passwords in a row lock the account for 15 minutes: its owner is told by e-mail,
        and until then every sign-in answers 401 `invalid_credentials`, as for a wrong
        password or an unknown address."""
        with unit_of_work() as session:
            outcome = signin.sign_in(session, **credentials)
        if outcome.refusal is not None:  # raised after the commit, which counted it
            raise outcome.refusal
        return {"token": outcome.token, "user": outcome.user}


@blp.route("/password-resets")
class PasswordResets(MethodView):
    @throttled()
    @blp.doc(security=[])
    @blp.arguments(ResetRequestIn)
    @blp.response(202, SentOut)
    def post(self, data):
        """Mail a password reset link (good once, for an hour) to this address. The
        answer is the same whether the address has an account or not."""
        with unit_of_work() as session:
            passwords.request_reset(session, data["email"], public_url=public_url())
        return {
            "message": "If an account has this address, we sent it a link to set a new "
            "password. It works once, for an hour."
        }


@blp.route("/password-resets/complete")
class CompleteReset(MethodView):
    @throttled()
    @blp.doc(security=[])
    @blp.arguments(ResetCompleteIn)
    @blp.response(204)
    def post(self, data):
        """Set a new password with the reset link's token; signs out every session"""
        with unit_of_work() as session:
            passwords.complete_reset(session, data["token"], data["password"])


@blp.route("/me/password")
class Password(MethodView):
    # Throttled too: a stolen token must not try current passwords at leisure.
    @throttled(by_caller)
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(PasswordChangeIn)
    @blp.response(204)
    def post(self, data):
        """Change your password; your other tokens are revoked, this one stays"""
        actor = current_actor()
        with unit_of_work() as session:
            passwords.change_password(
                session,
                actor,
                current=data["current_password"],
                new=data["new_password"],
                keep_token=bearer_token(),
            )


@blp.route("/me/locale")
class Language(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(LocaleIn)
    @blp.response(200, LocaleOut)
    def put(self, data):
        """Choose your language (zh-CN or en): for the pages, your mails and statements"""
        actor = current_actor()
        with unit_of_work() as session:
            return profile.set_locale(session, actor, data["locale"])


@blp.route("/me/tokens")
class Tokens(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, ApiTokenOut(many=True))
    def get(self, args):
        """Your tokens, live, expired or revoked, oldest first (never their secrets)"""
        return tokens.tokens_page(db.session, current_actor(), **args)

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(TokenIn)
    @blp.response(201, NewTokenOut)
    def post(self, data):
        """Create a named token, expiring if you say when; its secret is shown only now"""
        actor = current_actor()
        with unit_of_work() as session:
            created, secret = tokens.create_token(session, actor, **data)
        return {"token": secret, **{name: getattr(created, name) for name in ApiTokenOut().fields}}


@blp.route("/me/tokens/<int:token_id>")
class Token(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(204)
    def delete(self, token_id):
        """Revoke one of your tokens"""
        actor = current_actor()
        with unit_of_work() as session:
            tokens.revoke_own_token(session, actor, token_id)
