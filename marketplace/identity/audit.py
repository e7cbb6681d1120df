"""The audit log: every admin action, with who took it, when and what it was.

An entry is written in the same unit of work as the action, so the log never
claims an action that was rolled back, and never misses one that happened.
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.db import keyset_page
from marketplace.identity.actor import Actor
from marketplace.identity.models import AuditEntry, Role

# Who acts when no person does: the scheduler's jobs (a hold the dunning schedule placed).
SCHEDULER = "scheduler"


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    subject: tuple[str, int | None],
    *,
    source: str | None = None,
    **details: Any,
) -> AuditEntry:
    """Log `action` on `subject` (a kind of thing and its id) by `actor`, from where it
    acts; with no actor, from `source` (the scheduler, unless named). `details` must be
    JSON: decimal amounts as strings."""
    subject_type, subject_id = subject
    entry = AuditEntry(
        user_id=actor.user_id if actor else None,
        source=actor.via if actor else source or SCHEDULER,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        details=details,
    )
    session.add(entry)
    return entry


def audit_page(
    session: Session,
    actor: Actor,
    *,
    limit: int,
    after: int,
    action: str | None = None,
    subject_type: str | None = None,
    subject_id: int | None = None,
) -> list[AuditEntry]:
    """A page of the log, oldest first, narrowed to an action or a subject when given
    (platform admins)."""
    actor.require(Role.PLATFORM_ADMIN)
    query = select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    if subject_type:
        query = query.where(AuditEntry.subject_type == subject_type)
    if subject_id is not None:
        query = query.where(AuditEntry.subject_id == subject_id)
    return keyset_page(session, query, limit=limit, after=after)


def latest_entries(session: Session, *, action: str | None, limit: int) -> list[AuditEntry]:
    """The newest `limit` entries, newest first (the command line's view)."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(session.scalars(query))
