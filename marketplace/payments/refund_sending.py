"""Paying a balance refund: each part back the way it came, and nothing twice.

- money that came by card goes back to its card through Stripe, the latest card
  payment first: the platform does it itself, with no bank fees, and card money goes
  back to the card it came from, not to an account someone names;
- what the card payments cannot cover goes back by the bank transfer the admin sends
  and records (its reference), as refunds of the client's bank-transfer payments,
  the latest first. Without Stripe configured, that is all of it (409
  `refund_at_gateway` when bank-transfer payments do not hold enough).

Each part is a refund of one payment (payments/reversals.py): one balanced ledger
transaction.

Why several units of work. A Stripe refund cannot be rolled back with our
transaction, and a request may refund several card payments: if the second refund
failed and the first were rolled back here, Stripe's `charge.refunded` event would
record the first as a refund of its own, and a retry would plan again from the
smaller balance and send that money a second time. So paying a request first writes,
in one unit of work, how it goes back: its parts (`BalanceRefundPart`), the card ones
planned, the bank-transfer ones sent and recorded at once (they need no call). Then
each card part is one unit of work of its own (call Stripe, record the refund, mark
the part sent), and the last one decides the request. A failure leaves every refund
made before it recorded and the request open; paying it again follows the same parts,
skips those sent, and gets from Stripe the refund an unrecorded try made (same
idempotency key and parameters; after a day, when Stripe may have forgotten the key,
it looks the refund up by its mark first). Payout transfers work the same way
(payments/transfers.py).
"""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.db import unit_of_work
from marketplace.errors import Conflict, Invalid
from marketplace.identity.actor import Actor
from marketplace.identity.standing import hold_client
from marketplace.money import format_minor
from marketplace.payments.balance_refunds import (
    decide,
    open_request,
    refuse_beyond_balance,
    still_open,
)
from marketplace.payments.collection import MANUAL_GATEWAY
from marketplace.payments.models import (
    ApplicationKind,
    BalanceRefund,
    BalanceRefundPart,
    Payment,
    RefundPartStatus,
    RefundStatus,
    RefundWay,
    Reversal,
)
from marketplace.payments.reversals import reverse_payment
from marketplace.payments.stripe_collection import STRIPE
from marketplace.payments.stripe_gateway import (
    CardRefund,
    GatewayRefused,
    GatewayUnavailable,
    StripeGateway,
    StripeNotConfigured,
    StripeUnreachable,
)
from marketplace.payments.transfers import KEYS_KEPT


@dataclass(frozen=True)
class Part:
    """What of one payment goes back, before it is written."""

    payment_id: int
    amount_minor: int


@dataclass(frozen=True)
class Sending:
    """A request's parts going to cards (in the order they are sent), and the reference of
    the bank transfer that sent the rest, if any."""

    card_part_ids: tuple[int, ...]
    reference: str | None


def pay_refund(
    actor: Actor, stripe: StripeGateway | None, refund_id: int, *, reference: str | None
) -> None:
    """Send a requested refund back (platform admins): its card money to the cards it came
    from through Stripe, the latest card payment first, and the rest by the bank transfer
    the admin sent, recorded under its `reference` as refunds of the client's bank-transfer
    payments, the latest first.

    Guarantees: before anything is sent, the request is checked whole: 409
    `refund_exceeds_balance` if the unreserved balance no longer holds it, 409
    `refund_at_gateway` if card money would have to go back without Stripe, 422 on
    `reference` if a bank transfer is needed and none is named, 409
    `no_bank_transfer_needed` if one is named and the cards take it all; then nothing is
    written. Each card refund is made once per request and payment (its idempotency key),
    recorded as its `charge.refunded` event would record it, so the event finds it recorded
    and moves nothing. Stripe refusing (409 `card_refund_refused`) or unreachable (503
    `gateway_unavailable`) leaves what was sent before recorded and the request open:
    paying it again finishes it, and sends nothing twice.
    """
    with unit_of_work() as session:
        sending = _start_or_resume(session, actor, stripe, refund_id, reference)
    if not sending.card_part_ids:
        return  # bank transfer alone: decided as it was recorded
    if stripe is None:
        raise StripeNotConfigured("Its card refunds need Stripe: set STRIPE_SECRET_KEY.")
    for part_id in sending.card_part_ids:
        with unit_of_work() as session:
            if not _refund_to_card(session, actor, stripe, refund_id, part_id):
                return  # another admin paying it at the same time finished it
    with unit_of_work() as session:
        refund = still_open(session, actor, refund_id)
        if refund is not None:
            decide(session, actor, refund, RefundStatus.REFUNDED, reference=sending.reference)


# -- deciding how it goes back ------------------------------------------------------------


def _start_or_resume(
    session: Session,
    actor: Actor,
    stripe: StripeGateway | None,
    refund_id: int,
    reference: str | None,
) -> Sending:
    """The request's parts: those an earlier payment wrote, or new ones, checked whole and
    written with the bank-transfer ones sent (and the request decided, if that is all)."""
    refund = open_request(session, actor, refund_id)
    hold_client(session, refund.client_party_id)
    started = _started(session, refund.id)
    if started is not None:
        if reference is not None and reference != started.reference:
            raise Conflict(
                "This refund is being sent already"
                + (f" (its bank transfer is {started.reference})" if started.reference else "")
                + ": pay it again without a reference to finish its card refunds.",
                code="refund_in_progress",
            )
        return started
    refuse_beyond_balance(session, refund.client_party_id, refund.currency, 0, refund)
    by_card, by_bank_transfer = _plan(session, refund, by_card=stripe is not None)
    _require_reference_as_needed(by_card, by_bank_transfer, reference, refund.currency)
    cards = [
        BalanceRefundPart(
            refund_id=refund.id,
            payment_id=part.payment_id,
            way=RefundWay.CARD,
            amount_minor=part.amount_minor,
            status=RefundPartStatus.PLANNED,
        )
        for part in by_card
    ]
    session.add_all(cards)
    session.flush()  # the plan in its order: to cards first, then by bank transfer
    _send_by_bank_transfer(session, actor, refund, by_bank_transfer, reference)
    if not cards:
        decide(session, actor, refund, RefundStatus.REFUNDED, reference=reference)
    return Sending(tuple(card.id for card in cards), reference)


def _started(session: Session, refund_id: int) -> Sending | None:
    """The parts an earlier payment of the request wrote, if any; the bank transfer's
    reference is the one its recorded refunds carry."""
    parts = session.scalars(
        select(BalanceRefundPart)
        .where(BalanceRefundPart.refund_id == refund_id)
        .order_by(BalanceRefundPart.id)
    ).all()
    if not parts:
        return None
    reference = session.scalar(
        select(Reversal.reference)
        .join(BalanceRefundPart, BalanceRefundPart.reversal_id == Reversal.id)
        .where(
            BalanceRefundPart.refund_id == refund_id,
            BalanceRefundPart.way == RefundWay.BANK_TRANSFER,
        )
        .limit(1)
    )
    cards = tuple(part.id for part in parts if part.way == RefundWay.CARD)
    return Sending(cards, reference)


def _plan(
    session: Session, refund: BalanceRefund, *, by_card: bool
) -> tuple[list[Part], list[Part]]:
    """(to cards, by bank transfer): card payments first (when Stripe is configured), then
    bank-transfer payments, each the latest first, as far as each still holds unapplied
    money. 409 `refund_at_gateway` if they cannot cover the request."""
    left = refund.amount_minor
    cards: list[Part] = []
    if by_card:  # card payments: Stripe PaymentIntents
        card_payments = _payments_holding(
            session, refund, STRIPE, Payment.reference.startswith("pi_")
        )
        cards, left = _take(card_payments, left)
    banks, left = _take(_payments_holding(session, refund, MANUAL_GATEWAY), left)
    if left > 0:
        raise Conflict(
            "Part of this balance came by card: refund it in Stripe, whose event records it."
            if not by_card
            else "Part of this balance came in a way neither a card refund nor a bank "
            "transfer sends back: refund it at its gateway, whose event records it.",
            code="refund_at_gateway",
        )
    return cards, banks


def _take(payments: list[Payment], left: int) -> tuple[list[Part], int]:
    parts = []
    for payment in payments:
        part = min(left, payment.unapplied_minor)
        if part <= 0:
            break
        parts.append(Part(payment.id, part))
        left -= part
    return parts, left


def _payments_holding(session: Session, refund: BalanceRefund, gateway: str, *where):
    """The client's payments through `gateway` with unapplied money, latest first."""
    return session.scalars(
        select(Payment)
        .where(
            Payment.client_party_id == refund.client_party_id,
            Payment.currency == refund.currency,
            Payment.gateway == gateway,
            Payment.amount_minor > Payment.applied_minor + Payment.returned_minor,
            *where,
        )
        .order_by(Payment.id.desc())
    ).all()


def _require_reference_as_needed(
    by_card: list[Part], by_bank_transfer: list[Part], reference: str | None, currency: str
) -> None:
    """A bank transfer is named exactly when part of the request goes back by one: without
    it that part could not be recorded; with it while the cards take everything, the
    transfer the admin sent would pay the client a second time."""
    figures = {
        "by_card": format_minor(sum(part.amount_minor for part in by_card), currency),
        "by_bank_transfer": format_minor(
            sum(part.amount_minor for part in by_bank_transfer), currency
        ),
    }
    if by_bank_transfer and reference is None:
        needed = (
            f"This refund sends {figures['by_bank_transfer']} {currency} back by bank transfer"
            + (
                f" ({figures['by_card']} {currency} goes back to the client's cards through Stripe)"
                if by_card
                else ""
            )
            + ": send it, then record its reference."
        )
        raise Invalid(
            needed, code="validation_failed", fields={"json": {"reference": [needed]}}, **figures
        )
    if reference is not None and not by_bank_transfer:
        raise Conflict(
            f"This refund goes back to the client's cards through Stripe ({figures['by_card']}"
            f" {currency}): no bank transfer is needed; pay it without a reference.",
            code="no_bank_transfer_needed",
            **figures,
        )


def _send_by_bank_transfer(
    session: Session, actor: Actor, refund: BalanceRefund, parts: list[Part], reference: str | None
) -> None:
    # Recorded with the plan, before any card refund: the admin has sent this transfer, so
    # it is pinned now, whatever the balance does while the card refunds are made.
    for part in parts:
        reversal, _ = reverse_payment(
            session,
            session.get(Payment, part.payment_id),
            kind=ApplicationKind.REFUND,
            reference=reference,
            amount_minor=part.amount_minor,
            reason=_reason(refund),
            recorded_by_user_id=actor.user_id,
        )
        session.add(
            BalanceRefundPart(
                refund_id=refund.id,
                payment_id=part.payment_id,
                way=RefundWay.BANK_TRANSFER,
                amount_minor=part.amount_minor,
                status=RefundPartStatus.SENT,
                reversal_id=reversal.id,
                sent_at=clock.now(),
            )
        )


# -- sending to cards ---------------------------------------------------------------------


def _refund_to_card(
    session: Session, actor: Actor, stripe: StripeGateway, refund_id: int, part_id: int
) -> bool:
    """Refund one card part through Stripe and record it (one unit of work). False if
    another admin paying the request at the same time finished it."""
    refund = still_open(session, actor, refund_id)
    if refund is None:
        return False
    hold_client(session, refund.client_party_id)
    part = session.get(BalanceRefundPart, part_id, populate_existing=True)
    if part.status == RefundPartStatus.SENT:
        return True  # an earlier payment of this request refunded and recorded it
    payment = session.get(Payment, part.payment_id)
    mark = f"{refund.id}:{payment.id}"
    try:
        made = None
        if clock.now() - part.created_at >= KEYS_KEPT:
            # Stripe may have forgotten the key: look for the refund an unrecorded try made.
            made = stripe.find_refund(payment_intent=payment.reference, mark=mark)
        made = made or stripe.refund(
            payment_intent=payment.reference,
            amount_minor=part.amount_minor,
            idempotency_key=f"piecework-balance-refund-{refund.id}-payment-{payment.id}",
            metadata={
                "piecework_refund": mark,
                "balance_refund_id": str(refund.id),
                "payment_id": str(payment.id),
            },
        )
    except GatewayRefused as refused:
        raise Conflict(
            f"Stripe refused to refund payment {payment.id}: {refused.message} What was sent "
            "before stays sent; the request stays open.",
            code="card_refund_refused",
            gateway_code=refused.code,
            payment_id=payment.id,
        ) from refused
    except GatewayUnavailable as down:
        raise StripeUnreachable(
            "Stripe could not be reached: what was sent before stays sent and the request "
            "stays open; pay it again to finish it.",
            payment_id=payment.id,
        ) from down
    reversal = _record_as_its_event_would(session, actor, refund, payment, made)
    part.status, part.sent_at = RefundPartStatus.SENT, clock.now()
    part.stripe_refund = made.id
    part.reversal_id = reversal.id if reversal is not None else None
    return True


def _record_as_its_event_would(
    session: Session, actor: Actor, refund: BalanceRefund, payment: Payment, made: CardRefund
) -> Reversal | None:
    """Record a card refund exactly as `stripe_collection._on_charge_refunded` records the
    `charge.refunded` event it causes: the charge's refunded total against the refunds of
    the payment already recorded, under `{charge}:refunded:{total}`. The refund of the
    payment under that reference, or None if the event recorded it under a later total.

    So whichever comes first records it and the other moves nothing: the event after this
    finds the total recorded; this after the event (a retry) finds it too; and an event
    racing this one waits for our lock on the client, then finds the total recorded. A
    refund made in Stripe's dashboard whose event has not come yet is recorded with ours,
    as that event would have recorded it."""
    total = made.charge_refunded_minor
    reference = f"{made.charge}:refunded:{total}"
    recorded = _refunds_recorded(session, payment)
    if total <= recorded:
        return session.scalar(
            select(Reversal).where(
                Reversal.payment_id == payment.id, Reversal.reference == reference
            )
        )
    reversal, _ = reverse_payment(
        session,
        payment,
        kind=ApplicationKind.REFUND,
        reference=reference,
        amount_minor=total - recorded,
        reason=_reason(refund),
        recorded_by_user_id=actor.user_id,
    )
    return reversal


def _refunds_recorded(session: Session, payment: Payment) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(Reversal.amount_minor), 0)).where(
                Reversal.payment_id == payment.id, Reversal.kind == ApplicationKind.REFUND
            )
        )
    )


def _reason(refund: BalanceRefund) -> str:
    return f"balance refund {refund.id}"
