"""Measuring: the views' requests, each statement's time, the summaries and the printed lines."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from storm.cpu import CpuMeter
from storm.latency import percentile

from .world import token_of

VIEWS = {
    "earnings": "GET /api/v1/me/earnings",
    "days": "GET /api/v1/me/earnings/days",
    "owner": "GET /api/v1/me/earnings (owner)",
}

LABELS = [
    # (what the statement's SQL holds, which code runs it), first match wins
    ("FROM api_tokens", "auth: token and roles"),
    ("JOIN invoice_shares", "_waiting_invoices"),
    ("FROM invoice_lines", "_waiting_invoices: invoice lines (selectin)"),
    ("SELECT DISTINCT contracts.order_id", "_unbilled_margins: orders with unbilled work"),
    ("JOIN batches ON", "_unbilled_margins: accepted_work(unbilled_only)"),
    ("FROM contracts", "_unbilled_margins: order_contracts"),
    ("invoice_items", "_unbilled"),
    ("invoice_id IS NULL", "_unbilled"),
    ("sum(daily_tallies", "work_totals"),
    ("FROM daily_tallies", "work_days"),
    ("FROM ledger_accounts", "ledger.earnings"),
    ("FROM parties", "the team (session.get)"),
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

    def attach(self, engine) -> None:
        from sqlalchemy import event

        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.calls is not None:
            seconds = time.perf_counter() - conn.info.pop("bench_started")
            self.calls.append((statement, dict(parameters or {}), seconds))


@dataclass
class Run:
    """One view measured over a sample of callers."""

    view: str
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    db_seconds: list[float] = field(default_factory=list)
    statements: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    round_trips: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    captured: dict[int, list] = field(default_factory=dict)  # user -> [(label, sql, params)]
    machine: dict[str, Any] | None = None


def path_of(view: str, today: date, period_days: int) -> str:
    if view == "days":
        since = today - timedelta(days=period_days - 1)
        return f"/api/v1/me/earnings/days?from={since.isoformat()}&to={today.isoformat()}"
    return "/api/v1/me/earnings"


def check_answer(view: str, body: dict, period_days: int) -> str | None:
    """What is wrong with an answer, if anything."""
    if view == "owner":
        return None if body["holdings"] else "no holdings"
    if view == "days":
        if len(body["days"]) != period_days:
            return f"{len(body['days'])} days in a {period_days}-day period"
        return None
    holdings = body["holdings"]
    if len(holdings) != 1 or holdings[0]["holder"] != "annotator":
        return f"holdings {holdings!r}"
    holding = holdings[0]
    waiting = sum(Decimal(w["amount"]) for w in holding["waiting_on"])
    if Decimal(holding["pending"]) != waiting:
        return f"pending {holding['pending']} but waiting on {waiting}"
    if not holding["unbilled"] or Decimal(holding["paid"]) <= 0:
        return f"no unbilled work or nothing paid: {holding!r}"
    return None


def request(client, log: StatementLog, run: Run, user: int, path: str, period: int) -> None:
    """One request as the user (her own token), timed, its statements too."""
    log.calls = []
    started, cpu = time.perf_counter(), time.process_time()
    response = client.get(path, headers={"Authorization": f"Bearer {token_of(user)}"})
    run.seconds.append(time.perf_counter() - started)
    run.cpu_seconds.append(time.process_time() - cpu)
    calls, log.calls = log.calls, None
    if response.status_code != 200:
        run.failures.append(f"user {user}: {response.status_code} {response.get_data()[:200]}")
        return
    problem = check_answer(run.view, response.get_json(), period)
    if problem:
        run.failures.append(f"user {user}: {problem}")
    seen: dict[str, int] = defaultdict(int)
    captured = []
    for statement, params, seconds in calls:
        label = label_of(statement)
        seen[label] += 1
        if seen[label] > 1:
            label = f"{label} #{seen[label]}"
        run.statements[label].append(seconds)
        captured.append((label, statement, params))
    run.db_seconds.append(sum(seconds for _, _, seconds in calls))
    run.round_trips.append(len(calls))
    run.captured[user] = captured


def machine_load(meter: CpuMeter) -> dict[str, Any] | None:
    """How busy the machine's cores were since the meter started, and with what."""
    machine = meter.since_start(1)
    if not machine:
        return None
    return {
        "cores": machine["cores"],
        "cores_busy": {
            "postgres (all databases)": machine["cores_busy"]["postgres"],
            "this process (app and client)": machine["cores_busy"]["bench_client"],
            "other processes": machine["cores_busy"]["other"],
        },
    }


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 2)


def spread(seconds: list[float]) -> dict[str, Any]:
    values = sorted(seconds)
    return {
        "count": len(values),
        "p50": ms(percentile(values, 50)),
        "p95": ms(percentile(values, 95)),
        "p99": ms(percentile(values, 99)),
        "max": ms(values[-1] if values else None),
    }


def summary(run: Run) -> dict[str, Any]:
    return {
        "request": VIEWS[run.view],
        "latency_ms": spread(run.seconds),
        "app_cpu_ms_per_request": spread(run.cpu_seconds),
        "db_ms_per_request": spread(run.db_seconds),
        "statements_per_request": max(run.round_trips, default=0),
        "statements_ms": {label: spread(times) for label, times in run.statements.items()},
        "machine": run.machine,
        "failures": run.failures[:20],
        "failed": len(run.failures),
    }


def print_phase(name: str, phase: dict[str, Any], target_ms: float) -> None:
    for view, result in phase["views"].items():
        lat = result["latency_ms"]
        db = result["db_ms_per_request"]
        cpu = result["app_cpu_ms_per_request"]
        slowest = max(result["statements_ms"].items(), key=lambda kv: kv[1]["p95"])
        verdict = "met" if lat["p95"] <= target_ms else "NOT met"
        other = (result["machine"] or {}).get("cores_busy", {}).get("other processes")
        print(
            f"  {name:<19} {result['request']:<32} p50 {lat['p50']:7.2f}  p95 {lat['p95']:7.2f}"
            f"  max {lat['max']:7.2f} ms  | app CPU p50 {cpu['p50']:.2f}, db p50 {db['p50']:.2f}"
            f" ms, {result['statements_per_request']} statements, slowest {slowest[0]}"
            f" (p95 {slowest[1]['p95']:.2f} ms)"
            + (f" | p95 <= {target_ms:g} ms: {verdict}" if view != "owner" else "")
            + (f" | other load {other} cores" if other is not None else "")
            + (f" | FAILED {result['failed']}" if result["failed"] else ""),
            flush=True,
        )
