"""Who sees a client's invoices and payments: its client admins, and platform admins."""

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from marketplace.db import MAX_ID
from marketplace.errors import NotFound
from marketplace.identity.actor import Actor
from marketplace.identity.models import Role


def clients_rows(actor: Actor, model: type) -> Select:
    """The rows of `model` (anything with a client_party_id) the actor may see."""
    query = select(model)
    if actor.is_platform_admin:
        return query
    return query.where(model.client_party_id.in_(actor.party_ids(Role.CLIENT_ADMIN)))


def clients_row(session: Session, actor: Actor, model: type, row_id: int, what: str) -> Any:
    """One row the actor may see; 404 `{what}_not_found` otherwise (also for ids no
    64-bit column holds), so what it may not see is not disclosed."""
    row = None
    if 0 < row_id <= MAX_ID:
        row = session.scalar(clients_rows(actor, model).where(model.id == row_id))
    if row is None:
        raise NotFound(f"No {what} {row_id}.", code=f"{what}_not_found")
    return row
