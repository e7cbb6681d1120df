"""What each user chose to be told by e-mail, and the marks that make a notice go once."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.errors import Forbidden
from marketplace.identity.actor import Actor
from marketplace.identity.models import Role
from marketplace.notices.models import NoticePreference, NoticeSent

MAX_LEAD_MINUTES = 24 * 60


def preferences_of(session: Session, user_id: int) -> NoticePreference:
    """The user's choices; the defaults (no drop e-mail, 30 minutes ahead, earnings
    e-mails on) for a user who never chose, not stored."""
    found = session.scalar(select(NoticePreference).where(NoticePreference.user_id == user_id))
    return found or NoticePreference(
        user_id=user_id, drop_released_email=False, lead_minutes=30, earnings_email=True
    )


def set_preferences(session: Session, actor: Actor, changes: dict) -> NoticePreference:
    """Change the caller's own choices; 403 for a drop e-mail asked by someone who owns no
    team (nobody else is told of drops)."""
    if changes.get("drop_released_email") and not actor.has(Role.TEAM_OWNER):
        raise Forbidden("Drop e-mails are for team owners.", required_roles=[str(Role.TEAM_OWNER)])
    preferences = preferences_of(session, actor.user_id)
    for name, value in changes.items():
        setattr(preferences, name, value)
    session.add(preferences)
    session.flush()
    return preferences


def mark_once(session: Session, kind: str, key: str) -> bool:
    """Record that the notice `kind` about `key` was given; False if it already was (by
    this run or a concurrent one), and nothing is written."""
    try:
        with session.begin_nested():
            session.add(NoticeSent(kind=kind, key=key))
    except IntegrityError:
        return False
    return True
