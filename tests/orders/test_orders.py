"""Posting and publishing orders: big item lists, batch cutting, exact prices."""

from sqlalchemy import func, select

from marketplace.db import db
from marketplace.orders.models import Batch, Item


def test_ten_thousand_items_post_in_one_request_and_publish_into_batches(app, api, cast):
    items = [
        {"ref": f"https://cdn.example/{n}.jpg", "payload": {"width": 1920, "height": 1080}}
        for n in range(10_000)
    ]
    posted = api.post(
        "/orders",
        cast.client,
        {
            "title": "Boxes",
            "task_type": "bbox_2d",
            "unit_price": "0.055",
            "currency": "CNY",
            "payment_terms_days": 30,
            "batch_size": 300,
            "items": items,
        },
    )
    assert posted.status == 201
    assert (posted.body["quantity"], posted.body["unit_price"], posted.body["status"]) == (
        10_000,
        "0.055",
        "draft",
    )
    assert api.get("/batches", cast.owner).body == []  # nothing is released before publishing

    published = api.post(f"/orders/{posted.body['id']}/publish", cast.client)
    assert published.status == 200 and published.body["status"] == "published"
    batches = api.get(f"/orders/{posted.body['id']}/batches", cast.client).body
    assert len(batches) == 34  # 33 x 300 + 1 x 100
    assert [b["item_count"] for b in batches] == [300] * 33 + [100]
    assert {b["status"] for b in batches} == {"released"}
    with app.app_context():
        # Item n (from 1) is in batch (n - 1) // 300 + 1, and every batch holds its count.
        rows = db.session.execute(
            select(Item.seq, Batch.seq).join(Batch, Batch.id == Item.batch_id)
        ).all()
        assert len(rows) == 10_000
        assert all(batch == (item - 1) // 300 + 1 for item, batch in rows)
        first = db.session.scalars(select(Item).where(Item.seq == 1)).one()
        assert (first.ref, first.payload) == (
            "https://cdn.example/0.jpg",
            {"width": 1920, "height": 1080},
        )
        assert db.session.scalar(select(func.count()).where(Item.batch_id.is_(None))) == 0


def test_a_published_order_cannot_be_published_again(api, cast):
    posted = api.post(
        "/orders",
        cast.client,
        {
            "title": "Ratings",
            "task_type": "rating_1_5",
            "task_options": {"error_types": ["factual_error", "unsafe"]},
            "unit_price": 0.3,
            "currency": "JPY",
            "payment_terms_days": 0,
            "batch_size": 10,
            "items": [{"ref": "answer-1"}],
        },
    )
    assert posted.body["unit_price"] == "0.3"  # a JSON float is read as an exact decimal
    assert api.post(f"/orders/{posted.body['id']}/publish", cast.client).status == 200
    again = api.post(f"/orders/{posted.body['id']}/publish", cast.client)
    assert (again.status, again.error_code) == (409, "order_not_draft")
