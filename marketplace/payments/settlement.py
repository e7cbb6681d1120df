"""Settlement: money applied to an invoice becomes available down every chain at once.

An invoice's shares (each link's margin, each annotator's pay, the platform's fee)
hang off its lines: a chain's shares off the client's line for that chain, the fee
share off the fee line. An application of money to an invoice is split over the
lines in proportion to what each still has to be paid (fair-pay top-up lines last,
once the work they top up is paid), and each line's part over its shares the same
way, by largest remainder: every part is exact and they add up to the application
to the fen. A part is never more than what its share still
waits for, and the payment that completes an invoice settles every share exactly,
so after any sequence of partial payments each holder has received its share.

Taking money back (a refund or chargeback) uses the same split, weighted by what
each share has had settled.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.db import insert_integer_rows
from marketplace.ledger import AccountKind, Holder
from marketplace.money import allocate
from marketplace.payments.accounts import client_books
from marketplace.payments.models import Application, InvoiceShare, SettlementPart, ShareRole

# share id -> amount in minor units
Parts = dict[int, int]


def split(
    amount: int, lines: dict[int, list[tuple[int, int]]], *, last: frozenset[int] = frozenset()
) -> Parts:
    """Split `amount` over lines, then over each line's shares, by largest remainder.

    `lines` maps each line to its shares as (share id, weight), the weight being what
    the share still waits for (or, to take money back, what it has had). A whole
    line's weight is settled exactly; weights below zero (a margin a fen under zero
    on sub-fen prices) only take part when their whole line does. The `last` lines
    have their part only once every other line is whole. `amount` must not exceed the
    total weight.
    """
    if last:
        first = {line: shares for line, shares in lines.items() if line not in last}
        now = min(amount, sum(max(_weight(shares), 0) for shares in first.values()))
        then = {line: shares for line, shares in lines.items() if line in last}
        return split(now, first) | split(amount - now, then)
    line_ids = sorted(lines)
    line_weights = [_weight(lines[line]) for line in line_ids]
    if amount > sum(line_weights):
        raise ValueError("cannot settle more than the invoice waits for")
    parts: Parts = {}
    for line, portion in zip(
        line_ids, allocate(amount, [max(w, 0) for w in line_weights]), strict=True
    ):
        shares = sorted(lines[line])
        if portion == sum(weight for _, weight in shares):
            amounts = [weight for _, weight in shares]
        else:
            amounts = allocate(portion, [max(weight, 0) for _, weight in shares])
        parts.update(
            (share_id, part) for (share_id, _), part in zip(shares, amounts, strict=True) if part
        )
    return parts


def _weight(shares: list[tuple[int, int]]) -> int:
    return sum(weight for _, weight in shares)


@dataclass
class InvoiceShares:
    """An invoice's shares as settlement weighs them: by line, (share, weight) pairs, and
    who holds each share."""

    lines: dict[int, list[tuple[int, int]]]
    holders: dict[int, Holder]
    # Fair-pay top-up lines: paid after the work they top up (the work a funded order's
    # reservation paid for is settled whole, though the client's top-up is still owed).
    top_ups: set[int] = field(default_factory=set)


def invoice_shares(session: Session, invoice_id: int, *, settled: bool) -> InvoiceShares:
    """The invoice's shares, each weighted by what it still waits for, or (`settled`) by
    what money it has had so far (credit notes took theirs off, but paid nothing). One
    statement, whatever the number of shares."""
    parts = (
        select(SettlementPart.share_id, func.sum(SettlementPart.amount_minor).label("total"))
        .join(InvoiceShare, InvoiceShare.id == SettlementPart.share_id)
        .where(InvoiceShare.invoice_id == invoice_id)
        .group_by(SettlementPart.share_id)
    )
    if settled:
        parts = parts.where(SettlementPart.application_id.is_not(None))
    parts = parts.subquery()
    had = func.coalesce(parts.c.total, 0)
    weight = had if settled else InvoiceShare.amount_minor - had
    shares = InvoiceShares(defaultdict(list), {})
    for share_id, line_id, party_id, user_id, role, amount in session.execute(
        select(
            InvoiceShare.id,
            InvoiceShare.line_id,
            InvoiceShare.party_id,
            InvoiceShare.user_id,
            InvoiceShare.role,
            weight,
        )
        .outerjoin(parts, parts.c.share_id == InvoiceShare.id)
        .where(InvoiceShare.invoice_id == invoice_id)
    ):
        shares.lines[line_id].append((share_id, int(amount)))
        shares.holders[share_id] = (party_id, user_id)
        if role == ShareRole.TOP_UP:
            shares.top_ups.add(line_id)
    return shares


def record_parts(
    session: Session,
    parts: Parts,
    *,
    application_id: int | None = None,
    credit_note_id: int | None = None,
) -> None:
    """Write what an application settled (or took back) of each share, or what a credit
    note took off it, in bulk."""
    rows = [
        {
            "application_id": application_id,
            "credit_note_id": credit_note_id,
            "share_id": share_id,
            "amount_minor": amount,
        }
        for share_id, amount in sorted(parts.items())
    ]
    insert_integer_rows(session, SettlementPart, rows)


def earning_legs(
    session: Session, by_holder: dict[Holder, int], currency: str, *, source: AccountKind
) -> list[ledger.Leg]:
    """Move each holder's amount out of `source` (pending, or available when taking back)
    into the other of the two: pending -> available, or available -> pending."""
    target = AccountKind.AVAILABLE if source == AccountKind.PENDING else AccountKind.PENDING
    holders = {holder for holder, amount in by_holder.items() if amount}
    sources = ledger.accounts(session, holders, kind=source, currency=currency)
    targets = ledger.accounts(session, holders, kind=target, currency=currency)
    legs = []
    for holder in sorted(holders, key=lambda h: (h[0], h[1] or 0)):
        legs.append(ledger.debit(sources[holder], by_holder[holder]))
        legs.append(ledger.credit(targets[holder], by_holder[holder]))
    return legs


def per_holder(holders: dict[int, Holder], parts: Parts) -> dict[Holder, int]:
    totals: dict[Holder, int] = defaultdict(int)
    for share_id, amount in parts.items():
        totals[holders[share_id]] += amount
    return totals


def settle(session: Session, application: Application) -> dict[Holder, int]:
    """Make the application's money available to every holder of the invoice's shares;
    answers each holder's part.

    One balanced ledger transaction, keyed by the application: the client's credit
    pays its receivable, and each holder's part moves from pending to available.
    Posting it again moves nothing twice.
    """
    invoice = application.invoice
    shares = invoice_shares(session, invoice.id, settled=False)
    parts = split(application.amount_minor, shares.lines, last=frozenset(shares.top_ups))
    record_parts(session, parts, application_id=application.id)
    by_holder = per_holder(shares.holders, parts)
    client = invoice.client_party_id
    books = client_books(session, client, invoice.currency)
    ledger.post(
        session,
        key=f"application:{application.id}",
        kind="settlement",
        currency=invoice.currency,
        legs=[
            ledger.debit(books.credit, application.amount_minor),
            ledger.credit(books.receivable, application.amount_minor),
            *earning_legs(session, by_holder, invoice.currency, source=AccountKind.PENDING),
        ],
        memo=f"Settlement of {invoice.number}",
    )
    return by_holder
