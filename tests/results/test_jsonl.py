"""JSON Lines, the export every task type has: what a line holds, who is named how, and
which items a filter keeps."""

import pytest

from tests.flows import BOXES, IMAGE, review, submit
from tests.results.kit import box_order, export, lines, pseudonym


def line(order_id, n, submission, batch, annotator, status="accepted", **decision) -> dict:
    """What the export says of the order's item `n`, done as the flows do boxes."""
    return {
        "ref": f"s3://set/{n:06d}.jpg",
        "item": IMAGE,
        "result": BOXES,
        "status": status,
        "decided_at": decision.get("at", "2026-03-02T10:00:00+00:00"),
        "reason_code": decision.get("reason_code"),
        "reason": decision.get("reason"),
        "annotator": annotator,
        "batch_id": batch,
        "submission_id": submission,
    }


def test_jsonl_streams_the_accepted_items_with_the_decision_and_a_pseudonym(
    app, api, cast, frozen_clock
):
    order_id = box_order(api, cast, items=3)
    done = submit(api, cast.li, 3)
    review(api, cast.reviewer, accept=done[:2], reject=done[2:])

    answer = api.client.get(
        f"/api/v1/orders/{order_id}/results?format=jsonl",
        headers={"Authorization": f"Bearer {cast.client}"},
    )

    assert answer.status_code == 200
    assert answer.is_streamed  # a generator: the first rows leave before the last are read
    assert answer.mimetype == "application/x-ndjson"
    assert answer.headers["Piecework-Held-Back"] == "0"
    assert "Piecework-Held-Back-Invoices" not in answer.headers
    assert answer.headers["Content-Disposition"] == (
        f"attachment; filename=order-{order_id}-results.jsonl"
    )
    li = pseudonym(app, order_id, cast.user_ids["li"])
    [batch] = [b["id"] for b in api.get(f"/orders/{order_id}/batches", cast.client).body]
    text = answer.get_data(as_text=True)
    assert text.endswith("\n") and text.count("\n") == 2
    assert lines(export(api, cast.client, order_id)) == [
        line(order_id, n, done[n], batch, li) for n in range(2)
    ]
    assert li.startswith("a-") and len(li) == 14


@pytest.mark.slow
def test_status_all_adds_the_rejected_with_their_reasons(app, api, cast, frozen_clock):
    order_id = box_order(api, cast, items=2)
    done = submit(api, cast.li, 2)
    review(api, cast.reviewer, accept=done[:1], reject=done[1:])
    [batch] = [b["id"] for b in api.get(f"/orders/{order_id}/batches", cast.client).body]
    li = pseudonym(app, order_id, cast.user_ids["li"])

    assert lines(export(api, cast.client, order_id, "status=all")) == [
        line(order_id, 0, done[0], batch, li),
        line(
            order_id,
            1,
            done[1],
            batch,
            li,
            status="rejected",
            reason_code="box_off_target",
            reason="box misses the wheel",
        ),
    ]
    assert lines(export(api, cast.client, order_id, "status=accepted")) == [
        line(order_id, 0, done[0], batch, li)
    ]


@pytest.mark.slow
def test_filters_keep_a_batch_and_what_was_decided_since(app, api, cast, frozen_clock):
    order_id = box_order(api, cast, items=4, batch_size=2)
    first, second = [b["id"] for b in api.get(f"/orders/{order_id}/batches", cast.client).body]
    done = submit(api, cast.li, 4)
    review(api, cast.reviewer, accept=done[:3])
    frozen_clock.stand_at("2026-03-03T09:00:00+08:00")
    review(api, cast.reviewer, accept=done[3:])
    li = pseudonym(app, order_id, cast.user_ids["li"])
    later = "2026-03-03T01:00:00+00:00"

    def refs(query: str) -> list[str]:
        return [row["ref"] for row in lines(export(api, cast.client, order_id, query))]

    assert refs(f"batch_id={first}") == ["s3://set/000000.jpg", "s3://set/000001.jpg"]
    assert refs(f"batch_id={second}") == ["s3://set/000002.jpg", "s3://set/000003.jpg"]
    # 10:00 UTC on the 2nd is before; 01:00 UTC on the 3rd, after.
    assert lines(export(api, cast.client, order_id, "since=2026-03-02T18:30:00%2B08:00")) == [
        line(order_id, 3, done[3], second, li, at=later)
    ]
    assert refs(f"batch_id={first}&since=2026-03-02T18:30:00%2B08:00") == []
    assert refs("since=2026-03-02T09:59:59Z") == [f"s3://set/{n:06d}.jpg" for n in range(4)]


@pytest.mark.slow
def test_an_annotator_has_one_pseudonym_per_order_and_another_in_each_order(
    app, api, cast, frozen_clock
):
    orders = []
    for _ in range(2):
        order_id = box_order(api, cast, items=2)
        review(api, cast.reviewer, accept=submit(api, cast.li, 1) + submit(api, cast.wang, 1))
        orders.append(order_id)

    named = {
        order_id: [row["annotator"] for row in lines(export(api, cast.client, order_id))]
        for order_id in orders
    }

    for order_id in orders:
        assert named[order_id] == [
            pseudonym(app, order_id, cast.user_ids["li"]),
            pseudonym(app, order_id, cast.user_ids["wang"]),
        ]
        # The same again: stable across downloads.
        assert [r["annotator"] for r in lines(export(api, cast.client, order_id))] == named[
            order_id
        ]
    assert not set(named[orders[0]]) & set(named[orders[1]])
    text = export(api, cast.client, orders[0], "status=all").text
    assert "Li" not in text and "li@example.com" not in text
