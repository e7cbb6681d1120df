"""Money arriving from clients: each payment recorded once, whatever its gateway.

A payment lands in the client's credit (one ledger transaction, keyed by the
payment) and is applied from there to the client's open invoices, settling each
at once (see `credit.apply_credit`). What no invoice takes stays the client's
credit: its balance, from which funded orders reserve (orders/funding.py), so a
payment also releases the funded drops that waited for it. The gateway's reference
identifies the payment: a second report of it (a webhook retried, a transfer recorded
twice) finds the first and moves nothing.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.db import find, keyset_page
from marketplace.errors import Conflict, Invalid, NotFound
from marketplace.identity import audit
from marketplace.identity.actor import Actor
from marketplace.identity.models import Party, PartyKind, Role
from marketplace.money import format_minor
from marketplace.orders.drops import release_funded_drops
from marketplace.payments.accounts import client_books, platform_bank
from marketplace.payments.amounts import minor_units
from marketplace.payments.credit import apply_credit, hold_client
from marketplace.payments.invoices import get_invoice
from marketplace.payments.models import Application, Payment
from marketplace.payments.visibility import clients_row, clients_rows

MANUAL_GATEWAY = "manual"


@dataclass(frozen=True)
class Arrival:
    """A payment as a gateway reports it."""

    client_party_id: int
    currency: str
    gateway: str
    reference: str
    amount_minor: int
    received_on: date
    invoice_id: int | None = None
    recorded_by_user_id: int | None = None
    charge: str | None = None  # the gateway's charge behind it, if any


def receive_payment(session: Session, arrival: Arrival) -> tuple[Payment, bool]:
    """Record money that arrived, once per gateway reference, and apply it.

    Returns the payment and whether this call recorded it. Reporting the same
    reference again returns the first payment and moves no money; the same
    reference with another amount, client, currency or invoice is refused (409
    `reference_reused`), since that is a different payment.
    """
    hold_client(session, arrival.client_party_id)
    earlier = _payment_by_reference(session, arrival.gateway, arrival.reference)
    if earlier is None:
        payment = Payment(
            client_party_id=arrival.client_party_id,
            invoice_id=arrival.invoice_id,
            gateway=arrival.gateway,
            reference=arrival.reference,
            amount_minor=arrival.amount_minor,
            currency=arrival.currency,
            received_on=arrival.received_on,
            recorded_by_user_id=arrival.recorded_by_user_id,
            charge=arrival.charge,
            applied_minor=0,
            returned_minor=0,
        )
        try:
            with session.begin_nested():
                session.add(payment)
        except IntegrityError:  # the same reference, recorded by a racing request
            earlier = _payment_by_reference(session, arrival.gateway, arrival.reference)
        else:
            _post_receipt(session, payment)
            apply_credit(session, payment.client_party_id, payment.currency)
            # A top-up lets the funded drops that waited for it go out now.
            release_funded_drops(session, payment.client_party_id, payment.currency)
            session.expire(payment, ["applications"])  # so the answer says where it went
            return payment, True
    if (earlier.client_party_id, earlier.currency, earlier.amount_minor, earlier.invoice_id) != (
        arrival.client_party_id,
        arrival.currency,
        arrival.amount_minor,
        arrival.invoice_id,
    ):
        raise Conflict(
            "This reference was recorded for another payment.",
            code="reference_reused",
            payment_id=earlier.id,
        )
    return earlier, False


def _payment_by_reference(session: Session, gateway: str, reference: str) -> Payment | None:
    return session.scalar(
        select(Payment).where(Payment.gateway == gateway, Payment.reference == reference)
    )


def _post_receipt(session: Session, payment: Payment) -> None:
    """The money is in the platform's bank and, until applied, the client's credit."""
    bank = platform_bank(session, payment.currency)
    credit = client_books(session, payment.client_party_id, payment.currency).credit
    ledger.post(
        session,
        key=f"payment:{payment.id}:received",
        kind="payment_received",
        currency=payment.currency,
        legs=[
            ledger.debit(bank, payment.amount_minor),
            ledger.credit(credit, payment.amount_minor),
        ],
        memo=f"{payment.gateway} {payment.reference}",
    )


def record_bank_transfer(
    session: Session,
    actor: Actor,
    *,
    amount: Decimal,
    reference: str,
    received_on: date,
    invoice_id: int | None = None,
    client_id: int | None = None,
    currency: str | None = None,
) -> tuple[Payment, bool]:
    """Record a client's bank transfer (platform admins) and settle what it pays.

    Naming an invoice pays it first (its client and currency are the transfer's);
    otherwise the client's oldest due invoices in that currency are paid first. A
    transfer may pay part of an invoice, several, or more than is owed: the rest is
    the client's credit. The bank reference identifies the transfer (see
    `receive_payment`).
    """
    if invoice_id is not None:
        invoice = get_invoice(session, actor, invoice_id)
        named = (invoice.client_party_id, invoice.currency)
        if (client_id or named[0], currency or named[1]) != named:
            raise Invalid(
                "The invoice named is not this client's, or not in this currency.",
                code="invoice_mismatch",
                client_id=named[0],
                currency=named[1],
            )
        client_id, currency = named
    actor.require(Role.PLATFORM_ADMIN)
    client = find(session, Party, client_id)
    if client is None or client.kind != PartyKind.CLIENT:
        raise NotFound(f"No client {client_id}.", code="client_not_found")
    payment, recorded = receive_payment(
        session,
        Arrival(
            client_party_id=client.id,
            currency=currency,
            gateway=MANUAL_GATEWAY,
            reference=reference,
            amount_minor=minor_units(amount, currency, "amount"),
            received_on=received_on,
            invoice_id=invoice_id,
            recorded_by_user_id=actor.user_id,
        ),
    )
    if recorded:
        audit.record(
            session,
            actor,
            "payment.recorded",
            ("payment", payment.id),
            client_id=client.id,
            amount=format_minor(payment.amount_minor, currency),
            currency=currency,
            reference=reference,
        )
    return payment, recorded


def get_payment(session: Session, actor: Actor, payment_id: int) -> Payment:
    """A payment of the actor's client (any, for admins); 404 otherwise."""
    return clients_row(session, actor, Payment, payment_id, "payment")


def list_payments(session: Session, actor: Actor, *, limit: int, after: int) -> list[Payment]:
    """Your client's payments (all, for platform admins), each with where it went."""
    return keyset_page(session, clients_rows(actor, Payment), limit=limit, after=after)


def invoice_payments(session: Session, actor: Actor, invoice_id: int) -> list[Payment]:
    """The payments that named the invoice or paid (or took back) any of it."""
    invoice = get_invoice(session, actor, invoice_id)
    touched = select(Application.payment_id).where(Application.invoice_id == invoice.id)
    return list(
        session.scalars(
            select(Payment)
            .where(or_(Payment.invoice_id == invoice.id, Payment.id.in_(touched)))
            .order_by(Payment.id)
        )
    )
