"""Every statement the app's engine runs while a use case is measured, labelled by the code
that runs it, with its time."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from storm.cpu import proc_stat

LABELS = [
    # (what the statement's SQL holds, which code runs it), first match wins
    ("FOR KEY SHARE", "credit.hold_client: the client's row locked"),
    ("parties.kind", "identity.platform_party"),
    ("FROM invoices", "invoices: read or locked (get_invoice, apply_credit, refresh)"),
    ("INSERT INTO invoices", "invoices._open_invoice"),
    ("UPDATE invoice_counters", "invoices: the year's number"),
    ("INSERT INTO invoice_items", "_bill_unbilled_items: INSERT invoice_items FROM SELECT"),
    ("UPDATE submissions", "_bill_unbilled_items: UPDATE submissions SET invoice_id"),
    ("min(coalesce", "_bill_unbilled_items: first and last acceptance"),
    ("JOIN batches", "work.accepted_work: the billed items by contract, annotator, rate"),
    ("FROM contracts", "subcontract.order_contracts"),
    ("INSERT INTO invoice_lines", "ORM flush: invoice lines"),
    ("FROM invoice_lines", "invoice lines (selectin)"),
    ("INSERT INTO invoice_shares", "ORM flush: invoice shares"),
    ("FROM settlement_parts", "settlement.shares_by_line: what each share waits for"),
    ("FROM invoice_shares", "settlement.holders_of: who holds each share"),
    ("INSERT INTO settlement_parts", "settlement.record_parts"),
    ("INSERT INTO ledger_accounts", "ledger: accounts opened"),
    ("FROM ledger_accounts", "ledger.account(s): accounts found"),
    ("FROM ledger_transactions", "ledger.post: the key looked up"),
    ("INSERT INTO ledger_transactions", "ledger.post: the transaction"),
    ("INSERT INTO ledger_entries", "ledger.post: the entries (ORM flush)"),
    ("FROM payments", "payments: by reference, or unapplied ones locked"),
    ("INSERT INTO payments", "collection.receive_payment: the payment"),
    ("INSERT INTO payment_applications", "credit._apply: the application"),
    ("UPDATE payments", "ORM flush: payment.applied_minor"),
    ("UPDATE invoices", "ORM flush: invoice paid"),
    ("FROM orders", "orders.get_order"),
    ("SAVEPOINT", "savepoints (begin_nested)"),
]


def label_of(statement: str) -> str:
    for needle, label in LABELS:
        if needle in statement:
            return label
    return " ".join(statement.split())[:60]


@dataclass
class StatementLog:
    """Every statement the app's engine runs, with its time, while `calls` is not None."""

    calls: list | None = None
    backends: set[int] = field(default_factory=set)  # the app's PostgreSQL backends' pids

    def attach(self, engine) -> None:
        from sqlalchemy import event

        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        conn.info["bench_started"] = time.perf_counter()
        if "bench_pid" not in conn.info:  # once per connection (psycopg knows it, no query)
            conn.info["bench_pid"] = conn.connection.dbapi_connection.info.backend_pid
            self.backends.add(conn.info["bench_pid"])

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.calls is not None:
            seconds = time.perf_counter() - conn.info.pop("bench_started")
            self.calls.append((statement, seconds))

    def backend_cpu(self) -> float | None:
        """CPU seconds used so far by the app's backends (from /proc; None elsewhere)."""
        stats = [proc_stat(pid) for pid in self.backends]
        return sum(stat[2] for stat in stats if stat) if stats and any(stats) else None

    def start(self) -> None:
        self.calls = []

    def stop(self) -> dict[str, Any]:
        """The statements since start: how many, their time, and by label (slowest first)."""
        calls, self.calls = self.calls or [], None
        by_label: dict[str, list[float]] = defaultdict(list)
        for statement, seconds in calls:
            by_label[label_of(statement)].append(seconds)
        return {
            "statements": len(calls),
            "db_seconds": round(sum(seconds for _, seconds in calls), 3),
            "by_label": {
                label: {"count": len(times), "seconds": round(sum(times), 3)}
                for label, times in sorted(by_label.items(), key=lambda kv: -sum(kv[1]))
            },
        }
