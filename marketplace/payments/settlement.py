"""Money arriving from clients, and settlement: pending earnings become available."""

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace import clock, ledger
from marketplace.errors import Conflict
from marketplace.identity.actor import Actor
from marketplace.identity.models import Role
from marketplace.identity.service import platform_party
from marketplace.ledger import AccountKind
from marketplace.money import format_minor
from marketplace.payments.amounts import minor_units
from marketplace.payments.invoices import get_invoice, share_account
from marketplace.payments.models import Invoice, InvoiceShare, InvoiceStatus, Payment

MANUAL_GATEWAY = "manual"


def record_bank_transfer(
    session: Session,
    actor: Actor,
    invoice_id: int,
    *,
    amount: Decimal,
    reference: str,
    received_on: date,
) -> tuple[Payment, bool]:
    """Record a client's bank transfer against an invoice and settle it.

    The bank reference identifies the transfer: recording it again returns the
    first payment (and False) and moves no money; the same reference with
    another amount or invoice is refused. For now a transfer must pay the
    invoice's total exactly.
    """
    invoice = get_invoice(session, actor, invoice_id)
    actor.require(Role.PLATFORM_ADMIN)
    amount_minor = minor_units(amount, invoice.currency, "amount")
    # Lock the invoice: a transfer racing this one waits, then sees it paid, or this
    # very reference recorded (and gets the first payment back).
    session.execute(select(Invoice.id).where(Invoice.id == invoice.id).with_for_update())
    session.refresh(invoice)
    earlier = session.scalar(
        select(Payment).where(Payment.gateway == MANUAL_GATEWAY, Payment.reference == reference)
    )
    if earlier is not None:
        if (earlier.invoice_id, earlier.amount_minor) != (invoice.id, amount_minor):
            raise Conflict(
                "This bank reference was recorded for another payment.",
                code="reference_reused",
                payment_id=earlier.id,
            )
        return earlier, False
    if invoice.status != InvoiceStatus.OPEN:
        raise Conflict("The invoice is already paid.", code="invoice_paid")
    if amount_minor != invoice.total_minor:
        raise Conflict(
            "A transfer must pay the invoice's total; partial payments are not supported yet.",
            code="amount_mismatch",
            amount_due=format_minor(invoice.total_minor, invoice.currency),
        )
    payment = Payment(
        client_party_id=invoice.client_party_id,
        invoice_id=invoice.id,
        gateway=MANUAL_GATEWAY,
        reference=reference,
        amount_minor=amount_minor,
        currency=invoice.currency,
        received_on=received_on,
        recorded_by_user_id=actor.user_id,
    )
    try:
        with session.begin_nested():
            session.add(payment)
    except IntegrityError as exc:  # the same reference, recorded for another invoice meanwhile
        raise Conflict(
            "This bank reference was recorded for another payment.", code="reference_reused"
        ) from exc
    bank = ledger.account(
        session,
        party_id=platform_party(session).id,
        kind=AccountKind.BANK,
        currency=invoice.currency,
    )
    receivable = ledger.account(
        session,
        party_id=invoice.client_party_id,
        kind=AccountKind.RECEIVABLE,
        currency=invoice.currency,
    )
    ledger.post(
        session,
        key=f"payment:{payment.id}:received",
        kind="payment_received",
        currency=invoice.currency,
        legs=[ledger.debit(bank, amount_minor), ledger.credit(receivable, amount_minor)],
        memo=f"{MANUAL_GATEWAY} {reference} for {invoice.number}",
    )
    settle_payment(session, payment)
    return payment, True


def settle_payment(session: Session, payment: Payment) -> None:
    """Make every share of the paid invoice available, down the whole chain, at once.

    One balanced transaction moves each holder's share from pending to
    available; its key is the payment's, so settling twice moves nothing twice.
    """
    invoice = session.get(Invoice, payment.invoice_id)
    shares = session.scalars(
        select(InvoiceShare).where(InvoiceShare.invoice_id == invoice.id).order_by(InvoiceShare.id)
    ).all()
    legs = []
    for share in shares:
        legs.append(
            ledger.debit(share_account(session, share, AccountKind.PENDING), share.amount_minor)
        )
        legs.append(
            ledger.credit(share_account(session, share, AccountKind.AVAILABLE), share.amount_minor)
        )
    ledger.post(
        session,
        key=f"payment:{payment.id}:settled",
        kind="settlement",
        currency=invoice.currency,
        legs=legs,
        memo=f"Settlement of {invoice.number}",
    )
    invoice.status = InvoiceStatus.PAID
    invoice.paid_at = clock.now()


def invoice_payments(session: Session, actor: Actor, invoice_id: int) -> list[Payment]:
    invoice = get_invoice(session, actor, invoice_id)
    return list(
        session.scalars(
            select(Payment).where(Payment.invoice_id == invoice.id).order_by(Payment.id)
        )
    )
