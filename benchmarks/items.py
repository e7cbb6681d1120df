"""Items in and results out, measured on PostgreSQL (`make bench BENCH=items`).

    .venv/bin/python benchmarks/items.py [--sizes 100000,1000000] [--formats jsonl,coco]
    .venv/bin/python benchmarks/items.py --only import      (or --only export)

One run on a database of its own (created, migrated, dropped): the import half
(benchmarks/items_import.py: CSV uploads through the HTTP endpoint beside raw
`COPY ... FROM` of the same rows) and the export half (benchmarks/items_export.py:
downloads of accepted results beside raw `COPY (SELECT ...) TO`), each at every size,
with the server process's peak memory (benchmarks/items_worker.py: the gunicorn worker
and its memory sampled around each request). It prints one line per size and measure and
writes benchmarks/results/items.json (and a time-stamped copy).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from items_export import run_export
from items_import import run_import
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
HALVES = ("import", "export")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
        "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432"
    )
    parser.add_argument("--server", default=server, help="PostgreSQL server (a superuser)")
    parser.add_argument("--sizes", default="100000,1000000", help="items per order")
    parser.add_argument("--formats", default="jsonl,coco", help="export formats")
    parser.add_argument("--only", choices=HALVES, default=None, help="one half only")
    parser.add_argument("--rev", default=None, help="measure a git revision, not the work tree")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--keep-database", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    export = tempfile.TemporaryDirectory(prefix="items-src-")
    source, code = use_source(args.rev, Path(export.name))
    name, conninfo = create_database(args.server)
    url = sqlalchemy_url(conninfo)
    sizes = [int(size) for size in args.sizes.split(",")]
    halves = [args.only] if args.only else list(HALVES)
    figures = {}
    try:
        print(f"database {name}; {' and '.join(halves)} of {', '.join(f'{s:,}' for s in sizes)}")
        migrate(url, source)
        app = make_app(url)
        if "import" in halves:
            figures["import"] = run_import(app, conninfo, url, source, sizes)
        if "export" in halves:
            formats = args.formats.split(",")
            figures["export"] = run_export(app, conninfo, url, source, sizes, formats)
        facts = server_facts(conninfo)
    finally:
        if args.keep_database:
            print(f"kept database {name}")
        else:
            drop_database(args.server, name)
        export.cleanup()
    result = {
        "benchmark": "items",
        "timestamp": stamp,
        "code": code,
        "machine": machine(facts),
        "how": "gunicorn, one sync worker; http.client sending or reading the body as it "
        "comes; raw: psycopg COPY FROM and COPY TO",
        "targets": {
            "import_x_raw_copy": 3.0,
            "export_x_raw_copy": 2.0,
            "export_first_byte_s": 1.0,
            "x_faster_than_label_studio": 20,
        },
        **figures,
    }
    text = json.dumps(result, indent=2) + "\n"
    for suffix in (f"-{stamp}", ""):
        (args.output / f"items{suffix}.json").write_text(text)
    print(f"  written to {shown(args.output / 'items.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
