"""Items in, measured on PostgreSQL: the import half of `make bench BENCH=items`.

Run through benchmarks/items.py, which calls `run_import` on a database of its own
(created, migrated, dropped):

    make bench BENCH=items BENCH_ARGS="--only import"
    .venv/bin/python benchmarks/items.py --only import [--sizes 100000,1000000]

What it does:

1. World: through the API, a client and, per size and per way in, a draft order of one
   box.
2. Raw baseline: `COPY items (order_id, seq, ref, payload) FROM STDIN` of the same rows
   (ref, and the image's size as the JSON payload) into one of the drafts, by psycopg
   in one transaction.
3. Import: POST /api/v1/orders/{id}/items of the same rows as a CSV body (ref, width,
   height; four image sizes in turn, as a data set has a few), through gunicorn (one
   sync worker), sent by http.client as it is generated: total time, and the worker's
   peak resident memory during the upload (its high-water mark reset through
   /proc/<pid>/clear_refs before, and sampled beside it) over its memory before. The
   answer must count every row, and the order must hold them.

It prints one line per size; items.py writes the figures into
benchmarks/results/items.json under "import". The worker is benchmarks/items_worker.py's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from items_worker import Worker

# Label Studio 1.23.2 on this kind of machine: 1.7 ms a task to import (issue 18).
LABEL_STUDIO_MS_PER_TASK = 1.7
SIZES = [(1920, 1080), (1280, 720), (640, 480), (3840, 2160)]
ROWS_PER_PIECE = 10_000


def ref(n: int) -> str:
    return f"s3://bench/drive/frame-{n:07d}.jpg"


def csv_pieces(size: int) -> Iterator[bytes]:
    """The upload's body, made as it is sent: a header, then `size` rows."""
    yield b"ref,width,height\n"
    for start in range(1, size + 1, ROWS_PER_PIECE):
        yield "".join(
            f"{ref(n)},{SIZES[n % 4][0]},{SIZES[n % 4][1]}\n"
            for n in range(start, min(size, start + ROWS_PER_PIECE - 1) + 1)
        ).encode()


def seed_client(app) -> str:
    """A client of its own (the export half seeds its own people) and its admin's token."""
    from marketplace.db import unit_of_work
    from marketplace.identity import service as identity
    from marketplace.identity.models import PartyKind, Role

    with app.app_context(), unit_of_work() as session:
        client = identity.create_party(session, kind=PartyKind.CLIENT, name="Import Client")
        user = identity.create_user(
            session, email="client@import.example", name="Client", password="bench-password"
        )
        identity.add_membership(session, user=user, party=client, role=Role.CLIENT_ADMIN)
        return identity.issue_token(session, user, name="bench")


def draft_of_one_box(app, token: str) -> int:
    answer = app.test_client().post(
        "/api/v1/orders",
        json={
            "title": "Import",
            "task_type": "bbox_2d",
            "unit_price": "0.10",
            "currency": "CNY",
            "payment_terms_days": 30,
            "batch_size": 500,
            "items": [{"ref": ref(0), "payload": {"width": 1920, "height": 1080}}],
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    if answer.status_code != 201:
        raise RuntimeError(f"POST /orders: {answer.status_code} {answer.get_data()!r}")
    return answer.json["id"]


def raw_copy(conninfo: str, order_id: int, size: int) -> dict[str, Any]:
    """The baseline: COPY of the same rows into the order's items, committed."""
    with psycopg.connect(conninfo) as conn, conn.cursor() as cursor:
        started = time.perf_counter()
        with cursor.copy("COPY items (order_id, seq, ref, payload) FROM STDIN") as copy:
            for n in range(1, size + 1):
                width, height = SIZES[n % 4]
                copy.write_row(
                    (order_id, n + 1, ref(n), f'{{"width": {width}, "height": {height}}}')
                )
        conn.commit()
        return {"seconds": time.perf_counter() - started}


def http_import(worker: Worker, token: str, order_id: int, size: int) -> dict[str, Any]:
    """One upload through HTTP: total time, the worker's peak memory, the answer."""
    length = sum(len(piece) for piece in csv_pieces(size))
    with worker.sampling() as memory:
        conn = worker.connection()
        started = time.perf_counter()
        conn.request(
            "POST",
            f"/api/v1/orders/{order_id}/items",
            body=csv_pieces(size),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "text/csv",
                "Content-Length": str(length),
            },
        )
        response = conn.getresponse()
        answer = json.loads(response.read())
        seconds = time.perf_counter() - started
    if response.status != 201 or answer["items_added"] != size:
        raise RuntimeError(f"import answered {response.status}: {str(answer)[:500]}")
    return {
        "seconds": seconds,
        "bytes": length,
        **memory.figures(),
        "ms_per_item": seconds * 1000 / size,
    }


def items_of(conninfo: str, order_id: int) -> int:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(
            "SELECT count(*) FROM items WHERE order_id = %s", (order_id,)
        ).fetchone()[0]


def run_import(app, conninfo: str, url: str, source: Path, sizes: list[int]) -> dict[str, Any]:
    """Per size: raw COPY into one draft, the HTTP import into another; the figures."""
    token = seed_client(app)
    worker = Worker(url, source)
    figures: dict[str, Any] = {}
    try:
        for size in sizes:
            raw_order, http_order = draft_of_one_box(app, token), draft_of_one_box(app, token)
            raw = raw_copy(conninfo, raw_order, size)
            got = http_import(worker, token, http_order, size)
            for order_id in (raw_order, http_order):
                if items_of(conninfo, order_id) != size + 1:
                    raise RuntimeError(f"order {order_id} does not hold {size + 1} items")
            got["x_raw_copy"] = got["seconds"] / raw["seconds"]
            got["x_faster_than_label_studio"] = LABEL_STUDIO_MS_PER_TASK / got["ms_per_item"]
            figures[str(size)] = {"raw_copy": raw, "import": got}
            print(
                f"  {size:>9,} import {got['seconds']:7.2f} s  {got['x_raw_copy']:5.2f} x COPY "
                f"({raw['seconds']:.2f} s)  {got['ms_per_item'] * 1000:6.1f} us/item  "
                f"rss {got['rss_before_mb']:.0f} -> {got['rss_peak_mb']:.0f} MB  "
                f"{got['x_faster_than_label_studio']:.0f} x Label Studio"
            )
    finally:
        worker.stop()
    return figures
