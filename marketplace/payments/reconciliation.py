"""Reconciliation: what the gateways say arrived and went back, against what we recorded
and what the ledger settled, with every mismatch listed.

Three layers are compared for the payments received in a period (and the payout
transfers sent in it):

- the gateway: Stripe's own PaymentIntents, charges and transfers as it holds them
  now (the manual gateway's truth is the bank statement, which the admin recorded);
- our records: payments, their applications to invoices, refunds and chargebacks,
  transfers;
- the ledger: the bank movement of each receipt and reversal, the settlement of each
  application, the parts each application settled down the chains.

And the platform's losses: what the reversals of those payments left uncovered (the
clients' balances they took below zero), and the write-offs of negative balances
recorded in the period against the ledger's `loss` account, both ways: each write-off
is there, and every loss the ledger took in the period is a write-off's.
"""

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import String, and_, cast, func, literal, select
from sqlalchemy.orm import Session

from marketplace.identity.actor import Actor
from marketplace.identity.models import Role
from marketplace.ledger import Account, AccountKind, Entry, LedgerTransaction
from marketplace.money import format_minor
from marketplace.payments.models import (
    Application,
    ApplicationKind,
    BalanceWriteOff,
    Invoice,
    Payment,
    Payout,
    PayoutTransfer,
    Reversal,
    SettlementPart,
    TransferStatus,
)
from marketplace.payments.stripe_gateway import GatewayRefused, GatewayUnavailable, StripeGateway
from marketplace.payments.write_offs import KEY_PREFIX as WRITE_OFF_KEY


def reconcile(
    session: Session,
    actor: Actor | None,
    stripe: StripeGateway | None,
    *,
    currency: str,
    since: date,
    until: date,
) -> dict[str, Any]:
    """The reconciliation of payments received from `since` to `until` (both included) in
    `currency`, platform admins only. Read-only: it changes nothing, here or at Stripe.
    Amounts are decimal strings; `mismatches` lists each disagreement found. `actor` is
    None when the command line runs it."""
    if actor is not None:
        actor.require(Role.PLATFORM_ADMIN)
    payments = session.scalars(
        select(Payment)
        .where(
            Payment.currency == currency,
            Payment.received_on >= since,
            Payment.received_on <= until,
        )
        .order_by(Payment.id)
    ).all()
    ids = [payment.id for payment in payments]
    report = _Report(currency)
    by_gateway: dict[str, dict[str, int]] = defaultdict(lambda: {"arrived": 0, "returned": 0})
    for payment in payments:
        by_gateway[payment.gateway]["arrived"] += payment.amount_minor
        by_gateway[payment.gateway]["returned"] += payment.returned_minor
    bank_in = _bank_movements(session, "payment:", ":received", Payment, ids)
    for payment in payments:
        report.compare(
            "receipt_not_in_ledger",
            payment.amount_minor,
            bank_in.get(payment.id, 0),
            payment_id=payment.id,
            reference=payment.reference,
        )
    _check_applications(session, report, payments)
    reversals = _check_reversals(session, report, ids)
    written_off = _check_write_offs(session, report, currency, since, until)
    if stripe is not None:
        _check_stripe_payments(
            session, report, stripe, [p for p in payments if p.gateway == "stripe"]
        )
        _check_stripe_transfers(session, report, stripe, currency, since, until)
    return {
        "currency": currency,
        "from": since,
        "to": until,
        "payments": len(payments),
        "gateways": {
            gateway: {key: format_minor(value, currency) for key, value in totals.items()}
            for gateway, totals in sorted(by_gateway.items())
        },
        "ledger": {
            "received": format_minor(sum(bank_in.values()), currency),
            "settled": format_minor(report.settled, currency),
        },
        "losses": {
            "uncovered": format_minor(sum(r.uncovered_minor for r in reversals), currency),
            "written_off": format_minor(written_off, currency),
        },
        "stripe_checked": stripe is not None,
        "mismatches": report.mismatches,
    }


class _Report:
    def __init__(self, currency: str) -> None:
        self.currency = currency
        self.mismatches: list[dict[str, Any]] = []
        self.settled = 0

    def compare(self, kind: str, expected: int, found: int, **about: Any) -> None:
        if expected != found:
            self.mismatches.append(
                {
                    "kind": kind,
                    "expected": format_minor(expected, self.currency),
                    "found": format_minor(found, self.currency),
                    **about,
                }
            )

    def note(self, kind: str, **about: Any) -> None:
        self.mismatches.append({"kind": kind, **about})


def _bank_movements(
    session: Session, prefix: str, suffix: str, model, ids: list[int], kind=AccountKind.BANK
):
    """Per row of `model`, the platform bank's (or another `kind` of account's) movement
    in the ledger transaction keyed `{prefix}{id}{suffix}` (debits positive)."""
    if not ids:
        return {}
    key = literal(prefix) + cast(model.id, String) + literal(suffix)
    rows = session.execute(
        select(model.id, func.sum(Entry.amount_minor))
        .join(LedgerTransaction, LedgerTransaction.idempotency_key == key)
        .join(Entry, Entry.transaction_id == LedgerTransaction.id)
        .join(Account, and_(Account.id == Entry.account_id, Account.kind == kind))
        .where(model.id.in_(ids))
        .group_by(model.id)
    )
    return {row_id: int(amount) for row_id, amount in rows}


def _check_applications(session: Session, report: _Report, payments: list[Payment]) -> None:
    """Each payment's applications add up to what it says it applied; each positive one
    settled its amount in the ledger and in parts; each invoice's paid amount is what
    its applications add up to."""
    ids = [payment.id for payment in payments]
    if not ids:
        return
    applications = session.scalars(
        select(Application).where(Application.payment_id.in_(ids)).order_by(Application.id)
    ).all()
    applied: dict[int, int] = defaultdict(int)
    for application in applications:
        applied[application.payment_id] += application.amount_minor
    for payment in payments:
        report.compare(
            "applications_differ_from_payment",
            payment.applied_minor,
            applied[payment.id],
            payment_id=payment.id,
        )
    positive = [a.id for a in applications if a.amount_minor > 0]
    parts = dict(
        session.execute(
            select(SettlementPart.application_id, func.sum(SettlementPart.amount_minor))
            .where(SettlementPart.application_id.in_(positive or [0]))
            .group_by(SettlementPart.application_id)
        ).all()
    )
    # An application settles in its own transaction; a payment recorded before partial
    # payments existed credited the receivable in its receipt (and has no application's).
    key = literal("application:") + cast(Application.id, String)
    legacy = literal("payment:") + cast(Application.payment_id, String) + literal(":received")
    settled = dict(
        session.execute(
            select(Application.id, -func.sum(Entry.amount_minor))
            .join(LedgerTransaction, LedgerTransaction.idempotency_key.in_([key, legacy]))
            .join(Entry, Entry.transaction_id == LedgerTransaction.id)
            .join(
                Account,
                and_(Account.id == Entry.account_id, Account.kind == AccountKind.RECEIVABLE),
            )
            .where(Application.id.in_(positive or [0]))
            .group_by(Application.id)
        ).all()
    )
    for application in applications:
        if application.amount_minor <= 0:
            continue
        report.settled += int(settled.get(application.id, 0))
        about = {"payment_id": application.payment_id, "invoice_id": application.invoice_id}
        report.compare(
            "application_not_settled_in_ledger",
            application.amount_minor,
            int(settled.get(application.id, 0)),
            **about,
        )
        report.compare(
            "application_parts_differ",
            application.amount_minor,
            int(parts.get(application.id, 0)),
            **about,
        )
    invoice_ids = sorted({a.invoice_id for a in applications})
    totals = session.execute(
        select(Invoice.id, Invoice.paid_minor, func.sum(Application.amount_minor))
        .join(Application, Application.invoice_id == Invoice.id)
        .where(Invoice.id.in_(invoice_ids or [0]))
        .group_by(Invoice.id, Invoice.paid_minor)
    )
    for invoice_id, paid, total in totals:
        report.compare("invoice_paid_differs", int(total), paid, invoice_id=invoice_id)


def _check_reversals(session: Session, report: _Report, ids: list[int]) -> list[Reversal]:
    reversals = session.scalars(
        select(Reversal).where(Reversal.payment_id.in_(ids or [0])).order_by(Reversal.id)
    ).all()
    bank_out = _bank_movements(session, "reversal:", "", Reversal, [r.id for r in reversals])
    for reversal in reversals:
        report.compare(
            "reversal_not_in_ledger",
            -reversal.amount_minor,
            bank_out.get(reversal.id, 0),
            payment_id=reversal.payment_id,
            reversal_id=reversal.id,
        )
    return list(reversals)


def _check_write_offs(
    session: Session, report: _Report, currency: str, since: date, until: date
) -> int:
    """Each write-off of a negative balance recorded in the period debited its amount to
    the platform's loss account; each loss the ledger posted in the period is a write-off's
    (`loss_without_write_off` names the transaction's key otherwise). Returns what the
    period's write-offs add up to."""
    write_offs = session.scalars(
        select(BalanceWriteOff)
        .where(
            BalanceWriteOff.currency == currency,
            func.date(BalanceWriteOff.created_at) >= since,
            func.date(BalanceWriteOff.created_at) <= until,
        )
        .order_by(BalanceWriteOff.id)
    ).all()
    lost = _bank_movements(
        session,
        WRITE_OFF_KEY,
        "",
        BalanceWriteOff,
        [w.id for w in write_offs],
        kind=AccountKind.LOSS,
    )
    for write_off in write_offs:
        report.compare(
            "write_off_not_in_ledger",
            write_off.amount_minor,
            lost.get(write_off.id, 0),
            write_off_id=write_off.id,
        )
    losses = session.execute(
        select(LedgerTransaction.idempotency_key, func.sum(Entry.amount_minor))
        .join(Entry, Entry.transaction_id == LedgerTransaction.id)
        .join(Account, and_(Account.id == Entry.account_id, Account.kind == AccountKind.LOSS))
        .where(
            LedgerTransaction.currency == currency,
            func.date(LedgerTransaction.posted_at) >= since,
            func.date(LedgerTransaction.posted_at) <= until,
        )
        .group_by(LedgerTransaction.idempotency_key)
        .order_by(LedgerTransaction.idempotency_key)
    ).all()
    named = {
        int(key.removeprefix(WRITE_OFF_KEY))
        for key, _ in losses
        if key.startswith(WRITE_OFF_KEY) and key.removeprefix(WRITE_OFF_KEY).isdecimal()
    }
    known = set(
        session.scalars(
            select(BalanceWriteOff.id).where(
                BalanceWriteOff.id.in_(sorted(named) or [0]), BalanceWriteOff.currency == currency
            )
        )
    )
    known_keys = {f"{WRITE_OFF_KEY}{write_off_id}" for write_off_id in known}
    for key, amount in losses:
        if key not in known_keys:
            report.note(
                "loss_without_write_off",
                reference=key,
                found=format_minor(int(amount), currency),
            )
    return sum(write_off.amount_minor for write_off in write_offs)


def _ask(report: _Report, call, *args, **about) -> dict | None:
    try:
        return call(*args)
    except (GatewayRefused, GatewayUnavailable) as error:
        report.note("unchecked_at_gateway", error=str(error)[:300], **about)
        return None


def _check_stripe_payments(
    session: Session, report: _Report, stripe: StripeGateway, payments: list[Payment]
) -> None:
    """What Stripe holds of each card payment: succeeded, the same amount, the same refunds."""
    refunded = dict(
        session.execute(
            select(Reversal.payment_id, func.sum(Reversal.amount_minor))
            .where(
                Reversal.payment_id.in_([p.id for p in payments] or [0]),
                Reversal.kind == ApplicationKind.REFUND,
            )
            .group_by(Reversal.payment_id)
        ).all()
    )
    for payment in payments:
        about = {"payment_id": payment.id, "reference": payment.reference}
        if ":" in payment.reference:  # a reinstated dispute: Stripe holds it on the dispute
            continue
        intent = _ask(report, stripe.payment_intent, payment.reference, **about)
        if intent is None:
            continue
        if intent.get("status") != "succeeded":
            report.note("not_succeeded_at_stripe", status=intent.get("status"), **about)
        received = intent.get("amount_received") or intent["amount"]
        report.compare("amount_differs_at_stripe", received, payment.amount_minor, **about)
        charge = intent.get("latest_charge")
        if isinstance(charge, str):
            charge = _ask(report, stripe.charge, charge, **about)
        if charge is None:
            continue
        ours = int(refunded.get(payment.id, 0))
        report.compare("refunds_differ_at_stripe", charge.get("amount_refunded", 0), ours, **about)


def _check_stripe_transfers(
    session: Session,
    report: _Report,
    stripe: StripeGateway,
    currency: str,
    since: date,
    until: date,
) -> None:
    """Each transfer we sent in the period: Stripe holds it, for the same amount."""
    transfers = session.scalars(
        select(PayoutTransfer)
        .join(Payout, Payout.id == PayoutTransfer.payout_id)
        .where(
            Payout.currency == currency,
            PayoutTransfer.status == TransferStatus.SENT,
            PayoutTransfer.gateway_id.is_not(None),
            func.date(PayoutTransfer.created_at) >= since,
            func.date(PayoutTransfer.created_at) <= until,
        )
    ).all()
    for transfer in transfers:
        about = {"transfer_id": transfer.id, "reference": transfer.gateway_id}
        held = _ask(report, stripe.transfer_state, transfer.gateway_id, **about)
        if held is None:
            continue
        report.compare("transfer_differs_at_stripe", held["amount"], transfer.amount_minor, **about)
        if held.get("amount_reversed"):
            report.note(
                "transfer_reversed_at_stripe", amount_reversed=held["amount_reversed"], **about
            )
