"""Signed webhook deliveries: each event POSTed to each endpoint that takes it, at least once.

The body is the event as JSON, `{"id": "evt_...", "type", "created", "data"}`, signed the
way Stripe signs its own: the header `Piecework-Signature: t=<unix seconds>,v1=<hex
HMAC-SHA256 of "<t>.<body>" keyed with the endpoint's secret>`. A 2xx answer delivers
it; anything else (an error status, a timeout, a refused connection) is retried with
exponential backoff until RETRY_WINDOW after the event, then the delivery fails. A
receiver dedupes on the event id, which every attempt repeats.

`deliver_due` sends one delivery per unit of work, oldest event first, claiming each
with FOR UPDATE SKIP LOCKED so several schedulers never send one attempt twice. A crash
between the receiver's 2xx and the commit sends that event again: hence the dedupe.
"""

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime, timedelta

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.db import unit_of_work
from marketplace.notices.models import Delivery, DeliveryStatus, Event, WebhookEndpoint

SIGNATURE_HEADER = "Piecework-Signature"
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=6)
RETRY_WINDOW = timedelta(days=3)
USER_AGENT = "Piecework-Webhooks/1"


def body_of(event: Event) -> bytes:
    """The event as its receivers get it, the same bytes on every attempt."""
    document = {
        "id": event.public_id,
        "type": event.type,
        "created": int(event.created_at.timestamp()),
        "data": event.data,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The Piecework-Signature header's value for `body` sent at `timestamp`."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def next_wait(attempts: int) -> timedelta:
    """How long after its `attempts`-th failed attempt a delivery is tried again:
    1 minute, doubling, at most LONGEST_WAIT."""
    return min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_WAIT)


def deliver_due(
    *, timeout: float, on_each: Callable[[Delivery], None] | None = None
) -> dict[str, int]:
    """Make one attempt at every delivery that is due, oldest event first; count them.

    Each attempt is its own unit of work. An endpoint that fails once is not tried again
    in this run: its other deliveries wait for the next run, rather than each waiting out
    the same timeout (and a down receiver is not hammered).
    """
    counts = {"delivered": 0, "retrying": 0, "failed": 0}
    failing: set[int] = set()
    while True:
        with unit_of_work() as session:
            delivery = _claim_next(session, failing)
            if delivery is None:
                return counts
            _attempt(session, delivery, timeout)
            if delivery.status != DeliveryStatus.DELIVERED:
                failing.add(delivery.endpoint_id)
            counts[_outcome(delivery)] += 1
            if on_each:
                on_each(delivery)


def _outcome(delivery: Delivery) -> str:
    if delivery.status == DeliveryStatus.PENDING:
        return "retrying"
    return str(delivery.status)


def _claim_next(session: Session, failing: set[int]) -> Delivery | None:
    """The due delivery of the oldest event, locked against other senders."""
    query = (
        select(Delivery)
        .where(
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.next_attempt_at <= clock.now(),
        )
        .order_by(Delivery.event_id, Delivery.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if failing:
        query = query.where(Delivery.endpoint_id.not_in(failing))
    return session.scalar(query)


def _attempt(session: Session, delivery: Delivery, timeout: float) -> None:
    """POST the event once and record what came of it."""
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    now = clock.now()
    body = body_of(delivery.event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature(endpoint.secret, int(now.timestamp()), body),
    }
    delivery.attempts += 1
    delivery.last_attempt_at = now
    try:
        # No redirects: the endpoint's own URL answers, or the attempt failed.
        answer = requests.post(
            endpoint.url, data=body, headers=headers, timeout=timeout, allow_redirects=False
        )
    except requests.RequestException as error:
        delivery.last_status_code = None
        delivery.last_error = f"{type(error).__name__}: {error}"[:500]
        _retry_or_fail(delivery, delivery.event.created_at, now)
        return
    delivery.last_status_code = answer.status_code
    if 200 <= answer.status_code < 300:
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
        delivery.next_attempt_at, delivery.last_error = None, None
        return
    delivery.last_error = f"HTTP {answer.status_code}: {answer.text[:200]}"[:500]
    _retry_or_fail(delivery, delivery.event.created_at, now)


def _retry_or_fail(delivery: Delivery, happened: datetime, now: datetime) -> None:
    retry_at = now + next_wait(delivery.attempts)
    if retry_at > happened + RETRY_WINDOW:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
    else:
        delivery.next_attempt_at = retry_at
