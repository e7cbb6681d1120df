"""Cost floors: what a team needs per item of a task type; lower prices offered to it are
flagged wherever it sees them."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.db import find, upsert
from marketplace.errors import NotFound
from marketplace.identity.actor import Actor
from marketplace.identity.models import Role
from marketplace.subcontract.models import CostFloor


@dataclass(frozen=True)
class Flagged:
    """A contract, offer or bid as one team sees it: with that team's cost floor for its
    task type and currency, if the team has one, and whether the price is below it."""

    deal: Any
    cost_floor_micros: int | None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.deal, name)

    @property
    def below_cost_floor(self) -> bool:
        floor = self.cost_floor_micros
        return floor is not None and self.deal.unit_price_micros < floor


def flag_for(session: Session, team_id: int | None, deals: list[Any]) -> list[Flagged]:
    """`deals` (each with an order and a unit price) flagged against `team_id`'s floors."""
    floors = {}
    if team_id is not None:
        floors = {
            (floor.task_type, floor.currency): floor.unit_price_micros
            for floor in session.scalars(
                select(CostFloor).where(CostFloor.team_party_id == team_id)
            )
        }
    return [
        Flagged(deal, floors.get((deal.order.task_type, deal.order.currency))) for deal in deals
    ]


def flag_downstream(session: Session, actor: Actor, contracts: list[Any]) -> list[Flagged]:
    """Contracts, each flagged against its downstream team's floor if the caller owns it."""
    owned = actor.party_ids(Role.TEAM_OWNER)
    return [
        flag_for(session, c.downstream_party_id if c.downstream_party_id in owned else None, [c])[0]
        for c in contracts
    ]


def set_cost_floor(session: Session, actor: Actor, data: dict[str, Any]) -> CostFloor:
    """Record (or replace) the team's cost floor for a task type in a currency."""
    actor.require(Role.TEAM_OWNER)
    team = actor.acting_for(Role.TEAM_OWNER, data.get("team_id"), "team")
    key = {"team_party_id": team, "task_type": data["task_type"], "currency": data["currency"]}
    row = upsert(session, CostFloor).values(
        **key, unit_price_micros=data["unit_price_micros"], set_by_user_id=actor.user_id
    )
    session.execute(
        row.on_conflict_do_update(
            index_elements=list(key),
            set_={
                "unit_price_micros": row.excluded.unit_price_micros,
                "set_by_user_id": actor.user_id,
            },
        )
    )
    return session.scalars(
        select(CostFloor).filter_by(**key).execution_options(populate_existing=True)
    ).one()


def list_cost_floors(session: Session, actor: Actor) -> list[CostFloor]:
    """The cost floors of the teams the actor owns (all, for admins)."""
    query = select(CostFloor).order_by(CostFloor.id)
    if not actor.is_platform_admin:
        actor.require(Role.TEAM_OWNER)
        query = query.where(CostFloor.team_party_id.in_(actor.party_ids(Role.TEAM_OWNER)))
    return list(session.scalars(query))


def delete_cost_floor(session: Session, actor: Actor, floor_id: int) -> None:
    """Remove one of the actor's team's floors; 404 for anyone else's."""
    floor = find(session, CostFloor, floor_id)
    if floor is None or floor.team_party_id not in actor.party_ids(Role.TEAM_OWNER):
        raise NotFound(f"No cost floor {floor_id}.", code="cost_floor_not_found")
    session.delete(floor)
