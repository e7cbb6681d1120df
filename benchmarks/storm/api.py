"""The few requests the benchmark makes of the HTTP API."""

from __future__ import annotations

import http.client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claim_path(batch_id: int) -> str:
    return f"/api/v1/batches/{batch_id}/claim"


def probe(conn: http.client.HTTPConnection, token: str) -> int:
    """A cheap authenticated read (one batch of the board); its status."""
    conn.request("GET", "/api/v1/batches?limit=1", headers=auth(token))
    response = conn.getresponse()
    response.read()
    return response.status
