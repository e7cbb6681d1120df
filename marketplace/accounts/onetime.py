"""One-time tokens for e-mail links: issued with a lifetime, redeemed once."""

import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.accounts.models import OneTimeToken, TokenPurpose
from marketplace.errors import Invalid
from marketplace.identity.models import User
from marketplace.identity.service import digest


def issue(session: Session, user: User, purpose: TokenPurpose, lifetime: timedelta) -> str:
    """A new secret for `purpose`, good for `lifetime`; only its digest is stored."""
    secret = secrets.token_urlsafe(32)
    session.add(
        OneTimeToken(
            user_id=user.id,
            purpose=purpose,
            token_digest=digest(secret),
            expires_at=clock.now() + lifetime,
        )
    )
    return secret


def redeem(session: Session, secret: str, purpose: TokenPurpose) -> User:
    """The user a live token of `purpose` was sent to; the token, and every other of hers
    for that purpose, is used up. 422 `unknown_token`, `token_used` or `token_expired`."""
    found = session.scalar(
        select(OneTimeToken)
        .where(OneTimeToken.token_digest == digest(secret), OneTimeToken.purpose == purpose)
        .with_for_update()
    )
    now = clock.now()
    if found is None:
        raise Invalid("This link is not one we sent.", code="unknown_token", field="token")
    if found.used_at is not None:
        raise Invalid("This link was used already.", code="token_used", field="token")
    if found.expires_at <= now:
        raise Invalid(
            "This link has expired; ask for a new one.",
            code="token_expired",
            field="token",
            expired_at=found.expires_at.isoformat(),
        )
    use_up(session, found.user_id, purpose)
    return session.get(User, found.user_id)


def use_up(session: Session, user_id: int, purpose: TokenPurpose) -> None:
    """Every live token of the user's for `purpose` stops working, in this unit of work."""
    session.execute(
        update(OneTimeToken)
        .where(
            OneTimeToken.user_id == user_id,
            OneTimeToken.purpose == purpose,
            OneTimeToken.used_at.is_(None),
        )
        .values(used_at=clock.now())
    )
