"""The census: every round trip of one winning and one losing claim, through the real app."""

from __future__ import annotations

from typing import Any

from .api import auth, claim_path
from .world import Seed


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
    ]
    # A checkout costs a round trip only when the pool pings first (the app no longer does).
    if getattr(engine.pool, "_pre_ping", False):
        listeners.append(
            (engine.pool, "checkout", lambda *a: log.append("(pool checkout: pre-ping SELECT 1)"))
        )
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
            response = client.post(claim_path(seed_.census_batch_id), json={}, headers=auth(token))
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
