"""Rejected work of funded orders: what was reserved for it goes back to the client."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.identity.standing import hold_client
from marketplace.orders.funding import pot, void_excess
from marketplace.orders.models import Funding, Order
from marketplace.workers.models import Task, TaskStatus


def void_rejected_items(session: Session) -> int:
    """Give back to each client's balance what its funded orders hold for items their
    reviewers rejected (a rejection is final unless a dispute overturns it; then the
    statement that bills the item takes its money from the balance). Each rejected item
    is counted out once, however often this runs; the amount given back."""
    rejected = session.execute(
        select(Order, func.count(Task.id))
        .join(Task, Task.order_id == Order.id)
        .where(Order.funding != Funding.INVOICED, Task.status == TaskStatus.REJECTED)
        .group_by(Order.id)
        .order_by(Order.id)
    ).all()
    given_back = 0
    for order, _ in rejected:
        # Counted again under the client's lock: two runs at once count each item once.
        hold_client(session, order.client_party_id)
        count = session.scalar(
            select(func.count(Task.id)).where(
                Task.order_id == order.id, Task.status == TaskStatus.REJECTED
            )
        )
        newly = count - pot(session, order.id).voided_items
        if newly > 0:
            given_back += void_excess(session, order, rejected=newly)
    return given_back
