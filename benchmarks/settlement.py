"""Settlement: one client payment that settles 1,000,000 accepted items down a three-link chain.

    .venv/bin/python benchmarks/settlement.py [--items 1000000] [--annotators 10000] ...
    make bench BENCH=settlement

What it does, in one run on a database of its own (created, migrated, dropped):

1. World, built set-based in SQL (generate_series), not through the API: the platform,
   a client, teams A, B and C (an owner each), `--annotators` annotators in team C (four
   levels, 0.0325-0.0475 CNY an item; a third promoted during the week, so their items
   carry two rates); an order of `--items` items at 0.10 CNY billed weekly, under a chain
   client -> A (0.10) -> B (0.08) -> C (0.055); every item worked by C's annotators (the
   same number each) and accepted during last week (items, tasks, submissions in batches
   of `--batch-size` under C's contract). A second order of `--small-items` (default a
   tenth), the same annotators, to compare: what grows with the items, and what does not.
2. Invoices, through the real service (`invoice_accepted_items`, one unit of work per
   order), timed (no target); each checked against its items (every accepted item billed
   once; each annotator's pay her items x rates, each rate's line rounded half-up; each
   margin its line minus the line below; shares adding up to the total). Vacuumed after.
3. Per order, round by round (`--rounds`, after `--warmup` unmeasured raw runs): the raw
   aggregate SQL that makes the annotators' pay from the items (their accepted items by
   annotator and rate), then a bank transfer of the invoice's total, then one of a third
   of it, each recorded by a platform admin through `record_bank_transfer` (payment,
   credit, application, settlement down the chain, commit) from the invoice as issued
   (the run before is deleted again). Then each payment once more under tracemalloc (peak
   of the settling process, and its RSS), and with --profile once under cProfile.
4. Checks after every payment: the ledger sums to zero; the settled parts add up to the
   payment to the fen; every holder's available is what was settled to her and her
   pending the rest (full payment: every annotator's available is her share); a partial
   payment's parts within 2 fen of pro rata, none beyond its share.

It prints one line per figure and writes benchmarks/results/settlement.json (and a
time-stamped copy). It exits 1 when a check fails, and with --require-target when settling
the main order takes more than `--target-ratio` (2) x the raw SQL.

The parts live in benchmarks/settlement_parts/ (benchmarks/README.md, Layout).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from settlement_parts.checks import check_ledger
from settlement_parts.invoicing import check_invoice, find_invoices, invoice_orders
from settlement_parts.measure import marks, measure_order, warm_up
from settlement_parts.report import print_growth, print_order
from settlement_parts.statements import StatementLog
from settlement_parts.world import TIMEZONE, World, build_world, sizes, vacuum
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
TARGET_RATIO = 2.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
        "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432"
    )
    today = datetime.now(ZoneInfo(TIMEZONE)).date()
    parser.add_argument("--server", default=server, help="PostgreSQL server, no database name")
    parser.add_argument("--items", type=int, default=1_000_000, help="of the main order")
    parser.add_argument("--annotators", type=int, default=10_000)
    parser.add_argument(
        "--small-items", type=int, default=None, help="of a second order (a tenth; 0: none)"
    )
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--today", type=date.fromisoformat, default=today)
    parser.add_argument("--parallel", type=int, default=2, help="loading connections")
    parser.add_argument("--rounds", type=int, default=3, help="measured runs of each")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured raw SQL runs first")
    parser.add_argument("--target-ratio", type=float, default=TARGET_RATIO)
    parser.add_argument("--profile", action="store_true", help="one more payment under cProfile")
    parser.add_argument("--require-target", action="store_true", help="exit 1 above the target")
    parser.add_argument(
        "--rev", default=None, help="measure this git revision (exported) instead of the work tree"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument(
        "--database", default=None, help="measure a kept database again instead of building one"
    )
    args = parser.parse_args(argv)
    if args.small_items is None:
        args.small_items = args.items // 10
    return args


def growth(orders: dict[str, Any]) -> dict[str, Any]:
    """How settling and the raw SQL grow from the small order to the main one."""
    if "small" not in orders:
        return {}
    main, small = orders["main"], orders["small"]
    out = {}
    for name in main["settle"]:
        big, little = main["settle"][name], small["settle"][name]
        out[name] = {
            "items": [main["items"], small["items"]],
            "items_ratio": round(main["items"] / small["items"], 2),
            "seconds_ratio": round(big["best_seconds"] / little["best_seconds"], 2),
            "memory_mb": [
                big["memory"]["tracemalloc_peak_mb"],
                little["memory"]["tracemalloc_peak_mb"],
            ],
            "memory_ratio": round(
                big["memory"]["tracemalloc_peak_mb"] / little["memory"]["tracemalloc_peak_mb"], 2
            ),
            "raw_ratio": round(
                main["raw_sql"]["best_seconds"] / small["raw_sql"]["best_seconds"], 2
            ),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    export = tempfile.TemporaryDirectory(prefix="settlement-src-")
    source, code = use_source(args.rev, Path(export.name))
    if args.database:
        name, conninfo = args.database, f"{args.server}/{args.database}"
    else:
        name, conninfo = create_database(args.server)
    url = sqlalchemy_url(conninfo)
    app = make_app(url)
    world = World(
        items=args.items,
        small_items=args.small_items,
        annotators=args.annotators,
        batch_size=args.batch_size,
        today=args.today,
        fee_bps=app.config["PLATFORM_FEE_BPS"],
    )
    world.check()
    from marketplace import clock

    clock.set_source(lambda: world.now)
    log = StatementLog()
    with app.app_context():
        from marketplace.db import db

        log.attach(db.engine)
    built: dict[str, Any] = {}
    orders: dict[str, Any] = {}
    invoice_checks: dict[str, dict[str, int]] = {}
    try:
        if args.database:
            built = {"reused": name}
            invoices = find_invoices(conninfo, world)
            print(f"database {name} (kept from an earlier run)")
        else:
            print(
                f"database {name}; {world.annotators:,} annotators; orders of "
                + " and ".join(f"{o.items:,}" for o in world.orders)
                + " items ..."
            )
            migrate(url, source)
            built = build_world(conninfo, app, world, args.parallel)
            invoices = invoice_orders(app, log, world)
            built["vacuum_after_invoicing"] = vacuum(conninfo, args.parallel)
        built["sizes"] = sizes(conninfo)
        for order in world.orders:
            invoice_checks[order.role] = check_invoice(conninfo, world, order, invoices[order.id])
        invoice_checks["ledger after invoicing"] = check_ledger(conninfo)
        wrong = {f"{k}: {w}": v for k, c in invoice_checks.items() for w, v in c.items() if v}
        print(f"  invoices checked: {wrong or 'sound'}")
        facts = server_facts(conninfo)
        marked = marks(conninfo)
        first = warm_up(app, conninfo, log, world, invoices[1], marked)
        opened = "; opened the holders' available accounts" * (
            "ledger: accounts opened" in first["by_label"]
        )
        print(
            f"  first settlement (warm-up{opened}): {first['seconds']:.2f} s, "
            f"{first['statements']} statements"
        )
        for order in world.orders:
            orders[order.role] = measure_order(
                app, conninfo, log, world, order, invoices[order.id], args, marked,
                args.output, stamp,
            )  # fmt: skip
            print_order(order.role, orders[order.role], args.target_ratio)
    finally:
        if not args.keep_database and not args.database:
            drop_database(args.server, name)
        elif not args.database:
            print(f"kept database {name} (measure it again with --database {name})")
        export.cleanup()

    result = {
        "benchmark": "settlement",
        "timestamp": stamp,
        "code": code,
        "machine": machine(facts),
        "setup": {
            "items": world.items,
            "small_items": world.small_items,
            "annotators": world.annotators,
            "batch_size": world.batch_size,
            "week": world.week0.isoformat(),
            "clock": world.now.isoformat(),
            "rounds": args.rounds,
            "chain": "client -> A 0.10 -> B 0.08 -> C 0.055 -> annotators 0.0325-0.0475 CNY",
            "how": "in process, record_bank_transfer in its own unit of work (commit included); "
            "raw SQL over a direct psycopg connection, rows fetched",
        },
        "world": built,
        "invoice_checks": invoice_checks,
        "first_settlement": {k: v for k, v in first.items() if k != "checks"},
        "target_ratio": args.target_ratio,
        "orders": orders,
        "growth_by_items": growth(orders),
    }
    main_settle = orders["main"]["settle"]
    result["meets_target"] = {
        name: s["ratio_to_raw"] <= args.target_ratio for name, s in main_settle.items()
    }
    failed = sum(s["failed"] for o in orders.values() for s in o["settle"].values())
    failed += bool(first["failed"])
    failed += sum(v != 0 for checks in invoice_checks.values() for v in checks.values())
    result["failed_checks"] = failed
    print_growth(result["growth_by_items"])
    text = json.dumps(result, indent=2, default=str) + "\n"
    for suffix in (f"-{stamp}", ""):
        (args.output / f"settlement{suffix}.json").write_text(text)
    print(f"  written to {shown(args.output / 'settlement.json')}")
    if failed:
        print(f"FAILED checks: {failed} (see the checks in the JSON)")
        return 1
    if args.require_target and not all(result["meets_target"].values()):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
