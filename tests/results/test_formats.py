"""CSV for flat results, COCO for boxes, and the empty file of an order with nothing
accepted, in each format."""

import csv
import io
import json

import pytest

from marketplace.db import db
from tests.flows import post_order, review, submit
from tests.results.kit import RATING, box_order, export, pseudonym, rating_order, submit_results

pytestmark = pytest.mark.slow

HEADER = "ref,batch_id,rating,error_types,comment,status,decided_at,reason_code,reason,annotator"


def test_csv_has_a_column_per_result_field(app, api, cast, frozen_clock):
    order_id = rating_order(api, cast, items=2)
    done = submit_results(api, cast.li, [RATING, {"rating": 5}])
    review(api, cast.reviewer, accept=done)
    [batch] = [b["id"] for b in api.get(f"/orders/{order_id}/batches", cast.client).body]
    li = pseudonym(app, order_id, cast.user_ids["li"])

    answer = export(api, cast.client, order_id, "format=csv")

    assert answer.text == (
        f"{HEADER}\r\n"
        f's3://set/000000.jpg,{batch},2,"[""factual""]","wrong year, ""1999""",accepted,'
        f"2026-03-02T10:00:00+00:00,,,{li}\r\n"
        f"s3://set/000001.jpg,{batch},5,,,accepted,2026-03-02T10:00:00+00:00,,,{li}\r\n"
    )
    [first, _] = list(csv.DictReader(io.StringIO(answer.text)))
    assert json.loads(first["error_types"]) == ["factual"]
    assert first["comment"] == 'wrong year, "1999"'


def test_csv_of_boxes_and_coco_of_ratings_are_refused(app, api, cast, frozen_clock):
    boxes = post_order(api, cast.client, items=1, batch_size=1)
    ratings = rating_order(api, cast, items=1)

    assert export(api, cast.client, boxes, "format=csv", 409).body["error"]["code"] == (
        "format_not_flat"
    )
    assert export(api, cast.client, ratings, "format=coco", 409).body["error"]["code"] == (
        "format_not_supported"
    )


def test_coco_holds_images_annotations_and_the_labels_met(app, api, cast, frozen_clock):
    order_id = box_order(api, cast, items=3)
    results = [
        {"boxes": [{"label": "car", "x": 1, "y": 2, "w": 30, "h": 40}]},
        {
            "boxes": [
                {"label": "bus", "x": 0, "y": 0.5, "w": 10.5, "h": 2},
                {"x": 5, "y": 5, "w": 1, "h": 1},
                {"label": "car", "x": 7, "y": 8, "w": 9, "h": 10},
            ]
        },
        {"boxes": []},
    ]
    done = submit_results(api, cast.li, results)
    review(api, cast.reviewer, accept=done[:2], reject=done[2:])
    [batch] = [b["id"] for b in api.get(f"/orders/{order_id}/batches", cast.client).body]
    li = pseudonym(app, order_id, cast.user_ids["li"])

    def image(n: int, status: str = "accepted", **reason) -> dict:
        return {
            "id": done[n],
            "file_name": f"s3://set/{n:06d}.jpg",
            "width": 1920,
            "height": 1080,
            "piecework": {
                "batch_id": batch,
                "status": status,
                "decided_at": "2026-03-02T10:00:00+00:00",
                "reason_code": reason.get("reason_code"),
                "reason": reason.get("reason"),
                "annotator": li,
            },
        }

    def annotation(number: int, n: int, category: int, bbox: list, area) -> dict:
        return {
            "id": number,
            "image_id": done[n],
            "category_id": category,
            "bbox": bbox,
            "area": area,
            "iscrowd": 0,
        }

    answer = export(api, cast.client, order_id, "format=coco")

    assert answer.body == {
        "images": [image(0), image(1)],
        "annotations": [
            annotation(1, 0, 1, [1, 2, 30, 40], 1200),
            annotation(2, 1, 2, [0, 0.5, 10.5, 2], 21),
            annotation(3, 1, 3, [5, 5, 1, 1], 1),
            annotation(4, 1, 1, [7, 8, 9, 10], 90),
        ],
        "categories": [{"id": 1, "name": "car"}, {"id": 2, "name": "bus"}, {"id": 3, "name": ""}],
    }
    audit = export(api, cast.client, order_id, "format=coco&status=all").body
    assert audit["images"][2] == image(
        2, "rejected", reason_code="box_off_target", reason="box misses the wheel"
    )
    assert len(audit["annotations"]) == 4  # the rejected item had no box


def test_an_order_with_nothing_accepted_gives_empty_valid_files(app, api, cast, frozen_clock):
    boxes = box_order(api, cast, items=1)
    ratings = rating_order(api, cast, items=1)
    review(api, cast.reviewer, accept=[], reject=submit(api, cast.li, 1))

    assert export(api, cast.client, boxes, "format=jsonl").text == ""
    assert export(api, cast.client, ratings, "format=csv").text == f"{HEADER}\r\n"
    assert export(api, cast.client, boxes, "format=coco").body == {
        "images": [],
        "annotations": [],
        "categories": [],
    }


def test_a_download_given_up_midway_gives_its_connection_back(app, api, cast, frozen_clock):
    order_id = box_order(api, cast, items=1)
    review(api, cast.reviewer, accept=submit(api, cast.li, 1))
    with app.app_context():
        pool = db.engine.pool
    before = pool.checkedout()

    answer = api.client.get(
        f"/api/v1/orders/{order_id}/results?format=coco",
        headers={"Authorization": f"Bearer {cast.client}"},
        buffered=False,
    )
    chunks = iter(answer.response)

    assert next(chunks) == b'{"images":['
    assert pool.checkedout() == before + 1  # the stream's own read, open while it runs
    answer.close()
    assert pool.checkedout() == before
