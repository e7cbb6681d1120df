"""Contracts: the links of a chain, what each has passed down or worked, and who sees them.

A contract's quantity covers its subcontracts, the items of the batches worked
under it, and the open quantity of the offers it has out. Everything that
takes from that quantity locks the contract row first, so concurrent takers are
counted one after another and never overshoot it.
"""

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.db import find, upsert
from marketplace.errors import Conflict, NotFound
from marketplace.identity.actor import Actor
from marketplace.identity.models import Role
from marketplace.orders.models import Batch, Sourcing
from marketplace.subcontract.models import Contract, ContractSource, DealStatus, Offer

CONTRACT_ROLES = (Role.CLIENT_ADMIN, Role.TEAM_OWNER)


def hold_claimed_batch(session: Session, *, batch: Batch) -> None:
    """React to a claim: put the batch under the claiming team's contract.

    On a claims order the team's contract with the client is opened on its first
    claim, at the order's price, and grows by each batch (one statement, so
    concurrent first claims open it once). On a bids order the team must hold a
    contract with room for the batch: else 409 `no_contract_room`, and the
    claim rolls back.
    """
    order = batch.order
    team = batch.claimed_by_party_id
    if order.sourcing == Sourcing.CLAIMS:
        opened = upsert(session, Contract).values(
            order_id=order.id,
            upstream_party_id=order.client_party_id,
            downstream_party_id=team,
            depth=1,
            source=ContractSource.CLAIM,
            unit_price_micros=order.unit_price_micros,
            currency=order.currency,
            quantity=batch.item_count,
            created_at=clock.now(),
        )
        contract_id = session.scalar(
            opened.on_conflict_do_update(
                index_elements=["order_id", "upstream_party_id", "downstream_party_id"],
                set_={"quantity": Contract.quantity + opened.excluded.quantity},
            ).returning(Contract.id)
        )
    else:
        contract_id = _contract_with_room(session, order.id, team, batch.item_count).id
    batch.contract_id = contract_id  # written with the next flush


def _contract_with_room(session: Session, order_id: int, team: int, items: int) -> Contract:
    held = session.scalars(
        select(Contract)
        .where(Contract.order_id == order_id, Contract.downstream_party_id == team)
        .order_by(Contract.id)
    ).all()
    rooms = {}
    for contract in held:
        lock_contract(session, contract.id)
        rooms[contract.id] = room_of(session, contract)
        if rooms[contract.id] >= items:
            return contract
    raise Conflict(
        "Only teams holding a contract for this order's items claim its batches, and none of "
        "your team's contracts has room for this batch.",
        code="no_contract_room",
        batch_items=items,
        room={str(contract_id): room for contract_id, room in rooms.items()},
    )


def lock_contract(session: Session, contract_id: int) -> Contract:
    """The contract, locked (FOR UPDATE) for the rest of the unit of work, read afresh."""
    return session.scalars(
        select(Contract)
        .where(Contract.id == contract_id)
        .with_for_update(of=Contract)
        .execution_options(populate_existing=True)
    ).one()


def passed_down(session: Session, contract: Contract) -> int:
    """Items the contract's holder passed down in subcontracts."""
    return session.scalar(
        select(func.coalesce(func.sum(Contract.quantity), 0)).where(
            Contract.parent_contract_id == contract.id
        )
    )


def worked(session: Session, contract: Contract) -> int:
    """Items of the batches worked under the contract (items returned from a lease excepted)."""
    return session.scalar(
        select(func.coalesce(func.sum(Batch.item_count), 0)).where(Batch.contract_id == contract.id)
    )


def offered(session: Session, contract: Contract) -> int:
    """Items the holder has out in open offers without batches (an offer with batches
    reserves the batches themselves, already counted as worked)."""
    offers = session.scalars(
        select(Offer).where(Offer.contract_id == contract.id, Offer.status == DealStatus.OPEN)
    )
    return sum(offer.open_quantity for offer in offers if not offer.batch_ids)


def room_of(session: Session, contract: Contract) -> int:
    """Items of the contract not yet passed down, worked or on offer."""
    return (
        contract.quantity
        - passed_down(session, contract)
        - worked(session, contract)
        - offered(session, contract)
    )


def shrink_for_returned_items(session: Session, *, batch: Batch, items: int) -> None:
    """Items taken back from a batch (an expired lease) leave the contracts that grew by
    its claim: on a claims order, every link from the performer up to the client.

    Awarded quantities stay: the items come back to the board, and the room for
    them stays with the contract holder.
    """
    if not items or batch.contract_id is None:
        return
    path = chain_path(session, session.get(Contract, batch.contract_id))
    if path[0].source != ContractSource.CLAIM:
        return
    ids = [link.id for link in path]
    # Top down, by id, as deals lock a parent before its subcontract: no deadlock with them.
    session.scalars(
        select(Contract.id).where(Contract.id.in_(ids)).order_by(Contract.id).with_for_update()
    ).all()
    session.execute(
        update(Contract).where(Contract.id.in_(ids)).values(quantity=Contract.quantity - items)
    )


def chain_path(session: Session, contract: Contract) -> list[Contract]:
    """The links from the client's contract down to `contract`, top first."""
    path = [contract]
    while path[0].parent_contract_id is not None:
        path.insert(0, session.get(Contract, path[0].parent_contract_id))
    return path


def order_contracts(session: Session, order_id: int) -> list[Contract]:
    """Every link of every chain of the order, oldest first."""
    return list(
        session.scalars(select(Contract).where(Contract.order_id == order_id).order_by(Contract.id))
    )


def performing_contracts(session: Session, *, order_id: int, team_id: int) -> list[Contract]:
    """The team's contracts on the order, by id: the links under which it may work items."""
    return list(
        session.scalars(
            select(Contract)
            .where(Contract.order_id == order_id, Contract.downstream_party_id == team_id)
            .order_by(Contract.id)
        )
    )


def visible_contracts(actor: Actor):
    """Contracts in which the actor's party is upstream or downstream (all, for admins)."""
    query = select(Contract)
    if actor.is_platform_admin:
        return query
    mine = actor.party_ids(*CONTRACT_ROLES)
    return query.where(
        or_(Contract.upstream_party_id.in_(mine), Contract.downstream_party_id.in_(mine))
    )


def list_contracts(session: Session, actor: Actor) -> list[Contract]:
    """The actor's contracts, oldest first."""
    return list(session.scalars(visible_contracts(actor).order_by(Contract.id)))


def get_contract(session: Session, actor: Actor, contract_id: int) -> Contract:
    """One contract the actor is party to; 404 otherwise."""
    contract = find(session, Contract, contract_id)
    if contract is None or not is_party_to(actor, contract):
        raise NotFound(f"No contract {contract_id}.", code="contract_not_found")
    return contract


def is_party_to(actor: Actor, contract: Contract) -> bool:
    mine = actor.party_ids(*CONTRACT_ROLES)
    return actor.is_platform_admin or bool(
        {contract.upstream_party_id, contract.downstream_party_id} & mine
    )


def subcontracts(session: Session, actor: Actor, contract_id: int) -> list[Contract]:
    """The contracts the holder of `contract_id` passed its items down in: for the holder
    (its own downstream prices) and admins; the upstream party sees the contract only."""
    contract = get_contract(session, actor, contract_id)
    if not actor.is_platform_admin:
        actor.require(Role.TEAM_OWNER, party_id=contract.downstream_party_id)
    return list(
        session.scalars(
            select(Contract).where(Contract.parent_contract_id == contract.id).order_by(Contract.id)
        )
    )
