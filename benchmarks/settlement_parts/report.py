"""The printed lines: one per figure."""

from __future__ import annotations

from typing import Any

SCENARIOS = {"full": "the invoice's total", "third": "a third of it (partial)"}


def cny(minor: int) -> str:
    return f"{minor / 100:,.2f} CNY"


def print_order(role: str, result: dict[str, Any], target: float) -> None:
    invoice = result["invoice"]
    raw = result["raw_sql"]
    print(
        f"  order {role}: {result['items']:,} items, {result['annotators']:,} annotators, "
        f"{invoice['shares']:,} shares; invoice {invoice['number']} {cny(invoice['total_minor'])}"
    )
    figures = [
        (
            "invoice (invoice_accepted_items, one unit of work)",
            f"{invoice['seconds']:8.2f} s" if "seconds" in invoice else "(a kept database)",
        ),
        (
            "raw aggregate SQL, best of runs",
            f"{raw['best_seconds']:8.3f} s   ({raw['rows']:,} rows; "
            + ", ".join(f"{r['seconds']:.3f}" for r in raw["runs"])
            + ")",
        ),
    ]
    for name, settled in result["settle"].items():
        best = settled["best_run"]
        verdict = "met" if settled["ratio_to_raw"] <= target else "MISSED"
        figures.append(
            (
                f"settle {SCENARIOS[name]}, best of runs",
                f"{settled['best_seconds']:8.3f} s   "
                f"({settled['best_seconds'] * 1e6 / invoice['shares']:.0f} us a share) "
                f"x{settled['ratio_to_raw']:.1f} the raw SQL "
                f"(target <= x{target:g}: {verdict}); runs "
                + ", ".join(f"{s:.2f}" for s in settled["seconds"]),
            )
        )
        figures.append(
            (
                "  its statements, db time, app CPU, PostgreSQL CPU",
                f"{best['statements']:8,}     {best['db_seconds']:.2f} s db, "
                f"{best['app_cpu_seconds']:.2f} s app CPU, "
                f"{best['postgres_cpu_seconds']} s PostgreSQL CPU "
                f"(other processes: {best['other_load']} cores busy)",
            )
        )
        memory = settled["memory"]
        figures.append(
            (
                "  its peak memory (tracemalloc; RSS before -> peak)",
                f"{memory['tracemalloc_peak_mb']:8.1f} MB  "
                f"({memory['tracemalloc_peak_mb'] * 1024 / invoice['shares']:.1f} kB a share) "
                f"RSS {memory['rss_before_mb']} -> "
                f"{memory['rss_peak_mb']} MB (ru_maxrss {memory['ru_maxrss_before_mb']} -> "
                f"{memory['ru_maxrss_after_mb']} MB)",
            )
        )
        slowest = list(best["by_label"].items())[:3]
        figures.append(
            (
                "  its slowest statements",
                "; ".join(f"{label} x{s['count']} {s['seconds']:.2f} s" for label, s in slowest),
            )
        )
    for label, value in figures:
        print(f"    {label:<58} {value}")
    if result["profile"]:
        print(f"    profile (cProfile, full payment): {result['profile']['file']}")
        for what in ("settle_calls", "ledger_post_calls"):
            print(f"      {what.replace('_', ' ')} (cumulative):")
            for f in result["profile"][what][:6]:
                print(f"        {f['seconds']:7.2f} s  {f['function']}")


def print_growth(growth: dict[str, Any]) -> None:
    for name, figures in growth.items():
        print(
            f"  by items ({SCENARIOS[name]}): {figures['items'][0]:,} / {figures['items'][1]:,} "
            f"items = x{figures['items_ratio']:g}: settle x{figures['seconds_ratio']}, "
            f"tracemalloc peak x{figures['memory_ratio']} "
            f"({figures['memory_mb'][0]} / {figures['memory_mb'][1]} MB), "
            f"raw SQL x{figures['raw_ratio']}"
        )
