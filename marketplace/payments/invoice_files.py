"""Invoices as CSV files, for the client's accounts payable: one invoice's lines, or a list."""

import csv
import io
from collections.abc import Iterable

from marketplace.money import format_micros, format_minor
from marketplace.payments.models import Invoice

LINE_COLUMNS = (
    "invoice",
    "issued_at",
    "due_on",
    "currency",
    "kind",
    "description",
    "period_start",
    "period_end",
    "quantity",
    "unit_price",
    "amount",
)
LIST_COLUMNS = (
    "invoice",
    "client",
    "order_id",
    "currency",
    "issued_at",
    "due_on",
    "items_amount",
    "fee",
    "total",
    "credited",
    "paid",
    "outstanding",
    "status",
)


def csv_text(columns: Iterable[str], rows: Iterable[Iterable]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()


def invoice_csv(invoice: Invoice) -> str:
    """A row per line of the invoice, the items lines then the fee; amounts as decimals."""
    return csv_text(
        LINE_COLUMNS,
        (
            [
                invoice.number,
                invoice.issued_at.isoformat(),
                invoice.due_on.isoformat(),
                invoice.currency,
                line.kind,
                line.description,
                line.period_start or "",
                line.period_end or "",
                "" if line.quantity is None else line.quantity,
                "" if line.unit_price_micros is None else format_micros(line.unit_price_micros),
                format_minor(line.amount_minor, invoice.currency),
            ]
            for line in invoice.lines
        ),
    )


def invoices_csv(invoices: Iterable[Invoice]) -> str:
    """A row per invoice: what it billed, what was credited and paid, what is outstanding."""

    def money(invoice: Invoice, minor: int) -> str:
        return format_minor(minor, invoice.currency)

    return csv_text(
        LIST_COLUMNS,
        (
            [
                invoice.number,
                invoice.client.name,
                invoice.order_id,
                invoice.currency,
                invoice.issued_at.isoformat(),
                invoice.due_on.isoformat(),
                money(invoice, invoice.items_minor),
                money(invoice, invoice.fee_minor),
                money(invoice, invoice.total_minor),
                money(invoice, invoice.credited_minor),
                money(invoice, invoice.paid_minor),
                money(invoice, invoice.outstanding_minor),
                invoice.status,
            ]
            for invoice in invoices
        ),
    )
