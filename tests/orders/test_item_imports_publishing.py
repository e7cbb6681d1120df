"""Items from a file, around the edges: no lock while the body arrives, teams told of items
released at once, the verified address a published order needs, replays during a hold,
and the endpoint's own byte limit."""

import io
import threading

import pytest
from sqlalchemy import select, update

from marketplace.db import db, unit_of_work
from marketplace.identity.models import User
from marketplace.notices.models import Delivery, Event
from marketplace.orders.models import Drop, Order
from tests.flows import post_order
from tests.notices.support import register
from tests.orders.test_credit_hold import hold
from tests.orders.test_item_imports import CSV, boxes_csv, items_of, upload

# Long enough that a thread stuck by a bug fails the test instead of hanging the run.
PATIENCE = 60


class PausedBody(io.BytesIO):
    """A request body that stops after `pause_at` bytes until `resume` is set, as a slow
    link does; `paused` tells that the server has read that far."""

    def __init__(self, content: bytes, pause_at: int) -> None:
        super().__init__(content)
        self.pause_at = pause_at
        self.paused, self.resume = threading.Event(), threading.Event()

    def readinto(self, buffer) -> int:
        left = self.pause_at - self.tell()
        if left == 0 and not self.paused.is_set():
            self.paused.set()
            self.resume.wait(PATIENCE)
        elif left > 0:
            return super().readinto(memoryview(buffer)[: min(len(buffer), left)])
        return super().readinto(buffer)


def test_other_writes_commit_while_an_upload_is_still_arriving(app, api, cast):
    order_id = post_order(api, cast.client, items=2, publish=False)
    text = boxes_csv([f"s3://slow/{n}.jpg" for n in range(100)]).encode()
    body = PausedBody(text, pause_at=1000)
    answers = []
    sender = threading.Thread(
        target=lambda: answers.append(
            api.post(
                f"/orders/{order_id}/items",
                cast.client,
                input_stream=body,
                content_type=CSV,
            )
        )
    )
    sender.start()
    try:
        assert body.paused.wait(PATIENCE)
        # The upload's own order, written and committed meanwhile (on SQLite: any write).
        with app.app_context(), unit_of_work() as session:
            if session.get_bind().dialect.name == "postgresql":  # a bug fails, not hangs
                session.connection().exec_driver_sql("SET LOCAL lock_timeout = '20s'")
            session.execute(update(Order).where(Order.id == order_id).values(title="Renamed"))
    finally:
        body.resume.set()
        sender.join(PATIENCE)
    [answer] = answers
    assert answer.status == 201, answer.body
    assert answer.body["items_added"] == 100
    assert len(items_of(app, order_id)) == 102
    assert api.get(f"/orders/{order_id}", cast.client).body["title"] == "Renamed"


def test_items_released_at_once_are_announced_to_the_teams(app, api, cast, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", True)
    register(api, cast.owner, "http://127.0.0.1:9/hooks", events=["drop.released"])
    order_id = post_order(api, cast.client, items=2, batch_size=2)  # no plan: on the board
    answer = upload(api, cast.client, order_id, boxes_csv(["s3://a.jpg", "s3://b.jpg", "s3://c"]))
    assert (answer.status, answer.body["batches_created"]) == (201, 2)
    with app.app_context():
        [event] = db.session.scalars(select(Event).where(Event.type == "drop.released")).all()
        assert event.party_id == cast.party_ids["lotus"]
        assert {k: event.data[k] for k in ("drop_id", "order_id", "batch_count", "lottery")} == {
            "drop_id": None,
            "order_id": order_id,
            "batch_count": 2,
            "lottery": False,
        }
        assert db.session.scalar(select(Delivery.event_id)) == event.id
        assert db.session.scalars(select(Drop)).all() == []  # no plan's drop was taken


def test_a_published_order_takes_items_from_a_verified_address_only(app, api, cast):
    draft = post_order(api, cast.client, items=2, publish=False)
    published = post_order(api, cast.client, items=2)
    with app.app_context(), unit_of_work() as session:
        session.execute(
            update(User).where(User.id == cast.user_ids["client"]).values(email_verified_at=None)
        )
    answer = upload(api, cast.client, published, boxes_csv(["s3://a.jpg"]))
    assert (answer.status, answer.error_code) == (403, "email_not_verified")
    assert len(items_of(app, published)) == 2
    # A draft's items reach no team yet.
    assert upload(api, cast.client, draft, boxes_csv(["s3://a.jpg"])).status == 201


def test_a_retry_is_replayed_even_after_the_client_went_on_hold(app, api, cast):
    order_id = post_order(api, cast.client, items=2, publish=False)
    body = boxes_csv(["s3://r/1.jpg"])
    first = upload(api, cast.client, order_id, body, **{"Idempotency-Key": "load-9"})
    assert first.status == 201, first.body
    hold(app, cast)
    again = upload(api, cast.client, order_id, body, **{"Idempotency-Key": "load-9"})
    assert (again.status, again.body["id"]) == (201, first.body["id"])
    other = upload(api, cast.client, order_id, boxes_csv(["s3://r/2.jpg"]))
    assert (other.status, other.error_code) == (409, "client_on_credit_hold")
    assert len(items_of(app, order_id)) == 3


@pytest.mark.slow
def test_the_upload_limit_replaces_the_request_limit_here_alone(app, api, cast, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    order_id = post_order(api, cast.client, items=2, publish=False)
    refs = [f"s3://a-rather-long-prefix/for/two/megabytes/{n:07}.jpg" for n in range(40_000)]
    body = boxes_csv(refs)
    assert len(body) > 2 * 1024 * 1024
    answer = upload(api, cast.client, order_id, body)
    assert (answer.status, answer.body["items_added"]) == (201, 40_000)
    big_json = {"title": "x" * (2 * 1024 * 1024)}
    refused = api.post("/orders", cast.client, big_json)
    assert refused.status == 413
