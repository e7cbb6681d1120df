"""The caller of the current request, from its bearer token."""

from flask import g, request

from marketplace.db import db
from marketplace.errors import Unauthorized
from marketplace.identity.actor import Actor
from marketplace.identity.service import actor_for_token

BEARER_AUTH = [{"bearerAuth": []}]
API_PREFIX = "/api/v1/"
# Endpoints anyone may call: signing up and in, verifying an address, resetting a password
# (GET /signup, beside sign-up, asks for the caller itself).
# Stripe's webhook proves who sent it by its signature, not a token.
PUBLIC_ENDPOINTS = {
    "accounts.SignIn",
    "accounts.Signup",
    "accounts.Verify",
    "accounts.PasswordResets",
    "accounts.CompleteReset",
    # An invite is accepted with its e-mailed token, by people who have no account yet.
    "members.AcceptInvite",
    "payments.StripeWebhook",
}


def bearer_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send 'Authorization: Bearer <token>'.", code="missing_token")
    return token.strip()


def authenticate_request() -> None:
    """Before anything else looks at an API request (its arguments included), know who sent
    it: a request without a live token gets 401 and learns nothing more."""
    endpoint = request.endpoint
    if request.path.startswith(API_PREFIX) and endpoint and endpoint not in PUBLIC_ENDPOINTS:
        current_actor()


def current_actor() -> Actor:
    """The authenticated caller; 401 without a live token."""
    if "actor" not in g:
        actor = actor_for_token(db.session, bearer_token())
        if actor is None:
            raise Unauthorized("The token is unknown or revoked.", code="invalid_token")
        g.actor = actor
    return g.actor
