"""Two real `marketplace scheduler` processes on one PostgreSQL database take each drop once.

Both processes share the job store (table apscheduler_jobs), so both run the
release job and race for every drop; the unique Drop row per (order, moment) lets
exactly one of them release it. They run on a clock the test steps through a file
(CLOCK_FILE) and look for due drops every second (RELEASE_CHECK_SECONDS), so four
minutes of drops pass in seconds. Every wait is a bounded poll on a condition
(the deadline is only a safety net); no assertion is about how long anything took.
"""

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from marketplace.db import db
from marketplace.orders.models import Batch, BatchStatus, Drop
from tests.conftest import ROOT
from tests.flows import post_order

pytestmark = [pytest.mark.slow, pytest.mark.only_engine("postgresql")]

SHANGHAI = "+08:00"
EVERY_MINUTE = {"cron": "* * * * *", "timezone": "Asia/Shanghai", "batches_per_drop": 2}
BATCHES = 10
DROPS = 4  # 03:00, 03:01, 03:02, 03:03: eight batches released, two left scheduled
DEADLINE_SECONDS = 90

# The `marketplace` console script, with logging switched on so each release pass shows
# (the CLI configures no logging; the scheduler logs each pass at DEBUG).
LAUNCHER = """\
import logging, sys
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
logging.getLogger("marketplace").setLevel(logging.DEBUG)
from marketplace.cli import main
sys.argv[0] = "marketplace"
main()
"""
PASS = re.compile(r"release pass at (\S+) took (\d+) drops")


def shanghai(wall: str) -> datetime:
    return datetime.fromisoformat(f"2026-03-03T{wall}{SHANGHAI}")


@dataclass
class SchedulerProcess:
    name: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def passes(self) -> list[tuple[datetime, int]]:
        """(the clock's moment, drops taken) of every release pass this process ran."""
        return [(datetime.fromisoformat(at), int(taken)) for at, taken in PASS.findall(self.log())]

    def passed_at(self, moment: datetime) -> bool:
        return any(at == moment for at, _ in self.passes())

    def stop(self) -> None:
        """Ctrl+C, as an operator stops it; killed only if it does not go."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=DEADLINE_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"{self.name} did not stop on Ctrl+C:\n{self.log()}")


def start_scheduler(name: str, database_url: str, clock_file: Path, tmp_path: Path):
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CLOCK_FILE": str(clock_file),
        "RELEASE_CHECK_SECONDS": "1",
        "PIECEWORK_INSTANCE_DIR": str(tmp_path / "instance"),
    }
    log_path = tmp_path / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, "scheduler"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return SchedulerProcess(name, process, log_path)


def set_clock(clock_file: Path, moment: datetime) -> None:
    """Step the processes' clock: a new file renamed over the old, never half written."""
    draft = clock_file.with_suffix(".new")
    draft.write_text(moment.isoformat())
    os.replace(draft, clock_file)


def wait_until(condition, what: str, schedulers: list[SchedulerProcess]) -> None:
    """Poll until `condition()` holds; fail with the logs if a process dies or it never does."""
    give_up = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        for scheduler in schedulers:
            if scheduler.process.poll() is not None:
                pytest.fail(
                    f"{scheduler.name} exited ({scheduler.process.returncode}) while waiting "
                    f"for {what}:\n{scheduler.log()}"
                )
        if time.monotonic() > give_up:
            logs = "\n".join(f"--- {s.name}\n{s.log()}" for s in schedulers)
            pytest.fail(f"gave up waiting for {what} after {DEADLINE_SECONDS} s\n{logs}")
        time.sleep(0.1)


def drops_of(app, order: int) -> list[tuple[datetime, str, int, int]]:
    with app.app_context():
        return [
            (d.scheduled_at, d.status, d.batch_count, d.lateness_seconds)
            for d in db.session.scalars(
                select(Drop).where(Drop.order_id == order).order_by(Drop.scheduled_at)
            )
        ]


def test_two_scheduler_processes_release_each_drop_once(
    app, api, cast, frozen_clock, database_url, tmp_path
):
    frozen_clock.moment = shanghai("02:59:30")  # published just before the first drop
    order = post_order(api, cast.client, items=5 * BATCHES, batch_size=5, release_plan=EVERY_MINUTE)
    clock_file = tmp_path / "clock"
    set_clock(clock_file, shanghai("02:59:59"))
    # Started together, so both declare their jobs in the shared job store at once.
    schedulers = [
        start_scheduler(name, database_url, clock_file, tmp_path) for name in ("first", "second")
    ]
    try:
        before = shanghai("02:59:59")
        wait_until(
            lambda: all(s.passed_at(before) for s in schedulers),
            "both schedulers to run a release pass at 02:59:59",
            schedulers,
        )
        assert drops_of(app, order) == []
        assert api.get("/batches", cast.owner).body == []

        moments = [shanghai("03:00:00") + timedelta(minutes=n) for n in range(DROPS)]
        for taken, moment in enumerate(moments, start=1):
            set_clock(clock_file, moment)
            wait_until(
                lambda moment=moment: all(s.passed_at(moment) for s in schedulers),
                f"both schedulers to run a release pass at {moment.isoformat()}",
                schedulers,
            )
            # Both have looked at this moment; it is taken, once, and nothing further.
            assert [d[0] for d in drops_of(app, order)] == moments[:taken]
    finally:
        for scheduler in schedulers:
            scheduler.stop()
        with app.app_context(), db.engine.begin() as connection:
            connection.execute(text("DELETE FROM apscheduler_jobs"))

    # Every occurrence has exactly one drop, on time, with its two batches.
    assert drops_of(app, order) == [(m.astimezone(UTC), "released", 2, 0) for m in moments]
    with app.app_context():
        released = db.session.execute(
            select(Batch.seq, Batch.drop_id, Batch.released_at)
            .where(Batch.order_id == order, Batch.status == BatchStatus.RELEASED)
            .order_by(Batch.seq)
        ).all()
        per_drop = dict(
            db.session.execute(
                select(Batch.drop_id, func.count())
                .where(Batch.order_id == order, Batch.drop_id.is_not(None))
                .group_by(Batch.drop_id)
            ).all()
        )
        drop_sizes = dict(
            db.session.execute(
                select(Drop.id, Drop.batch_count).where(Drop.order_id == order)
            ).all()
        )
        left = db.session.scalar(
            select(func.count()).where(
                Batch.order_id == order, Batch.status == BatchStatus.SCHEDULED
            )
        )
    # Released batches = drops x batches per drop, in order, each by exactly one drop.
    assert [seq for seq, _, _ in released] == list(range(1, DROPS * 2 + 1))
    assert per_drop == drop_sizes and set(per_drop.values()) == {2}
    assert left == BATCHES - DROPS * 2
    # Each batch was released at its drop's moment by one pass: a second release would
    # have moved released_at or the batch to another drop.
    assert [released_at for _, _, released_at in released] == [
        m.astimezone(UTC) for m in moments for _ in range(2)
    ]

    # From the logs: both processes ran passes at every moment, and of all their passes
    # exactly one took each drop; nothing went wrong in either (no job-store conflict).
    passes = {s.name: s.passes() for s in schedulers}
    for moment in [before, *moments]:
        taken = sum(n for name in passes for at, n in passes[name] if at == moment)
        assert taken == (0 if moment == before else 1), (moment, passes)
    for scheduler in schedulers:
        log = scheduler.log()
        assert 'Added job "release_drops"' in log
        assert "Traceback" not in log and " ERROR " not in log, log
