"""A client asks for its unreserved balance back; an admin sends it, or says why not.

The balance is what the client sent and neither an invoice nor a funded order took
(orders/funding.py). A request may ask for no more than that, less what its other
open requests ask. The admin who sends the bank transfer records it: the amount goes
back as refunds of the client's bank-transfer payments that still hold unapplied
money, the latest first, each one balanced ledger transaction (payments/reversals.py).
Money that came by card is refunded in Stripe, whose event records it.
"""

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.db import keyset_page
from marketplace.errors import Conflict
from marketplace.identity import audit
from marketplace.identity.actor import Actor
from marketplace.identity.models import Role
from marketplace.identity.standing import hold_client
from marketplace.money import format_minor
from marketplace.orders.funding import client_balance
from marketplace.payments.amounts import minor_units
from marketplace.payments.collection import MANUAL_GATEWAY
from marketplace.payments.models import (
    ApplicationKind,
    BalanceRefund,
    Payment,
    RefundStatus,
)
from marketplace.payments.reversals import reverse_payment
from marketplace.payments.visibility import clients_row, clients_rows


def request_refund(
    session: Session, actor: Actor, *, client_id: int | None, currency: str, amount: Decimal
) -> BalanceRefund:
    """The client asks for `amount` of its balance back (client admins). 409
    `refund_exceeds_balance` beyond its unreserved balance less its open requests."""
    actor.require(Role.CLIENT_ADMIN)
    client = actor.acting_for(Role.CLIENT_ADMIN, client_id, "client")
    amount_minor = minor_units(amount, currency, "amount")
    hold_client(session, client)
    _refuse_beyond_balance(session, client, currency, amount_minor)
    refund = BalanceRefund(
        client_party_id=client,
        currency=currency,
        amount_minor=amount_minor,
        status=RefundStatus.REQUESTED,
        requested_by_user_id=actor.user_id,
    )
    session.add(refund)
    session.flush()
    return refund


def refund_balance(
    session: Session, actor: Actor, refund_id: int, *, reference: str
) -> BalanceRefund:
    """Record the bank transfer that sent a requested refund back (platform admins): refunds
    of the client's bank-transfer payments with unapplied money, the latest first, under
    the transfer's reference. 409 if the request is decided, if the balance no longer
    holds it, or if card payments hold part of it (refund those in Stripe)."""
    refund = _open(session, actor, refund_id)
    hold_client(session, refund.client_party_id)
    _refuse_beyond_balance(session, refund.client_party_id, refund.currency, 0, refund)
    payments = session.scalars(
        select(Payment)
        .where(
            Payment.client_party_id == refund.client_party_id,
            Payment.currency == refund.currency,
            Payment.gateway == MANUAL_GATEWAY,
            Payment.amount_minor > Payment.applied_minor + Payment.returned_minor,
        )
        .order_by(Payment.id.desc())
    ).all()
    if sum(payment.unapplied_minor for payment in payments) < refund.amount_minor:
        raise Conflict(
            "Part of this balance came by card: refund it in Stripe, whose event records it.",
            code="refund_at_gateway",
        )
    left = refund.amount_minor
    for payment in payments:
        part = min(left, payment.unapplied_minor)
        if part <= 0:
            break
        reverse_payment(
            session,
            payment,
            kind=ApplicationKind.REFUND,
            reference=reference,
            amount_minor=part,
            reason=f"balance refund {refund.id}",
            recorded_by_user_id=actor.user_id,
        )
        left -= part
    _decide(session, actor, refund, RefundStatus.REFUNDED, reference=reference)
    return refund


def refuse_refund(session: Session, actor: Actor, refund_id: int, *, reason: str) -> BalanceRefund:
    """Refuse a requested refund, saying why (platform admins); the balance stays."""
    refund = _open(session, actor, refund_id)
    _decide(session, actor, refund, RefundStatus.REFUSED, note=reason)
    return refund


def list_refunds(session: Session, actor: Actor, *, limit: int, after: int) -> list[BalanceRefund]:
    """Your client's refund requests (everyone's, for platform admins), oldest first."""
    return keyset_page(session, clients_rows(actor, BalanceRefund), limit=limit, after=after)


def _open(session: Session, actor: Actor, refund_id: int) -> BalanceRefund:
    refund = clients_row(session, actor, BalanceRefund, refund_id, "refund")
    actor.require(Role.PLATFORM_ADMIN)
    session.refresh(refund, with_for_update=True)
    if refund.status != RefundStatus.REQUESTED:
        raise Conflict(f"The refund is already {refund.status}.", code="refund_decided")
    return refund


def _refuse_beyond_balance(
    session: Session, client: int, currency: str, adding: int, deciding: BalanceRefund | None = None
) -> None:
    """409 unless the client's unreserved balance covers its open requests (with `adding`
    more; the one `deciding` included)."""
    asked = session.scalar(
        select(func.coalesce(func.sum(BalanceRefund.amount_minor), 0)).where(
            BalanceRefund.client_party_id == client,
            BalanceRefund.currency == currency,
            BalanceRefund.status == RefundStatus.REQUESTED,
        )
    )
    balance = client_balance(session, client, currency)
    if int(asked) + adding > balance:
        other = int(asked) - (deciding.amount_minor if deciding else 0)
        raise Conflict(
            "A refund gives back only the balance no invoice or funded order holds.",
            code="refund_exceeds_balance",
            refundable=format_minor(max(balance - other, 0), currency),
        )


def _decide(session: Session, actor: Actor, refund: BalanceRefund, status: str, **fields) -> None:
    refund.status, refund.decided_by_user_id, refund.decided_at = status, actor.user_id, clock.now()
    for name, value in fields.items():
        setattr(refund, name, value)
    audit.record(
        session,
        actor,
        f"balance_refund.{status}",
        ("balance_refund", refund.id),
        client_id=refund.client_party_id,
        amount=format_minor(refund.amount_minor, refund.currency),
        currency=refund.currency,
        **fields,
    )
