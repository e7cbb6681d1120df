"""Expired leases, from the team's side: unfinished tasks are withdrawn, done work stays."""

from sqlalchemy import delete
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.identity.standing import hold_client
from marketplace.orders.funding import void_excess
from marketplace.orders.leases import expired_leases, expiring_clients, return_to_board
from marketplace.orders.models import Batch
from marketplace.subcontract.service import shrink_for_returned_items
from marketplace.workers.models import UNFINISHED, Task


def return_expired_batches(session: Session) -> list[Batch]:
    """Close every claimed batch whose lease ran out; returns the batches closed.

    Its open and assigned tasks are withdrawn and their items go back to the
    board in the order's next drop; on a claims order the contracts that grew
    by the claim shrink by them.
    Submitted, accepted and rejected work stays with the team that did it, and
    accepted work stays billable. A funded order's reservation gives back what the
    returned items held, until they drop again. Each batch is closed once, however
    many runs.
    """
    now = clock.now()
    # Their clients first, as a drop locks them before the order and its batches: a
    # funded order's reservation is voided under the client's lock.
    for client in expiring_clients(session, now):
        hold_client(session, client)
    closed = expired_leases(session, now)
    for batch in closed:
        items = list(
            session.scalars(
                delete(Task).where(Task.batch_id == batch.id, UNFINISHED).returning(Task.item_id)
            )
        )
        return_to_board(session, batch, items, now)
        shrink_for_returned_items(session, batch=batch, items=len(items))
    for order in {batch.order_id: batch.order for batch in closed}.values():
        void_excess(session, order)
    return closed
