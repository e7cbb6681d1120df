"""A client's credit: money that arrived and has not been applied to an invoice yet.

Every payment is first the client's credit, then applied to its open invoices: the
invoice the payer named first, then the oldest due. What no open invoice takes stays
credit until the client's next invoice is issued.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.identity.standing import hold_client
from marketplace.orders.funding import client_balance
from marketplace.payments.announce import payment_settled
from marketplace.payments.models import (
    Application,
    ApplicationKind,
    Invoice,
    InvoiceStatus,
    Payment,
)
from marketplace.payments.settlement import settle


def apply_credit(
    session: Session, client_party_id: int, currency: str, *, first: Invoice | None = None
) -> list[Application]:
    """Apply the client's unapplied payments in `currency` to its open invoices.

    Payments are taken oldest first; each pays `first` (a funded order's statement)
    first, then the invoice it names, then the open invoices by due date (then number).
    What the client's funded orders hold reserved is not applied: only its balance
    (the ledger's credit account) is. Each application settles at once. The
    client's open invoices and payments are locked for the unit of work, so two
    payments arriving together apply one after the other and never both take the
    same outstanding amount.
    """
    hold_client(session, client_party_id)
    invoices = session.scalars(
        select(Invoice)
        .where(
            Invoice.client_party_id == client_party_id,
            Invoice.currency == currency,
            Invoice.status == InvoiceStatus.OPEN,
        )
        .order_by(Invoice.id)
        .with_for_update(of=Invoice)
    ).all()
    payments = session.scalars(
        select(Payment)
        .where(
            Payment.client_party_id == client_party_id,
            Payment.currency == currency,
            Payment.amount_minor > Payment.applied_minor + Payment.returned_minor,
        )
        .order_by(Payment.id)
        .with_for_update()
    ).all()
    for invoice in invoices:
        session.refresh(invoice)
    oldest_due = sorted(invoices, key=lambda invoice: (invoice.due_on, invoice.id))
    balance = client_balance(session, client_party_id, currency)
    applied = []
    for payment in payments:
        session.refresh(payment)
        ahead = [first.id if first else None, payment.invoice_id]
        in_turn = sorted(oldest_due, key=lambda i: ahead.index(i.id) if i.id in ahead else 2)
        for invoice in in_turn:
            amount = min(payment.unapplied_minor, invoice.outstanding_minor, balance)
            if amount <= 0:
                continue
            applied.append(_apply(session, payment, invoice, amount))
            balance -= amount
    return applied


def _apply(session: Session, payment: Payment, invoice: Invoice, amount: int) -> Application:
    application = Application(
        payment_id=payment.id,
        invoice_id=invoice.id,
        kind=ApplicationKind.PAYMENT,
        amount_minor=amount,
    )
    application.invoice = invoice
    session.add(application)
    session.flush()
    by_holder = settle(session, application)
    payment.applied_minor += amount
    invoice.paid_minor += amount
    if invoice.outstanding_minor == 0:
        invoice.status = InvoiceStatus.PAID
        invoice.paid_at = clock.now()
    payment_settled(session, application, by_holder)
    return application
