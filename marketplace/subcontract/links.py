"""Making a link: the client's contract with a team, or a subcontract under a parent
contract, within the order's quantity and the client's caps."""

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.db import MAX_ID
from marketplace.errors import Conflict
from marketplace.money import format_micros, format_share_bps
from marketplace.orders.claims import enroll, lock_order
from marketplace.orders.models import Batch, BatchStatus, Order
from marketplace.subcontract.events import batches_handed_down, contract_made
from marketplace.subcontract.models import Contract, ContractSource, DealStatus, Offer
from marketplace.subcontract.service import chain_path


def check_link(
    session: Session, parent: Contract, team: int | None, unit_price_micros: int
) -> None:
    """Refuse (409) a subcontract of `parent` to `team` (any team, if None) at this price
    that the chain forbids.

    `price_above_contract`: more than the parent pays (its holder would pay out
    money nobody owes it); `party_in_chain`: the team is already a link of this
    chain; `chain_too_deep` and `pass_through_too_low`: the client's caps, with
    the cap in the details (never the client's price).
    """
    if unit_price_micros > parent.unit_price_micros:
        raise Conflict(
            "A subcontract cannot pay more per item than its parent contract pays.",
            code="price_above_contract",
            contract_price=format_micros(parent.unit_price_micros),
        )
    path = chain_path(session, parent)
    if team is not None and team in {p.downstream_party_id for p in path}:
        raise Conflict("This team is already a link of the chain.", code="party_in_chain")
    order = parent.order
    depth = parent.depth + 1
    if order.max_chain_depth is not None and depth > order.max_chain_depth:
        raise Conflict(
            f"The client allows chains of at most {order.max_chain_depth} links.",
            code="chain_too_deep",
            max_depth=order.max_chain_depth,
            depth=depth,
        )
    floor_bps = order.min_pass_through_bps
    if floor_bps is not None and unit_price_micros * 10_000 < floor_bps * path[0].unit_price_micros:
        raise Conflict(
            f"The client wants at least {format_share_bps(floor_bps)} of its price to reach "
            "each link.",
            code="pass_through_too_low",
            min_pass_through=format_share_bps(floor_bps),
        )


def subcontract(
    session: Session, offer: Offer, team: int, unit_price_micros: int, quantity: int
) -> Contract:
    """Make `quantity` items of an offer (its contract and batches held locked by the
    caller: `lock_open_offer`) a subcontract of `team` at this price.

    The offer's batches go down too, if they still may (409 `batch_not_passable`):
    their tasks become the team's. A second deal between the same two parties on
    one order adds to their contract if the terms are the same (409
    `contract_exists` if not).
    """
    parent = offer.contract
    check_link(session, parent, team, unit_price_micros)
    if offer.batch_ids:
        passable_batches(session, parent, offer.batch_ids, offer_id=offer.id)
    contract = _deal(
        session,
        Contract(
            order_id=parent.order_id,
            parent_contract_id=parent.id,
            depth=parent.depth + 1,
            source=ContractSource.OFFER,
            upstream_party_id=parent.downstream_party_id,
            downstream_party_id=team,
            unit_price_micros=unit_price_micros,
            currency=parent.currency,
            quantity=quantity,
        ),
    )
    if offer.batch_ids:
        hand_down_batches(session, offer.batch_ids, contract)
    return contract


def awarded_of(order_id):
    """The items of an order (an id, or a column to correlate with) under the client's
    own contracts."""
    return select(func.coalesce(func.sum(Contract.quantity), 0)).where(
        Contract.order_id == order_id, Contract.parent_contract_id.is_(None)
    )


def award_top(
    session: Session, order: Order, team: int, unit_price_micros: int, quantity: int
) -> Contract:
    """Make (or grow) the client's contract with `team`, within the order's quantity.

    Locks the order: awards queue, and together never exceed it (409
    `quantity_exceeded`, with what is left).
    """
    lock_order(session, order.id)
    awarded = session.scalar(awarded_of(order.id))
    if awarded + quantity > order.quantity:
        raise Conflict(
            "The order's items are already awarded up to what is left.",
            code="quantity_exceeded",
            order_quantity=order.quantity,
            awarded=awarded,
            available=order.quantity - awarded,
        )
    return _deal(
        session,
        Contract(
            order_id=order.id,
            depth=1,
            source=ContractSource.AWARD,
            upstream_party_id=order.client_party_id,
            downstream_party_id=team,
            unit_price_micros=unit_price_micros,
            currency=order.currency,
            quantity=quantity,
        ),
    )


def _deal(session: Session, new: Contract, *, again: bool = False) -> Contract:
    existing = session.scalar(
        select(Contract)
        .where(
            Contract.order_id == new.order_id,
            Contract.upstream_party_id == new.upstream_party_id,
            Contract.downstream_party_id == new.downstream_party_id,
        )
        .with_for_update(of=Contract)
    )
    if existing is None:
        try:
            with session.begin_nested():
                session.add(new)
        except IntegrityError:
            if again:
                raise
            # The same two parties, contracted a moment ago: deal with that contract.
            return _deal(session, new, again=True)
        enroll(session, new.order_id, new.downstream_party_id)  # the holder reads its order
        contract_made.send(session, contract=new)
        return new
    if (existing.unit_price_micros, existing.parent_contract_id) != (
        new.unit_price_micros,
        new.parent_contract_id,
    ):
        raise Conflict(
            "These two parties already have a contract on this order, on other terms.",
            code="contract_exists",
            contract_id=existing.id,
        )
    existing.quantity += new.quantity
    return existing


def lock_batches(session: Session, batch_ids: list[int]) -> None:
    """Lock the batches (FOR UPDATE) for the rest of the unit of work.

    Batches are locked before their contract, as a claim and the lease pass lock
    them (batch, then order, then contract), so no two units of work wait on
    each other in a circle.
    """
    if batch_ids:
        session.scalars(
            select(Batch.id)
            .where(Batch.id.in_(_storable(batch_ids)))
            .order_by(Batch.id)
            .with_for_update()
        ).all()


def _storable(ids: list[int]) -> list[int]:
    """The ids a 64-bit key can hold: the others name no row, and the driver refuses them."""
    return [i for i in ids if 0 < i <= MAX_ID]


def passable_batches(
    session: Session, contract: Contract, batch_ids: list[int], *, offer_id: int | None = None
) -> int:
    """The items of `batch_ids` if each is a claimed batch worked under `contract` and on
    no open offer but `offer_id`; else 409 `batch_not_passable` naming the batch. The caller
    holds them locked (`lock_batches`); whether annotators started them is checked
    when they go down."""
    on_offer = {
        batch_id
        for offer in session.scalars(
            select(Offer).where(
                Offer.contract_id == contract.id,
                Offer.status == DealStatus.OPEN,
                Offer.id != offer_id,
            )
        )
        for batch_id in offer.batch_ids
    }
    batches = {
        batch.id: batch
        for batch in session.scalars(select(Batch).where(Batch.id.in_(_storable(batch_ids))))
    }
    for batch_id in batch_ids:
        batch = batches.get(batch_id)
        reason = None
        if batch is None or batch.contract_id != contract.id:
            reason = "it is not worked under this contract"
        elif batch.status != BatchStatus.CLAIMED:
            reason = f"it is {batch.status}"
        elif batch_id in on_offer:
            reason = "it is on another open offer"
        if reason:
            raise Conflict(
                f"Batch {batch_id} cannot be passed down: {reason}.",
                code="batch_not_passable",
                batch_id=batch_id,
            )
    return sum(batch.item_count for batch in batches.values())


def hand_down_batches(session: Session, batch_ids: list[int], contract: Contract) -> None:
    """Put the batches under `contract`: its downstream team now holds and works them.

    Subscribers of `batches_handed_down` (the team's tasks) run in the same unit
    of work, and refuse batches already started.
    """
    session.execute(
        update(Batch)
        .where(Batch.id.in_(batch_ids))
        .values(contract_id=contract.id, claimed_by_party_id=contract.downstream_party_id)
    )
    # The holder keeps reading its order after its last batch went down.
    enroll(session, contract.order_id, contract.upstream_party_id)
    batches_handed_down.send(session, batch_ids=batch_ids, team_id=contract.downstream_party_id)
