"""The world: its shape (orders, items, annotators, the week), built set-based in SQL, and
its checks."""

from __future__ import annotations

import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from string import Template
from typing import Any
from zoneinfo import ZoneInfo

from earnings_parts.world import connect, run_steps

from .sql import CHECKS, ORDER, PEOPLE, WORK

TIMEZONE = "Asia/Shanghai"
PLATFORM, CLIENT, TEAM_A, TEAM_B, TEAM_C = 1, 2, 3, 4, 5
ADMIN_USER = 2  # the platform's admin, who records the bank transfers
FIRST_ANNOTATOR = 6
# The chain: the client pays A 0.10 an item, A pays B 0.08, B pays C 0.055; C pays its
# annotators by level, 0.0325 to 0.0475 (sub-fen rates: each annotator's line rounds).
PRICES = {"client -> A": 100_000, "A -> B": 80_000, "B -> C": 55_000}
LEVEL_RATES = (32_500, 37_500, 42_500, 47_500)
PIECE_RATE = 40_000
PAYMENT_TERMS_DAYS = 30
BULK_TABLES = ("items", "tasks", "submissions", "batches")


@dataclass(frozen=True)
class Order:
    id: int
    items: int
    role: str  # "main", or "small": the same annotators with fewer items, for comparison

    @property
    def contracts(self) -> tuple[int, int, int]:
        """The ids of its links: client -> A, A -> B, B -> C."""
        first = 3 * (self.id - 1) + 1
        return first, first + 1, first + 2


@dataclass
class World:
    items: int
    small_items: int
    annotators: int
    batch_size: int
    today: date
    fee_bps: int

    @property
    def orders(self) -> list[Order]:
        main = [Order(1, self.items, "main")]
        return main + ([Order(2, self.small_items, "small")] if self.small_items else [])

    @property
    def week0(self) -> date:
        """Monday of the week before today's: the week whose accepted work is billed."""
        return self.today - timedelta(days=self.today.weekday() + 7)

    @property
    def now(self) -> datetime:
        return datetime.combine(self.today, datetime.min.time(), ZoneInfo(TIMEZONE)).replace(
            hour=10
        )

    @property
    def annotator_ids(self) -> range:
        return range(FIRST_ANNOTATOR, FIRST_ANNOTATOR + self.annotators)

    def check(self) -> None:
        for order in self.orders:
            if order.items < self.annotators or order.items % self.annotators:
                raise SystemExit(
                    f"{order.items} items: a multiple of --annotators ({self.annotators}) needed"
                )
        if self.batch_size < 1:
            raise SystemExit("--batch-size must be positive")

    def substitutions(self) -> dict[str, Any]:
        return {
            "A": self.annotators,
            "UB": FIRST_ANNOTATOR,
            "WEEK0": self.week0.isoformat(),
            "TZ": TIMEZONE,
            "ITEMS": sum(order.items for order in self.orders),
            "RATE0": LEVEL_RATES[0],
            "RATE_STEP": LEVEL_RATES[1] - LEVEL_RATES[0],
        }

    def order_substitutions(self, order: Order) -> dict[str, Any]:
        before = [o for o in self.orders if o.id < order.id]
        ca, cb, cc = order.contracts
        return {
            **self.substitutions(),
            "O": order.id,
            "N": order.items,
            "P": order.items // self.annotators,
            "BS": self.batch_size,
            "NB": -(-order.items // self.batch_size),
            "IOFF": sum(o.items for o in before),
            "BOFF": sum(-(-o.items // self.batch_size) for o in before),
            "CA": ca,
            "CB": cb,
            "CC": cc,
            "PRICE_A": PRICES["client -> A"],
            "PRICE_B": PRICES["A -> B"],
            "PRICE_C": PRICES["B -> C"],
            "PIECE_RATE": PIECE_RATE,
            "TERMS": PAYMENT_TERMS_DAYS,
        }


def secondary_indexes(conn) -> list[tuple[str, str, str]]:
    """The bulk tables' indexes that back no constraint: (table, name, CREATE INDEX)."""
    return conn.execute(
        """
        SELECT t.relname, c.relname, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_class t ON t.oid = i.indrelid
        WHERE t.relname = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
        ORDER BY 1, 2
        """,
        (list(BULK_TABLES),),
    ).fetchall()


def vacuum(conninfo: str, parallel: int, tables: list[str] | None = None) -> list[dict]:
    """VACUUM (ANALYZE), as autovacuum would have done: visibility map set, statistics fresh."""
    if tables is None:
        with connect(conninfo) as conn:
            tables = [
                t
                for (t,) in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                )
            ]
    big = [t for t in tables if t in (*BULK_TABLES, "invoice_items")]
    rest = sorted(set(tables) - set(big))
    steps = [(f"vacuum {t}", f"VACUUM (ANALYZE) {t}") for t in big]
    if rest:
        steps.append(
            (f"vacuum the {len(rest)} other tables", f"VACUUM (ANALYZE) {', '.join(rest)}")
        )
    timings = run_steps(conninfo, steps, {}, parallel=parallel)
    with connect(conninfo) as conn:
        conn.execute("CHECKPOINT")
    return timings


def named(steps, world: World, order: Order) -> list[tuple[str, str]]:
    """An order's steps, their names told which order."""
    subs = world.order_substitutions(order)
    return [(Template(what).safe_substitute(subs), sql) for what, sql in steps]


def build_world(conninfo: str, app, world: World, parallel: int) -> dict[str, Any]:
    """Fill the migrated database; the timings of each step and the world's counts."""
    from marketplace.db import unit_of_work
    from marketplace.identity.service import _hasher
    from marketplace.orders.task_types import task_type_for_order

    subs = world.substitutions()
    with app.app_context(), unit_of_work() as session:
        task_type_for_order(session, "bbox_2d", CLIENT)  # the built-in type, stored
        password_hash = _hasher.hash("bench-password")
    started = time.perf_counter()
    with connect(conninfo) as conn:
        indexes = secondary_indexes(conn)  # built once, after their rows
        for _, name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
    timings = run_steps(conninfo, PEOPLE, subs, {"hash": password_hash})
    for order in world.orders:
        timings += run_steps(conninfo, named(ORDER, world, order), world.order_substitutions(order))
    with ThreadPoolExecutor(parallel) as pool:
        futures = [
            pool.submit(run_steps, conninfo, [step], world.order_substitutions(order))
            for order in world.orders
            for step in named(WORK, world, order)
        ]
        timings += [t for f in futures for t in f.result()]
    by_table: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for table, name, ddl in indexes:
        by_table[table].append((f"index {name}", ddl.replace("$", "$$")))
    with ThreadPoolExecutor(parallel) as pool:
        futures = [pool.submit(run_steps, conninfo, steps, subs) for steps in by_table.values()]
        timings += [t for f in futures for t in f.result()]
    with connect(conninfo) as conn:
        for order in world.orders:
            conn.execute(f"DROP VIEW bench_work_{order.id}")
        for (table,) in conn.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'id' "
            "AND column_default LIKE 'nextval%' AND table_schema = 'public'"
        ).fetchall():
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
            )
    timings += vacuum(conninfo, parallel)
    with connect(conninfo) as conn:
        checks = {
            what: conn.execute(Template(sql).substitute(subs)).fetchone()[0]
            for what, sql in CHECKS.items()
        }
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("users", "memberships", "batches", "items", "tasks", "submissions")
        }
    seconds = time.perf_counter() - started
    print(f"  world built in {seconds:.0f} s; checks {checks}")
    bad = {what: value for what, value in checks.items() if value}
    if bad:
        raise SystemExit(f"the world is not sound: {bad}")
    return {"seconds": round(seconds, 1), "steps": timings, "counts": counts, "checks": checks}


def sizes(conninfo: str) -> dict[str, str]:
    with connect(conninfo) as conn:
        found = dict(
            conn.execute(
                "SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class "
                "WHERE relname = ANY(%s)",
                ([*BULK_TABLES, "invoice_items", "invoice_shares", "ledger_entries"],),
            ).fetchall()
        )
        database = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        found["database"] = database.fetchone()[0]
    return found
