"""Helpers for tests: an API client that speaks our JSON, a steppable clock, row counts."""

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from marketplace.db import Base, db
from marketplace.web import loads_exact


@dataclass
class Response:
    status: int
    body: Any
    text: str

    @property
    def error_code(self) -> str | None:
        return (
            (self.body or {}).get("error", {}).get("code") if isinstance(self.body, dict) else None
        )


class ApiClient:
    """Calls /api/v1 with a bearer token; decimals in answers are read exactly."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        answer = self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)
        text = answer.get_data(as_text=True)
        body = loads_exact(text) if answer.is_json and text else None
        return Response(answer.status_code, body, text)

    def get(self, path: str, token: str | None = None, **kwargs: Any) -> Response:
        return self.call("GET", path, token, **kwargs)

    def post(self, path: str, token: str | None = None, json: Any = None, **kwargs: Any):
        return self.call("POST", path, token, json=json, **kwargs)

    def put(self, path: str, token: str | None = None, json: Any = None, **kwargs: Any):
        return self.call("PUT", path, token, json=json, **kwargs)

    def delete(self, path: str, token: str | None = None, **kwargs: Any) -> Response:
        return self.call("DELETE", path, token, **kwargs)


class FrozenClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def step(self, **delta: float) -> None:
        self.moment += timedelta(**delta)

    def stand_at(self, iso: str) -> None:
        """Stand at an ISO-8601 moment with its offset, e.g. 03:00 in Shanghai."""
        self.moment = datetime.fromisoformat(iso).astimezone(UTC)


def row_counts(app) -> dict[str, int]:
    """How many rows each table holds: to show that a refused request wrote nothing."""
    with app.app_context():
        return {
            table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
        }


def dec(value: str) -> Decimal:
    return Decimal(value)


def all_at_once(app, calls):
    """Run each call on its own thread and connection, released together by a barrier."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        client = ApiClient(app.test_client())
        barrier.wait()
        results[index] = call(client)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def wait_until_a_session_waits_for_a_lock(engine) -> None:
    """Watch the PostgreSQL server until one of its sessions waits for a lock; none waiting
    after 10 s fails the test (a guard against a hang, not a measure of time)."""
    deadline = time.monotonic() + 10
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
        waiting = text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        while not watcher.scalar(waiting):
            assert time.monotonic() < deadline, "no session ever waited for a lock"
            time.sleep(0.01)
