"""The raw ceiling: the bare claim statement, one transaction each, over direct connections."""

from __future__ import annotations

import time

import psycopg

from .cpu import CpuMeter
from .race import Ready, race
from .world import reset_batches

# The bare claim: one statement, one transaction, no ORM, no HTTP.
RAW_CLAIM = """
UPDATE batches SET status = 'claimed', claimed_by_party_id = %(team)s, claimed_at = now()
WHERE id = (
    SELECT id FROM batches WHERE status = 'released' AND order_id = %(order)s
    LIMIT 1 FOR UPDATE SKIP LOCKED
)
RETURNING id
"""


def raw_run(conninfo: str, order_id: int, team_id: int, connections: int, limit_s: float) -> dict:
    """Claim with the bare statement from `connections` threads until none is left."""
    reset_batches(conninfo, order_id)
    conns = [psycopg.connect(conninfo, autocommit=True) for _ in range(connections)]
    params = {"team": team_id, "order": order_id}
    for conn in conns:  # a prepared statement on every connection, as a pool would keep it
        conn.execute("SELECT 1").fetchone()
    meters: list[CpuMeter] = []
    counts = [0] * connections

    def claimer(index: int, ready: Ready) -> float:
        conn = conns[index]
        deadline = ready() + limit_s
        won = 0
        while time.perf_counter() < deadline:
            if conn.execute(RAW_CLAIM, params, prepare=True).fetchone() is None:
                break
            won += 1
        counts[index] = won
        return time.perf_counter()

    seconds = race(connections, claimer, on_start=lambda: meters.append(CpuMeter()))
    claims = sum(counts)
    cpu = meters[0].since_start(claims)  # before closing: a closed backend's CPU is gone from /proc
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
