"""Sending a Stripe payout run's transfers, each exactly once.

A transfer is written as pending in the run's unit of work, with its money
already moved from available to paid. Sending it is a call to Stripe and then a
unit of work of its own that records the answer: Stripe's transfer id, or the
refusal, which gives the money back to the payee's available balance with the
reason. The idempotency key is the transfer's own id, so if we crash after Stripe
made the transfer but before we recorded it, sending it again gets Stripe's first
answer back and nothing is paid twice. Stripe forgets keys after a day, so a
transfer pending that long is first looked for at Stripe, by the mark its
metadata carries.
"""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from marketplace import clock, ledger
from marketplace.db import unit_of_work
from marketplace.identity.actor import Actor
from marketplace.identity.models import Role
from marketplace.ledger import AccountKind
from marketplace.payments.amounts import minor_units
from marketplace.payments.models import Payout, PayoutTransfer, TransferStatus
from marketplace.payments.payouts import MANUAL_GATEWAY, STRIPE_GATEWAY, get_run, run_payouts
from marketplace.payments.stripe_gateway import (
    GatewayRefused,
    GatewayUnavailable,
    StripeGateway,
    StripeNotConfigured,
)

# Stripe keeps an idempotency key "at least 24 hours"; a transfer pending longer than this
# may have been made by a try whose answer we lost, so it is looked for before it is sent.
KEYS_KEPT = timedelta(hours=23)


def pay_out(
    actor: Actor | None,
    stripe: StripeGateway | None,
    *,
    currency: str,
    minimum: Decimal | None = None,
    gateway: str = MANUAL_GATEWAY,
) -> int:
    """Start a payout run (see `payouts.run_payouts`) and, for Stripe, send its transfers.

    The run is committed before anything is sent, so a crash while sending leaves
    pending transfers to resume, never money in two places. Returns the run's id.
    """
    # Who may, and what was asked, are answered before how the platform is configured.
    if actor is not None:
        actor.require(Role.PLATFORM_ADMIN)
    if minimum is not None:
        minor_units(minimum, currency, "minimum")
    if gateway == STRIPE_GATEWAY and stripe is None:
        raise StripeNotConfigured("Stripe is not configured: set STRIPE_SECRET_KEY.")
    with unit_of_work() as session:
        run_id = run_payouts(session, actor, currency=currency, minimum=minimum, gateway=gateway).id
    if gateway == STRIPE_GATEWAY:
        send_pending_transfers(stripe, run_id=run_id)
    return run_id


def resume_run(actor: Actor, stripe: StripeGateway | None, run_id: int) -> dict[str, int]:
    """Send a run's transfers still pending (after an outage or a crash), platform admins."""
    with unit_of_work() as session:
        get_run(session, actor, run_id)
    if stripe is None:
        raise StripeNotConfigured("Stripe is not configured: set STRIPE_SECRET_KEY.")
    return send_pending_transfers(stripe, run_id=run_id)


def send_pending_transfers(
    gateway: StripeGateway,
    *,
    run_id: int | None = None,
    on_each: Callable[[PayoutTransfer], None] | None = None,
) -> dict[str, int]:
    """Send every pending transfer (of one run, or of all runs), oldest first.

    Each transfer is sent and recorded in its own unit of work, because a call to
    Stripe cannot be rolled back with ours. Refused: marked failed, its money back
    to available. Stripe unreachable: the transfer stays pending and sending stops,
    to be resumed later (`marketplace send-payouts`). Returns how many were sent,
    failed and left pending.
    """
    counts = {"sent": 0, "failed": 0, "pending": 0}
    for transfer_id in _pending_ids(run_id):
        try:
            with unit_of_work() as session:
                transfer = session.scalar(
                    select(PayoutTransfer)
                    .where(
                        PayoutTransfer.id == transfer_id,
                        PayoutTransfer.status == TransferStatus.PENDING,
                    )
                    .with_for_update(skip_locked=True)
                )
                if transfer is None:  # another sender has it, or has sent it
                    continue
                _send(session, gateway, transfer)
                counts[transfer.status] += 1
                if on_each:
                    on_each(transfer)
        except GatewayUnavailable:
            counts["pending"] = len(_pending_ids(run_id))
            break
    return counts


def pending_count(run_id: int | None = None) -> int:
    """How many transfers wait to be sent (of one run, or of all)."""
    return len(_pending_ids(run_id))


def _pending_ids(run_id: int | None) -> list[int]:
    with unit_of_work() as session:
        query = (
            select(PayoutTransfer.id)
            .where(PayoutTransfer.status == TransferStatus.PENDING)
            .order_by(PayoutTransfer.id)
        )
        if run_id is not None:
            query = query.join(Payout, Payout.id == PayoutTransfer.payout_id).where(
                Payout.run_id == run_id
            )
        return list(session.scalars(query))


def _send(session, gateway: StripeGateway, transfer: PayoutTransfer) -> None:
    payout = transfer.payout
    mark = str(transfer.id)
    try:
        made = None
        if clock.now() - transfer.created_at >= KEYS_KEPT:
            # Stripe may have forgotten the key: look for a transfer an earlier try made.
            made = gateway.find_transfer(
                destination=payout.stripe_account,
                transfer_group=transfer.transfer_group,
                mark=mark,
            )
        made = made or gateway.transfer(
            amount_minor=transfer.amount_minor,
            currency=payout.currency,
            destination=payout.stripe_account,
            transfer_group=transfer.transfer_group,
            source_charge=transfer.source_charge,
            idempotency_key=f"piecework-payout-{payout.id}-transfer-{transfer.id}",
            metadata={
                "piecework_transfer": mark,
                "payout_id": str(payout.id),
                "run_id": str(payout.run_id),
            },
        )
    except GatewayRefused as refused:
        _give_back(session, transfer, f"{refused.code}: {refused.message}")
        return
    transfer.status = TransferStatus.SENT
    transfer.gateway_id = made.id


def _give_back(session, transfer: PayoutTransfer, reason: str) -> None:
    """The transfer failed: its money is the payee's to be paid again, with the reason."""
    payout = transfer.payout
    holder = {"party_id": payout.party_id, "user_id": payout.user_id, "currency": payout.currency}
    paid = ledger.account(session, kind=AccountKind.PAID, **holder)
    available = ledger.account(session, kind=AccountKind.AVAILABLE, **holder)
    ledger.post(
        session,
        key=f"payout-transfer:{transfer.id}:failed",
        kind="payout_failed",
        currency=payout.currency,
        legs=[
            ledger.debit(paid, transfer.amount_minor),
            ledger.credit(available, transfer.amount_minor),
        ],
        memo=f"Transfer {transfer.id} of payout {payout.id} failed: {reason}"[:500],
    )
    transfer.status = TransferStatus.FAILED
    transfer.failure = reason[:500]
