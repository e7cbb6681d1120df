"""Team invites: an owner invites a person by e-mail to a role and a starting level; the
person accepts with the e-mailed token and can work at once.

The token is 256 random bits, e-mailed once and kept only as its digest, like an API
token: the owner never sees it, so whoever accepts proves she reads the invited
mailbox, and a new user made by accepting counts as having verified her address.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.accounts import signin
from marketplace.db import find, keyset_page
from marketplace.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from marketplace.identity import service as identity
from marketplace.identity.actor import Actor
from marketplace.identity.models import Membership, Party, Role, User
from marketplace.notices.mail import queue
from marketplace.workers.invite_mail import invitation
from marketplace.workers.levels import current_level, team_of
from marketplace.workers.models import InviteStatus, Level, LevelChange, TeamInvite

INVITE_PREFIX = "inv_"
# The roles an owner invites to; owners come by sign-up.
INVITED_ROLES = (Role.ANNOTATOR, Role.REVIEWER)
DEFAULT_EXPIRY_DAYS = 7
MAX_EXPIRY_DAYS = 30


def _status_filter(status: InviteStatus, now: datetime):
    unused = (TeamInvite.accepted_at.is_(None), TeamInvite.revoked_at.is_(None))
    return {
        InviteStatus.PENDING: (*unused, TeamInvite.expires_at > now),
        InviteStatus.ACCEPTED: (TeamInvite.accepted_at.is_not(None),),
        InviteStatus.REVOKED: (TeamInvite.revoked_at.is_not(None),),
        InviteStatus.EXPIRED: (*unused, TeamInvite.expires_at <= now),
    }[status]


def invite(
    session: Session,
    actor: Actor,
    team_id: int,
    *,
    email: str,
    role: Role,
    level_id: int | None,
    locale: str,
    expires_in_days: int,
    link_base: str,
) -> TeamInvite:
    """The team's owner invites `email` to `role` (annotator or reviewer), starting at
    `level_id` (a level of the team), the mail and her account in `locale` (CLDR). Only
    a verified owner invites (403 `email_not_verified`): the mail goes to any address,
    so an unproven sign-up must not send it. The invitation mail, with a one-time link valid for
    `expires_in_days`, is queued in the same unit of work: it is sent exactly when the
    invite exists. Refused (409) while the address has a pending invite to the team
    (`invite_pending`), or already holds the role there (`already_member`)."""
    team = team_of(session, actor, team_id, manage=True)
    actor.require_verified()
    email = email.strip().lower()
    if level_id is not None:
        level = find(session, Level, level_id)
        if level is None or level.team_party_id != team_id:
            raise Invalid(
                f"No level {level_id} in your team.", code="unknown_level", field="level_id"
            )
    now = clock.now()
    pending = session.scalar(
        select(TeamInvite.id).where(
            TeamInvite.team_party_id == team_id,
            TeamInvite.email == email,
            *_status_filter(InviteStatus.PENDING, now),
        )
    )
    if pending is not None:
        raise Conflict(
            "This address has a pending invite to your team; revoke it to send another.",
            code="invite_pending",
            invite_id=pending,
        )
    invitee = session.scalar(select(User).where(User.email == email))
    if invitee is not None and _membership(session, team_id, invitee.id, role) is not None:
        raise Conflict(
            f"{email} is already a {role} of your team (if deactivated, reactivate her).",
            code="already_member",
        )
    token = INVITE_PREFIX + secrets.token_urlsafe(32)
    sent = TeamInvite(
        team_party_id=team_id,
        email=email,
        role=Role(role),
        level_id=level_id,
        locale=locale,
        token_digest=identity.digest(token),
        invited_by_user_id=actor.user_id,
        expires_at=now + timedelta(days=expires_in_days),
    )
    session.add(sent)
    session.flush()
    inviter = session.get(User, actor.user_id)
    subject, body = invitation(
        invitee.locale if invitee else sent.locale,
        team=team.name,
        inviter=inviter.name,
        role=sent.role,
        link=f"{link_base}/invites/accept?token={token}",
        token=token,
        expires_at=sent.expires_at,
        zone=team.timezone,
    )
    queue(session, email, subject, body)
    return sent


def list_invites(
    session: Session,
    actor: Actor,
    team_id: int,
    *,
    status: InviteStatus | None,
    limit: int,
    after: int,
) -> list[TeamInvite]:
    """A page of the team's invites, oldest first, all or those in one state (its owner)."""
    team_of(session, actor, team_id, manage=True)
    query = select(TeamInvite).where(TeamInvite.team_party_id == team_id)
    if status is not None:
        query = query.where(*_status_filter(status, clock.now()))
    return keyset_page(session, query, limit=limit, after=after)


def revoke(session: Session, actor: Actor, team_id: int, invite_id: int) -> TeamInvite:
    """The owner takes back a pending invite: its link no longer works. 409
    `invite_not_pending` (with its status) for one accepted, revoked or expired."""
    team_of(session, actor, team_id, manage=True)
    found = find(session, TeamInvite, invite_id)
    if found is None or found.team_party_id != team_id:
        raise NotFound(f"No invite {invite_id} of your team.", code="invite_not_found")
    status = found.status_at(clock.now())
    if status != InviteStatus.PENDING:
        raise Conflict(f"The invite is {status}.", code="invite_not_pending", status=status)
    found.revoked_at = clock.now()
    found.revoked_by_user_id = actor.user_id
    session.flush()
    return found


@dataclass(frozen=True)
class Acceptance:
    """What an acceptance came to: the user, the invite and a new token, or a refusal."""

    user: User | None = None
    invite: TeamInvite | None = None
    token: str | None = None
    refusal: DomainError | None = None


def accept(
    session: Session,
    token: str,
    *,
    signed_in: Actor | None = None,
    name: str | None = None,
    password: str | None = None,
    locale: str | None = None,
) -> Acceptance:
    """Accept an invite with its e-mailed token: the invited address's user gets the role
    (and starting level) in the team, and a new bearer token to start work with.

    A person new to Piecework gives her name, password and locale: her user is made,
    verified (the token proved the address). A user the address already belongs to
    proves it is her by her password, or by calling signed in (her bearer token). Her
    password is checked as a sign-in checks it (accounts.signin): a wrong one counts
    towards the lock, a locked account is refused whatever the password, and the refusal
    (401 `invalid_credentials`) is returned, not raised, so the caller commits the count
    and then raises it. She keeps her other teams, and her earnings in each stay apart
    (they are held per team and person). Each token is accepted once (409 `invite_not_pending`); 404
    `invite_not_found` for a token that is no invite's.
    """
    found = session.scalar(
        select(TeamInvite).where(TeamInvite.token_digest == identity.digest(token))
    )
    if found is None:
        raise NotFound("No invite has this token.", code="invite_not_found")
    # Two acceptances of one token at once: the second waits here and then sees the first.
    session.refresh(found, with_for_update=True)
    status = found.status_at(clock.now())
    if status != InviteStatus.PENDING:
        raise Conflict(f"The invite is {status}.", code="invite_not_pending", status=status)
    user = _accepting_user(session, found.email, signed_in, name, password, locale)
    if isinstance(user, DomainError):
        return Acceptance(refusal=user)
    if _membership(session, found.team_party_id, user.id, found.role) is None:
        team = session.get(Party, found.team_party_id)
        identity.add_membership(session, user=user, party=team, role=Role(found.role))
    if found.level_id is not None:
        _start_at_level(session, found, user)
    found.accepted_at = clock.now()
    found.accepted_by_user_id = user.id
    session.flush()
    return Acceptance(user, found, identity.issue_token(session, user, name="invite"))


def _accepting_user(
    session: Session,
    email: str,
    signed_in: Actor | None,
    name: str | None,
    password: str | None,
    locale: str | None,
) -> User | DomainError:
    user = session.scalar(select(User).where(User.email == email))
    if signed_in is not None:
        if user is None or user.id != signed_in.user_id:
            raise Forbidden(
                "This invite is for another e-mail address than yours.",
                code="invite_for_another_address",
            )
        return user
    if user is not None:
        if password is None:
            raise Invalid(
                "You have an account: give its password, or accept signed in.",
                code="password_required",
                field="password",
            )
        return signin.check_password(session, user, password) or user
    missing = [field for field, value in (("name", name), ("password", password)) if not value]
    if missing:
        raise Invalid(
            "You are new here: give your name and a password.",
            code="account_details_required",
            fields=missing,
        )
    # Verified: using the mailed token proved the address is hers.
    user = identity.create_user(session, email=email, name=name, password=password, verified=True)
    user.locale = locale or "zh_CN"
    return user


def _membership(session: Session, team_id: int, user_id: int, role: str) -> Membership | None:
    return session.scalar(
        select(Membership).where(
            Membership.party_id == team_id, Membership.user_id == user_id, Membership.role == role
        )
    )


def _start_at_level(session: Session, found: TeamInvite, user: User) -> None:
    """Her first level in the team is the invite's, set by its owner: unless she has a
    level there already (a second role in a team she works for), which stays."""
    if current_level(session, found.team_party_id, user.id) is not None:
        return
    session.add(
        LevelChange(
            team_party_id=found.team_party_id,
            user_id=user.id,
            level_id=found.level_id,
            from_level_id=None,
            changed_by_user_id=found.invited_by_user_id,
            note="invited",
        )
    )
