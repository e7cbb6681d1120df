"""The storm: HTTP claimers on loopback racing for every batch of the drop."""

from __future__ import annotations

import http.client
import itertools
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .api import auth, claim_path, probe
from .latency import latency_summary
from .race import Ready, race
from .world import Seed


@dataclass
class ClaimerLog:
    wins: list[int] = field(default_factory=list)
    conflicts: int = 0
    errors: Counter = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    win_latencies: list[float] = field(default_factory=list)

    def error(self, kind: str, sample: str | None = None) -> None:
        """Count an error of this kind; keep the first few samples."""
        self.errors[kind] += 1
        if sample is not None and len(self.error_samples) < 3:
            self.error_samples.append(sample)


def storm(
    port: int,
    seed_: Seed,
    *,
    claimers: int,
    max_requests: int,
    time_limit: float,
    blind: bool,
    rng_seed: int,
    on_start: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """`claimers` threads, one keep-alive connection each, race for every batch of the drop."""
    total = len(seed_.batch_ids)
    board: set[int] = set()  # batches some claimer has won: what the drop board shows taken
    budget = itertools.count()  # one number per request, shared: the request bound
    logs = [ClaimerLog() for _ in range(claimers)]
    stop = threading.Event()  # set once the drop is cleared

    def claimer(index: int, ready: Ready) -> float:
        team_id, token = seed_.teams[index % len(seed_.teams)]
        order = list(seed_.batch_ids)
        random.Random(rng_seed * 1000 + index).shuffle(order)
        headers = {**auth(token), "Content-Type": "application/json", "Content-Length": "2"}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        probe(conn, token)  # warm the connection (and the worker behind it) before the storm
        log = logs[index]
        deadline = ready() + time_limit
        now = time.perf_counter
        try:
            for batch_id in order:
                if stop.is_set() or now() >= deadline:
                    break
                if not blind and batch_id in board:
                    continue
                if next(budget) >= max_requests:
                    break
                began = now()
                try:
                    conn.request("POST", claim_path(batch_id), b"{}", headers)
                    response = conn.getresponse()
                    body = response.read()
                    status = response.status
                except (OSError, http.client.HTTPException) as exc:
                    log.error(type(exc).__name__, f"batch {batch_id}: {exc!r}")
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    continue
                took = now() - began
                log.latencies.append(took)
                if status == 200:
                    claimed_by = json.loads(body).get("claimed_by")
                    if claimed_by != team_id:
                        log.error(f"200 claimed_by {claimed_by}")
                    log.wins.append(batch_id)
                    log.win_latencies.append(took)
                    board.add(batch_id)
                    if len(board) >= total:
                        stop.set()
                elif status == 409 and b"batch_taken" in body:
                    log.conflicts += 1
                    board.add(batch_id)
                else:
                    log.error(f"HTTP {status}", f"batch {batch_id}: {status} {body[:200]!r}")
            return now()
        finally:
            conn.close()

    seconds = race(claimers, claimer, on_start)

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
