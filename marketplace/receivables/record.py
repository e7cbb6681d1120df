"""Each client's payment record, shown to teams before they bid on or claim its work.

How a client has paid: how many invoices it paid by their due date, how late it
was on average and at worst, how many invoices and how much it owes past due right
now, and how old its oldest unpaid invoice is. Lateness counts a paid invoice to the
day its money arrived (a bank transfer's value date, not the day an admin recorded
it), an unpaid one (or one written off) to today: a client that never pays does not
look punctual for having paid nothing.

What is overdue is money of the client's invoices, and an invoice's total over the
quantity of an order gives away the client's price (with the fee public, 205.80 / 1.05
/ 1,960 boxes = 0.10). So only the client itself and the platform's admins read the
exact sum; everyone else reads the band of those invoices' issued totals, a power of
ten (100 to 1,000 CNY), which money arriving does not move: it bounds a price no closer
than a factor of ten (docs/money.md, "Who sees which figure").
"""

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.identity.actor import Actor
from marketplace.identity.models import CreditHold, Party
from marketplace.identity.standing import held_parties
from marketplace.money import format_minor, from_minor, to_minor
from marketplace.orders.models import Order, OrderStatus
from marketplace.payments.models import Application, Invoice, InvoiceStatus, Payment
from marketplace.receivables.days import business_today, day_of, days_late
from marketplace.receivables.holds import client_party


def payment_record(
    session: Session, client_id: int, *, reader: Actor | None, today: date, timezone: str
) -> dict[str, Any]:
    """One client's record, for any signed-in user: what a team weighs before taking
    its work. 404 for a party that is not a client. The overdue money is exact only for
    the client's own members and platform admins (and the operator: `reader` None),
    a band for everyone else."""
    client = client_party(session, client_id)
    return _records(session, [client], reader=reader, today=today, timezone=timezone)[0]


def payment_records(
    session: Session, *, reader: Actor | None, today: date, timezone: str
) -> list[dict[str, Any]]:
    """The record of every client with a published order: the market a team looks at,
    the overdue money shown to `reader` as `payment_record` shows it."""
    clients = session.scalars(
        select(Party)
        .where(
            Party.id.in_(select(Order.client_party_id).where(Order.status == OrderStatus.PUBLISHED))
        )
        .order_by(Party.id)
    ).all()
    return _records(session, list(clients), reader=reader, today=today, timezone=timezone)


def shows_exact_overdue(reader: Actor | None, client_id: int) -> bool:
    """Whether `reader` may read the client's overdue money to the fen: the client's own
    people, platform admins, the operator. No team, even the client's prime contractor."""
    return reader is None or reader.is_platform_admin or client_id in reader.party_ids()


def overdue_band(amount_minor: int, currency: str) -> dict[str, str]:
    """The power-of-ten band an overdue sum falls in, in the currency's major unit:
    [0, 100), [100, 1,000), [1,000, 10,000), ... Bounds are decimal strings."""
    major = from_minor(amount_minor, currency)
    below = Decimal(100)
    while major >= below:
        below *= 10
    at_least = Decimal(0) if below == 100 else below / 10
    return {
        "at_least": format_minor(to_minor(at_least, currency), currency),
        "below": format_minor(to_minor(below, currency), currency),
    }


def note_payment_records(session: Session, *, actor: Actor, batches: list) -> None:
    """React to a read of the drop board: put each order's client's payment record beside
    its batches (`client_payment_record`), read as `payment_record` shows it to the actor,
    so a team weighs how the client pays before it claims."""
    ids = sorted({batch.order.client_party_id for batch in batches})
    clients = session.scalars(select(Party).where(Party.id.in_(ids)).order_by(Party.id)).all()
    timezone = current_app.config["BUSINESS_TIMEZONE"]
    records = {
        record["client_id"]: record
        for record in _records(
            session, list(clients), reader=actor, today=business_today(timezone), timezone=timezone
        )
    }
    for batch in batches:
        batch.client_payment_record = records[batch.order.client_party_id]


def _records(
    session: Session, clients: list[Party], *, reader: Actor | None, today: date, timezone: str
) -> list[dict[str, Any]]:
    ids = {client.id for client in clients}
    invoices = defaultdict(list)
    for invoice in session.scalars(
        select(Invoice).where(Invoice.client_party_id.in_(ids)).order_by(Invoice.id)
    ):
        invoices[invoice.client_party_id].append(invoice)
    holds = held_parties(session, ids)
    paid_on = paid_days(session, [i for found in invoices.values() for i in found], timezone)
    return [
        _record(client, invoices[client.id], paid_on, today, timezone)
        | _overdue(invoices[client.id], today, exact=shows_exact_overdue(reader, client.id))
        | _hold(holds.get(client.id), exact=shows_exact_overdue(reader, client.id))
        for client in clients
    ]


def paid_days(session: Session, invoices: list[Invoice], timezone: str) -> dict[int, date]:
    """The day each paid invoice among `invoices` was paid: when the last money for it
    arrived (a transfer recorded days later counts from its value date), never before
    it was issued nor after it closed (a credit note may have settled the rest)."""
    paid = {invoice.id: invoice for invoice in invoices if invoice.status == InvoiceStatus.PAID}
    arrived = (
        dict(
            session.execute(
                select(Application.invoice_id, func.max(Payment.received_on))
                .join(Payment, Payment.id == Application.payment_id)
                .where(Application.invoice_id.in_(paid), Application.amount_minor > 0)
                .group_by(Application.invoice_id)
            ).all()
        )
        if paid
        else {}
    )
    days = {}
    for invoice_id, invoice in paid.items():
        closed_on = day_of(invoice.paid_at, timezone)
        money_on = arrived.get(invoice_id)
        days[invoice_id] = (
            closed_on
            if money_on is None
            else min(max(money_on, day_of(invoice.issued_at, timezone)), closed_on)
        )
    return days


def _record(
    client: Party, invoices: list[Invoice], paid_on: dict[int, date], today: date, timezone: str
) -> dict[str, Any]:
    lateness = []
    paid = on_time = 0
    oldest_unpaid: date | None = None
    for invoice in invoices:
        if invoice.status == InvoiceStatus.PAID:
            paid += 1
            on_time += paid_on[invoice.id] <= invoice.due_on
            lateness.append(days_late(invoice.due_on, paid_on[invoice.id]))
            continue
        if invoice.due_on < today:
            lateness.append(days_late(invoice.due_on, today))
        if invoice.status == InvoiceStatus.OPEN and invoice.outstanding_minor > 0:
            issued_on = day_of(invoice.issued_at, timezone)
            oldest_unpaid = min(oldest_unpaid or issued_on, issued_on)
    average = (
        str((Decimal(sum(lateness)) / len(lateness)).quantize(Decimal("0.1"), ROUND_HALF_UP))
        if lateness
        else None
    )
    return {
        "client_id": client.id,
        "client_name": client.name,
        "invoices_issued": len(invoices),
        "invoices_paid": paid,
        "paid_on_time": on_time,
        "average_days_late": average,
        "worst_days_late": max(lateness) if lateness else None,
        "oldest_unpaid_days": (today - oldest_unpaid).days if oldest_unpaid else None,
    }


def _overdue(invoices: list[Invoice], today: date, *, exact: bool) -> dict[str, Any]:
    """How many invoices are past due and unpaid, and per currency the band of their
    issued totals for everyone, and what they still owe where `exact`."""
    overdue = [
        invoice
        for invoice in invoices
        if invoice.status == InvoiceStatus.OPEN
        and invoice.outstanding_minor > 0
        and invoice.due_on < today
    ]
    owed: dict[str, int] = defaultdict(int)
    issued: dict[str, int] = defaultdict(int)
    for invoice in overdue:
        owed[invoice.currency] += invoice.outstanding_minor
        # The band is of what the invoices were issued for, not of what is left: a link
        # sees its own shares settle in proportion, so a band of what is left, crossing
        # a power of ten as money arrives, would narrow the client's price down.
        issued[invoice.currency] += invoice.total_minor
    return {
        "overdue_invoices": len(overdue),
        "overdue_now": [
            {"currency": code}
            | overdue_band(issued[code], code)
            | {"amount": format_minor(amount, code) if exact else None}
            for code, amount in sorted(owed.items())
        ],
    }


# What teams read of a hold an admin placed: the admin's own words may name amounts.
PLACED_BY_ADMIN = "placed by a platform admin"


def _hold(hold: CreditHold | None, *, exact: bool) -> dict[str, Any]:
    """The hold in force, if any. Its reason is the schedule's (an invoice and its days
    late) for everyone; an admin's free text only for those who read `exact` amounts."""
    if hold is None:
        return {"credit_hold": None}
    shown = exact or hold.placed_by_user_id is None
    return {
        "credit_hold": {
            "since": hold.created_at,
            "reason": hold.reason if shown else PLACED_BY_ADMIN,
        }
    }
