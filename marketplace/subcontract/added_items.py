"""Items added to a published order after its contracts were made (orders/imports.py)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.orders.models import Order, Sourcing
from marketplace.subcontract.models import Contract
from marketplace.subcontract.service import lock_contract


def grow_sole_award(session: Session, *, order: Order, items: int) -> None:
    """React to items added to an order: a bids order whose every item was awarded to
    one team grows that team's contract with the client by the new items, at its price.

    A claims order needs nothing: each team's contract grows as it claims the new
    batches, at the order's price. A bids order awarded in parts, or not yet in
    full, keeps its contracts: the new items wait for the client's award.
    """
    if order.sourcing != Sourcing.BIDS:
        return
    tops = session.scalars(
        select(Contract.id).where(
            Contract.order_id == order.id, Contract.parent_contract_id.is_(None)
        )
    ).all()
    if len(tops) != 1:
        return
    contract = lock_contract(session, tops[0])
    if contract.quantity == order.quantity - items:
        contract.quantity += items
