"""Payout runs: pay every earner what is available, exactly once, as a bank file."""

import csv
import io
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.db import find, keyset_page
from marketplace.errors import NotFound
from marketplace.identity.actor import Actor
from marketplace.identity.models import Party, PartyKind, Role, User
from marketplace.ledger import Account, AccountKind, Entry
from marketplace.money import format_minor
from marketplace.payments.amounts import minor_units
from marketplace.payments.models import Payout, PayoutRun

MANUAL_GATEWAY = "manual"
FILE_COLUMNS = ["payout_id", "payee", "bank_account", "currency", "amount", "reference"]


def run_payouts(
    session: Session, actor: Actor | None, *, currency: str, minimum: Decimal | None = None
) -> PayoutRun:
    """Pay every team and annotator its available balance in `currency`, if at least `minimum`
    (by default, anything above zero).

    Only available money is paid, never pending. Each payout is one ledger
    transaction (available -> paid) keyed by the payout's id. The available
    accounts are locked for the run, so two runs at once cannot pay the same
    money twice. `actor` is None when the command line runs it.
    """
    if actor is not None:
        actor.require(Role.PLATFORM_ADMIN)
    minimum_minor = 1 if minimum is None else minor_units(minimum, currency, "minimum")
    run = PayoutRun(
        currency=currency,
        minimum_minor=minimum_minor,
        gateway=MANUAL_GATEWAY,
        started_by_user_id=actor.user_id if actor else None,
    )
    session.add(run)
    session.flush()
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
            .where(Entry.account_id.in_([a.id for a in accounts]))
            .group_by(Entry.account_id)
        ).all()
    )
    for account in accounts:
        amount = int(balances.get(account.id, 0))
        if amount < minimum_minor:
            continue
        payee = (
            session.get(User, account.user_id)
            if account.user_id
            else session.get(Party, account.party_id)
        )
        payout = Payout(
            run_id=run.id,
            party_id=account.party_id,
            user_id=account.user_id,
            currency=currency,
            amount_minor=amount,
            payee_name=payee.name,
            bank_account=payee.bank_account,
        )
        session.add(payout)
        session.flush()
        paid = ledger.account(
            session,
            party_id=account.party_id,
            user_id=account.user_id,
            kind=AccountKind.PAID,
            currency=currency,
        )
        ledger.post(
            session,
            key=f"payout:{payout.id}",
            kind="payout",
            currency=currency,
            legs=[ledger.debit(account, amount), ledger.credit(paid, amount)],
            memo=f"Payout run {run.id} to {payee.name}",
        )
    session.refresh(run)
    return run


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
