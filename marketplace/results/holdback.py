"""Results follow the money: while a client is on credit hold, the items billed on its
invoices that are past due and unpaid are left out of its exports until they are paid."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import ColumnElement, func, or_, select, true
from sqlalchemy.orm import Session

from marketplace.identity.standing import active_hold
from marketplace.orders.models import Order
from marketplace.payments.models import Invoice
from marketplace.receivables.dunning import owing
from marketplace.workers.models import Submission, SubmissionStatus


@dataclass(frozen=True)
class HeldBack:
    """What an export leaves out: how many accepted items, on which invoices."""

    items: int = 0
    invoice_numbers: tuple[str, ...] = ()
    invoice_ids: tuple[int, ...] = field(default=(), repr=False)

    def released(self) -> ColumnElement[bool]:
        """True for a submission the export may show: billed on none of the held invoices."""
        if not self.invoice_ids:
            return true()
        # NOT IN alone would drop the unbilled ones too: their invoice_id is NULL.
        return or_(Submission.invoice_id.is_(None), Submission.invoice_id.not_in(self.invoice_ids))


def held_back(
    session: Session, order: Order, shown: Sequence[ColumnElement[bool]], *, today: date
) -> HeldBack:
    """The accepted items among `shown` (the export's conditions) that the order's client
    may not have yet: none in good standing; on credit hold, those billed on the order's
    invoices that are owed and were due before `today` (business day). A payment, a credit
    note, a write-off or the hold's end releases them on the next export."""
    if active_hold(session, order.client_party_id) is None:
        return HeldBack()
    rows = session.execute(
        select(Invoice.id, Invoice.number, func.count(Submission.id))
        .join(Submission, Submission.invoice_id == Invoice.id)
        .where(
            Invoice.order_id == order.id,
            owing(today - timedelta(days=1)),
            Submission.status == SubmissionStatus.ACCEPTED,
            *shown,
        )
        .group_by(Invoice.id, Invoice.number)
        .order_by(Invoice.id)
    ).all()
    return HeldBack(
        items=sum(count for _, _, count in rows),
        invoice_numbers=tuple(number for _, number, _ in rows),
        invoice_ids=tuple(invoice_id for invoice_id, _, _ in rows),
    )
