"""Measuring: the raw aggregate SQL, settling a payment through the real service (its time,
statements, CPU and memory), the reset between runs, and the profile."""

from __future__ import annotations

import cProfile
import gc
import io
import pstats
import resource
import time
import tracemalloc
from pathlib import Path
from typing import Any

import psycopg
from storm.cpu import CpuMeter

from .checks import check_settlement
from .invoicing import admin_actor
from .statements import StatementLog
from .world import Order, World

# The aggregate that makes the annotators' pay from the items: their accepted items by rate.
RAW_SQL = """SELECT annotator_user_id, rate_micros, count(*) FROM submissions
WHERE order_id = %(order)s AND status = 'accepted' GROUP BY 1, 2"""

# What settling writes; deleted again (rows above the marks) between runs.
SETTLED = ("settlement_parts", "payment_applications", "payments", "ledger_entries",
           "ledger_transactions")  # fmt: skip


def marks(conninfo: str) -> dict[str, int]:
    """The last id of each table settling writes, before any payment."""
    with psycopg.connect(conninfo) as conn:
        return {
            table: conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]
            for table in SETTLED
        }


def reset(conninfo: str, marked: dict[str, int]) -> None:
    """Back to the invoices as issued: every payment, application, settled part and ledger
    transaction since the marks deleted, the invoices open and unpaid again, vacuumed. The
    ledger accounts opened meanwhile stay (an earner's account is opened once)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for table in SETTLED:
            conn.execute(f"DELETE FROM {table} WHERE id > %s", (marked[table],))
        conn.execute("UPDATE invoices SET status = 'open', paid_minor = 0, paid_at = NULL")
        conn.execute(f"VACUUM (ANALYZE) {', '.join(SETTLED)}, invoices, ledger_accounts")


def time_raw(conn: psycopg.Connection, order: Order) -> dict[str, Any]:
    started = time.perf_counter()
    rows = conn.execute(RAW_SQL, {"order": order.id}).fetchall()
    seconds = time.perf_counter() - started
    conn.rollback()
    return {"seconds": round(seconds, 4), "rows": len(rows)}


def explain_raw(conninfo: str, order: Order) -> str:
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + RAW_SQL, {"order": order.id}).fetchall()
    return "\n".join(r[0] for r in rows)


def status_kb(field: str) -> int | None:
    """A figure of /proc/self/status (VmRSS, VmHWM) in kB; None off Linux."""
    try:
        for row in Path("/proc/self/status").read_text().splitlines():
            if row.startswith(field + ":"):
                return int(row.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss() -> bool:
    """Start VmHWM (the peak RSS) afresh at the current RSS (Linux 4.0+)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def settle_once(
    app,
    log: StatementLog,
    world: World,
    invoice: dict[str, Any],
    amount: int,
    reference: str,
    *,
    memory: bool = False,
    profiler: cProfile.Profile | None = None,
) -> dict[str, Any]:
    """One bank transfer of `amount` naming the invoice, recorded by a platform admin through
    `record_bank_transfer` in its own unit of work (payment, credit, application, settlement
    down the chain, commit): its time, statements, CPU and (`memory`) peak memory."""
    from marketplace.db import unit_of_work
    from marketplace.money import from_minor
    from marketplace.payments.collection import record_bank_transfer

    gc.collect()
    out: dict[str, Any] = {"amount_minor": amount}
    rss_before, maxrss_before = status_kb("VmRSS"), resource.getrusage(resource.RUSAGE_SELF)
    hwm = reset_peak_rss()
    if memory:
        tracemalloc.start()
    meter = CpuMeter()
    backend_cpu = log.backend_cpu()
    log.start()
    started, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    with app.app_context(), unit_of_work() as session:
        payment, recorded = record_bank_transfer(
            session,
            admin_actor(),
            amount=from_minor(amount, "CNY"),
            reference=reference,
            received_on=world.today,
            invoice_id=invoice["invoice_id"],
        )
        payment_id = payment.id
    if profiler:
        profiler.disable()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    statements = log.stop()
    backend_cpu = log.backend_cpu() - (backend_cpu or 0) if backend_cpu is not None else None
    load = meter.since_start(1)
    # RSS: the process's resident memory before, and its peak during the settle (VmHWM reset
    # first); ru_maxrss is the peak of the process's whole life, before and after.
    out["rss"] = {
        "before_mb": round(rss_before / 1024, 1) if rss_before else None,
        "peak_mb": round(status_kb("VmHWM") / 1024, 1) if hwm else None,
        "ru_maxrss_before_mb": round(maxrss_before.ru_maxrss / 1024, 1),
        "ru_maxrss_after_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if memory:
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out["tracemalloc"] = {
            "peak_mb": round(peak / 2**20, 2),
            "left_mb": round(current / 2**20, 2),
        }
    if not recorded:
        raise SystemExit(f"the payment {reference} was there already: the reset failed")
    out.update(
        payment_id=payment_id,
        seconds=round(seconds, 3),
        app_cpu_seconds=round(cpu, 3),
        postgres_cpu_seconds=None if backend_cpu is None else round(backend_cpu, 3),
        # Cores busy meanwhile with other processes: above 0.2, compare runs with care.
        other_load=load["cores_busy"]["other"] if load else None,
        **statements,
    )
    return out


def settle_checked(app, conninfo, log, world, invoice, scenario, amount, reference, **kw):
    run = settle_once(app, log, world, invoice, amount, reference, **kw)
    run["checks"] = check_settlement(
        conninfo, invoice["invoice_id"], run["payment_id"], amount, scenario == "full"
    )
    run["failed"] = {what: v for what, v in run["checks"].items() if v}
    if run["failed"]:
        print(f"    FAILED checks ({scenario}, {reference}): {run['failed']}")
    return run


def profile_text(profiler: cProfile.Profile) -> tuple[str, list[dict[str, Any]]]:
    """The profile as text (cumulative and own time), and the marketplace functions by
    cumulative time."""
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(30)
    # Where the time of settle() and of ledger.post() goes, call by call.
    stats.sort_stats("cumulative").print_callees(r"settlement.py:\d+\(settle\)")
    stats.print_callees(r"ledger.py:\d+\(post\)")
    stats.print_callees(r"ledger.py:\d+\(_held\)")
    ours = []
    for (path, lineno, name), (_, calls, own, cumulative, _) in stats.stats.items():
        if "/marketplace/" in path:
            where = path[path.rindex("/marketplace/") + 1 :]
            ours.append(
                {
                    "function": f"{where}:{lineno}({name})",
                    "calls": calls,
                    "own_s": round(own, 3),
                    "cumulative_s": round(cumulative, 3),
                }
            )
    ours.sort(key=lambda f: -f["cumulative_s"])
    return text.getvalue(), {
        "marketplace_functions": ours[:20],
        "settle_calls": callees(stats, "settlement.py", "settle"),
        "ledger_post_calls": callees(stats, "ledger.py", "post"),
    }


def callees(stats: pstats.Stats, file: str, function: str) -> list[dict[str, Any]]:
    """What a function's time went to: each function it called, with the time spent in it
    from there (cumulative), slowest first."""
    out = []
    for (path, lineno, name), (*_, callers) in stats.stats.items():
        for (caller_path, _, caller_name), edge in callers.items():
            if caller_path.endswith(file) and caller_name == function:
                where = path.split("site-packages/")[-1].split("/marketplace/")[-1]
                out.append({"function": f"{where}:{lineno}({name})", "seconds": round(edge[3], 3)})
    return sorted(out, key=lambda f: -f["seconds"])[:10]


def scenarios(invoice: dict[str, Any]) -> dict[str, int]:
    """The payments measured: the invoice's total, and a third of it."""
    return {"full": invoice["total_minor"], "third": invoice["total_minor"] // 3}


def measure_order(
    app, conninfo, log, world, order: Order, invoice, args, marked, output: Path, stamp: str
) -> dict[str, Any]:
    """The raw SQL and both payments, taking turns round by round (the machine drifts), each
    payment from the invoice as issued; then one run of each under tracemalloc (and, with
    --profile, under cProfile)."""
    raw_runs, runs = [], {name: [] for name in scenarios(invoice)}
    with psycopg.connect(conninfo) as conn:
        for _ in range(args.warmup):
            time_raw(conn, order)
        for round_ in range(args.rounds):
            raw_runs.append(time_raw(conn, order))
            for name, amount in scenarios(invoice).items():
                reset(conninfo, marked)
                reference = f"BANK-{order.id}-{name}-{round_}"
                runs[name].append(
                    settle_checked(app, conninfo, log, world, invoice, name, amount, reference)
                )
    memory = {}
    for name, amount in scenarios(invoice).items():
        reset(conninfo, marked)
        reference = f"BANK-{order.id}-{name}-memory"
        memory[name] = settle_checked(
            app, conninfo, log, world, invoice, name, amount, reference, memory=True
        )
    profile, profiled = None, {"failed": {}}
    if args.profile:
        profiler = cProfile.Profile()
        reset(conninfo, marked)
        profiled = settle_checked(
            app, conninfo, log, world, invoice, "full", invoice["total_minor"],
            f"BANK-{order.id}-full-profile", profiler=profiler,
        )  # fmt: skip
        text, found = profile_text(profiler)
        path = output / f"settlement-{stamp}-profile-order{order.id}.txt"
        path.write_text(text)
        profiler.dump_stats(path.with_suffix(".prof"))  # for snakeviz, flameprof ...
        profile = {"file": path.name, **found}
    reset(conninfo, marked)
    raw_best = min(r["seconds"] for r in raw_runs)
    result: dict[str, Any] = {
        "items": order.items,
        "annotators": world.annotators,
        "invoice": invoice,
        "raw_sql": {
            "sql": RAW_SQL,
            "best_seconds": raw_best,
            "runs": raw_runs,
            "rows": raw_runs[0]["rows"],
            "plan": explain_raw(conninfo, order),
        },
        "settle": {},
        "profile": profile,
    }
    for name, measured in runs.items():
        best = min(measured, key=lambda r: r["seconds"])
        result["settle"][name] = {
            "amount_minor": best["amount_minor"],
            "best_seconds": best["seconds"],
            "seconds": [r["seconds"] for r in measured],
            "ratio_to_raw": round(best["seconds"] / raw_best, 2),
            "best_run": {k: v for k, v in best.items() if k not in ("checks", "failed")},
            "memory": {
                "tracemalloc_peak_mb": memory[name]["tracemalloc"]["peak_mb"],
                "tracemalloc_left_mb": memory[name]["tracemalloc"]["left_mb"],
                "rss_before_mb": best["rss"]["before_mb"],
                "rss_peak_mb": best["rss"]["peak_mb"],
                "ru_maxrss_before_mb": best["rss"]["ru_maxrss_before_mb"],
                "ru_maxrss_after_mb": best["rss"]["ru_maxrss_after_mb"],
                "run_under_tracemalloc_seconds": memory[name]["seconds"],
            },
            "checks": best["checks"],
            "failed": sum(bool(r["failed"]) for r in [*measured, memory[name]])
            + (name == "full" and bool(profiled["failed"])),
        }
    return result


def warm_up(app, conninfo, log, world, invoice, marked) -> dict[str, Any]:
    """A first settlement of the main invoice, unmeasured but reported: it opens the holders'
    available accounts (kept by the resets) and warms the app's caches."""
    run = settle_checked(
        app, conninfo, log, world, invoice, "full", invoice["total_minor"], "BANK-first"
    )
    reset(conninfo, marked)
    return run
