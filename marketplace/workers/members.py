"""A team's members leaving and coming back: the owner deactivates and reactivates them.

A deactivated member takes no more work from the team; the tasks in her hands go back
to its open tasks at once. Nothing she earned is touched: her balances are held per
team and person in the ledger, and keep moving from pending to available to paid as
the client pays and payouts run.
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.db import MAX_ID
from marketplace.errors import Conflict, NotFound
from marketplace.identity.actor import Actor
from marketplace.identity.models import Membership
from marketplace.workers.invites import INVITED_ROLES
from marketplace.workers.levels import team_of
from marketplace.workers.tasks import return_member_tasks


def _memberships(session: Session, team_id: int, user_id: int) -> list[Membership]:
    """Her roles in the team an owner may deactivate (the owner's own role is not one):
    404 `member_not_found` if she has none."""
    found = (
        session.scalars(
            select(Membership)
            .where(
                Membership.party_id == team_id,
                Membership.user_id == user_id,
                Membership.role.in_(INVITED_ROLES),
            )
            .order_by(Membership.id)
        ).all()
        if 0 < user_id <= MAX_ID
        else []
    )
    if not found:
        raise NotFound(f"No member {user_id} in your team.", code="member_not_found")
    return list(found)


def _state(team_id: int, user_id: int, memberships: list[Membership], returned: int):
    return {
        "team_id": team_id,
        "user_id": user_id,
        "roles": [m.role for m in memberships],
        "active": all(m.deactivated_at is None for m in memberships),
        "deactivated_at": memberships[0].deactivated_at,
        "tasks_returned": returned,
    }


def deactivate(session: Session, actor: Actor, team_id: int, user_id: int) -> dict[str, Any]:
    """The owner deactivates a member (every role of hers in the team): from now on she
    takes no work of the team (403 `member_deactivated`), and the tasks in her hands go
    back to the team's open tasks in this unit of work. Her submitted work is still
    reviewed, and her earnings stay hers. 409 `already_deactivated`."""
    team_of(session, actor, team_id, manage=True)
    memberships = _memberships(session, team_id, user_id)
    if all(m.deactivated_at is not None for m in memberships):
        raise Conflict("She is deactivated already.", code="already_deactivated")
    now = clock.now()
    for membership in memberships:
        membership.deactivated_at = now
    # Her membership rows first, as a take locks them: a take under way finishes first,
    # and the tasks it handed her are returned here too.
    session.flush()
    returned = return_member_tasks(session, team_id=team_id, user_id=user_id)
    return _state(team_id, user_id, memberships, returned)


def reactivate(session: Session, actor: Actor, team_id: int, user_id: int) -> dict[str, Any]:
    """The owner takes a deactivated member back: she takes the team's work again, at the
    level she had. 409 `not_deactivated` for an active member."""
    team_of(session, actor, team_id, manage=True)
    memberships = _memberships(session, team_id, user_id)
    if all(m.deactivated_at is None for m in memberships):
        raise Conflict("She is active.", code="not_deactivated")
    for membership in memberships:
        membership.deactivated_at = None
    session.flush()
    return _state(team_id, user_id, memberships, 0)
