"""The world: its Shape, a year of work built set-based in SQL, and its checks."""

from __future__ import annotations

import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from string import Template
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from .money import CHECKS, CLEANUP, MONEY, POSTINGS
from .people import PEOPLE, SCAFFOLD, WORK

TIMEZONE = "Asia/Shanghai"  # the teams' and the business's
CLIENT_PRICE_MICROS = 85_000  # 0.085 CNY an item: lines round half-up
PAYMENT_TERMS_DAYS = 30
BULK_TABLES = ("items", "tasks", "submissions", "invoice_items", "ledger_entries")


@dataclass
class Shape:
    annotators: int
    teams: int
    days: int
    items_per_day: int
    batch_annotators: int
    reject_percent: int
    today: date
    fee_bps: int

    @property
    def per_team(self) -> int:
        return self.annotators // self.teams

    @property
    def first_team(self) -> int:
        return 3  # parties: 1 the platform, 2 the client, then the teams

    @property
    def first_annotator(self) -> int:
        return self.teams + 3  # users: 1 the client's admin, 2 the platform's, then owners

    @property
    def submissions(self) -> int:
        return self.annotators * self.days * self.items_per_day

    @property
    def now(self) -> datetime:
        return datetime.combine(self.today, datetime.min.time(), ZoneInfo(TIMEZONE)).replace(
            hour=22
        )

    def check(self) -> None:
        if self.annotators % self.teams:
            raise SystemExit("--annotators must be a multiple of --teams")
        if self.per_team % self.batch_annotators:
            raise SystemExit("a team's annotators must be a multiple of --batch-annotators")
        if self.days < 3:
            raise SystemExit("--days must be at least 3")

    def substitutions(self) -> dict[str, Any]:
        return {
            "A": self.annotators,
            "T": self.teams,
            "PT": self.per_team,
            "G": self.batch_annotators,
            "D": self.days,
            "IPD": self.items_per_day,
            "N": self.submissions,
            "TB": self.first_team,
            "UB": self.first_annotator,
            "REJECT": self.reject_percent,
            "STEP": max(1, min(45, 600 // self.items_per_day)),
            "DAY0": (self.today - timedelta(days=self.days - 1)).isoformat(),
            "TODAY": self.today.isoformat(),
            "NOW": self.now.isoformat(),
            "TZ": TIMEZONE,
            "PRICE": CLIENT_PRICE_MICROS,
            "TERMS": PAYMENT_TERMS_DAYS,
            "FEE": self.fee_bps,
        }


def token_of(user_id: int) -> str:
    return f"pw_bench_{user_id}"


def connect(conninfo: str) -> psycopg.Connection:
    """A loading connection: our rows are consistent by construction, so no foreign-key
    triggers fire while loading (session_replication_role), and commits do not wait."""
    conn = psycopg.connect(conninfo, autocommit=True)
    conn.execute("SET session_replication_role = replica")
    conn.execute("SET synchronous_commit = off")
    conn.execute("SET work_mem = '256MB'")
    conn.execute("SET maintenance_work_mem = '512MB'")
    return conn


def run_step(conninfo: str, what: str, sql: str, subs: dict[str, Any], params=None) -> dict:
    with connect(conninfo) as conn:
        started = time.perf_counter()
        text = Template(sql).substitute(subs)
        cursor = conn.execute(text, params if "%(" in text else None)
        seconds = time.perf_counter() - started
    rows = cursor.rowcount if cursor.rowcount and cursor.rowcount > 0 else None
    print(f"  {what:<78} {rows or '':>10} {seconds:6.1f} s", flush=True)
    return {"step": what, "rows": rows, "seconds": round(seconds, 2)}


def run_steps(conninfo: str, steps, subs: dict[str, Any], params=None, parallel: int = 1):
    """The steps in order, or `parallel` at a time (each on its own connection)."""
    if parallel == 1:
        return [run_step(conninfo, what, sql, subs, params) for what, sql in steps]
    with ThreadPoolExecutor(parallel) as pool:
        futures = [pool.submit(run_step, conninfo, w, s, subs, params) for w, s in steps]
        return [f.result() for f in futures]


def secondary_indexes(conn: psycopg.Connection) -> list[tuple[str, str, str]]:
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


def build_world(conninfo: str, app, shape: Shape, parallel: int) -> dict[str, Any]:
    """Fill the migrated database; the timings of each step and the world's counts."""
    from marketplace.db import unit_of_work
    from marketplace.identity.service import _hasher
    from marketplace.orders.task_types import task_type_for_order

    subs = shape.substitutions()
    share = shape.reject_percent * shape.items_per_day  # of annotator-days, in percent
    subs["REJECTED_ITEM"] = f"abs(hashint8(n / {shape.items_per_day})) % 100 < {share}"
    subs["REJECTED_DAY"] = f"abs(hashint8(bd.d::bigint * {shape.annotators} + a)) % 100 < {share}"
    with app.app_context(), unit_of_work() as session:
        task_type_for_order(session, "bbox_2d", 2)  # the built-in type, stored as an order would
        password_hash = _hasher.hash("bench-password")
    started = time.perf_counter()
    with connect(conninfo) as conn:
        # The big tables' secondary indexes are built once, after their rows.
        indexes = secondary_indexes(conn)
        for _, name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
    timings = run_steps(conninfo, PEOPLE, subs, {"hash": password_hash})
    timings += run_steps(conninfo, SCAFFOLD, subs)
    timings += run_steps(conninfo, WORK, subs, parallel=parallel)
    timings += run_steps(conninfo, MONEY, subs)
    timings += run_steps(conninfo, POSTINGS, subs, parallel=parallel)
    by_table: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for table, name, ddl in indexes:
        by_table[table].append((f"index {name}", ddl.replace("$", "$$")))
    with ThreadPoolExecutor(parallel) as pool:
        futures = [pool.submit(run_steps, conninfo, steps, subs) for steps in by_table.values()]
        timings += [t for f in futures for t in f.result()]
    with connect(conninfo) as conn:
        for statement in CLEANUP:
            conn.execute(statement)
        for (table,) in conn.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'id' "
            "AND column_default LIKE 'nextval%' AND table_schema = 'public'"
        ).fetchall():
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
            )
        tables = [
            t
            for (t,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
    # Vacuumed and analyzed as autovacuum would have done over the year: visibility map
    # set (index-only scans possible), statistics fresh.
    vacuum = [
        (f"vacuum {t}", f"VACUUM (ANALYZE) {t}")
        for t in sorted(tables, key=BULK_TABLES.__contains__, reverse=True)
    ]
    timings += run_steps(conninfo, vacuum, subs, parallel=parallel)
    with connect(conninfo) as conn:
        conn.execute("CHECKPOINT")
        checks = {
            what: conn.execute(Template(sql).substitute(subs)).fetchone()[0]
            for what, sql in CHECKS.items()
        }
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in COUNTED
        }
        sizes = dict(
            conn.execute(
                "SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class "
                "WHERE relname = ANY(%s)",
                ([*BULK_TABLES, "daily_tallies"],),
            ).fetchall()
        )
        database = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        sizes["database"] = database.fetchone()[0]
    seconds = time.perf_counter() - started
    print(f"  world built in {seconds:.0f} s; database {sizes['database']}; checks {checks}")
    bad = {what: value for what, value in checks.items() if value}
    if bad:
        raise SystemExit(f"the world is not sound: {bad}")
    return {
        "seconds": round(seconds, 1),
        "steps": timings,
        "counts": counts,
        "sizes": sizes,
        "checks": checks,
    }


COUNTED = (
    "users",
    "orders",
    "batches",
    "submissions",
    "daily_tallies",
    "invoices",
    "invoice_items",
    "invoice_shares",
    "ledger_transactions",
    "ledger_entries",
    "payouts",
)
