"""Use cases of contracts. For now a claim makes the first, one-link chain."""

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.db import find, upsert
from marketplace.errors import NotFound
from marketplace.identity.actor import Actor
from marketplace.identity.models import Role
from marketplace.orders.models import Batch
from marketplace.subcontract.models import Contract

CONTRACT_ROLES = (Role.CLIENT_ADMIN, Role.TEAM_OWNER)


def open_performer_contract(session: Session, *, batch: Batch) -> None:
    """React to a claim: the claiming team's contract with the client grows by the batch.

    The contract is opened on the team's first claim of the order, at the
    order's price. One statement (insert, or add to the quantity on conflict),
    so concurrent first claims by one team open it once.
    """
    order = batch.order
    opened = upsert(session, Contract).values(
        order_id=order.id,
        upstream_party_id=order.client_party_id,
        downstream_party_id=batch.claimed_by_party_id,
        unit_price_micros=order.unit_price_micros,
        currency=order.currency,
        quantity=batch.item_count,
        created_at=clock.now(),
    )
    session.execute(
        opened.on_conflict_do_update(
            index_elements=["order_id", "upstream_party_id", "downstream_party_id"],
            set_={"quantity": Contract.quantity + opened.excluded.quantity},
        )
    )


def shrink_performer_contract(session: Session, *, order_id: int, team_id: int, items: int) -> None:
    """Items taken back from a team (an expired lease) leave its contract."""
    session.execute(
        update(Contract)
        .where(Contract.order_id == order_id, Contract.downstream_party_id == team_id)
        .values(quantity=Contract.quantity - items)
    )


def performer_contract(session: Session, *, order_id: int, team_id: int) -> Contract | None:
    """The contract under which `team_id` works the order's items, if it has one."""
    return session.scalar(
        select(Contract).where(
            Contract.order_id == order_id, Contract.downstream_party_id == team_id
        )
    )


def list_contracts(session: Session, actor: Actor) -> list[Contract]:
    """Contracts in which the actor's party is upstream or downstream (all, for admins)."""
    query = select(Contract).order_by(Contract.id)
    if not actor.is_platform_admin:
        mine = actor.party_ids(*CONTRACT_ROLES)
        query = query.where(
            or_(Contract.upstream_party_id.in_(mine), Contract.downstream_party_id.in_(mine))
        )
    return list(session.scalars(query))


def get_contract(session: Session, actor: Actor, contract_id: int) -> Contract:
    """One contract the actor is party to; 404 otherwise."""
    contract = find(session, Contract, contract_id)
    mine = actor.party_ids(*CONTRACT_ROLES)
    if contract is None or not (
        actor.is_platform_admin
        or contract.upstream_party_id in mine
        or contract.downstream_party_id in mine
    ):
        raise NotFound(f"No contract {contract_id}.", code="contract_not_found")
    return contract
