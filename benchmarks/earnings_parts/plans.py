"""Plans: EXPLAIN (ANALYZE, BUFFERS) of a view's statements, their figures, the plans text."""

from __future__ import annotations

import re
from typing import Any

import psycopg
from storm.latency import percentile

from .measure import VIEWS, Run, ms
from .world import token_of


def explain(
    conninfo: str, run: Run, fresh: int | None, min_ms: float = 0.0
) -> list[dict[str, Any]]:
    """EXPLAIN (ANALYZE, BUFFERS) of the statements of the run's first request: for `fresh`, a
    team mate of its caller whom no request has read yet (her user id and token swapped in),
    so BUFFERS shows what a first reading costs; with no `fresh`, as they ran."""
    from marketplace.identity.service import digest

    user = next(iter(run.captured))
    swap = {user: fresh, digest(token_of(user)): digest(token_of(fresh))} if fresh else {}
    plans = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for label, statement, params in run.captured[user]:
            if ms(percentile(sorted(run.statements[label]), 50)) < min_ms:
                continue
            swapped = {k: swap.get(v, v) for k, v in params.items()}
            rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, swapped).fetchall()
            plan = "\n".join(r[0] for r in rows)
            plans.append(
                {
                    "label": label,
                    "sql": statement,
                    "params": {k: str(v) for k, v in swapped.items()},
                    "plan": plan,
                    **plan_figures(plan),
                }
            )
    return plans


def plan_figures(plan: str) -> dict[str, Any]:
    """What a plan did, whatever the machine's load: the pages it touched (its top node's
    buffers: found in shared_buffers, read from the OS) and its planning and execution time."""
    figures: dict[str, Any] = {}
    buffers = re.search(r"Buffers: shared((?: \w+=\d+)+)", plan)
    if buffers:
        pages = dict(re.findall(r"(\w+)=(\d+)", buffers.group(1)))
        figures["pages"] = {k: int(pages.get(k, 0)) for k in ("hit", "read")}
    for what in ("Planning", "Execution"):
        found = re.search(rf"{what} Time: ([\d.]+) ms", plan)
        if found:
            figures[f"{what.lower()}_ms"] = float(found.group(1))
    return figures


def plans_text(result: dict[str, Any]) -> str:
    out = [
        f"Plans of the earnings views, run {result['timestamp']} ({result['code']['code']}, "
        f"commit {result['code']['commit']}); world: {result['world'].get('counts')}.",
        "Each annotator view's statements as the app sent them, for an annotator no request",
        "had read yet (so BUFFERS 'read' is what a first request finds outside shared_buffers);",
        "for the owner, the statements slower than 5 ms as they ran.",
    ]
    for phase_name, phase in result["phases"].items():
        for view, plans in phase["plans"].items():
            timings = phase["views"][view]["statements_ms"]
            for plan in plans:
                t = timings.get(plan["label"], {})
                out += [
                    "",
                    "=" * 100,
                    f"{phase_name} / {VIEWS[view]} / {plan['label']}"
                    f"  (over the run: p50 {t.get('p50')} ms, p95 {t.get('p95')} ms)",
                    "=" * 100,
                    " ".join(plan["sql"].split()),
                    f"params: {plan['params']}",
                    "",
                    plan["plan"],
                ]
    return "\n".join(out) + "\n"
