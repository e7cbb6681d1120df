"""Card payments through Stripe, and Stripe's webhooks: money in, refunds, chargebacks.

Stripe is the source of truth for what happened to a card payment; its events tell
us, and may arrive twice, late or out of order. So each event is recorded once by
its id; a payment is recorded once by its PaymentIntent's id, whichever of the
card call's answer or the event comes first; a refund event carries the charge's
refunded total, so a late or repeated one changes nothing; and an event about a
payment we have not heard of yet (a refund before the payment's own event) has
the payment fetched from Stripe and recorded first.
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.db import find
from marketplace.errors import Conflict, DomainError
from marketplace.identity.actor import Actor
from marketplace.identity.models import Party, PartyKind, Role
from marketplace.identity.standing import hold_client
from marketplace.payments.collection import Arrival, receive_payment
from marketplace.payments.invoices import get_invoice
from marketplace.payments.models import (
    ApplicationKind,
    GatewayEvent,
    Invoice,
    InvoiceStatus,
    Payment,
    Reversal,
)
from marketplace.payments.reversals import reverse_payment
from marketplace.payments.stripe_gateway import StripeGateway, StripeNotConfigured

STRIPE = "stripe"
TOP_UP = "top_up"  # a PaymentIntent's metadata purpose: money for the client's balance


class BadSignature(DomainError):
    status = 400
    code = "invalid_signature"


def pay_invoice_by_card(
    session: Session,
    actor: Actor,
    stripe: StripeGateway | None,
    invoice_id: int,
    *,
    payment_method: str,
    attempt: str | None = None,
) -> dict[str, Any]:
    """The client pays what is outstanding on its invoice by card (a confirmed PaymentIntent).

    A payment that succeeds at once is recorded and settled now; otherwise its
    webhook records it when Stripe says it succeeded. The idempotency key is the
    invoice's paid state and the attempt (the client's own attempt id, or else the
    card): a double click charges once, and another card after a decline is a new try.
    """
    invoice = get_invoice(session, actor, invoice_id)
    actor.require(Role.CLIENT_ADMIN, party_id=invoice.client_party_id)
    if stripe is None:
        raise StripeNotConfigured("Card payments need Stripe: set STRIPE_SECRET_KEY.")
    if invoice.status == InvoiceStatus.PAID:
        raise Conflict("The invoice is already paid.", code="invoice_paid")
    if invoice.status != InvoiceStatus.OPEN:
        raise Conflict(
            f"The invoice is {invoice.status}: nothing is owed.", code="invoice_not_open"
        )
    intent = stripe.charge_invoice(
        amount_minor=invoice.outstanding_minor,
        currency=invoice.currency,
        payment_method=payment_method,
        idempotency_key=(
            f"piecework-invoice-{invoice.id}-paid-{invoice.paid_minor}-{attempt or payment_method}"
        ),
        metadata={"invoice_id": str(invoice.id), "client_id": str(invoice.client_party_id)},
    )
    payment = _record_intent(session, intent.to_dict()) if intent.status == "succeeded" else None
    return {"payment_intent": intent.id, "status": intent.status, "payment": payment}


def top_up_by_card(
    session: Session,
    actor: Actor,
    stripe: StripeGateway | None,
    *,
    client_id: int | None,
    amount_minor: int,
    currency: str,
    payment_method: str,
    attempt: str,
) -> dict[str, Any]:
    """The client adds money to its balance by card (a confirmed PaymentIntent).

    Recorded like any payment, now if it succeeds at once or when its webhook says
    so; it pays any open invoice first, and the rest is the balance that funded
    orders reserve from. The client's attempt id is the idempotency key: a double
    click charges once.
    """
    actor.require(Role.CLIENT_ADMIN)
    client = actor.acting_for(Role.CLIENT_ADMIN, client_id, "client")
    if stripe is None:
        raise StripeNotConfigured("Card top-ups need Stripe: set STRIPE_SECRET_KEY.")
    intent = stripe.charge_invoice(
        amount_minor=amount_minor,
        currency=currency,
        payment_method=payment_method,
        idempotency_key=f"piecework-top-up-{client}-{attempt}",
        metadata={"purpose": TOP_UP, "client_id": str(client)},
    )
    payment = _record_intent(session, intent.to_dict()) if intent.status == "succeeded" else None
    return {"payment_intent": intent.id, "status": intent.status, "payment": payment}


def receive_webhook(
    session: Session,
    stripe: StripeGateway | None,
    *,
    payload: bytes,
    signature: str | None,
    secret: str | None,
) -> GatewayEvent:
    """Verify a Stripe event's signature and act on it, once per event id.

    A forged, altered or stale event (older than Stripe's five-minute tolerance) is
    refused with 400 and nothing is written. An event seen before returns its first
    record and changes nothing.
    """
    if secret is None:
        raise StripeNotConfigured("Stripe's webhooks need STRIPE_WEBHOOK_SECRET.")
    try:
        event = StripeGateway.verify_event(payload, signature or "", secret)
    except ValueError as exc:
        raise BadSignature(f"The event's signature does not verify: {exc}") from exc
    seen = session.get(GatewayEvent, event["id"])
    if seen is not None:
        return seen
    record = GatewayEvent(
        id=event["id"], gateway=STRIPE, type=event["type"], received_at=clock.now(), outcome=""
    )
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:  # the same event, delivered twice at once: the other acts on it
        return session.get(GatewayEvent, event["id"])
    handler = HANDLERS.get(event["type"])
    subject = event["data"]["object"]
    record.outcome = handler(session, stripe, subject) if handler else "ignored: not acted on"
    return record


def _record_intent(session: Session, intent: dict) -> Payment | None:
    """Record a succeeded PaymentIntent of one of our invoices, or a client's top-up, as a
    payment (once)."""
    metadata = intent.get("metadata") or {}
    invoice = _invoice_named(session, metadata)
    client_id = invoice.client_party_id if invoice else _top_up_client(session, metadata)
    if intent.get("status") != "succeeded" or client_id is None:
        return None
    charge = intent.get("latest_charge")
    payment, _ = receive_payment(
        session,
        Arrival(
            client_party_id=client_id,
            currency=intent["currency"].upper(),
            gateway=STRIPE,
            reference=intent["id"],
            amount_minor=intent.get("amount_received") or intent["amount"],
            received_on=datetime.fromtimestamp(intent["created"], UTC).date(),
            invoice_id=invoice.id if invoice else None,
            charge=charge.get("id") if isinstance(charge, dict) else charge,
        ),
    )
    return payment


def _invoice_named(session: Session, metadata: dict) -> Invoice | None:
    try:
        invoice = find(session, Invoice, int(metadata.get("invoice_id", "")))
    except ValueError:
        return None
    if invoice is None or str(invoice.client_party_id) != metadata.get("client_id"):
        return None
    return invoice


def _top_up_client(session: Session, metadata: dict) -> int | None:
    """The client a top-up's PaymentIntent was made for (`top_up_by_card`), if one of ours."""
    if metadata.get("purpose") != TOP_UP:
        return None
    try:
        client = find(session, Party, int(metadata.get("client_id", "")))
    except ValueError:
        return None
    return client.id if client is not None and client.kind == PartyKind.CLIENT else None


def _payment_of(session: Session, stripe: StripeGateway | None, intent_id: str | None):
    """Our payment for a PaymentIntent; fetched from Stripe and recorded if its own event
    has not arrived yet."""
    if not intent_id:
        return None
    payment = session.scalar(
        select(Payment).where(Payment.gateway == STRIPE, Payment.reference == intent_id)
    )
    if payment is None and stripe is not None:
        payment = _record_intent(session, stripe.payment_intent(intent_id))
    return payment


def _on_intent_succeeded(session: Session, _stripe, intent: dict) -> str:
    payment = _record_intent(session, intent)
    return f"payment {payment.id}" if payment else "ignored: not one of our invoices"


def _on_charge_refunded(session: Session, stripe, charge: dict) -> str:
    """The charge's refunded total is the truth: record what our refunds lack of it."""
    payment = _payment_of(session, stripe, charge.get("payment_intent"))
    if payment is None:
        return "ignored: no payment of ours"
    # The client's lock before the refunds are read: a balance refund recording this one
    # (payments/refund_sending.py) holds it, and this then finds its refund recorded.
    hold_client(session, payment.client_party_id)
    total = charge["amount_refunded"]
    recorded = int(
        session.scalar(
            select(func.coalesce(func.sum(Reversal.amount_minor), 0)).where(
                Reversal.payment_id == payment.id, Reversal.kind == ApplicationKind.REFUND
            )
        )
    )
    if total <= recorded:
        return "refund already recorded"
    reversal, _ = reverse_payment(
        session,
        payment,
        kind=ApplicationKind.REFUND,
        reference=f"{charge['id']}:refunded:{total}",
        amount_minor=total - recorded,
        reason="Refunded in Stripe",
    )
    return f"refund {reversal.id}"


def _on_dispute_funds_withdrawn(session: Session, stripe, dispute: dict) -> str:
    payment = _payment_of(session, stripe, dispute.get("payment_intent"))
    if payment is None:
        return "ignored: no payment of ours"
    reversal, _ = reverse_payment(
        session,
        payment,
        kind=ApplicationKind.CHARGEBACK,
        reference=dispute["id"],
        amount_minor=dispute["amount"],
        reason=f"Disputed: {dispute.get('reason') or 'no reason given'}",
    )
    return f"chargeback {reversal.id}"


def _on_dispute_funds_reinstated(session: Session, stripe, dispute: dict) -> str:
    """A dispute won: the money comes back, as a payment of its own."""
    payment = _payment_of(session, stripe, dispute.get("payment_intent"))
    if payment is None:
        return "ignored: no payment of ours"
    reinstated, _ = receive_payment(
        session,
        Arrival(
            client_party_id=payment.client_party_id,
            currency=payment.currency,
            gateway=STRIPE,
            reference=f"{dispute['id']}:reinstated",
            amount_minor=dispute["amount"],
            received_on=clock.now().date(),
            invoice_id=payment.invoice_id,
        ),
    )
    return f"payment {reinstated.id}"


HANDLERS = {
    "payment_intent.succeeded": _on_intent_succeeded,
    "charge.refunded": _on_charge_refunded,
    "charge.dispute.funds_withdrawn": _on_dispute_funds_withdrawn,
    "charge.dispute.funds_reinstated": _on_dispute_funds_reinstated,
}
