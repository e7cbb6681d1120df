"""Signing in with a password, and locking an account against guessing.

After MAX_FAILED_SIGN_INS wrong passwords in a row, signing in to the account is refused
for LOCK_FOR, whatever the password, and its owner is told by e-mail (the refusal itself
looks like any wrong password's). Accepting a team invite with a password goes through
the same check. A successful sign-in
starts the count again. Throttling per address and per account (accounts/api.py) slows
guessing across many accounts; the lock stops it against one.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.accounts import letters
from marketplace.errors import DomainError, Unauthorized
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
    """Check the password (see `check_password`) and issue a token named "login".

    A refusal is returned, not raised: the failure it counted (which may lock the
    account and queue the owner's letter) is in this unit of work, so the caller
    commits, then raises it.
    """
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    refusal = check_password(session, user, password)
    if refusal is not None:
        return SignIn(refusal=refusal)
    return SignIn(user, identity.issue_token(session, user, name="login"))


def check_password(session: Session, user: User | None, password: str) -> Unauthorized | None:
    """None if `password` opens `user`'s account now (and her count of failures starts
    again), else the refusal to raise once this unit of work is committed.

    Every refusal is the same 401 `invalid_credentials`: for an unknown address (`user`
    None), a wrong password, and a locked account whatever the password, so an answer
    never tells whether an address has an account or is locked (the owner learns of
    the lock from the letter sent when it began). A hash is verified on every path (a
    dummy one for no user), so neither does the time an answer takes. A wrong password
    is counted; a guess during the lock is not.
    """
    matches = identity.password_matches(user, password)
    if user is not None and user.locked_until is not None and user.locked_until > clock.now():
        return _refused()
    if not matches:
        if user is not None:
            _count_failure(session, user)
        return _refused()
    if user.failed_sign_ins:
        user.failed_sign_ins = 0
    return None


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


def _refused() -> Unauthorized:
    return Unauthorized("E-mail or password is wrong.", code="invalid_credentials")
