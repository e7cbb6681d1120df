"""The caller of the current request, from its bearer token."""

from flask import g, request

from marketplace.db import db
from marketplace.errors import Unauthorized
from marketplace.identity.actor import Actor
from marketplace.identity.service import actor_for_token

BEARER_AUTH = [{"bearerAuth": []}]


def bearer_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send 'Authorization: Bearer <token>'.", code="missing_token")
    return token.strip()


def current_actor() -> Actor:
    """The authenticated caller; 401 without a live token."""
    if "actor" not in g:
        actor = actor_for_token(db.session, bearer_token())
        if actor is None:
            raise Unauthorized("The token is unknown or revoked.", code="invalid_token")
        g.actor = actor
    return g.actor
