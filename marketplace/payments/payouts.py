"""Payout runs: pay every earner what is available, exactly once: a bank file, or Stripe."""

import csv
import io
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.db import find, keyset_page
from marketplace.errors import Invalid, NotFound
from marketplace.identity import audit
from marketplace.identity.actor import Actor
from marketplace.identity.models import Party, PartyKind, Role, User
from marketplace.ledger import Account, AccountKind, Entry, Holder
from marketplace.money import format_minor
from marketplace.payments.amounts import minor_units
from marketplace.payments.announce import payout_paid
from marketplace.payments.models import (
    Application,
    Invoice,
    InvoiceShare,
    Payment,
    Payout,
    PayoutRun,
    PayoutTransfer,
    SettlementPart,
    TransferStatus,
)

MANUAL_GATEWAY = "manual"
STRIPE_GATEWAY = "stripe"
GATEWAYS = (MANUAL_GATEWAY, STRIPE_GATEWAY)
FILE_COLUMNS = ["payout_id", "payee", "bank_account", "currency", "amount", "reference"]


def run_payouts(
    session: Session,
    actor: Actor | None,
    *,
    currency: str,
    minimum: Decimal | None = None,
    gateway: str = MANUAL_GATEWAY,
) -> PayoutRun:
    """Pay every team and annotator its available balance in `currency`, if at least `minimum`
    (by default, anything above zero).

    Only available money is paid, never pending. Each payout is one ledger
    transaction (available -> paid) keyed by the payout's id, and is split into one
    transfer per invoice whose money it pays out, oldest first. The available
    accounts are locked for the run, so two runs at once cannot pay the same money
    twice. A Stripe run pays only payees with a Connect account; its transfers wait
    as pending until `transfers.send_pending_transfers` sends them. `actor` is None
    when the command line runs it.
    """
    if actor is not None:
        actor.require(Role.PLATFORM_ADMIN)
    if gateway not in GATEWAYS:
        raise Invalid(f"No payout gateway {gateway!r}.", code="unknown_gateway", field="gateway")
    minimum_minor = 1 if minimum is None else minor_units(minimum, currency, "minimum")
    run = PayoutRun(
        currency=currency,
        minimum_minor=minimum_minor,
        gateway=gateway,
        started_by_user_id=actor.user_id if actor else None,
    )
    session.add(run)
    session.flush()
    balances = _available_balances(session, currency)
    payable = {
        holder: (account, amount)
        for holder, (account, amount) in balances.items()
        if amount >= minimum_minor
    }
    payees = _payees(session, payable)
    if gateway == STRIPE_GATEWAY:
        payees = {holder: payee for holder, payee in payees.items() if payee.stripe_account}
    sources = _sources(session, currency, set(payees))
    status = TransferStatus.PENDING if gateway == STRIPE_GATEWAY else TransferStatus.SENT
    for (party_id, user_id), payee in sorted(payees.items(), key=_holder_order):
        account, amount = payable[(party_id, user_id)]
        payout = Payout(
            run_id=run.id,
            party_id=party_id,
            user_id=user_id,
            currency=currency,
            amount_minor=amount,
            payee_name=payee.name,
            bank_account=payee.bank_account,
            stripe_account=payee.stripe_account,
        )
        payout.transfers = [
            PayoutTransfer(
                amount_minor=part,
                invoice_id=invoice_id,
                status=status,
                transfer_group=sources.groups.get(invoice_id),
                source_charge=sources.charges.get(invoice_id),
            )
            for invoice_id, part in sources.oldest_first((party_id, user_id), amount)
        ]
        session.add(payout)
        session.flush()
        paid = ledger.account(
            session, party_id=party_id, user_id=user_id, kind=AccountKind.PAID, currency=currency
        )
        ledger.post(
            session,
            key=f"payout:{payout.id}",
            kind="payout",
            currency=currency,
            legs=[ledger.debit(account, amount), ledger.credit(paid, amount)],
            memo=f"Payout run {run.id} to {payee.name}",
        )
        payout_paid(session, payout, gateway)
    session.refresh(run)
    audit.record(
        session,
        actor,
        "payout_run.started",
        ("payout_run", run.id),
        source="cli",
        gateway=gateway,
        currency=currency,
        payouts=len(run.payouts),
        total=format_minor(run.total_minor, currency),
    )
    return run


def _holder_order(item) -> tuple[int, int]:
    (party_id, user_id), _ = item
    return party_id, user_id or 0


def _available_balances(session: Session, currency: str) -> dict[Holder, tuple[Account, int]]:
    """Every team's and annotator's available account in the currency, locked in id order
    for the rest of the unit of work, with its balance."""
    accounts = session.scalars(
        select(Account)
        .join(Party, Party.id == Account.party_id)
        .where(
            Account.kind == AccountKind.AVAILABLE,
            Account.currency == currency,
            Party.kind != PartyKind.PLATFORM,
        )
        .order_by(Account.id)
        .with_for_update(of=Account)
    ).all()
    balances = dict(
        session.execute(
            select(Entry.account_id, -func.sum(Entry.amount_minor))
            .join(Account, Account.id == Entry.account_id)
            .where(Account.kind == AccountKind.AVAILABLE, Account.currency == currency)
            .group_by(Entry.account_id)
        ).all()
    )
    return {
        (account.party_id, account.user_id): (account, int(balances.get(account.id, 0)))
        for account in accounts
    }


def _payees(session: Session, holders) -> dict[Holder, Party | User]:
    """Who each holder is: the annotator, or the party itself."""
    users = {u.id: u for u in _by_ids(session, User, {h[1] for h in holders if h[1]})}
    parties = {p.id: p for p in _by_ids(session, Party, {h[0] for h in holders if not h[1]})}
    return {
        (party_id, user_id): users[user_id] if user_id else parties[party_id]
        for party_id, user_id in holders
    }


def _by_ids(session: Session, model, ids: set[int]) -> list:
    ordered = sorted(ids)
    found = []
    for chunk in range(0, len(ordered), 1000):
        found += session.scalars(select(model).where(model.id.in_(ordered[chunk : chunk + 1000])))
    return found


class _Sources:
    """Where each holder's available money came from: what each invoice settled to it,
    and what earlier payouts already sent, so a payout says which invoices it pays."""

    def __init__(self) -> None:
        self.settled: dict[Holder, list[tuple[int, int]]] = defaultdict(list)
        self.sent: dict[Holder, int] = defaultdict(int)
        self.groups: dict[int, str] = {}
        self.charges: dict[int, str] = {}

    def oldest_first(self, holder: Holder, amount: int) -> list[tuple[int | None, int]]:
        """`amount` split over the holder's invoices, oldest first, after what was sent."""
        skip, parts = self.sent[holder], []
        for invoice_id, settled in self.settled[holder]:
            usable = max(settled - skip, 0)
            skip = max(skip - settled, 0)
            part = min(usable, amount)
            if part > 0:
                parts.append((invoice_id, part))
                amount -= part
        if amount > 0:  # money no invoice accounts for (kept for safety, never lost)
            parts.append((None, amount))
        return parts


def _sources(session: Session, currency: str, holders: set[Holder]) -> _Sources:
    sources = _Sources()
    if not holders:
        return sources
    settled = session.execute(
        select(
            InvoiceShare.party_id,
            InvoiceShare.user_id,
            InvoiceShare.invoice_id,
            Invoice.number,
            func.sum(SettlementPart.amount_minor),
        )
        .join(InvoiceShare, InvoiceShare.id == SettlementPart.share_id)
        .join(Invoice, Invoice.id == InvoiceShare.invoice_id)
        .where(Invoice.currency == currency)
        .group_by(
            InvoiceShare.party_id, InvoiceShare.user_id, InvoiceShare.invoice_id, Invoice.number
        )
        .order_by(InvoiceShare.invoice_id)
    )
    for party_id, user_id, invoice_id, number, amount in settled:
        if (party_id, user_id) in holders:
            sources.settled[(party_id, user_id)].append((invoice_id, int(amount)))
            sources.groups[invoice_id] = number
    sent = session.execute(
        select(Payout.party_id, Payout.user_id, func.sum(PayoutTransfer.amount_minor))
        .join(PayoutTransfer, PayoutTransfer.payout_id == Payout.id)
        .where(Payout.currency == currency, PayoutTransfer.status != TransferStatus.FAILED)
        .group_by(Payout.party_id, Payout.user_id)
    )
    for party_id, user_id, amount in sent:
        sources.sent[(party_id, user_id)] = int(amount)
    sources.charges = _funding_charges(session, set(sources.groups))
    return sources


def _funding_charges(session: Session, invoice_ids: set[int]) -> dict[int, str]:
    """The gateway charge that paid each invoice, where one charge alone paid it: its
    transfers can draw on that charge's funds (Stripe's `source_transaction`)."""
    rows = session.execute(
        select(Application.invoice_id, func.min(Payment.charge), func.count(Payment.id.distinct()))
        .join(Payment, Payment.id == Application.payment_id)
        .where(Application.amount_minor > 0)
        .group_by(Application.invoice_id)
    )
    return {
        invoice_id: charge
        for invoice_id, charge, payments in rows
        if invoice_id in invoice_ids and payments == 1 and charge
    }


def get_run(session: Session, actor: Actor, run_id: int) -> PayoutRun:
    actor.require(Role.PLATFORM_ADMIN)
    run = find(session, PayoutRun, run_id)
    if run is None:
        raise NotFound(f"No payout run {run_id}.", code="payout_run_not_found")
    return run


def list_runs(session: Session, actor: Actor, *, limit: int, after: int) -> list[PayoutRun]:
    actor.require(Role.PLATFORM_ADMIN)
    return keyset_page(session, select(PayoutRun), limit=limit, after=after)


def bank_file(run: PayoutRun) -> str:
    """The manual gateway's bank file for a run: one CSV row per payout."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FILE_COLUMNS)
    for payout in run.payouts:
        writer.writerow(
            [
                payout.id,
                payout.payee_name,
                payout.bank_account or "",
                payout.currency,
                format_minor(payout.amount_minor, payout.currency),
                f"PIECEWORK-PAYOUT-{payout.id}",
            ]
        )
    return out.getvalue()
