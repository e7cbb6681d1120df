"""Signing in with a password, and locking an account against guessing.

After MAX_FAILED_SIGN_INS wrong passwords in a row, signing in to the account is refused
for LOCK_FOR, whatever the password, and its owner is told by e-mail. A successful sign-in
starts the count again. Throttling per address and per account (accounts/api.py) slows
guessing across many accounts; the lock stops it against one.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.accounts import letters
from marketplace.errors import DomainError, Forbidden, Unauthorized
from marketplace.identity import service as identity
from marketplace.identity.models import User

MAX_FAILED_SIGN_INS = 10
LOCK_FOR = timedelta(minutes=15)


@dataclass(frozen=True)
class SignIn:
    """What a sign-in came to: a user and a new token, or a refusal."""

    user: User | None = None
    token: str | None = None
    refusal: DomainError | None = None


def sign_in(session: Session, *, email: str, password: str) -> SignIn:
    """Check the password and issue a token named "login".

    A wrong password is counted (and may lock the account and queue the owner's letter)
    in this unit of work, so the refusal is returned, not raised: the caller commits, then
    raises it (401 `invalid_credentials`). A locked account is refused with 403
    `account_locked` and the moment the lock ends, its password unchecked and uncounted.
    """
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    now = clock.now()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        return SignIn(refusal=_locked(user))
    if not identity.password_matches(user, password):
        if user is not None:
            _count_failure(session, user)
        return SignIn(
            refusal=Unauthorized("E-mail or password is wrong.", code="invalid_credentials")
        )
    if user.failed_sign_ins:
        user.failed_sign_ins = 0
    return SignIn(user, identity.issue_token(session, user, name="login"))


def _count_failure(session: Session, user: User) -> None:
    """One more failure, counted in the database so concurrent guesses all count; the
    one that reaches the limit locks the account and tells its owner."""
    failures = session.scalar(
        update(User)
        .where(User.id == user.id)
        .values(failed_sign_ins=User.failed_sign_ins + 1)
        .returning(User.failed_sign_ins)
        .execution_options(synchronize_session=False)
    )
    session.refresh(user)
    if failures == MAX_FAILED_SIGN_INS:
        user.locked_until = clock.now() + LOCK_FOR
        user.failed_sign_ins = 0
        letters.send(
            session,
            user,
            "account_locked",
            count=MAX_FAILED_SIGN_INS,
            until=f"{user.locked_until:%Y-%m-%d %H:%M}",
        )


def _locked(user: User) -> Forbidden:
    return Forbidden(
        f"Too many wrong passwords: signing in to this account is locked until "
        f"{user.locked_until:%Y-%m-%d %H:%M} UTC. Its owner was told by e-mail.",
        code="account_locked",
        locked_until=user.locked_until.isoformat(),
    )
