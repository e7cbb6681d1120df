"""Items from a file: CSV, JSON Lines and multipart uploads, all or nothing, idempotent."""

import io
import json
import tracemalloc

import pytest
from sqlalchemy import func, select

from marketplace.db import db
from marketplace.orders.models import Batch, Item, ItemImport, Order
from marketplace.subcontract.models import Contract
from tests.flows import claim, order_body, post_order, release_drops
from tests.support import row_counts

CSV = "text/csv"
JSONL = "application/x-ndjson"
DAILY_3AM = {"cron": "0 3 * * *", "timezone": "Asia/Shanghai", "batches_per_drop": 2}


def upload(api, token, order_id, body, content_type=CSV, query="", **headers):
    return api.post(
        f"/orders/{order_id}/items{query}",
        token,
        data=body.encode() if isinstance(body, str) else body,
        content_type=content_type,
        headers=headers,
    )


def boxes_csv(refs, width="640", height="480") -> str:
    return "ref,width,height\n" + "".join(f"{ref},{width},{height}\n" for ref in refs)


def items_of(app, order_id) -> list[tuple]:
    with app.app_context():
        return db.session.execute(
            select(Item.seq, Item.ref, Item.payload, Item.batch_id)
            .where(Item.order_id == order_id)
            .order_by(Item.seq)
        ).all()


def test_csv_items_join_a_draft_order_typed_by_the_item_schema(app, api, cast):
    order_id = post_order(api, cast.client, items=2, publish=False)
    # A spreadsheet's byte-order mark, CRLF line ends and a blank last line are fine.
    body = "\ufeffref,height,width\r\ns3://new/1.jpg,480,640\r\ns3://new/2.jpg, 720 ,1280\r\n\r\n"
    answer = upload(api, cast.client, order_id, body)
    assert answer.status == 201, answer.body
    assert {k: answer.body[k] for k in ("rows_read", "items_added", "quantity")} == {
        "rows_read": 2,
        "items_added": 2,
        "quantity": 4,
    }
    assert (answer.body["duplicates_skipped"], answer.body["batches_created"]) == (0, 0)
    assert items_of(app, order_id)[2:] == [
        (3, "s3://new/1.jpg", {"width": 640, "height": 480}, None),
        (4, "s3://new/2.jpg", {"width": 1280, "height": 720}, None),
    ]
    assert api.post(f"/orders/{order_id}/publish", cast.client).status == 200
    batches = api.get(f"/orders/{order_id}/batches", cast.client).body
    assert [b["item_count"] for b in batches] == [4]


def test_json_lines_and_a_multipart_file_are_read_alike(app, api, cast):
    order_id = post_order(api, cast.client, items=1, publish=False)
    lines = "".join(
        json.dumps({"ref": f"s3://j/{n}.jpg", "width": 100 + n, "height": 50, "lane": "left"})
        + "\n"
        for n in range(3)
    )
    assert upload(api, cast.client, order_id, lines, JSONL).status == 201
    form = {"file": (io.BytesIO(boxes_csv(["s3://m/1.jpg"]).encode()), "boxes.csv")}
    answer = api.post(
        f"/orders/{order_id}/items", cast.client, data=form, content_type="multipart/form-data"
    )
    assert answer.status == 201, answer.body
    assert (answer.body["format"], answer.body["quantity"]) == ("csv", 5)
    rows = items_of(app, order_id)
    assert rows[1][1:3] == ("s3://j/0.jpg", {"width": 100, "height": 50, "lane": "left"})
    assert rows[4][1:3] == ("s3://m/1.jpg", {"width": 640, "height": 480})


def test_bad_rows_are_listed_by_row_and_field_and_nothing_is_written(app, api, cast):
    order_id = post_order(api, cast.client, items=1, publish=False)
    good = [f"s3://ok/{n}.jpg,640,480" for n in range(5000)]
    bad = [f"s3://bad/{n}.jpg,wide,480" for n in range(150)]
    # Good rows fill whole chunks before the first bad one: those chunks roll back too.
    body = "ref,width,height\n" + "\n".join([*good, "s3://x.jpg,640", *bad]) + "\n"
    before = row_counts(app)
    answer = upload(api, cast.client, order_id, body)
    assert answer.status == 422 and answer.error_code == "invalid_rows"
    rows = answer.body["error"]["details"]["rows"]
    assert len(rows) == 100
    assert rows[0] == {
        "row": 5001,
        "line": 5002,
        "field": None,
        "code": "wrong_field_count",
        "message": "2 fields; the header has 3.",
    }
    assert (rows[1]["row"], rows[1]["field"], rows[1]["code"]) == (5002, "width", "invalid_field")
    assert rows[99]["row"] == 5100
    assert row_counts(app) == before


@pytest.mark.parametrize(
    ("body", "code", "details"),
    [
        ("ref,height\ns3://a.jpg,4\n", "missing_columns", {"missing": ["width"]}),
        ("ref,width,height\n", "empty_file", {}),
        ("", "empty_file", {}),
        ('{"ref": "s3://a.jpg", "width": 1, "height": 1}\n', "not_csv", {}),
        ('ref,width,height\ns3://a.jpg,1,1\n"s3://b.jpg,1,1\n', "malformed_csv", {"row": 2}),
    ],
)
def test_a_malformed_file_is_refused_naming_what_and_where(app, api, cast, body, code, details):
    order_id = post_order(api, cast.client, items=1, publish=False)
    answer = upload(api, cast.client, order_id, body)
    assert (answer.status, answer.error_code) == (422, code), answer.body
    assert details.items() <= answer.body["error"]["details"].items()
    assert len(items_of(app, order_id)) == 1


def test_text_that_is_not_utf8_is_refused_naming_the_row_and_byte(app, api, cast):
    order_id = post_order(api, cast.client, items=1, publish=False)
    body = "ref,width,height,note\ns3://a.jpg,1,1,ok\ns3://b.jpg,1,1,标注\n".encode("gbk")
    answer = upload(api, cast.client, order_id, body)
    assert answer.status == 422
    assert answer.body["error"]["details"]["rows"] == [
        {
            "row": 2,
            "line": 3,
            "field": "note",
            "code": "not_utf8",
            "message": "Not UTF-8 text (byte 0xB1): save the file as UTF-8.",
        }
    ]


def test_a_retried_upload_is_answered_once_and_other_content_is_refused(app, api, cast):
    order_id = post_order(api, cast.client, items=1, publish=False)
    body = boxes_csv(["s3://r/1.jpg", "s3://r/2.jpg"])
    first = upload(api, cast.client, order_id, body, **{"Idempotency-Key": "load-7"})
    again = upload(api, cast.client, order_id, body, **{"Idempotency-Key": "load-7"})
    assert (first.status, again.status) == (201, 201)
    assert again.body == first.body
    assert len(items_of(app, order_id)) == 3
    other = upload(
        api, cast.client, order_id, boxes_csv(["s3://r/3.jpg"]), **{"Idempotency-Key": "load-7"}
    )
    assert (other.status, other.error_code) == (409, "idempotency_key_reused")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ItemImport)) == 1


def test_duplicate_refs_are_refused_or_skipped_and_counted(app, api, cast):
    order_id = post_order(api, cast.client, items=1, publish=False)  # s3://set/000000.jpg
    body = boxes_csv(["s3://set/000000.jpg", "s3://d/1.jpg", "s3://d/1.jpg", "s3://d/2.jpg"])
    refused = upload(api, cast.client, order_id, body)
    assert refused.status == 422
    assert [
        (r["row"], r["field"], r["code"]) for r in refused.body["error"]["details"]["rows"]
    ] == [
        (1, "ref", "duplicate_ref"),
        (3, "ref", "duplicate_ref"),
    ]
    skipped = upload(api, cast.client, order_id, body, query="?on_duplicate=skip")
    assert skipped.status == 201
    assert {k: skipped.body[k] for k in ("rows_read", "items_added", "duplicates_skipped")} == {
        "rows_read": 4,
        "items_added": 2,
        "duplicates_skipped": 2,
    }
    assert [row[:2] for row in items_of(app, order_id)] == [
        (1, "s3://set/000000.jpg"),
        (2, "s3://d/1.jpg"),
        (3, "s3://d/2.jpg"),
    ]


def test_items_added_to_a_published_order_drop_next_at_its_price(app, api, cast, frozen_clock):
    frozen_clock.stand_at("2026-03-02T10:00:00+08:00")
    order_id = post_order(api, cast.client, items=2, batch_size=2, release_plan=DAILY_3AM)
    frozen_clock.stand_at("2026-03-03T03:00:00+08:00")
    release_drops(app)
    claim(api, cast.owner, order_id)
    answer = upload(api, cast.client, order_id, boxes_csv([f"s3://p/{n}.jpg" for n in range(5)]))
    assert answer.status == 201, answer.body
    assert (answer.body["batches_created"], answer.body["quantity"]) == (3, 7)
    batches = api.get(f"/orders/{order_id}/batches", cast.client).body
    assert [(b["seq"], b["item_count"], b["status"]) for b in batches] == [
        (1, 2, "claimed"),
        (2, 2, "scheduled"),
        (3, 2, "scheduled"),
        (4, 1, "scheduled"),
    ]
    assert [row[3] for row in items_of(app, order_id)[2:]] == [
        batches[1]["id"],
        batches[1]["id"],
        batches[2]["id"],
        batches[2]["id"],
        batches[3]["id"],
    ]
    frozen_clock.stand_at("2026-03-04T03:00:00+08:00")  # the next drop takes two of them
    release_drops(app)
    claim(api, cast.owner, order_id)
    with app.app_context():
        contract = db.session.scalars(select(Contract)).one()
        order = db.session.get(Order, order_id)
        assert (contract.quantity, contract.unit_price_micros) == (6, order.unit_price_micros)
        assert db.session.scalar(select(func.count()).select_from(Batch)) == 4


def test_a_bids_order_awarded_whole_to_one_team_grows_its_contract(app, api, cast):
    body = order_body(items=4, price="0.10", sourcing="bids")
    order_id = api.post("/orders", cast.client, body).body["id"]
    assert api.post(f"/orders/{order_id}/publish", cast.client).status == 200
    bid = api.post(f"/orders/{order_id}/bids", cast.owner, {"unit_price": "0.08", "quantity": 4})
    assert bid.status == 201, bid.body
    assert api.post(f"/bids/{bid.body['id']}/award", cast.client, {}).status == 200
    assert upload(api, cast.client, order_id, boxes_csv(["s3://b/1.jpg"])).status == 201
    with app.app_context():
        contract = db.session.scalars(select(Contract)).one()
        assert (contract.quantity, contract.unit_price_micros) == (5, 80_000)


def test_more_rows_than_an_upload_may_hold_write_nothing(app, api, cast, monkeypatch):
    monkeypatch.setitem(app.config, "ITEMS_IMPORT_MAX_ROWS", 10)
    order_id = post_order(api, cast.client, items=1, publish=False)
    assert upload(api, cast.client, order_id, boxes_csv(range(10))).status == 201
    answer = upload(api, cast.client, order_id, boxes_csv(range(100, 111)))
    assert (answer.status, answer.error_code) == (413, "too_many_rows")
    assert answer.body["error"]["details"] == {"max_rows": 10}
    assert len(items_of(app, order_id)) == 11


def test_the_cli_imports_a_file_for_an_operator(app, api, cast, tmp_path):
    order_id = post_order(api, cast.client, items=1, publish=False)
    path = tmp_path / "items.jsonl"
    path.write_text(
        "".join(f'{{"ref": "s3://c/{n}", "width": 9, "height": 9}}\n' for n in range(3))
    )
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["import-items", str(order_id), str(path), "--by", "client@example.com"]
    )
    assert result.exit_code == 0, result.output
    assert "3 items added from 3 rows" in result.output
    assert "quantity 4" in result.output
    rival = ["import-items", str(order_id), str(path), "--by", "rival_client@example.com"]
    refused = runner.invoke(args=rival)
    assert refused.exit_code == 1 and "order_not_found" in refused.output
    assert len(items_of(app, order_id)) == 4


class GeneratedBody(io.RawIOBase):
    """A request body made as it is read, 1,000 rows (500-byte refs) at a time."""

    def __init__(self, rows: int) -> None:
        self.chunks = self._chunks(rows)
        self.left = b""

    @staticmethod
    def _chunks(rows: int):
        yield b"ref,width,height\n"
        for start in range(0, rows, 1000):
            yield "".join(
                f"https://data.example/drive/{'2026-03/' * 60}frame-{n:07d}.jpg,1920,1080\n"
                for n in range(start, min(rows, start + 1000))
            ).encode()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self.left:
            self.left = next(self.chunks, b"")
        size = min(len(buffer), len(self.left))
        buffer[:size], self.left = self.left[:size], self.left[size:]
        return size


@pytest.mark.slow
def test_a_large_upload_streams_into_the_order_in_less_memory_than_the_file(app, api, cast):
    order_id = post_order(api, cast.client, items=1, publish=False)
    rows = 40_000
    size = sum(len(chunk) for chunk in GeneratedBody(rows).chunks)  # about 21 MB
    # A first small upload warms the statement caches, which are not the file's.
    assert upload(api, cast.client, order_id, boxes_csv(["s3://warm.jpg"])).status == 201
    tracemalloc.start()
    try:
        answer = api.post(
            f"/orders/{order_id}/items",
            cast.client,
            content_type=CSV,
            # The test client would measure a stream by seeking to its end: hand it over.
            environ_overrides={"wsgi.input": GeneratedBody(rows), "CONTENT_LENGTH": str(size)},
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.status == 201, answer.body
    assert (answer.body["items_added"], answer.body["quantity"]) == (rows, rows + 2)
    assert peak < size / 3, (peak, size)
    with app.app_context():
        count = select(func.count(func.distinct(Item.ref))).where(Item.order_id == order_id)
        assert db.session.scalar(count) == rows + 2
