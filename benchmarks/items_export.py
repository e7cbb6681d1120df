"""Results out, measured on PostgreSQL: the export half of `make bench BENCH=items`.

Run through benchmarks/items.py, which calls `run_export` on a database of its own
(created, migrated, dropped):

    make bench BENCH=items BENCH_ARGS="--only export"
    .venv/bin/python benchmarks/items.py --only export [--sizes 100000] [--formats jsonl,coco]

What it does:

1. World: through the API, a client, a team (owner, reviewer, annotator) and, per size,
   an order of one box, published, claimed, done and accepted; then, set-based in SQL,
   each order grows to `size` accepted boxes by copying that item, task and submission
   (each box its own ref and x), and the tables are vacuumed.
2. Raw baseline: `COPY (SELECT ...) TO STDOUT` of the same rows and columns the export
   reads (the accepted submissions of the order with their items, by submission id),
   read whole by psycopg.
3. Export: GET /api/v1/orders/{id}/results?format=... through gunicorn (one sync worker),
   read by http.client in 1 MB reads: time to the first byte of the body, total time,
   bytes, and the worker's peak resident memory during the download (its high-water
   mark reset through /proc/<pid>/clear_refs before each, and sampled beside it) over
   its memory before. Every JSON Lines answer is counted (one line an item) and every
   COCO document parsed once (an image and an annotation an item).

It prints one line per size and format; items.py writes the figures into
benchmarks/results/items.json under "export". The worker is benchmarks/items_worker.py's.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import psycopg
from items_worker import Worker

# Label Studio 1.23.2 on this kind of machine: 1.1-1.3 ms a task to export (issue 18).
LABEL_STUDIO_MS_PER_TASK = 1.1
BOX = {"boxes": [{"label": "car", "x": 1, "y": 2, "w": 30, "h": 40}]}
IMAGE = {"width": 1920, "height": 1080}
# The columns the export reads, for the raw baseline.
RAW_SELECT = """
    SELECT s.id, s.batch_id, s.status, s.reviewed_at, s.reason_code, s.reason,
           s.annotator_user_id, s.result, i.ref, i.payload
    FROM submissions s JOIN tasks t ON t.id = s.task_id JOIN items i ON i.id = t.item_id
    WHERE s.order_id = {order_id} AND s.status = 'accepted'
    ORDER BY s.id
"""


# --------------------------------------------------------------------------- the world


def seed_people(app) -> dict[str, Any]:
    """A client (admin and token) and a team (owner, reviewer, annotator, tokens)."""
    from marketplace.db import unit_of_work
    from marketplace.identity import service as identity
    from marketplace.identity.models import CreditLine, PartyKind, Role

    tokens = {}
    with app.app_context(), unit_of_work() as session:
        client = identity.create_party(session, kind=PartyKind.CLIENT, name="Export Client")
        # Trusted with pay-when-paid orders: the export is measured, not the funding.
        session.add(
            CreditLine(party_id=client.id, currency="CNY", limit_minor=10**12, reason="bench")
        )
        team = identity.create_party(session, kind=PartyKind.TEAM, name="Export Team")
        for label, party, role in (
            ("client", client, Role.CLIENT_ADMIN),
            ("owner", team, Role.TEAM_OWNER),
            ("reviewer", team, Role.REVIEWER),
            ("annotator", team, Role.ANNOTATOR),
        ):
            user = identity.create_user(
                session,
                email=f"{label}@export.example",
                name=label.title(),
                password="bench-password",
            )
            identity.add_membership(session, user=user, party=party, role=role)
            tokens[label] = identity.issue_token(session, user, name="bench")
    return tokens


def one_accepted_box(app, tokens: dict[str, str]) -> int:
    """An order of one box, published, claimed, done and accepted, through the API."""
    client = app.test_client()

    def call(method: str, path: str, who: str, body: Any = None) -> Any:
        answer = client.open(
            f"/api/v1{path}",
            method=method,
            json=body,
            headers={"Authorization": f"Bearer {tokens[who]}"},
        )
        if answer.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.get_data()!r}")
        return answer.json

    order = {
        "title": "Export",
        "task_type": "bbox_2d",
        "unit_price": "0.10",
        "currency": "CNY",
        "payment_terms_days": 30,
        "batch_size": 1,
        "items": [{"ref": "s3://export/0000000.jpg", "payload": IMAGE}],
    }
    order_id = call("POST", "/orders", "client", order)["id"]
    call("POST", f"/orders/{order_id}/publish", "client")
    [batch] = call("GET", f"/orders/{order_id}/batches", "client")
    call("POST", f"/batches/{batch['id']}/claim", "owner")
    call("PUT", f"/orders/{order_id}/piece-rate", "owner", {"unit_price": "0.06"})
    [task] = call("POST", "/tasks/next", "annotator", {"count": 1})
    done = call("POST", f"/tasks/{task['id']}/submit", "annotator", {"result": BOX})
    call(
        "POST",
        "/reviews",
        "reviewer",
        {"decisions": [{"submission_id": done["id"], "decision": "accept"}]},
    )
    return order_id


def _columns(conn: psycopg.Connection, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "AND table_schema = current_schema() ORDER BY ordinal_position",
        (table,),
    ).fetchall()
    return [name for (name,) in rows if name != "id"]


def _copy_rows(
    conn: psycopg.Connection, table: str, template: int, count: int, changed: dict[str, str]
) -> int:
    """`count` copies of row `template` of `table` (n = 1..count), with `changed` columns
    computed from n; the id of the first copy (ids are taken in n's order)."""
    columns = _columns(conn, table)
    values = [changed.get(column, f"t.{column}") for column in columns]
    first = conn.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM {table} t, generate_series(1, %s) AS g(n) "
        f"WHERE t.id = %s ORDER BY g.n RETURNING id",
        (count, template),
    ).fetchone()[0]
    return first


def grow(conninfo: str, order_id: int, size: int) -> None:
    """The order's one accepted box becomes `size`, each with its own ref and x."""
    extra = size - 1
    with psycopg.connect(conninfo) as conn:
        item, task, submission = conn.execute(
            "SELECT t.item_id, t.id, s.id FROM submissions s JOIN tasks t ON t.id = s.task_id "
            "WHERE s.order_id = %s",
            (order_id,),
        ).fetchone()
        first_item = _copy_rows(
            conn,
            "items",
            item,
            extra,
            {"seq": "t.seq + g.n", "ref": "'s3://export/' || lpad(g.n::text, 7, '0') || '.jpg'"},
        )
        first_task = _copy_rows(conn, "tasks", task, extra, {"item_id": f"{first_item} + g.n - 1"})
        _copy_rows(
            conn,
            "submissions",
            submission,
            extra,
            {
                "task_id": f"{first_task} + g.n - 1",
                "result": "json_build_object('boxes', json_build_array(json_build_object("
                "'label', 'car', 'x', g.n %% 1800, 'y', 2, 'w', 30, 'h', 40)))",
            },
        )
        conn.commit()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) items, tasks, submissions")


# --------------------------------------------------------------------------- measuring


def raw_copy(conninfo: str, order_id: int) -> dict[str, Any]:
    """The baseline: COPY of the same rows to this process, read whole."""
    with psycopg.connect(conninfo) as conn, conn.cursor() as cursor:
        started = time.perf_counter()
        size = rows = 0
        first = None
        sql = f"COPY ({RAW_SELECT.format(order_id=int(order_id))}) TO STDOUT"
        with cursor.copy(sql) as copy:
            for data in copy:
                first = first or time.perf_counter() - started
                size += len(data)
                rows += bytes(data).count(b"\n")
        return {
            "seconds": time.perf_counter() - started,
            "first_byte_s": first,
            "bytes": size,
            "rows": rows,
        }


def http_export(worker: Worker, token: str, order_id: int, fmt: str, size: int) -> dict:
    """One download through HTTP: first byte, total time, bytes, the worker's peak memory."""
    with worker.sampling() as memory:
        conn = worker.connection()
        started = time.perf_counter()
        conn.request(
            "GET",
            f"/api/v1/orders/{order_id}/results?format={fmt}",
            headers={"Authorization": f"Bearer {token}"},
        )
        response = conn.getresponse()
        first = response.read(1)
        first_byte = time.perf_counter() - started
        parts, total, lines = [first], len(first), first.count(b"\n")
        keep = fmt == "coco"
        while chunk := response.read(1 << 20):
            total += len(chunk)
            lines += chunk.count(b"\n")
            if keep:
                parts.append(chunk)
        seconds = time.perf_counter() - started
    if response.status != 200:
        raise RuntimeError(f"export answered {response.status}")
    if fmt == "jsonl" and lines != size:
        raise RuntimeError(f"{lines} lines for {size} items")
    if keep:
        document = json.loads(b"".join(parts))
        if len(document["images"]) != size or len(document["annotations"]) != size:
            raise RuntimeError("the COCO document does not hold every item")
    return {
        "seconds": seconds,
        "first_byte_s": first_byte,
        "bytes": total,
        **memory.figures(),
        "ms_per_item": seconds * 1000 / size,
    }


def run_export(
    app, conninfo: str, url: str, source: Path, sizes: list[int], formats: list[str]
) -> dict[str, Any]:
    """Build an order per size, then measure raw COPY and each format's download; the
    figures per size (and the orders' ids)."""
    tokens = seed_people(app)
    orders = {}
    for size in sizes:
        orders[size] = one_accepted_box(app, tokens)
        started = time.perf_counter()
        grow(conninfo, orders[size], size)
        took = time.perf_counter() - started
        print(f"  order {orders[size]}: {size:,} accepted boxes in {took:.1f} s")
    worker = Worker(url, source)
    figures: dict[str, Any] = {}
    try:
        for size in sizes:
            raw = raw_copy(conninfo, orders[size])
            row: dict[str, Any] = {"order_id": orders[size], "raw_copy": raw}
            for fmt in formats:
                got = http_export(worker, tokens["client"], orders[size], fmt, size)
                got["x_raw_copy"] = got["seconds"] / raw["seconds"]
                got["x_faster_than_label_studio"] = LABEL_STUDIO_MS_PER_TASK / got["ms_per_item"]
                row[fmt] = got
                print(
                    f"  {size:>9,} {fmt:5}  {got['seconds']:7.2f} s  first byte "
                    f"{got['first_byte_s'] * 1000:6.0f} ms  {got['x_raw_copy']:5.2f} x COPY "
                    f"({raw['seconds']:.2f} s)  {got['ms_per_item'] * 1000:6.1f} us/item  "
                    f"rss {got['rss_before_mb']:.0f} -> {got['rss_peak_mb']:.0f} MB  "
                    f"{got['x_faster_than_label_studio']:.0f} x Label Studio"
                )
            figures[str(size)] = row
    finally:
        worker.stop()
    return figures
