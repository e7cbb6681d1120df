"""The aging report: what each client owed on a day, by how long it was past due.

"As of" any day, past or present: an invoice counts if it was issued by the end of
that day, for what was still outstanding then (its total less the payments applied
and the credit notes issued by then, refunds added back), in the bucket of its days
past due on that day.
"""

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.identity.actor import Actor
from marketplace.identity.models import Party, Role
from marketplace.money import format_minor
from marketplace.payments.invoice_files import csv_text
from marketplace.payments.models import Application, CreditNote, Invoice
from marketplace.receivables.days import end_of_day

# (name, fewest days past due, most days past due); `current` is not yet due.
BUCKETS = (
    ("current", None, 0),
    ("1_30", 1, 30),
    ("31_60", 31, 60),
    ("61_90", 61, 90),
    ("91_180", 91, 180),
    ("over_180", 181, None),
)
BUCKET_NAMES = [name for name, _, _ in BUCKETS]


def bucket_of(days_past_due: int) -> str:
    for name, low, high in BUCKETS:
        if (low is None or days_past_due >= low) and (high is None or days_past_due <= high):
            return name
    raise AssertionError(days_past_due)


def aging_report(
    session: Session, actor: Actor | None, *, as_of: date, timezone: str, currency: str | None
) -> dict[str, Any]:
    """Open receivables per client and currency, and in total per currency, in the
    usual buckets as they stood at the end of `as_of` (platform admins).

    Amounts are exact: each is a sum of minor units, written as decimal strings.
    """
    if actor is not None:
        actor.require(Role.PLATFORM_ADMIN)
    cutoff = end_of_day(as_of, timezone)
    applied = (
        select(Application.invoice_id, func.sum(Application.amount_minor).label("amount"))
        .where(Application.created_at < cutoff)
        .group_by(Application.invoice_id)
        .subquery()
    )
    credited = (
        select(CreditNote.invoice_id, func.sum(CreditNote.amount_minor).label("amount"))
        .where(CreditNote.created_at < cutoff)
        .group_by(CreditNote.invoice_id)
        .subquery()
    )
    query = (
        select(
            Invoice.client_party_id,
            Party.name,
            Invoice.currency,
            Invoice.due_on,
            Invoice.total_minor
            - func.coalesce(applied.c.amount, 0)
            - func.coalesce(credited.c.amount, 0),
        )
        .join(Party, Party.id == Invoice.client_party_id)
        .outerjoin(applied, applied.c.invoice_id == Invoice.id)
        .outerjoin(credited, credited.c.invoice_id == Invoice.id)
        .where(Invoice.issued_at < cutoff)
    )
    if currency:
        query = query.where(Invoice.currency == currency)
    clients: dict[tuple[int, str], dict[str, Any]] = {}
    totals: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(BUCKET_NAMES, 0))
    for client_id, name, code, due_on, outstanding in session.execute(query):
        outstanding = int(outstanding)
        if outstanding <= 0:
            continue
        bucket = bucket_of((as_of - due_on).days)
        row = clients.setdefault(
            (client_id, code),
            {
                "client_id": client_id,
                "client_name": name,
                "currency": code,
                "invoices": 0,
                "buckets": dict.fromkeys(BUCKET_NAMES, 0),
            },
        )
        row["invoices"] += 1
        row["buckets"][bucket] += outstanding
        totals[code][bucket] += outstanding
    return {
        "as_of": as_of,
        "buckets": BUCKET_NAMES,
        "clients": [
            _amounts(row, row["buckets"], row["currency"])
            for _, row in sorted(clients.items(), key=_by_currency_and_name)
        ],
        "totals": [
            _amounts({"currency": code}, buckets, code) for code, buckets in sorted(totals.items())
        ],
    }


def _by_currency_and_name(item: tuple[tuple[int, str], dict[str, Any]]) -> tuple:
    (client_id, currency), row = item
    return currency, row["client_name"], client_id


def _amounts(row: dict[str, Any], buckets: dict[str, int], currency: str) -> dict[str, Any]:
    return {
        **row,
        "buckets": {name: format_minor(buckets[name], currency) for name in BUCKET_NAMES},
        "total": format_minor(sum(buckets.values()), currency),
    }


CSV_COLUMNS = ["as_of", "client_id", "client", "currency", "invoices", *BUCKET_NAMES, "total"]


def aging_csv(report: dict[str, Any]) -> str:
    """A row per client and currency, then a TOTAL row per currency; amounts as decimals."""
    rows = [
        [
            report["as_of"].isoformat(),
            row["client_id"],
            row["client_name"],
            row["currency"],
            row["invoices"],
            *(row["buckets"][name] for name in BUCKET_NAMES),
            row["total"],
        ]
        for row in report["clients"]
    ]
    rows += [
        [
            report["as_of"].isoformat(),
            "",
            "TOTAL",
            total["currency"],
            "",
            *(total["buckets"][name] for name in BUCKET_NAMES),
            total["total"],
        ]
        for total in report["totals"]
    ]
    return csv_text(CSV_COLUMNS, rows)
