"""Drop storm: many teams race for the batches of one drop, over HTTP, on PostgreSQL.

    .venv/bin/python benchmarks/drop_storm.py [--batches 10000] [--claimers 64] ...
    make bench BENCH_ARGS="--profile"

What it does, in one run on a database of its own (created, then dropped):

1. Seeds a client, one team (owner + token) per claimer, and one order whose
   batches are all released at publish: one drop of many batches.
2. Raw ceiling: the bare claim statement,
   ``UPDATE batches ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED LIMIT 1)
   RETURNING id``, one autocommit transaction per claim, from 8, 16 and 32
   direct psycopg connections (one thread each) against the same batches
   (reset and vacuumed before each run). The best rate is the ceiling.
3. Statement census: one winning and one losing claim through the application
   in-process, counting the round trips each makes (on a small order of its own).
4. App: the application under gunicorn, and N claimer threads on loopback, each
   with one keep-alive connection, racing through their own shuffled order of
   every batch id (skipping those the board already shows taken, unless
   --blind). Bounded by a total request count and a time limit; it ends early
   when the drop is cleared.
5. Checks: no batch won twice (client reports), each claimed batch held by the
   team that was told it won, one task per item, tasks and contract
   quantities matching the batches each team holds.

It prints a short table and writes benchmarks/results/drop_storm-<UTC>.json and
latest.json. It exits 1 if any check fails (double claims, lost or phantom claims,
request errors); falling short of the target ratio is reported, and fails the
run only with --require-target.

The phases live in benchmarks/storm/ (benchmarks/README.md, Layout); this file
holds the options, runs the phases in order and assembles the JSON.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from storm.census import census
from storm.checks import check_database, double_claims, failed_checks
from storm.claimers import storm
from storm.cpu import CpuMeter
from storm.profiling import finish_profiler, start_profiler
from storm.raw import RAW_CLAIM, raw_run
from storm.report import machine, print_table, write_result
from storm.server import Gunicorn
from storm.source import use_source
from storm.world import (
    create_database,
    drop_database,
    make_app,
    migrate,
    reset_batches,
    seed,
    server_facts,
    sqlalchemy_url,
)

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_RATIO = 0.25


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
        "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432"
    )
    parser.add_argument("--server", default=server, help="PostgreSQL server, no database name")
    parser.add_argument("--batches", type=int, default=10_000, help="batches in the drop")
    parser.add_argument("--batch-size", type=int, default=10, help="items per batch")
    parser.add_argument("--claimers", type=int, default=64, help="concurrent HTTP claimers")
    parser.add_argument("--max-requests", type=int, default=None, help="default 4 x batches")
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds for the storm")
    parser.add_argument("--blind", action="store_true", help="claimers ignore the board")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class")
    parser.add_argument("--threads", type=int, default=1, help="threads per gthread worker")
    parser.add_argument("--raw-connections", default="8,16,32", help="comma-separated")
    parser.add_argument("--raw-time-limit", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=3, help="seed of the claimers' shuffles")
    parser.add_argument(
        "--funding",
        choices=("prefunded", "invoiced"),
        default="prefunded",
        help="the drop's order: reserved from a top-up at publication, or on a credit line",
    )
    parser.add_argument("--profile", action="store_true", help="py-spy the workers (figures skew)")
    parser.add_argument("--require-target", action="store_true", help="exit 1 below the target")
    parser.add_argument(
        "--rev", default=None, help="measure this git revision (exported) instead of the work tree"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--keep-database", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    max_requests = args.max_requests or 4 * args.batches
    export = tempfile.TemporaryDirectory(prefix="drop-storm-src-")
    source, code = use_source(args.rev, Path(export.name))
    name, conninfo = create_database(args.server)
    url = sqlalchemy_url(conninfo)
    print(f"database {name}; seeding {args.batches} batches x {args.batch_size} items ...")
    server = None
    try:
        migrate(url, source)
        app = make_app(url)
        seeded = seed(
            app,
            teams=args.claimers,
            batches=args.batches,
            batch_size=args.batch_size,
            funding=args.funding,
        )
        claim_census = census(app, seeded)
        facts = server_facts(conninfo)

        raw_runs = []
        for connections in (int(c) for c in args.raw_connections.split(",")):
            run = raw_run(
                conninfo, seeded.order_id, seeded.teams[0][0], connections, args.raw_time_limit
            )
            print(f"raw  {connections:>3} connections: {run['claims_per_second']:>9.0f} claims/s")
            raw_runs.append(run)
        best = max(raw_runs, key=lambda r: r["claims_per_second"])
        ceiling = best["claims_per_second"]

        reset_batches(conninfo, seeded.order_id)
        server = Gunicorn(
            url, source, workers=args.workers, worker_class=args.worker_class, threads=args.threads
        )
        server.wait_ready(seeded.teams[0][1])
        meter_box: dict[str, Any] = {}
        profile_runs: dict[str, Any] = {}

        def on_start() -> None:
            meter_box["meter"] = CpuMeter(worker_parent=server.process.pid)
            if args.profile:
                profile_runs.update(
                    start_profiler(server.worker_pids(), min(args.time_limit, 15), args.output)
                )

        print(
            f"app  {args.claimers} claimers -> gunicorn {args.workers} x {args.worker_class}"
            f" ({args.threads} threads) ..."
        )
        app_run = storm(
            server.port,
            seeded,
            claimers=args.claimers,
            max_requests=max_requests,
            time_limit=args.time_limit,
            blind=args.blind,
            rng_seed=args.seed,
            on_start=on_start,
        )
        app_run["cpu"] = meter_box["meter"].since_start(app_run["claims"])
        profile = None
        if profile_runs:
            profile = finish_profiler(profile_runs, args.output / f"drop_storm-{stamp}-profile")
        server.stop()
        wins_by_batch = app_run.pop("_wins_by_batch")
        db_check = check_database(conninfo, seeded, wins_by_batch)
    finally:
        if server is not None:
            server.stop()
        if not args.keep_database:
            drop_database(args.server, name)
        export.cleanup()

    failures = failed_checks(app_run, db_check)
    ratio = app_run["claims_per_second"] / ceiling if ceiling else 0.0
    result = {
        "benchmark": "drop_storm",
        "timestamp": stamp,
        "code": code,
        "machine": machine(facts),
        "setup": {
            "batches": args.batches,
            "items_per_batch": args.batch_size,
            "claimers": args.claimers,
            "teams": len(seeded.teams),
            "claimer_order": "own shuffle of every batch id"
            + ("" if args.blind else ", skipping batches the board shows taken"),
            "max_requests": max_requests,
            "time_limit_seconds": args.time_limit,
            "gunicorn": {
                "workers": args.workers,
                "worker_class": args.worker_class,
                "threads": args.threads,
            },
            "raw_statement": " ".join(RAW_CLAIM.split()),
            "profiled": args.profile,
        },
        "raw": {
            "runs": raw_runs,
            "ceiling_claims_per_second": ceiling,
            "ceiling_connections": best["connections"],
        },
        "census": claim_census,
        "app": {**app_run, "double_claims": double_claims(app_run, db_check), "db_check": db_check},
        "ratio": round(ratio, 4),
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio >= TARGET_RATIO,
        "checks_passed": not failures,
        "failed_checks": failures,
        "profile": profile,
    }
    print_table(result, write_result(result, args.output))
    if failures:
        print(f"FAILED checks: {', '.join(failures)}")
        return 1
    if args.require_target and not result["meets_target"]:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
