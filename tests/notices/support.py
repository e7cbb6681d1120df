"""Helpers for the notices tests: register an endpoint, run the delivery job, check a
signature the way docs/webhooks.md tells a receiver to."""

import hashlib
import hmac

from sqlalchemy import select

from marketplace.db import db
from marketplace.notices.models import Delivery, Event
from marketplace.notices.webhooks import deliver_due

# Short, so a hung receiver costs the test a fraction of a second.
TIMEOUT = 0.5


def register(api, token: str, url: str, events=("*",), **more) -> dict:
    answer = api.post("/webhook-endpoints", token, {"url": url, "events": list(events)} | more)
    assert answer.status == 201, answer.body
    return answer.body


def deliver(app, timeout: float = TIMEOUT) -> dict[str, int]:
    """One run of the scheduler's delivery job."""
    with app.app_context():
        return deliver_due(timeout=timeout, allow_private=app.config["WEBHOOK_ALLOW_PRIVATE_URLS"])


def verified(secret: str, header: str, body: bytes) -> bool:
    """What a receiver does: split the header, recompute the HMAC, compare in constant time."""
    parts = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(
        secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def events_of(app, party_id: int) -> list[Event]:
    with app.app_context():
        return list(
            db.session.scalars(select(Event).where(Event.party_id == party_id).order_by(Event.id))
        )


def deliveries(app) -> list[Delivery]:
    with app.app_context():
        return list(db.session.scalars(select(Delivery).order_by(Delivery.id)))
