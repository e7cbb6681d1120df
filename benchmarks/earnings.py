"""Earnings views: how fast an annotator reads her earnings after a year of work, on PostgreSQL.

    .venv/bin/python benchmarks/earnings.py [--annotators 5000] [--items-per-day 4] ...
    make bench BENCH=earnings

What it does, in one run on a database of its own (created, migrated, dropped):

1. World, built set-based in SQL (generate_series), not through the API: the
   platform, a client, `--teams` teams (an owner each) and `--annotators`
   annotators (a membership and a token each); one order a month; every day
   of `--days` each annotator submits `--items-per-day` items (items, tasks,
   submissions in claimed batches under one contract per team and order),
   decided two days later (`--reject-percent` rejected); the daily tallies;
   invoices every Monday for the accepted work of the week before (lines,
   billed items, shares), paid a few days after their due date (payments and
   settlement), and a payout run on the 5th of every month, all in the ledger.
   Every billed submission carries its invoice's id (`submissions.invoice_id`,
   the billed mark), written with the row, never updated: the partial indexes
   of unbilled work are built after the rows, as every secondary index is.
   The clock stands at 22:00 on `--today` (Asia/Shanghai): the last days'
   work is unbilled or undecided, recent invoices are open, some late.
2. Variants: GET /me/earnings and GET /me/earnings/days (the last
   `--period-days` days) through the Flask test client with each annotator's
   own token, `--calls` times per variant and view for fresh random annotators,
   after `--warmup` calls. Stage 1 runs `as_is`, the code and schema as
   migrated; stage 2 adds two covering indexes (ledger entries, invoice shares)
   and runs `indexes`, the same code; they are dropped at the end. Each
   request's statements are timed too, so a slow request names its slow query.
   With --no-candidates: `as_is` only.
3. Plans: EXPLAIN (ANALYZE, BUFFERS) of every statement of each view and
   variant, for an annotator no request has read yet (so BUFFERS shows a
   first reading); the team owner's view, once per variant, for information.

It prints one line per variant and view, and writes benchmarks/results/earnings.json and
earnings-plans.txt (and time-stamped copies). Every answer is checked (200; pending
equals the sum of the invoices it waits on; a day per day of the period; a witness's
answers the same under every variant): it exits 1 when one fails, and with
--require-target when the code as is misses --target-ms at p95.

The parts live in benchmarks/earnings_parts/ (benchmarks/README.md, Layout); this file
holds the options, runs the build and the stages in order and assembles the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from earnings_parts.measure import StatementLog
from earnings_parts.plans import plans_text
from earnings_parts.stages import STAGES, measure_all
from earnings_parts.world import TIMEZONE, Shape, build_world
from storm.report import machine
from storm.source import shown, use_source
from storm.world import (
    create_database,
    drop_database,
    make_app,
    migrate,
    server_facts,
    sqlalchemy_url,
)

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_MS = 20.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
        "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432"
    )
    today = datetime.now(ZoneInfo(TIMEZONE)).date()
    parser.add_argument("--server", default=server, help="PostgreSQL server, no database name")
    parser.add_argument("--annotators", type=int, default=5000)
    parser.add_argument("--teams", type=int, default=10)
    parser.add_argument("--days", type=int, default=365, help="days of work, ending --today")
    parser.add_argument("--items-per-day", type=int, default=4, help="per annotator")
    parser.add_argument("--batch-annotators", type=int, default=25, help="annotators per batch")
    parser.add_argument("--reject-percent", type=int, default=3)
    parser.add_argument("--today", type=date.fromisoformat, default=today)
    parser.add_argument("--parallel", type=int, default=3, help="loading connections")
    parser.add_argument("--calls", type=int, default=500, help="measured calls per view")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured calls per view first")
    parser.add_argument("--period-days", type=int, default=31, help="of /me/earnings/days")
    parser.add_argument("--seed", type=int, default=7, help="seed of the annotator samples")
    parser.add_argument("--target-ms", type=float, default=TARGET_MS, help="p95 target")
    parser.add_argument("--owner-calls", type=int, default=1, help="of the team owner's view")
    parser.add_argument("--no-candidates", action="store_true", help="baseline only")
    parser.add_argument("--require-target", action="store_true", help="exit 1 above the target")
    parser.add_argument(
        "--rev", default=None, help="measure this git revision (exported) instead of the work tree"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument(
        "--database", default=None, help="measure a kept database again instead of building one"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    export = tempfile.TemporaryDirectory(prefix="earnings-src-")
    source, code = use_source(args.rev, Path(export.name))
    if args.database:
        name, conninfo = args.database, f"{args.server}/{args.database}"
    else:
        name, conninfo = create_database(args.server)
    url = sqlalchemy_url(conninfo)
    app = make_app(url)
    shape = Shape(
        annotators=args.annotators,
        teams=args.teams,
        days=args.days,
        items_per_day=args.items_per_day,
        batch_annotators=args.batch_annotators,
        reject_percent=args.reject_percent,
        today=args.today,
        fee_bps=app.config["PLATFORM_FEE_BPS"],
    )
    shape.check()
    needed = (1 if args.no_candidates else len(STAGES)) * 2 * (args.calls + args.warmup + 1) + 1
    if needed > shape.annotators:
        raise SystemExit(f"{needed} annotators needed for fresh samples; --annotators or --calls")
    from marketplace import clock

    clock.set_source(lambda: shape.now)
    phases: dict[str, Any] = {}
    world: dict[str, Any] = {}
    try:
        if args.database:
            world = {"reused": name}
            with psycopg.connect(conninfo) as conn:
                world["counts"] = {
                    "submissions": conn.execute("SELECT count(*) FROM submissions").fetchone()[0]
                }
                last = conn.execute("SELECT max(day) FROM daily_tallies").fetchone()[0]
            if last != shape.today:
                raise SystemExit(f"{name} was built for --today {last}")
            print(f"database {name} (kept from an earlier run)")
        else:
            print(
                f"database {name}; {shape.annotators} annotators x {shape.days} days x "
                f"{shape.items_per_day} items = {shape.submissions:,} submissions ..."
            )
            migrate(url, source)
            world = build_world(conninfo, app, shape, args.parallel)
        facts = server_facts(conninfo)
        log = StatementLog()
        with app.app_context():
            from marketplace.db import db

            log.attach(db.engine)
        pool = list(range(shape.first_annotator, shape.first_annotator + shape.annotators))
        random.Random(args.seed).shuffle(pool)
        args.witness = pool.pop()
        taken: set[int] = {args.witness}
        phases.update(measure_all(app, conninfo, log, shape, args, pool, taken))
    finally:
        if not args.keep_database and not args.database:
            drop_database(args.server, name)
        elif not args.database:
            print(f"kept database {name} (measure it again with --database {name})")
        export.cleanup()

    result = {
        "benchmark": "earnings",
        "timestamp": stamp,
        "code": code,
        "machine": machine(facts),
        "setup": {
            "annotators": shape.annotators,
            "teams": shape.teams,
            "days": shape.days,
            "items_per_day": shape.items_per_day,
            "submissions": shape.submissions,
            "today": shape.today.isoformat(),
            "clock": shape.now.isoformat(),
            "calls_per_view": args.calls,
            "warmup_calls": args.warmup,
            "period_days": args.period_days,
            "seed": args.seed,
            "how": "Flask test client, the annotator's own bearer token, one request at a time",
        },
        "world": world,
        "target_p95_ms": args.target_ms,
        "phases": {
            name_: {
                **{k: v for k, v in phase.items() if k not in ("plans", "answers")},
                "plans": {
                    view: {
                        p["label"]: {
                            k: p[k] for k in ("pages", "planning_ms", "execution_ms") if k in p
                        }
                        for p in plans
                    }
                    for view, plans in phase["plans"].items()
                },
            }
            for name_, phase in phases.items()
        },
    }
    result["answers_differ"] = [
        f"{name_}: {view}"
        for name_, phase in phases.items()
        for view, answer in phase["answers"].items()
        if answer != phases["as_is"]["answers"][view]
    ]
    result["meets_target"] = {
        view: r["latency_ms"]["p95"] <= args.target_ms
        for view, r in phases["as_is"]["views"].items()
        if view != "owner"
    }
    text = json.dumps(result, indent=2, default=str) + "\n"
    plans = plans_text({**result, "phases": phases})
    for suffix in (f"-{stamp}", ""):
        (args.output / f"earnings{suffix}.json").write_text(text)
        (args.output / f"earnings{suffix}-plans.txt").write_text(plans)
    print(f"  written to {shown(args.output / 'earnings.json')} and earnings-plans.txt")
    failed = sum(v["failed"] for phase in phases.values() for v in phase["views"].values())
    if failed or result["answers_differ"]:
        print(f"FAILED answers: {failed} (see failures in the JSON)")
        print(f"answers other than the baseline's: {result['answers_differ']}")
        return 1
    if args.require_target and not all(result["meets_target"].values()):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
