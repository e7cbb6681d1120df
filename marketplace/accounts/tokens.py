"""A user's own API tokens: for scripts and machines, named, optionally expiring."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.db import find, keyset_page
from marketplace.errors import Invalid, NotFound
from marketplace.identity import service as identity
from marketplace.identity.actor import Actor
from marketplace.identity.models import ApiToken, User


def tokens_page(session: Session, actor: Actor, *, limit: int, after: int) -> list[ApiToken]:
    """The caller's tokens, live or not, oldest first (never their secrets)."""
    query = select(ApiToken).where(ApiToken.user_id == actor.user_id)
    return keyset_page(session, query, limit=limit, after=after)


def create_token(
    session: Session, actor: Actor, *, name: str, expires_at: datetime | None
) -> tuple[ApiToken, str]:
    """A new token of the caller's, and its secret: the only time it is shown. It works
    until revoked or until `expires_at` (422 `expiry_not_in_future` for a past moment)."""
    if expires_at is not None and expires_at <= clock.now():
        raise Invalid(
            "A token's expiry must be in the future.",
            code="expiry_not_in_future",
            field="expires_at",
        )
    secret = identity.issue_token(
        session, session.get(User, actor.user_id), name=name, expires_at=expires_at
    )
    token = session.scalar(select(ApiToken).where(ApiToken.token_digest == identity.digest(secret)))
    return token, secret


def revoke_own_token(session: Session, actor: Actor, token_id: int) -> None:
    """Revoke one of the caller's tokens (404 for one that is not hers); revoking a
    revoked token changes nothing."""
    token = find(session, ApiToken, token_id)
    if token is None or token.user_id != actor.user_id:
        raise NotFound(f"No token {token_id} of yours.", code="token_not_found")
    if token.revoked_at is None:
        token.revoked_at = clock.now()
