"""A client asks for its unreserved balance back; an admin sends it, or says why not.

The balance is what the client sent and neither an invoice nor a funded order took
(orders/funding.py). A request may ask for no more than that, less what its other
open requests still ask. Paying a request sends each part back the way it came, card
money to its card through Stripe and the rest by the bank transfer the admin records:
that is payments/refund_sending.py, which keeps what it plans and sends as the
request's parts (`BalanceRefundPart`). This module holds the request itself: asking,
listing, refusing, deciding, and the balance check both sides make.

A request tells what it sent so far (`sent_by_card`, `sent_by_bank_transfer`), read
from its parts: a payment Stripe stopped halfway leaves some sent and the request
open, asking only for the rest. The audit log holds the decisions (refunded, refused),
for people; nothing here reads it back.
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
from marketplace.payments.models import (
    BalanceRefund,
    BalanceRefundPart,
    RefundPartStatus,
    RefundStatus,
    RefundWay,
)
from marketplace.payments.visibility import clients_row, clients_rows

SUBJECT = "balance_refund"  # the audit log's name for a request


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
    refuse_beyond_balance(session, client, currency, amount_minor)
    refund = BalanceRefund(
        client_party_id=client,
        currency=currency,
        amount_minor=amount_minor,
        status=RefundStatus.REQUESTED,
        requested_by_user_id=actor.user_id,
    )
    session.add(refund)
    session.flush()
    return with_sent(session, [refund])[0]


def refuse_refund(session: Session, actor: Actor, refund_id: int, *, reason: str) -> BalanceRefund:
    """Refuse a requested refund, saying why (platform admins); the balance stays. Card
    refunds already made for it (a payment Stripe stopped halfway) stay made and recorded;
    its parts not sent stay planned, never to be sent."""
    refund = open_request(session, actor, refund_id)
    decide(session, actor, refund, RefundStatus.REFUSED, note=reason)
    return with_sent(session, [refund])[0]


def get_refund(session: Session, actor: Actor, refund_id: int) -> BalanceRefund:
    """One refund request the actor may see (404 otherwise), with what went back so far."""
    refund = clients_row(session, actor, BalanceRefund, refund_id, "refund")
    return with_sent(session, [refund])[0]


def list_refunds(session: Session, actor: Actor, *, limit: int, after: int) -> list[BalanceRefund]:
    """Your client's refund requests (everyone's, for platform admins), oldest first, each
    with what went back to cards and by bank transfer."""
    page = keyset_page(session, clients_rows(actor, BalanceRefund), limit=limit, after=after)
    return with_sent(session, page)


# -- what a request has sent ------------------------------------------------------------


def sent_so_far(session: Session, refund_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Per request, (to cards, by bank transfer) sent and recorded so far: its sent parts."""
    sent = {refund_id: (0, 0) for refund_id in refund_ids}
    if not refund_ids:
        return sent
    for refund_id, way, amount in session.execute(
        select(
            BalanceRefundPart.refund_id,
            BalanceRefundPart.way,
            func.sum(BalanceRefundPart.amount_minor),
        )
        .where(
            BalanceRefundPart.refund_id.in_(refund_ids),
            BalanceRefundPart.status == RefundPartStatus.SENT,
        )
        .group_by(BalanceRefundPart.refund_id, BalanceRefundPart.way)
    ):
        card, bank = sent[refund_id]
        if way == RefundWay.CARD:
            sent[refund_id] = (card + int(amount), bank)
        else:
            sent[refund_id] = (card, bank + int(amount))
    return sent


def with_sent(session: Session, refunds: list[BalanceRefund]) -> list[BalanceRefund]:
    """The requests, each told what it sent to cards and by bank transfer (for RefundOut)."""
    sent = sent_so_far(session, [refund.id for refund in refunds])
    for refund in refunds:
        refund.sent_by_card_minor, refund.sent_by_bank_transfer_minor = sent[refund.id]
    return refunds


# -- the request itself -----------------------------------------------------------------


def open_request(session: Session, actor: Actor, refund_id: int) -> BalanceRefund:
    """The request, locked, for a platform admin to decide; 409 `refund_decided` unless it
    is open."""
    refund = clients_row(session, actor, BalanceRefund, refund_id, "refund")
    actor.require(Role.PLATFORM_ADMIN)
    session.refresh(refund, with_for_update=True)
    if refund.status != RefundStatus.REQUESTED:
        raise Conflict(f"The refund is already {refund.status}.", code="refund_decided")
    return refund


def still_open(session: Session, actor: Actor, refund_id: int) -> BalanceRefund | None:
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


def refuse_beyond_balance(
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
    sent = sent_so_far(session, [refund.id for refund in open_requests])
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


def decide(session: Session, actor: Actor, refund: BalanceRefund, status: str, **fields) -> None:
    """Refund or refuse the request, and put the decision on record for people."""
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
