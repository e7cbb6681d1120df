"""A client asks for its unreserved balance back; an admin sends it, or says why not.

The balance is what the client sent and neither an invoice nor a funded order took
(orders/funding.py). A request may ask for no more than that, less what its other
open requests still ask. Paying a request sends each part back the way it came:

- money that came by card goes back to its card through Stripe, the latest card
  payment first. The platform does this itself: no bank fees, no account details to
  ask for, and card money goes back to the card it came from, not to an account
  someone names;
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
smaller balance and send that money a second time. So paying a request first decides
and records, in one unit of work, how it goes back (the plan, as a
`balance_refund.sending` audit entry) with its bank-transfer part, which needs no
call; then each card refund is one unit of work of its own (call Stripe, then record
the refund and a `balance_refund.card_refunded` entry), and the last one decides the
request. A failure leaves every refund made before it recorded and the request
open; paying it again follows the same plan, skips what was recorded, and gets from
Stripe the refund an unrecorded try made (same idempotency key, same parameters), so
nothing goes back twice.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.db import keyset_page, unit_of_work
from marketplace.errors import Conflict, Invalid
from marketplace.identity import audit
from marketplace.identity.actor import Actor
from marketplace.identity.models import AuditEntry, Role
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
from marketplace.payments.visibility import clients_row, clients_rows

# A request's plan and its card refunds are kept as audit entries of the request, written in
# the unit of work of what they record (audit.py): durable and exact without a table of
# their own, and the admin's decision is on record anyway.
SUBJECT = "balance_refund"
SENDING = "balance_refund.sending"  # the plan: how the request goes back
CARD_REFUNDED = "balance_refund.card_refunded"  # one card payment's part, refunded and recorded


@dataclass(frozen=True)
class Part:
    """What of one payment goes back."""

    payment_id: int
    amount_minor: int


@dataclass(frozen=True)
class Plan:
    """How a request goes back: to cards through Stripe, then by the admin's bank transfer."""

    by_card: tuple[Part, ...]
    by_bank_transfer: tuple[Part, ...]
    reference: str | None  # the bank transfer's
    started_at: datetime | None = None  # when its card refunds were first sent

    @property
    def card_minor(self) -> int:
        return sum(part.amount_minor for part in self.by_card)

    @property
    def bank_minor(self) -> int:
        return sum(part.amount_minor for part in self.by_bank_transfer)


def request_refund(
    session: Session, actor: Actor, *, client_id: int | None, currency: str, amount: Decimal
) -> BalanceRefund:
    """The client asks for `amount` of its balance back (client admins). 409
    `refund_exceeds_balance` beyond its unreserved balance less what its open requests
    still ask."""
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
    return _with_sent(session, [refund])[0]


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
        plan = _start_or_resume(session, actor, stripe, refund_id, reference)
    if not plan.by_card:
        return  # bank transfer alone: decided as it was recorded
    if stripe is None:
        raise StripeNotConfigured("Its card refunds need Stripe: set STRIPE_SECRET_KEY.")
    for part in plan.by_card:
        with unit_of_work() as session:
            if not _refund_to_card(session, actor, stripe, refund_id, part, plan):
                return  # another admin paying it at the same time finished it
    with unit_of_work() as session:
        refund = _still_open(session, actor, refund_id)
        if refund is not None:
            _decide(session, actor, refund, RefundStatus.REFUNDED, reference=plan.reference)


def refuse_refund(session: Session, actor: Actor, refund_id: int, *, reason: str) -> BalanceRefund:
    """Refuse a requested refund, saying why (platform admins); the balance stays. Card
    refunds already made for it (a payment Stripe stopped halfway) stay made and recorded."""
    refund = _open(session, actor, refund_id)
    _decide(session, actor, refund, RefundStatus.REFUSED, note=reason)
    return _with_sent(session, [refund])[0]


def get_refund(session: Session, actor: Actor, refund_id: int) -> BalanceRefund:
    """One refund request the actor may see (404 otherwise), with what went back so far."""
    refund = clients_row(session, actor, BalanceRefund, refund_id, "refund")
    return _with_sent(session, [refund])[0]


def list_refunds(session: Session, actor: Actor, *, limit: int, after: int) -> list[BalanceRefund]:
    """Your client's refund requests (everyone's, for platform admins), oldest first, each
    with what went back to cards and by bank transfer."""
    page = keyset_page(session, clients_rows(actor, BalanceRefund), limit=limit, after=after)
    return _with_sent(session, page)


# -- deciding how it goes back ------------------------------------------------------------


def _start_or_resume(
    session: Session,
    actor: Actor,
    stripe: StripeGateway | None,
    refund_id: int,
    reference: str | None,
) -> Plan:
    """The request's plan: the one an earlier payment started, or a new one, checked whole
    and recorded with its bank-transfer part (and decided, if that is all of it)."""
    refund = _open(session, actor, refund_id)
    hold_client(session, refund.client_party_id)
    started = _started_plan(session, refund.id)
    if started is not None:
        if reference is not None and reference != started.reference:
            raise Conflict(
                "This refund is being sent already"
                + (f" (its bank transfer is {started.reference})" if started.reference else "")
                + ": pay it again without a reference to finish its card refunds.",
                code="refund_in_progress",
            )
        return started
    _refuse_beyond_balance(session, refund.client_party_id, refund.currency, 0, refund)
    plan = _plan(session, refund, by_card=stripe is not None)
    _require_reference_as_needed(plan, reference, refund.currency)
    plan = Plan(plan.by_card, plan.by_bank_transfer, reference)
    _send_by_bank_transfer(session, actor, refund, plan)
    if not plan.by_card:
        _decide(session, actor, refund, RefundStatus.REFUNDED, reference=plan.reference)
        return plan
    entry = audit.record(
        session,
        actor,
        SENDING,
        (SUBJECT, refund.id),
        client_id=refund.client_party_id,
        currency=refund.currency,
        amount=format_minor(refund.amount_minor, refund.currency),
        by_card=_parts_json(plan.by_card, refund.currency),
        by_bank_transfer=_parts_json(plan.by_bank_transfer, refund.currency),
        reference=plan.reference,
    )
    session.flush()
    return Plan(plan.by_card, plan.by_bank_transfer, plan.reference, entry.created_at)


def _plan(session: Session, refund: BalanceRefund, *, by_card: bool) -> Plan:
    """Card payments first (when Stripe is configured), then bank-transfer payments, each
    the latest first, as far as each still holds unapplied money. 409 `refund_at_gateway`
    if they cannot cover the request."""
    left = refund.amount_minor
    cards: list[Part] = []
    if by_card:
        cards, left = _take(_card_payments(session, refund), left)
    banks, left = _take(_bank_payments(session, refund), left)
    if left > 0:
        raise Conflict(
            "Part of this balance came by card: refund it in Stripe, whose event records it."
            if not by_card
            else "Part of this balance came in a way neither a card refund nor a bank "
            "transfer sends back: refund it at its gateway, whose event records it.",
            code="refund_at_gateway",
        )
    return Plan(tuple(cards), tuple(banks), None)


def _take(payments: list[Payment], left: int) -> tuple[list[Part], int]:
    parts = []
    for payment in payments:
        part = min(left, payment.unapplied_minor)
        if part <= 0:
            break
        parts.append(Part(payment.id, part))
        left -= part
    return parts, left


def _card_payments(session: Session, refund: BalanceRefund) -> list[Payment]:
    """The client's card payments (Stripe PaymentIntents) with unapplied money, latest first."""
    return _payments_holding(session, refund, STRIPE, Payment.reference.startswith("pi_"))


def _bank_payments(session: Session, refund: BalanceRefund) -> list[Payment]:
    return _payments_holding(session, refund, MANUAL_GATEWAY)


def _payments_holding(session: Session, refund: BalanceRefund, gateway: str, *where):
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


def _require_reference_as_needed(plan: Plan, reference: str | None, currency: str) -> None:
    """A bank transfer is named exactly when part of the request goes back by one: without
    it that part could not be recorded; with it while the cards take everything, the
    transfer the admin sent would pay the client a second time."""
    figures = {
        "by_card": format_minor(plan.card_minor, currency),
        "by_bank_transfer": format_minor(plan.bank_minor, currency),
    }
    if plan.by_bank_transfer and reference is None:
        needed = (
            f"This refund sends {figures['by_bank_transfer']} {currency} back by bank transfer"
            + (
                f" ({figures['by_card']} {currency} goes back to the client's cards through Stripe)"
                if plan.by_card
                else ""
            )
            + ": send it, then record its reference."
        )
        raise Invalid(
            needed, code="validation_failed", fields={"json": {"reference": [needed]}}, **figures
        )
    if reference is not None and not plan.by_bank_transfer:
        raise Conflict(
            f"This refund goes back to the client's cards through Stripe ({figures['by_card']}"
            f" {currency}): no bank transfer is needed; pay it without a reference.",
            code="no_bank_transfer_needed",
            **figures,
        )


def _send_by_bank_transfer(
    session: Session, actor: Actor, refund: BalanceRefund, plan: Plan
) -> None:
    # Recorded with the plan, before any card refund: the admin has sent this transfer, so
    # it is pinned now, whatever the balance does while the card refunds are made.
    for part in plan.by_bank_transfer:
        reverse_payment(
            session,
            session.get(Payment, part.payment_id),
            kind=ApplicationKind.REFUND,
            reference=plan.reference,
            amount_minor=part.amount_minor,
            reason=_reason(refund),
            recorded_by_user_id=actor.user_id,
        )


# -- sending to cards ---------------------------------------------------------------------


def _refund_to_card(
    session: Session,
    actor: Actor,
    stripe: StripeGateway,
    refund_id: int,
    part: Part,
    plan: Plan,
) -> bool:
    """Refund one card payment's part through Stripe and record it (one unit of work).
    False if another admin paying the request at the same time finished it."""
    refund = _still_open(session, actor, refund_id)
    if refund is None:
        return False
    hold_client(session, refund.client_party_id)
    if part.payment_id in _cards_refunded(session, [refund.id]).get(refund.id, {}):
        return True  # an earlier payment of this request refunded and recorded it
    payment = session.get(Payment, part.payment_id)
    mark = f"{refund.id}:{payment.id}"
    try:
        made = None
        if plan.started_at is not None and clock.now() - plan.started_at >= KEYS_KEPT:
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
    _record_as_its_event_would(session, actor, refund, payment, made)
    audit.record(
        session,
        actor,
        CARD_REFUNDED,
        (SUBJECT, refund.id),
        client_id=refund.client_party_id,
        payment_id=payment.id,
        currency=refund.currency,
        amount=format_minor(made.amount_minor, refund.currency),
        amount_minor=made.amount_minor,
        stripe_refund=made.id,
    )
    return True


def _record_as_its_event_would(
    session: Session, actor: Actor, refund: BalanceRefund, payment: Payment, made: CardRefund
) -> None:
    """Record a card refund exactly as `stripe_collection._on_charge_refunded` records the
    `charge.refunded` event it causes: the charge's refunded total against the refunds of
    the payment already recorded, under `{charge}:refunded:{total}`.

    So whichever comes first records it and the other moves nothing: the event after this
    finds the total recorded; this after the event (a retry) finds it too; and an event
    racing this one (it read the refunds before our lock on the client, and waits for it)
    asks for the same reference and amount, which `reverse_payment` answers with ours. A
    refund made in Stripe's dashboard whose event has not come yet is recorded with ours,
    as that event would have recorded it."""
    total = made.charge_refunded_minor
    recorded = _refunds_recorded(session, payment)
    if total <= recorded:
        return
    reverse_payment(
        session,
        payment,
        kind=ApplicationKind.REFUND,
        reference=f"{made.charge}:refunded:{total}",
        amount_minor=total - recorded,
        reason=_reason(refund),
        recorded_by_user_id=actor.user_id,
    )


def _refunds_recorded(session: Session, payment: Payment) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(Reversal.amount_minor), 0)).where(
                Reversal.payment_id == payment.id, Reversal.kind == ApplicationKind.REFUND
            )
        )
    )


# -- what a request has sent ------------------------------------------------------------


def _started_plan(session: Session, refund_id: int) -> Plan | None:
    entry = session.scalar(
        select(AuditEntry)
        .where(
            AuditEntry.subject_type == SUBJECT,
            AuditEntry.subject_id == refund_id,
            AuditEntry.action == SENDING,
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    if entry is None:
        return None
    details = entry.details
    return Plan(
        by_card=_parts(details["by_card"]),
        by_bank_transfer=_parts(details["by_bank_transfer"]),
        reference=details.get("reference"),
        started_at=entry.created_at,
    )


def _cards_refunded(session: Session, refund_ids: list[int]) -> dict[int, dict[int, int]]:
    """Per request, what each card payment sent back to its card: {payment: amount}."""
    sent: dict[int, dict[int, int]] = {}
    if not refund_ids:
        return sent
    for subject_id, details in session.execute(
        select(AuditEntry.subject_id, AuditEntry.details).where(
            AuditEntry.subject_type == SUBJECT,
            AuditEntry.subject_id.in_(refund_ids),
            AuditEntry.action == CARD_REFUNDED,
        )
    ):
        sent.setdefault(subject_id, {})[details["payment_id"]] = details["amount_minor"]
    return sent


def _sent(session: Session, refunds: list[BalanceRefund]) -> dict[int, tuple[int, int]]:
    """Per request, (to cards, by bank transfer) so far. A request refunded without a plan
    went back by bank transfer alone."""
    ids = [refund.id for refund in refunds]
    cards = _cards_refunded(session, ids)
    plans: dict[int, int] = {}
    if ids:
        for subject_id, details in session.execute(
            select(AuditEntry.subject_id, AuditEntry.details).where(
                AuditEntry.subject_type == SUBJECT,
                AuditEntry.subject_id.in_(ids),
                AuditEntry.action == SENDING,
            )
        ):
            plans[subject_id] = sum(row["amount_minor"] for row in details["by_bank_transfer"])
    sent = {}
    for refund in refunds:
        card = sum(cards.get(refund.id, {}).values())
        if refund.id in plans:
            bank = plans[refund.id]
        elif refund.status == RefundStatus.REFUNDED:
            bank = refund.amount_minor
        else:
            bank = 0
        sent[refund.id] = (card, bank)
    return sent


def _with_sent(session: Session, refunds: list[BalanceRefund]) -> list[BalanceRefund]:
    """The requests, each told what it sent to cards and by bank transfer (for RefundOut)."""
    sent = _sent(session, refunds)
    for refund in refunds:
        refund.sent_by_card_minor, refund.sent_by_bank_transfer_minor = sent[refund.id]
    return refunds


def _parts(rows: list[dict]) -> tuple[Part, ...]:
    return tuple(Part(row["payment_id"], row["amount_minor"]) for row in rows)


def _parts_json(parts: tuple[Part, ...], currency: str) -> list[dict]:
    return [
        {
            "payment_id": part.payment_id,
            "amount": format_minor(part.amount_minor, currency),
            "amount_minor": part.amount_minor,
        }
        for part in parts
    ]


def _reason(refund: BalanceRefund) -> str:
    return f"balance refund {refund.id}"


# -- the request itself -----------------------------------------------------------------


def _open(session: Session, actor: Actor, refund_id: int) -> BalanceRefund:
    refund = clients_row(session, actor, BalanceRefund, refund_id, "refund")
    actor.require(Role.PLATFORM_ADMIN)
    session.refresh(refund, with_for_update=True)
    if refund.status != RefundStatus.REQUESTED:
        raise Conflict(f"The refund is already {refund.status}.", code="refund_decided")
    return refund


def _still_open(session: Session, actor: Actor, refund_id: int) -> BalanceRefund | None:
    """The request, locked, while it is open; None once another admin paying it at the
    same time finished it; 409 `refund_decided` if one refused it meanwhile."""
    refund = clients_row(session, actor, BalanceRefund, refund_id, "refund")
    actor.require(Role.PLATFORM_ADMIN)
    session.refresh(refund, with_for_update=True)
    if refund.status == RefundStatus.REFUNDED:
        return None
    if refund.status != RefundStatus.REQUESTED:
        raise Conflict(f"The refund is already {refund.status}.", code="refund_decided")
    return refund


def _refuse_beyond_balance(
    session: Session, client: int, currency: str, adding: int, deciding: BalanceRefund | None = None
) -> None:
    """409 unless the client's unreserved balance covers what its open requests still ask
    (with `adding` more; the one `deciding` included). A request partly sent (its payment
    stopped halfway) asks only for the rest: what it sent has left the balance already."""
    open_requests = session.scalars(
        select(BalanceRefund).where(
            BalanceRefund.client_party_id == client,
            BalanceRefund.currency == currency,
            BalanceRefund.status == RefundStatus.REQUESTED,
        )
    ).all()
    sent = _sent(session, open_requests)
    still = {refund.id: refund.amount_minor - sum(sent[refund.id]) for refund in open_requests}
    asked = sum(still.values())
    balance = client_balance(session, client, currency)
    if asked + adding > balance:
        other = asked - (still.get(deciding.id, 0) if deciding else 0)
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
        (SUBJECT, refund.id),
        client_id=refund.client_party_id,
        amount=format_minor(refund.amount_minor, refund.currency),
        currency=refund.currency,
        **fields,
    )
