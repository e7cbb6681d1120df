"""Profiling: py-spy on two gunicorn workers, its samples sorted into request phases."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

from .source import BIN, shown

PROFILE_RULES: list[tuple[str, tuple[str, ...]]] = [
    # (label, markers): a sample goes to the first label with a marker in its stack.
    ("pool checkout + pre-ping (SELECT 1)", ("do_ping (", "_checkout (sqlalchemy/pool")),
    ("signal: hold_claimed_batch", ("hold_claimed_batch (",)),
    ("signal: open_tasks", ("open_tasks (",)),
    ("claim: session.refresh(batch)", ("refresh (sqlalchemy/orm/session.py",)),
    ("claim: load batch (session.get)", ("find (marketplace/db.py",)),
    (
        "claim: conditional UPDATE, rules",
        ("claim_batch (marketplace/orders/", "give (marketplace/"),
    ),
    ("auth: token -> actor", ("current_actor (marketplace/identity/auth.py",)),
    ("commit", ("commit (sqlalchemy/orm/session.py",)),
    ("rollback (a lost claim)", ("rollback (sqlalchemy/orm/session.py",)),
    ("argument parsing", (".parse (webargs/core.py", "_raw_load_json (")),
    ("response serialization", ("dump (marshmallow/schema.py", "jsonify (", "make_response (")),
    ("teardown (session close)", ("_close_session (", "do_teardown_appcontext (")),
    ("flask/flask-smorest dispatch, other", ("flask/", "werkzeug/", "flask_smorest/")),
    ("gunicorn: read request, write response", ("gunicorn/",)),
]
IN_REQUEST = ("handle (gunicorn/workers/", "handle_request (gunicorn/workers/")
DB_WAIT = ("psycopg/waiting.py", "wait_c (", "wait_conn (")


def summarize_profile(path: Path) -> dict[str, Any]:
    """Split py-spy's collapsed stacks of the workers into request phases, DB wait vs CPU."""
    phases: Counter = Counter()
    waits: Counter = Counter()
    idle = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        if not any(marker in stack for marker in IN_REQUEST):
            idle += count
            continue
        label = next(
            (name for name, markers in PROFILE_RULES if any(m in stack for m in markers)),
            "other",
        )
        phases[label] += count
        leaf = stack.rsplit(";", 1)[-1]
        if any(marker in leaf for marker in DB_WAIT) or "psycopg" in leaf:
            waits[label] += count
    total = sum(phases.values())
    rows = [
        {
            "phase": label,
            "share": round(n / total, 3),
            "db_wait_share": round(waits[label] / total, 3),
            "samples": n,
        }
        for label, n in phases.most_common()
    ]
    return {"request_samples": total, "idle_samples": idle, "phases": rows}


def start_profiler(pids: list[int], seconds: float, out_dir: Path) -> dict[str, Any]:
    """py-spy two workers (few, so the sampling itself takes little CPU from the app):
    one with idle samples, wall clock; one on-CPU only."""
    pyspy = shutil.which("py-spy") or str(BIN / "py-spy")
    if not Path(pyspy).exists():
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    runs = {}
    for view, pid in zip(("wall_clock", "on_cpu"), sorted(pids), strict=False):
        out = out_dir / f"profile-{view}-{pid}.txt"
        args = [pyspy, "record", "--pid", str(pid), "--duration", str(int(seconds))]
        args += ["--rate", "100", "--nonblocking", "--format", "raw", "--output", str(out)]
        if view == "wall_clock":
            args.append("--idle")
        runs[view] = (subprocess.Popen(args, stdout=subprocess.DEVNULL), out)
    return runs


def finish_profiler(runs: dict[str, Any], stem: Path) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for view, (process, out) in runs.items():
        process.wait(timeout=120)
        if out.exists():
            target = stem.with_name(f"{stem.name}-{view}.txt")
            out.replace(target)
            summary[view] = {**summarize_profile(target), "collapsed_stacks": shown(target)}
    return summary
