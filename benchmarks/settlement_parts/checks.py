"""The answers of a settlement, checked against the database: each figure must be 0."""

from __future__ import annotations

import psycopg

LEDGER = {
    "ledger entries not summing to zero": """
        SELECT abs(coalesce(sum(amount_minor), 0)) FROM ledger_entries""",
    "unbalanced ledger transactions": """
        SELECT count(*) FROM (SELECT transaction_id FROM ledger_entries
                              GROUP BY 1 HAVING sum(amount_minor) <> 0) x""",
}

SETTLEMENT = {
    **LEDGER,
    "settled parts other than the payment, in fen": """
        SELECT abs(%(amount)s - coalesce(sum(p.amount_minor), 0)) FROM settlement_parts p
        JOIN payment_applications a ON a.id = p.application_id
        WHERE a.payment_id = %(payment)s""",
    "payment not applied whole to the invoice, in fen": """
        SELECT abs(%(amount)s - coalesce(sum(amount_minor), 0))
             + abs(%(amount)s - (SELECT applied_minor FROM payments WHERE id = %(payment)s))
             + abs(%(amount)s - (SELECT paid_minor FROM invoices WHERE id = %(invoice)s))
        FROM payment_applications WHERE payment_id = %(payment)s AND invoice_id = %(invoice)s""",
    "shares settled beyond their amount": """
        SELECT count(*) FROM invoice_shares s
        JOIN (SELECT share_id, sum(amount_minor) AS got FROM settlement_parts GROUP BY 1) p
            ON p.share_id = s.id
        WHERE p.got NOT BETWEEN least(s.amount_minor, 0) AND greatest(s.amount_minor, 0)""",
    "holders whose available is not what was settled to them, or pending not the rest": """
        WITH shares AS (
            SELECT party_id, coalesce(user_id, 0) AS u, sum(amount_minor) AS share
            FROM invoice_shares GROUP BY 1, 2
        ), got AS (
            SELECT s.party_id, coalesce(s.user_id, 0) AS u, sum(p.amount_minor) AS got
            FROM settlement_parts p JOIN invoice_shares s ON s.id = p.share_id GROUP BY 1, 2
        ), balances AS (
            SELECT a.party_id, coalesce(a.user_id, 0) AS u,
                   -sum(e.amount_minor) FILTER (WHERE a.kind = 'available') AS available,
                   -sum(e.amount_minor) FILTER (WHERE a.kind = 'pending') AS pending
            FROM ledger_accounts a JOIN ledger_entries e ON e.account_id = a.id
            WHERE a.kind IN ('pending', 'available') GROUP BY 1, 2
        )
        SELECT count(*) FROM shares s
        LEFT JOIN got g USING (party_id, u) LEFT JOIN balances b USING (party_id, u)
        WHERE coalesce(b.available, 0) <> coalesce(g.got, 0)
           OR coalesce(b.pending, 0) <> s.share - coalesce(g.got, 0)""",
    "client's receivable not the invoices' unpaid totals, or credit left": """
        SELECT abs((SELECT sum(total_minor - paid_minor) FROM invoices)
                   - coalesce(sum(e.amount_minor) FILTER (WHERE a.kind = 'receivable'), 0))
             + abs(coalesce(sum(e.amount_minor) FILTER (WHERE a.kind = 'credit'), 0))
        FROM ledger_accounts a JOIN ledger_entries e ON e.account_id = a.id
        WHERE a.party_id = 2""",
}

FULL = {
    "shares of the invoice not settled whole": """
        SELECT count(*) FROM invoice_shares s
        LEFT JOIN (SELECT share_id, sum(amount_minor) AS got FROM settlement_parts GROUP BY 1) p
            ON p.share_id = s.id
        WHERE s.invoice_id = %(invoice)s AND coalesce(p.got, 0) <> s.amount_minor""",
    "annotators whose available is not their share": """
        SELECT count(*) FROM invoice_shares s
        LEFT JOIN (SELECT a.user_id, -sum(e.amount_minor) AS available
                   FROM ledger_accounts a JOIN ledger_entries e ON e.account_id = a.id
                   WHERE a.kind = 'available' AND a.user_id IS NOT NULL GROUP BY 1) b
            ON b.user_id = s.user_id
        WHERE s.invoice_id = %(invoice)s AND s.role = 'annotator'
          AND coalesce(b.available, 0) <> s.amount_minor""",
    "invoice not paid": """
        SELECT count(*) FROM invoices
        WHERE id = %(invoice)s AND (status <> 'paid' OR paid_minor <> total_minor)""",
}

PARTIAL = {
    # Two largest-remainder splits (over lines, then a line's shares): each part is within
    # 2 fen of the share's exact pro-rata part of the payment.
    "shares' parts 2 fen or more from their pro-rata part": """
        SELECT count(*) FROM invoice_shares s
        JOIN invoices i ON i.id = s.invoice_id
        LEFT JOIN (SELECT p.share_id, sum(p.amount_minor) AS got FROM settlement_parts p
                   JOIN payment_applications a ON a.id = p.application_id
                   WHERE a.payment_id = %(payment)s GROUP BY 1) p ON p.share_id = s.id
        WHERE s.invoice_id = %(invoice)s
          AND abs(coalesce(p.got, 0) * i.total_minor - %(amount)s * s.amount_minor)
              >= 2 * i.total_minor""",
    "invoice not open with the payment as paid": """
        SELECT count(*) FROM invoices
        WHERE id = %(invoice)s AND (status <> 'open' OR paid_minor <> %(amount)s)""",
}


def check_settlement(
    conninfo: str, invoice_id: int, payment_id: int, amount: int, full: bool
) -> dict[str, int]:
    """The figures of a settled payment (the only payment in the database), each 0 if sound."""
    params = {"invoice": invoice_id, "payment": payment_id, "amount": amount}
    checks = {**SETTLEMENT, **(FULL if full else PARTIAL)}
    with psycopg.connect(conninfo) as conn:
        return {what: int(conn.execute(sql, params).fetchone()[0]) for what, sql in checks.items()}


def check_ledger(conninfo: str) -> dict[str, int]:
    with psycopg.connect(conninfo) as conn:
        return {what: int(conn.execute(sql).fetchone()[0]) for what, sql in LEDGER.items()}
