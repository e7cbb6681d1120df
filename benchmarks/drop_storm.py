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
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
# The code under test: the work tree, or a revision exported by --rev (see use_source).
SOURCE = ROOT
RESULTS = Path(__file__).resolve().parent / "results"
BIN = Path(sys.executable).parent
TARGET_RATIO = 0.25

# The bare claim: one statement, one transaction, no ORM, no HTTP.
RAW_CLAIM = """
UPDATE batches SET status = 'claimed', claimed_by_party_id = %(team)s, claimed_at = now()
WHERE id = (
    SELECT id FROM batches WHERE status = 'released' AND order_id = %(order)s
    LIMIT 1 FOR UPDATE SKIP LOCKED
)
RETURNING id
"""


# ---------------------------------------------------------------------------- helpers


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    rank = max(1, round(p / 100 * len(sorted_values) + 0.5 - 1e-9))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def latency_summary(seconds: list[float]) -> dict[str, float | None]:
    values = sorted(seconds)

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 3)

    return {
        "count": len(values),
        "p50": ms(percentile(values, 50)),
        "p90": ms(percentile(values, 90)),
        "p99": ms(percentile(values, 99)),
        "max": ms(values[-1] if values else None),
    }


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()


def use_source(rev: str | None, into: Path) -> dict[str, Any]:
    """Point the benchmark at the code to measure: the work tree, or `rev` exported from git.

    An exported revision (`git archive`, nothing in the repository changes) is
    measured exactly as committed, whatever is being edited in the work tree.
    """
    global SOURCE
    if rev is None:
        marketplace_dirty = bool(git("status", "--porcelain", "--", "marketplace", "migrations"))
        return {
            "code": "work tree",
            "commit": git("rev-parse", "HEAD") or None,
            "dirty": marketplace_dirty,
        }
    commit = git("rev-parse", "--verify", f"{rev}^{{commit}}")
    if not commit:
        raise SystemExit(f"no git revision {rev!r}")
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    SOURCE = into
    sys.path.insert(0, str(into))
    # Import the package now: Alembic later puts the current directory first on sys.path.
    import marketplace

    if not Path(marketplace.__file__).is_relative_to(into):
        raise SystemExit(f"marketplace came from {marketplace.__file__}, not the export")
    return {"code": f"git archive {rev}", "commit": commit, "dirty": False}


class CpuMeter:
    """CPU seconds (user + system) spent by this process, the gunicorn workers and PostgreSQL.

    Read from /proc, so Linux only; elsewhere every figure is None. PostgreSQL is
    every process named `postgres` on the machine (the benchmark's backends and
    the server's own background processes).
    """

    TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def __init__(self, worker_parent: int | None = None) -> None:
        self.worker_parent = worker_parent
        self.start = self.sample()

    def _stat(self, pid: str) -> tuple[str, int, float] | None:
        try:
            raw = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields_ = raw[raw.rindex(")") + 2 :].split()
        # fields_[1] is ppid, [11] utime, [12] stime, [13] cutime, [14] cstime (in ticks)
        return name, int(fields_[1]), (int(fields_[11]) + int(fields_[12])) / self.TICK

    def sample(self) -> dict[str, float] | None:
        if not Path("/proc/stat").exists():
            return None
        totals = {"postgres": 0.0, "app_workers": 0.0}
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            stat = self._stat(pid)
            if stat is None:
                continue
            name, ppid, cpu = stat
            if name == "postgres":
                totals["postgres"] += cpu
            elif self.worker_parent is not None and ppid == self.worker_parent:
                totals["app_workers"] += cpu
        own = os.times()
        totals["bench_client"] = own.user + own.system
        cpu_line = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        ticks = [int(v) for v in cpu_line]
        totals["machine_busy"] = (
            sum(ticks) - ticks[3] - ticks[4]
        ) / self.TICK  # minus idle, iowait
        totals["wall"] = time.monotonic()
        return totals

    def since_start(self, claims: int) -> dict[str, Any] | None:
        end = self.sample()
        if end is None or self.start is None:
            return None
        wall = end["wall"] - self.start["wall"]
        used = {k: end[k] - self.start[k] for k in end if k != "wall"}
        # Anything else busy on the machine meanwhile (another test run skews every figure).
        used["other"] = max(
            0.0,
            used["machine_busy"] - used["postgres"] - used["app_workers"] - used["bench_client"],
        )
        return {
            "wall_seconds": round(wall, 3),
            "cores": os.cpu_count(),
            "cpu_seconds": {k: round(v, 3) for k, v in used.items()},
            "cores_busy": {k: round(v / wall, 2) for k, v in used.items()} if wall else None,
            "cpu_us_per_claim": (
                {k: round(v / claims * 1e6, 1) for k, v in used.items()} if claims else None
            ),
        }


# ---------------------------------------------------------------------------- database


@dataclass
class Seed:
    order_id: int
    batch_ids: list[int]
    teams: list[tuple[int, str]]  # (party id, bearer token), one per claimer
    items: int
    census_order_id: int
    census_batch_id: int


def create_database(server: str) -> tuple[str, str]:
    name = f"piecework_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return name, f"{server}/{name}"


def drop_database(server: str, name: str) -> None:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlalchemy_url(conninfo: str) -> str:
    return conninfo.replace("postgresql://", "postgresql+psycopg://", 1)


def migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig(str(SOURCE / "alembic.ini"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")


def make_app(url: str):
    from marketplace import create_app

    return create_app({"DATABASE_URL": url, "PASSWORD_HASH_PROFILE": "CHEAPEST"})


def seed(app, *, teams: int, batches: int, batch_size: int) -> Seed:
    """A client, `teams` teams with an owner and a token each, and one published order."""
    from sqlalchemy import select

    from marketplace.db import unit_of_work
    from marketplace.identity import service as identity
    from marketplace.identity.actor import Actor
    from marketplace.identity.models import PartyKind, Role
    from marketplace.orders import service as orders
    from marketplace.orders.models import Batch

    def order_data(title: str, count: int, size: int) -> dict[str, Any]:
        return {
            "title": title,
            "task_type": "bbox_2d",
            "instructions": "Draw a tight box around every vehicle.",
            "unit_price_micros": 100_000,
            "currency": "CNY",
            "payment_terms_days": 30,
            "batch_size": size,
            "items": [{"ref": f"s3://storm/{title}/{n:07d}.jpg"} for n in range(1, count + 1)],
        }

    with app.app_context(), unit_of_work() as session:
        client = identity.create_party(session, kind=PartyKind.CLIENT, name="Storm Client")
        buyer_user = identity.create_user(
            session, email="buyer@storm.example", name="Buyer", password="bench-password"
        )
        identity.add_membership(session, user=buyer_user, party=client, role=Role.CLIENT_ADMIN)
        team_tokens = []
        for n in range(teams):
            team = identity.create_party(session, kind=PartyKind.TEAM, name=f"Team {n:02d}")
            owner = identity.create_user(
                session,
                email=f"owner{n:02d}@storm.example",
                name=f"Owner {n:02d}",
                password="bench-password",
            )
            identity.add_membership(session, user=owner, party=team, role=Role.TEAM_OWNER)
            team_tokens.append((team.id, identity.issue_token(session, owner, name="bench")))
        buyer = Actor(buyer_user.id, frozenset({(client.id, Role.CLIENT_ADMIN)}))
        order = orders.create_order(
            session, buyer, order_data("drop", batches * batch_size, batch_size)
        )
        orders.publish_order(session, buyer, order.id)
        census = orders.create_order(session, buyer, order_data("census", batch_size, batch_size))
        orders.publish_order(session, buyer, census.id)
        batch_ids = list(
            session.scalars(select(Batch.id).where(Batch.order_id == order.id).order_by(Batch.id))
        )
        census_batch = session.scalar(select(Batch.id).where(Batch.order_id == census.id))
        return Seed(order.id, batch_ids, team_tokens, batches * batch_size, census.id, census_batch)


def reset_batches(conninfo: str, order_id: int) -> None:
    """Release every batch of the order again, with no tasks or contracts, and vacuum."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("DELETE FROM tasks WHERE order_id = %s", (order_id,))
        conn.execute("DELETE FROM contracts WHERE order_id = %s", (order_id,))
        conn.execute(
            "UPDATE batches SET status = 'released', claimed_by_party_id = NULL, "
            "claimed_at = NULL WHERE order_id = %s",
            (order_id,),
        )
        conn.execute("VACUUM (ANALYZE) batches, tasks, contracts")
        conn.execute("CHECKPOINT")


def server_facts(conninfo: str) -> dict[str, str]:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        facts = {"version": conn.execute("SHOW server_version").fetchone()[0]}
        for setting in ("synchronous_commit", "fsync", "shared_buffers", "max_connections"):
            facts[setting] = conn.execute(f"SHOW {setting}").fetchone()[0]
        return facts


# ---------------------------------------------------------------------------- raw ceiling


def raw_run(conninfo: str, order_id: int, team_id: int, connections: int, limit_s: float) -> dict:
    """Claim with the bare statement from `connections` threads until none is left."""
    reset_batches(conninfo, order_id)
    conns = [psycopg.connect(conninfo, autocommit=True) for _ in range(connections)]
    params = {"team": team_id, "order": order_id}
    for conn in conns:  # a prepared statement on every connection, as a pool would keep it
        conn.execute("SELECT 1").fetchone()
    state: dict[str, Any] = {}

    def begin() -> None:  # run once, when every thread is connected and waiting
        state["meter"] = CpuMeter()
        state["start"] = time.perf_counter()

    barrier = threading.Barrier(connections + 1, action=begin)
    counts = [0] * connections
    ended = [0.0] * connections

    def claimer(index: int) -> None:
        conn = conns[index]
        barrier.wait()
        deadline = state["start"] + limit_s
        won = 0
        while time.perf_counter() < deadline:
            if conn.execute(RAW_CLAIM, params, prepare=True).fetchone() is None:
                break
            won += 1
        counts[index] = won
        ended[index] = time.perf_counter()

    threads = [threading.Thread(target=claimer, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    barrier.wait()
    for thread in threads:
        thread.join()
    seconds = max(ended) - state["start"]
    claims = sum(counts)
    cpu = state["meter"].since_start(
        claims
    )  # before closing: a closed backend's CPU is gone from /proc
    for conn in conns:
        conn.close()
    with psycopg.connect(conninfo) as conn:
        held = conn.execute(
            "SELECT count(*) FROM batches WHERE order_id = %s AND status = 'claimed'", (order_id,)
        ).fetchone()[0]
    return {
        "connections": connections,
        "claims": claims,
        "claims_in_db": held,
        "seconds": round(seconds, 4),
        "claims_per_second": round(claims / seconds, 1),
        "cpu": cpu,
    }


# ---------------------------------------------------------------------------- census


def census(app, seed_: Seed) -> dict[str, Any]:
    """What one winning and one losing claim send to the database, through the real app."""
    from sqlalchemy import event

    from marketplace.db import db

    with app.app_context():
        engine = db.engine
    log: list[str] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        log.append(" ".join(statement.split())[:120])

    listeners = [
        (engine, "before_cursor_execute", on_execute),
        (engine, "begin", lambda conn: log.append("BEGIN")),
        (engine, "commit", lambda conn: log.append("COMMIT")),
        (engine, "rollback", lambda conn: log.append("ROLLBACK")),
        (engine.pool, "checkout", lambda *a: log.append("(pool checkout: pre-ping SELECT 1)")),
    ]
    for target, name, fn in listeners:
        event.listen(target, name, fn)
    client = app.test_client()
    result = {}
    try:
        for label, (_, token), status in (
            ("win", seed_.teams[0], 200),
            ("loss", seed_.teams[1 % len(seed_.teams)], 409),
        ):
            log.clear()
            response = client.post(
                f"/api/v1/batches/{seed_.census_batch_id}/claim",
                json={},
                headers={"Authorization": f"Bearer {token}"},
            )
            if response.status_code != status:
                raise RuntimeError(f"census {label}: {response.status_code} {response.data!r}")
            pings = sum(1 for line in log if line.startswith("(pool checkout"))
            result[label] = {
                # BEGIN is its own round trip in psycopg 3, and so is the pre-ping; SAVEPOINT
                # and RELEASE come through the cursor like any statement.
                "round_trips": len(log),
                "statements": list(log),
                "pre_pings": pings,
            }
    finally:
        for target, name, fn in listeners:
            event.remove(target, name, fn)
        with app.app_context():
            db.engine.dispose()
    return result


# ---------------------------------------------------------------------------- app storm


@dataclass
class ClaimerLog:
    wins: list[int] = field(default_factory=list)
    conflicts: int = 0
    not_found: int = 0
    errors: Counter = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    win_latencies: list[float] = field(default_factory=list)


class Gunicorn:
    """The app under gunicorn, on a free loopback port."""

    def __init__(self, url: str, *, workers: int, worker_class: str, threads: int) -> None:
        self.port = free_port()
        self.args = [
            str(BIN / "gunicorn"),
            "marketplace:create_app()",
            f"--bind=127.0.0.1:{self.port}",
            f"--workers={workers}",
            f"--worker-class={worker_class}",
            f"--threads={threads}",
            "--backlog=2048",
            "--keep-alive=75",
            "--log-level=warning",
            "--graceful-timeout=5",
            "--timeout=120",
        ]
        env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
        if SOURCE != ROOT:
            env["PYTHONPATH"] = str(SOURCE)
        self.process = subprocess.Popen(self.args, cwd=SOURCE, env=env)

    def wait_ready(self, token: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/api/v1/batches?limit=1", headers=auth(token))
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer in time")

    def worker_pids(self) -> list[int]:
        pids = []
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    stat = Path(f"/proc/{pid}/stat").read_text()
                except OSError:
                    continue
                if int(stat[stat.rindex(")") + 2 :].split()[1]) == self.process.pid:
                    pids.append(int(pid))
        return pids

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def storm(
    port: int,
    seed_: Seed,
    *,
    claimers: int,
    max_requests: int,
    time_limit: float,
    blind: bool,
    rng_seed: int,
    on_start=None,
) -> dict[str, Any]:
    """`claimers` threads, one keep-alive connection each, race for every batch of the drop."""
    total = len(seed_.batch_ids)
    board: set[int] = set()  # batches some claimer has won: what the drop board shows taken
    budget = itertools.count()  # one number per request, shared: the request bound
    logs = [ClaimerLog() for _ in range(claimers)]
    state: dict[str, float] = {}

    def begin() -> None:  # run once, when every claimer is connected, warmed up and waiting
        if on_start is not None:
            on_start()
        state["start"] = time.perf_counter()

    barrier = threading.Barrier(claimers + 1, action=begin)
    ended = [0.0] * claimers
    stop = threading.Event()

    def claimer(index: int) -> None:
        team_id, token = seed_.teams[index % len(seed_.teams)]
        order = list(seed_.batch_ids)
        random.Random(rng_seed * 1000 + index).shuffle(order)
        headers = {**auth(token), "Content-Type": "application/json", "Content-Length": "2"}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        # Warm the connection (and the worker behind it) with a read before the storm.
        conn.request("GET", "/api/v1/batches?limit=1", headers=auth(token))
        conn.getresponse().read()
        log = logs[index]
        barrier.wait()
        deadline = state["start"] + time_limit
        now = time.perf_counter
        for batch_id in order:
            if stop.is_set() or now() >= deadline:
                break
            if not blind and batch_id in board:
                continue
            if next(budget) >= max_requests:
                break
            began = now()
            try:
                conn.request("POST", f"/api/v1/batches/{batch_id}/claim", b"{}", headers)
                response = conn.getresponse()
                body = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                log.errors[type(exc).__name__] += 1
                if len(log.error_samples) < 3:
                    log.error_samples.append(f"batch {batch_id}: {exc!r}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            took = now() - began
            log.latencies.append(took)
            if status == 200:
                claimed_by = json.loads(body).get("claimed_by")
                if claimed_by != team_id:
                    log.errors[f"200 claimed_by {claimed_by}"] += 1
                log.wins.append(batch_id)
                log.win_latencies.append(took)
                board.add(batch_id)
                if len(board) >= total:
                    stop.set()
            elif status == 409 and b"batch_taken" in body:
                log.conflicts += 1
                board.add(batch_id)
            else:
                log.errors[f"HTTP {status}"] += 1
                if len(log.error_samples) < 3:
                    log.error_samples.append(f"batch {batch_id}: {status} {body[:200]!r}")
        ended[index] = now()
        conn.close()

    threads = [threading.Thread(target=claimer, args=(i,), daemon=True) for i in range(claimers)]
    for thread in threads:
        thread.start()
    barrier.wait()
    for thread in threads:
        thread.join()
    seconds = max(ended) - state["start"]

    wins_by_batch: dict[int, list[int]] = {}
    for index, log in enumerate(logs):
        team_id = seed_.teams[index % len(seed_.teams)][0]
        for batch_id in log.wins:
            wins_by_batch.setdefault(batch_id, []).append(team_id)
    errors: Counter = Counter()
    for log in logs:
        errors.update(log.errors)
    wins = sum(len(log.wins) for log in logs)
    conflicts = sum(log.conflicts for log in logs)
    requests = wins + conflicts + sum(errors.values())
    return {
        "claims": wins,
        "conflicts_409": conflicts,
        "errors": dict(errors),
        "error_samples": [s for log in logs for s in log.error_samples][:10],
        "requests": requests,
        "seconds": round(seconds, 4),
        "drop_cleared": len(wins_by_batch) >= total,
        "claims_per_second": round(wins / seconds, 1),
        "requests_per_second": round(requests / seconds, 1),
        "latency_ms": latency_summary([t for log in logs for t in log.latencies]),
        "win_latency_ms": latency_summary([t for log in logs for t in log.win_latencies]),
        "double_claims_reported": sum(1 for teams in wins_by_batch.values() if len(teams) > 1),
        "_wins_by_batch": wins_by_batch,
    }


def check_database(conninfo: str, seed_: Seed, wins_by_batch: dict[int, list[int]]) -> dict:
    """Cross-check the clients' reports against what the database holds."""
    with psycopg.connect(conninfo) as conn:
        held = dict(
            conn.execute(
                "SELECT id, claimed_by_party_id FROM batches "
                "WHERE order_id = %s AND status = 'claimed'",
                (seed_.order_id,),
            ).fetchall()
        )
        inconsistent = conn.execute(
            "SELECT count(*) FROM batches WHERE order_id = %s AND "
            "((status = 'claimed') <> (claimed_by_party_id IS NOT NULL))",
            (seed_.order_id,),
        ).fetchone()[0]
        duplicate_tasks = conn.execute(
            "SELECT count(*) FROM (SELECT item_id FROM tasks WHERE order_id = %s "
            "GROUP BY item_id HAVING count(*) > 1) d",
            (seed_.order_id,),
        ).fetchone()[0]
        task_mismatch = conn.execute(
            """
            SELECT count(*) FROM batches b
            LEFT JOIN (
                SELECT batch_id, count(*) AS n, count(*) FILTER (
                    WHERE team_party_id <> b2.claimed_by_party_id) AS foreign_
                FROM tasks t JOIN batches b2 ON b2.id = t.batch_id
                WHERE t.order_id = %(order)s GROUP BY batch_id
            ) t ON t.batch_id = b.id
            WHERE b.order_id = %(order)s AND (
                coalesce(t.n, 0) <> CASE WHEN b.status = 'claimed' THEN b.item_count ELSE 0 END
                OR coalesce(t.foreign_, 0) > 0)
            """,
            {"order": seed_.order_id},
        ).fetchone()[0]
        contract_mismatch = conn.execute(
            """
            SELECT count(*) FROM (
                SELECT claimed_by_party_id AS team, sum(item_count) AS items FROM batches
                WHERE order_id = %(order)s AND status = 'claimed' GROUP BY claimed_by_party_id
            ) b FULL JOIN (
                SELECT downstream_party_id AS team, sum(quantity) AS items, count(*) AS n
                FROM contracts WHERE order_id = %(order)s GROUP BY downstream_party_id
            ) c ON c.team = b.team
            WHERE b.items IS DISTINCT FROM c.items OR c.n <> 1
            """,
            {"order": seed_.order_id},
        ).fetchone()[0]
    wrong_holder = sum(
        1
        for batch, teams in wins_by_batch.items()
        if len(teams) == 1 and held.get(batch) != teams[0]
    )
    unreported = sum(1 for batch in held if batch not in wins_by_batch)
    return {
        "batches_claimed_in_db": len(held),
        "claimed_by_other_than_reported_winner": wrong_holder,
        "claimed_without_reported_win": unreported,
        "status_claimant_inconsistent": inconsistent,
        "items_with_two_tasks": duplicate_tasks,
        "batches_with_wrong_tasks": task_mismatch,
        "teams_with_wrong_contract": contract_mismatch,
    }


# ---------------------------------------------------------------------------- profile


PROFILE_RULES: list[tuple[str, tuple[str, ...]]] = [
    # (label, markers): a sample goes to the first label with a marker in its stack.
    ("pool checkout + pre-ping (SELECT 1)", ("do_ping (", "_checkout (sqlalchemy/pool")),
    ("signal: open_performer_contract", ("open_performer_contract (",)),
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


# ---------------------------------------------------------------------------- main


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
    code = use_source(args.rev, Path(export.name))
    name, conninfo = create_database(args.server)
    url = sqlalchemy_url(conninfo)
    print(f"database {name}; seeding {args.batches} batches x {args.batch_size} items ...")
    server = None
    try:
        migrate(url)
        app = make_app(url)
        seeded = seed(app, teams=args.claimers, batches=args.batches, batch_size=args.batch_size)
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
            url, workers=args.workers, worker_class=args.worker_class, threads=args.threads
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

    double_claims = (
        app_run["double_claims_reported"]
        + db_check["claimed_by_other_than_reported_winner"]
        + db_check["items_with_two_tasks"]
    )
    failures = [
        key
        for key in (
            "claimed_by_other_than_reported_winner",
            "claimed_without_reported_win",
            "status_claimant_inconsistent",
            "items_with_two_tasks",
            "batches_with_wrong_tasks",
            "teams_with_wrong_contract",
        )
        if db_check[key]
    ]
    if app_run["double_claims_reported"]:
        failures.append("double_claims_reported")
    if app_run["errors"]:
        failures.append("request_errors")
    if db_check["batches_claimed_in_db"] != app_run["claims"]:
        failures.append("claims_in_db_differ_from_reported")
    ratio = app_run["claims_per_second"] / ceiling if ceiling else 0.0
    result = {
        "benchmark": "drop_storm",
        "timestamp": stamp,
        "code": code,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "postgresql": facts,
        },
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
        "app": {**app_run, "double_claims": double_claims, "db_check": db_check},
        "ratio": round(ratio, 4),
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio >= TARGET_RATIO,
        "checks_passed": not failures,
        "failed_checks": failures,
        "profile": profile,
    }
    path = args.output / f"drop_storm-{stamp}.json"
    text = json.dumps(result, indent=2) + "\n"
    path.write_text(text)
    (args.output / "latest.json").write_text(text)
    print_table(result, path)
    if failures:
        print(f"FAILED checks: {', '.join(failures)}")
        return 1
    if args.require_target and not result["meets_target"]:
        return 1
    return 0


def print_table(result: dict[str, Any], path: Path) -> None:
    app = result["app"]
    lat = app["latency_ms"]
    rows = [
        (
            "raw ceiling (best of "
            + ", ".join(str(r["connections"]) for r in result["raw"]["runs"])
            + " conns)",
            f"{result['raw']['ceiling_claims_per_second']:,.0f} claims/s",
        ),
        (
            "app claims",
            f"{app['claims_per_second']:,.0f} claims/s "
            f"({app['claims']} in {app['seconds']:.2f} s, drop cleared: {app['drop_cleared']})",
        ),
        (
            "app requests",
            f"{app['requests_per_second']:,.0f} req/s "
            f"({app['conflicts_409']} x 409, {sum(app['errors'].values())} errors)",
        ),
        ("latency p50 / p99", f"{lat['p50']} / {lat['p99']} ms (max {lat['max']} ms)"),
        ("double claims", str(app["double_claims"])),
        (
            "ratio app / ceiling",
            f"{result['ratio']:.3f} (target >= {result['target_ratio']}: "
            f"{'met' if result['meets_target'] else 'NOT met'})",
        ),
    ]
    cpu = app.get("cpu")
    if cpu and cpu["cpu_us_per_claim"]:
        per = cpu["cpu_us_per_claim"]
        rows.append(
            (
                "CPU per claim",
                f"app {per['app_workers']:.0f} us, postgres "
                f"{per['postgres']:.0f} us, client {per['bench_client']:.0f} us",
            )
        )
        busy = cpu["cores_busy"]
        rows.append(
            (
                "cores busy",
                f"app {busy['app_workers']}, postgres {busy['postgres']}, "
                f"client {busy['bench_client']}, other processes {busy['other']} "
                f"(of {cpu['cores']})",
            )
        )
    census_ = result["census"]
    rows.append(
        (
            "round trips per claim",
            f"win {census_['win']['round_trips']}, loss {census_['loss']['round_trips']}",
        )
    )
    width = max(len(label) for label, _ in rows)
    print()
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    for view, summary in (result["profile"] or {}).items():
        what = "wall clock, DB waits included" if view == "wall_clock" else "on CPU only"
        print(f"\n  where a request's time goes (py-spy on one worker, {what}):")
        for row in summary["phases"]:
            wait = f"  (of which waiting on DB {row['db_wait_share']:5.1%})"
            print(
                f"    {row['phase']:<40} {row['share']:6.1%}{wait if view == 'wall_clock' else ''}"
            )
    print(f"\n  written to {shown(path)}")


if __name__ == "__main__":
    sys.exit(main())
