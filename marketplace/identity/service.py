"""Use cases of identity: parties, users, memberships, login and tokens."""

import hashlib
import secrets
from datetime import datetime

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.errors import Conflict, Invalid, NotFound
from marketplace.identity.actor import Actor
from marketplace.identity.models import (
    ROLES_BY_PARTY_KIND,
    ApiToken,
    Membership,
    Party,
    PartyKind,
    Role,
    User,
)

TOKEN_PREFIX = "pw_"
_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so a miss costs as much as a wrong password.
_unknown_user_hash = _hasher.hash(secrets.token_urlsafe(16))


def use_password_profile(name: str) -> None:
    """Hash passwords with one of argon2-cffi's parameter profiles (tests use CHEAPEST).

    Hashes made under another profile still verify: the parameters are in the hash.
    """
    global _hasher, _unknown_user_hash
    _hasher = PasswordHasher.from_parameters(getattr(profiles, name))
    _unknown_user_hash = _hasher.hash(secrets.token_urlsafe(16))


def digest(token: str) -> str:
    """What is stored of a token. Tokens are 256 random bits, so a fast hash is enough."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_party(session: Session, *, kind: PartyKind, name: str, bank_account: str | None = None):
    """Register a client, team or the platform."""
    party = Party(kind=PartyKind(kind), name=name, bank_account=bank_account)
    session.add(party)
    session.flush()
    return party


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    bank_account: str | None = None,
    verified: bool = True,
) -> User:
    """Register a user with a hashed password; an e-mail is used once. Users an operator
    makes start verified; a sign-up's (`verified=False`) must prove the address."""
    email = email.strip().lower()
    if session.scalar(select(User.id).where(User.email == email)):
        raise _email_taken(email)
    check_password_strength(password)
    user = User(
        email=email,
        name=name,
        password_hash=_hasher.hash(password),
        bank_account=bank_account,
        email_verified_at=clock.now() if verified else None,
        failed_sign_ins=0,
    )
    # Two sign-ups (or invite acceptances) for one new address at once both pass the
    # check above; the unique index stops the second, which is then refused the same
    # way, in a savepoint so that the unit of work stays usable to report it.
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        raise _email_taken(email) from None
    return user


def _email_taken(email: str) -> Conflict:
    return Conflict("A user with this e-mail exists.", code="email_taken", email=email)


def check_password_strength(password: str) -> None:
    """422 `weak_password` for a password shorter than 8 characters."""
    if len(password) < 8:
        raise Invalid("A password has at least 8 characters.", code="weak_password")


def password_matches(user: User | None, password: str) -> bool:
    """Whether `password` is the user's; with no user it costs as much and is False."""
    try:
        _hasher.verify(user.password_hash if user else _unknown_user_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    return user is not None


def set_password(
    session: Session, user: User, password: str, *, keep_token: str | None = None
) -> None:
    """Give the user a new password and revoke all her tokens but `keep_token` (the one
    the change was made with, if any): whoever knew the old password is signed out."""
    check_password_strength(password)
    user.password_hash = _hasher.hash(password)
    revoked = update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if keep_token is not None:
        revoked = revoked.where(ApiToken.token_digest != digest(keep_token))
    session.execute(revoked.values(revoked_at=clock.now()))


def add_membership(session: Session, *, user: User, party: Party, role: Role) -> Membership:
    """Give `user` a role in `party`; the role must fit the party's kind."""
    if Role(role) not in ROLES_BY_PARTY_KIND[PartyKind(party.kind)]:
        raise Invalid(
            f"A {party.kind} party has no role {role}.", code="role_not_for_party", role=str(role)
        )
    membership = Membership(user_id=user.id, party_id=party.id, role=Role(role))
    session.add(membership)
    session.flush()
    return membership


def issue_token(
    session: Session,
    user: User,
    *,
    name: str = "",
    token: str | None = None,
    expires_at: datetime | None = None,
) -> str:
    """Create a bearer token for `user` and return it; only its digest is kept."""
    token = token or TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(user_id=user.id, token_digest=digest(token), name=name, expires_at=expires_at)
    )
    session.flush()
    return token


def actor_for_token(session: Session, token: str) -> Actor | None:
    """The actor a live token speaks for, or None."""
    # One round trip: it runs before every request.
    rows = session.execute(
        select(ApiToken.user_id, User.email_verified_at, Membership.party_id, Membership.role)
        .join(User, User.id == ApiToken.user_id)
        .outerjoin(Membership, Membership.user_id == ApiToken.user_id)
        .where(
            ApiToken.token_digest == digest(token),
            ApiToken.revoked_at.is_(None),
            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > clock.now()),
        )
    ).all()
    if not rows:
        return None
    roles = frozenset((party, Role(role)) for _, _, party, role in rows if party is not None)
    return Actor(rows[0].user_id, roles, verified=rows[0].email_verified_at is not None)


def actor_on_command_line(session: Session, email: str) -> Actor:
    """The user named by e-mail on the command line, acting with all its roles; the
    audit log records such actions as from the CLI. 404 for no such user."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"No user {email}.", code="user_not_found")
    roles = frozenset((m.party_id, Role(m.role)) for m in user.memberships)
    return Actor(user.id, roles, via="cli")


def revoke_token(session: Session, token: str) -> None:
    """Revoke a token (logging out); an unknown token is already as good as revoked."""
    found = session.scalar(select(ApiToken).where(ApiToken.token_digest == digest(token)))
    if found and found.revoked_at is None:
        found.revoked_at = clock.now()


def platform_party(session: Session) -> Party:
    """The platform's own party, which earns the fee; opened on first use."""
    party = session.scalar(select(Party).where(Party.kind == PartyKind.PLATFORM).order_by(Party.id))
    return party or create_party(session, kind=PartyKind.PLATFORM, name="Piecework")
