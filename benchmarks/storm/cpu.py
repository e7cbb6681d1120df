"""CPU seconds spent by the benchmark's client, the gunicorn workers and PostgreSQL."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def proc_stat(pid: int | str) -> tuple[str, int, float] | None:
    """A process's name, parent pid and CPU seconds (user + system), from /proc."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields_ = raw[raw.rindex(")") + 2 :].split()
    # fields_[1] is ppid, [11] utime, [12] stime, [13] cutime, [14] cstime (in ticks)
    return name, int(fields_[1]), (int(fields_[11]) + int(fields_[12])) / TICK


def processes() -> Iterator[tuple[int, str, int, float]]:
    """(pid, name, parent pid, CPU seconds) of every process on the machine."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        stat = proc_stat(pid)
        if stat is not None:
            yield (int(pid), *stat)


def children(parent: int) -> list[int]:
    return [pid for pid, _, ppid, _ in processes() if ppid == parent]


class CpuMeter:
    """CPU seconds (user + system) spent by this process, the gunicorn workers and PostgreSQL.

    Read from /proc, so Linux only; elsewhere every figure is None. PostgreSQL is
    every process named `postgres` on the machine (the benchmark's backends and
    the server's own background processes).
    """

    def __init__(self, worker_parent: int | None = None) -> None:
        self.worker_parent = worker_parent
        self.start = self.sample()

    def sample(self) -> dict[str, float] | None:
        if not Path("/proc/stat").exists():
            return None
        totals = {"postgres": 0.0, "app_workers": 0.0}
        for _, name, ppid, cpu in processes():
            if name == "postgres":
                totals["postgres"] += cpu
            elif self.worker_parent is not None and ppid == self.worker_parent:
                totals["app_workers"] += cpu
        own = os.times()
        totals["bench_client"] = own.user + own.system
        cpu_line = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        ticks = [int(v) for v in cpu_line]
        totals["machine_busy"] = (sum(ticks) - ticks[3] - ticks[4]) / TICK  # minus idle, iowait
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
