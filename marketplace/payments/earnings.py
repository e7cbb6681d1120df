"""The earnings view: what each of the caller's holdings earned, and why it waits.

A read model beside the write model: balances come from the ledger, what is
pending is explained by the open invoices it waits on, work of funded orders in
review by the day its review window ends, and accepted work not yet invoiced is
shown as unbilled (an annotator's pay; a team's margins on every
link of a chain it holds).
"""

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.identity.actor import Actor
from marketplace.identity.models import Party, Role
from marketplace.identity.standing import held_parties
from marketplace.money import line_minor
from marketplace.orders.models import Order
from marketplace.payments.funded_earnings import funded_in_review
from marketplace.payments.models import Invoice, InvoiceShare, InvoiceStatus, SettlementPart
from marketplace.payments.work import accepted_work, unbilled
from marketplace.payments.work_days import WORK, team_today, work_totals
from marketplace.subcontract.chains import link_lines
from marketplace.subcontract.models import Contract
from marketplace.subcontract.service import order_contracts
from marketplace.workers.models import Submission

EARNING_ROLES = {
    Role.ANNOTATOR: "annotator",
    Role.TEAM_OWNER: "team",
    Role.PLATFORM_ADMIN: "platform",
}


def earnings_of(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """One entry per holding the actor may see: her own earnings in each team she
    annotates for, and the party's earnings of each team she owns (or of the
    platform, for admins). Amounts are integers in minor units."""
    holdings = []
    for party_id, role in sorted(actor.roles):
        if role not in EARNING_ROLES:
            continue
        user_id = actor.user_id if role == Role.ANNOTATOR else None
        party = session.get(Party, party_id)
        today = team_today(party)
        waiting = _waiting_invoices(session, party_id, user_id, today)
        work: dict = {}
        in_review: dict = {}
        if user_id:
            extra = _unbilled(session, party_id, user_id)
            in_review = funded_in_review(session, party_id, user_id)
            work = {
                "today": work_totals(session, party_id, [user_id], today, today),
                "this_month": work_totals(
                    session, party_id, [user_id], today.replace(day=1), today
                ),
            }
        else:
            extra = _unbilled_margins(session, party_id) if role == Role.TEAM_OWNER else {}
        currencies = {
            e.currency: e for e in ledger.earnings(session, party_id=party_id, user_id=user_id)
        }
        worked = {c for totals in work.values() for (_, c) in totals}
        for currency in sorted(
            set(currencies)
            | {w["currency"] for w in waiting}
            | set(extra)
            | worked
            | set(in_review)
        ):
            balance = currencies.get(currency) or ledger.Earnings(currency)
            holdings.append(
                {
                    "holder": EARNING_ROLES[role],
                    "party_id": party_id,
                    "party_name": party.name,
                    "currency": currency,
                    "pending_minor": balance.pending,
                    "available_minor": balance.available,
                    "paid_minor": balance.paid,
                    "waiting_on": [w for w in waiting if w["currency"] == currency],
                    "unbilled": extra.get(currency),
                    "funded_in_review": in_review.get(currency, []),
                    **{
                        period: totals.get((user_id, currency), dict.fromkeys(WORK, 0))
                        for period, totals in work.items()
                    },
                }
            )
    return holdings


def _waiting_invoices(
    session: Session, party_id: int, user_id: int | None, today: date
) -> list[dict]:
    """The holder's share of each invoice the client has not paid in full yet (her shares
    of its lines together): what it still waits for, how late the invoice is, and whether
    its client is on credit hold."""
    settled = (
        select(func.coalesce(func.sum(SettlementPart.amount_minor), 0))
        .where(SettlementPart.share_id == InvoiceShare.id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            Invoice.id,
            Invoice.number,
            Invoice.due_on,
            Invoice.currency,
            InvoiceShare.items,
            InvoiceShare.amount_minor - settled,
            Invoice.client_party_id,
            Party.name,
        )
        .join(InvoiceShare, InvoiceShare.invoice_id == Invoice.id)
        .join(Party, Party.id == Invoice.client_party_id)
        .where(
            InvoiceShare.party_id == party_id,
            InvoiceShare.user_id.is_(None) if user_id is None else InvoiceShare.user_id == user_id,
            Invoice.status == InvoiceStatus.OPEN,
        )
        .order_by(Invoice.due_on, Invoice.id)
    )
    # A share settled in full (or kept by an annotator through a refund) waits for nothing.
    # Her shares of one invoice (a line per contract, rate or top-up) wait on it together.
    waiting: dict[int, dict] = {}
    for invoice_id, number, due_on, currency, items, amount, client_id, client_name in rows:
        if amount <= 0:
            continue
        share = waiting.setdefault(
            invoice_id,
            {
                "invoice_id": invoice_id,
                "invoice_number": number,
                "client_name": client_name,
                "client_id": client_id,
                "due_on": due_on,
                "currency": currency,
                "items": 0,
                "amount_minor": 0,
                "late": today > due_on,
                "days_late": max((today - due_on).days, 0),
            },
        )
        share["items"] += items
        share["amount_minor"] += amount
    holds = held_parties(session, {share["client_id"] for share in waiting.values()})
    for share in waiting.values():
        share["client_on_credit_hold"] = share.pop("client_id") in holds
    return list(waiting.values())


def _unbilled(session: Session, party_id: int, user_id: int) -> dict[str, dict]:
    """The annotator's accepted items not invoiced yet, at the rates they were accepted at.

    The amount is what invoicing will credit her, rounded per order and rate as
    invoicing rounds it.
    """
    rows = session.execute(
        select(Order.currency, Submission.rate_micros, func.count())
        .join(Order, Order.id == Submission.order_id)
        .where(
            Submission.team_party_id == party_id,
            Submission.annotator_user_id == user_id,
            unbilled(),
        )
        .group_by(Order.id, Order.currency, Submission.rate_micros)
    )
    totals: dict[str, dict] = {}
    for currency, rate, count in rows:
        _add(totals, currency, count, line_minor(count, rate, currency))
    return totals


def _unbilled_margins(session: Session, team_id: int) -> dict[str, dict]:
    """The team's margins on accepted items not invoiced yet, on every link it holds:
    what invoicing will credit it, rounded as invoicing rounds (over those items)."""
    waiting = select(Submission.order_id).where(unbilled())
    order_ids = session.scalars(
        select(Contract.order_id)
        .where(Contract.downstream_party_id == team_id, Contract.order_id.in_(waiting))
        .distinct()
    ).all()
    totals: dict[str, dict] = {}
    for order_id in order_ids:
        work = accepted_work(session, order_id=order_id, unbilled_only=True)
        if not work:
            continue
        for link in link_lines(order_contracts(session, order_id), work).values():
            if link.contract.downstream_party_id != team_id or not link.items:
                continue
            _add(totals, link.contract.currency, link.items, link.margin_minor)
    return totals


def _add(totals: dict[str, dict], currency: str, items: int, amount_minor: int) -> None:
    total = totals.setdefault(currency, {"currency": currency, "items": 0, "amount_minor": 0})
    total["items"] += items
    total["amount_minor"] += amount_minor
