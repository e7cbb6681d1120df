"""Sign-up: a client or a team registers itself, proves its e-mail address and, when the
platform asks for it, waits for an admin's approval before it publishes an order."""

from datetime import timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.accounts import letters, onetime
from marketplace.accounts.models import Signup, SignupStatus, TokenPurpose
from marketplace.db import find, keyset_page
from marketplace.errors import Conflict, Forbidden, Invalid, NotFound
from marketplace.identity import audit
from marketplace.identity import service as identity
from marketplace.identity.actor import Actor
from marketplace.identity.models import PartyKind, Role, User
from marketplace.notices import mail

VERIFY_FOR = timedelta(hours=24)
# Where the e-mail's link leads (the sign-up page); the page sends its token to
# POST /api/v1/signup/verify.
VERIFY_PATH = "/signup/verify"
FIRST_ROLE = {PartyKind.CLIENT: Role.CLIENT_ADMIN, PartyKind.TEAM: Role.TEAM_OWNER}
# SIGNUP_APPROVAL: which new parties wait for an admin before they publish orders.
APPROVAL_SETTINGS = {"none": set(), "clients": {PartyKind.CLIENT}}


def sign_up(
    session: Session, data: dict[str, Any], *, approval: str, public_url: str
) -> tuple[Signup, str]:
    """Register a client (with its first client_admin) or a team (with its team_owner)
    in this unit of work, send the verification link through the outbox, and return the
    sign-up with a bearer token for the new user.

    The user may sign in and read at once; she publishes orders and claims work only
    once her address is verified, and a client waits for an admin's approval when
    `approval` (the SIGNUP_APPROVAL setting) names clients. 409 `email_taken` for an
    address already registered.
    """
    kind = PartyKind(data["kind"])
    user = identity.create_user(
        session, email=data["email"], name=data["name"], password=data["password"], verified=False
    )
    user.locale = data["locale"]
    party = identity.create_party(session, kind=kind, name=data["party_name"])
    party.timezone = data["timezone"]
    identity.add_membership(session, user=user, party=party, role=FIRST_ROLE[kind])
    waits = kind in APPROVAL_SETTINGS[approval]
    now = clock.now()
    signup = Signup(
        party_id=party.id,
        user_id=user.id,
        status=SignupStatus.PENDING if waits else SignupStatus.APPROVED,
        created_at=now,
        decided_at=None if waits else now,
    )
    session.add(signup)
    if waits:
        session.flush()
        for admin in mail.platform_admins(session):
            letters.send(
                session,
                admin,
                "signup_waiting",
                party=party.name,
                email=user.email,
                signup_id=signup.id,
            )
    send_verification(session, user, public_url=public_url)
    token = identity.issue_token(session, user, name="sign-up")
    return signup, token


def send_verification(session: Session, user: User, *, public_url: str) -> None:
    """Mail the user a verification link good for 24 hours; 409 `already_verified` if she
    has verified her address."""
    if user.email_verified_at is not None:
        raise Conflict("Your e-mail address is verified already.", code="already_verified")
    secret = onetime.issue(session, user, TokenPurpose.VERIFY_EMAIL, VERIFY_FOR)
    link = f"{public_url}{VERIFY_PATH}?token={quote(secret)}"
    letters.send(session, user, "verify_email", link=link, token=secret)


def resend_verification(session: Session, actor: Actor, *, public_url: str) -> None:
    """Mail the caller a fresh verification link (the older ones still work)."""
    send_verification(session, session.get(User, actor.user_id), public_url=public_url)


def verify_email(session: Session, secret: str) -> User:
    """Mark the address the link was sent to as verified; the link is used up (422
    `unknown_token`, `token_used`, `token_expired` after 24 hours)."""
    user = onetime.redeem(session, secret, TokenPurpose.VERIFY_EMAIL)
    if user.email_verified_at is None:
        user.email_verified_at = clock.now()
    return user


def standing(session: Session, actor: Actor) -> dict[str, Any]:
    """Where the caller's account stands: her address verified or not, and her sign-up
    (pending, approved or refused, and why), None for a user an operator or an invite
    made."""
    user = session.get(User, actor.user_id)
    return {
        "email": user.email,
        "email_verified": user.email_verified_at is not None,
        "signup": session.scalar(select(Signup).where(Signup.user_id == actor.user_id)),
    }


def signups_page(
    session: Session, actor: Actor, *, status: str | None, limit: int, after: int
) -> list[Signup]:
    """Sign-ups, oldest first, of one status if named (platform admins)."""
    actor.require(Role.PLATFORM_ADMIN)
    query = select(Signup)
    if status:
        query = query.where(Signup.status == status)
    return keyset_page(session, query, limit=limit, after=after)


def decide(
    session: Session, actor: Actor, signup_id: int, *, approve: bool, reason: str | None
) -> Signup:
    """Approve or refuse a pending sign-up (platform admins), with the reason in the audit
    log and in an e-mail to the applicant. A refusal needs a reason (422
    `reason_required`); a sign-up already decided stays as it is (409 `signup_decided`)."""
    actor.require(Role.PLATFORM_ADMIN)
    signup = find(session, Signup, signup_id)
    if signup is None:
        raise NotFound(f"No sign-up {signup_id}.", code="signup_not_found")
    # Locked and read afresh: of two admins deciding at once, the second waits here and
    # then finds it decided.
    session.scalar(
        select(Signup)
        .where(Signup.id == signup_id)
        .with_for_update(of=Signup)
        .execution_options(populate_existing=True)
    )
    if not approve and not reason:
        raise Invalid("Say why the sign-up is refused.", code="reason_required", field="reason")
    if signup.status != SignupStatus.PENDING:
        raise Conflict(
            f"The sign-up is {signup.status} already.", code="signup_decided", status=signup.status
        )
    signup.status = SignupStatus.APPROVED if approve else SignupStatus.REFUSED
    signup.reason = reason
    signup.decided_at = clock.now()
    signup.decided_by_user_id = actor.user_id
    audit.record(
        session,
        actor,
        f"signup.{signup.status}",
        ("signup", signup.id),
        party_id=signup.party_id,
        reason=reason,
    )
    letters.send(
        session, signup.user, f"signup_{signup.status}", party=signup.party.name, reason=reason
    )
    return signup


def refuse_unless_approved(session: Session, party_id: int) -> None:
    """403 `signup_pending` or `signup_refused` while the party's sign-up waits for, or
    was refused, an admin's approval; parties that need none pass."""
    status = session.scalar(select(Signup.status).where(Signup.party_id == party_id))
    if status == SignupStatus.PENDING:
        raise Forbidden(
            "An administrator has not approved this account yet; GET /api/v1/signup shows "
            "where it stands.",
            code="signup_pending",
        )
    if status == SignupStatus.REFUSED:
        raise Forbidden(
            "An administrator refused this account's sign-up; GET /api/v1/signup shows why.",
            code="signup_refused",
        )
