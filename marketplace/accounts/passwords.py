"""Passwords: a reset by e-mail for who forgot hers, a change for who knows hers. Either
signs out every other session: whoever knew the old password keeps no token."""

from datetime import timedelta
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.accounts import letters, onetime
from marketplace.accounts.models import TokenPurpose
from marketplace.errors import Invalid
from marketplace.identity import service as identity
from marketplace.identity.actor import Actor
from marketplace.identity.models import User

RESET_FOR = timedelta(hours=1)
# Where the e-mail's link leads (the reset page); the page sends the token and the new
# password to POST /api/v1/password-resets/complete.
RESET_PATH = "/password-resets/complete"


def request_reset(session: Session, email: str, *, public_url: str) -> None:
    """Mail a reset link good for an hour to the user with this address, if there is one.
    The caller learns nothing either way, so addresses cannot be tried for accounts."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        return
    secret = onetime.issue(session, user, TokenPurpose.RESET_PASSWORD, RESET_FOR)
    link = f"{public_url}{RESET_PATH}?token={quote(secret)}"
    letters.send(session, user, "reset_password", link=link, token=secret)


def complete_reset(session: Session, secret: str, password: str) -> User:
    """Set the new password of the user the link was sent to and revoke all her tokens.

    The link is used up (422 `unknown_token`, `token_used`, `token_expired` after an
    hour). Following it proves the address, so it also verifies it and ends a lock.
    """
    identity.check_password_strength(password)
    user = onetime.redeem(session, secret, TokenPurpose.RESET_PASSWORD)
    identity.set_password(session, user, password)
    user.email_verified_at = user.email_verified_at or clock.now()
    user.failed_sign_ins, user.locked_until = 0, None
    return user


def change_password(
    session: Session, actor: Actor, *, current: str, new: str, keep_token: str
) -> None:
    """Change the caller's password, knowing the current one (422 `wrong_password`);
    every token of hers but `keep_token`, the one she called with, is revoked, and so
    is every password-reset link she was mailed."""
    user = session.get(User, actor.user_id)
    if not identity.password_matches(user, current):
        raise Invalid(
            "The current password is wrong.", code="wrong_password", field="current_password"
        )
    identity.set_password(session, user, new, keep_token=keep_token)
    # A reset link mailed before the change must not undo it (identity, below accounts,
    # knows no mailed links, so this is done here).
    onetime.use_up(session, user.id, TokenPurpose.RESET_PASSWORD)
