"""Signed webhook deliveries: each event POSTed to each endpoint that takes it, at least once.

The body is the event as JSON, `{"id": "evt_...", "type", "created", "data"}`, signed the
way Stripe signs its own: the header `Piecework-Signature: t=<unix seconds>,v1=<hex
HMAC-SHA256 of "<t>.<body>" keyed with the endpoint's secret>`. A 2xx answer delivers
it; anything else (an error status, a timeout, a refused connection) is retried with
exponential backoff until RETRY_WINDOW after the event, then the delivery fails. A
receiver dedupes on the event id, which every attempt repeats.

`deliver_due` takes the deliveries oldest event first. No transaction is open while a
receiver answers (it may take WEBHOOK_TIMEOUT_SECONDS; on SQLite a transaction holds the
one write lock): a short unit of work claims a due delivery (FOR UPDATE SKIP LOCKED, so
several schedulers never take the same one) and leases it, counting the attempt and
pushing its next_attempt_at LEASE_TIMEOUTS timeouts ahead; the POST runs with no
transaction; a second unit of work records the answer, unless another sender has taken
the delivery since (the lease ran out). A crash between the two leaves the delivery to
be tried again when its lease ends: at least once, hence the dedupe.

Only the status code is kept of an answer, never its body (not even read), and every
attempt refuses a host that resolves to a non-public address (notices/addresses.py), so
the delivery log cannot be used to read services on our own network.
"""

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.db import unit_of_work
from marketplace.notices.addresses import NotPublic, Unresolvable, check_public
from marketplace.notices.models import Delivery, DeliveryStatus, Event, WebhookEndpoint

SIGNATURE_HEADER = "Piecework-Signature"
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=6)
RETRY_WINDOW = timedelta(days=3)
USER_AGENT = "Piecework-Webhooks/1"
# A claimed delivery is not due again for this many timeouts: time for the POST to end
# (requests' timeout bounds each wait for the server, not the whole exchange).
LEASE_TIMEOUTS = 2


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
    *,
    timeout: float,
    allow_private: bool = False,
    on_each: Callable[[Delivery], None] | None = None,
) -> dict[str, int]:
    """Make one attempt at every delivery that is due, oldest event first; count them.

    Each attempt is claimed in one unit of work and recorded in another, with no
    transaction open while the receiver answers. An endpoint that fails once is not tried
    again in this run: its other deliveries wait for the next run, rather than each
    waiting out the same timeout (and a down receiver is not hammered). `allow_private`
    lets deliveries go to loopback and private addresses.
    """
    counts = {"delivered": 0, "retrying": 0, "failed": 0}
    failing: set[int] = set()
    lease = timedelta(seconds=timeout * LEASE_TIMEOUTS)
    while True:
        with unit_of_work() as session:
            claim = _claim_next(session, failing, lease)
        if claim is None:
            return counts
        answer = _post(claim, timeout, allow_private)
        with unit_of_work() as session:
            delivery = _record(session, claim, answer)
        if answer.error is not None:
            failing.add(claim.endpoint_id)
        if delivery is None:
            continue  # the lease ran out and another sender took it: its outcome counts
        counts[_outcome(delivery)] += 1
        if on_each:
            on_each(delivery)


@dataclass(frozen=True)
class Claim:
    """One attempt leased to this sender: what to POST, and the attempt number that
    proves the lease is still ours when the answer is recorded."""

    delivery_id: int
    endpoint_id: int
    url: str
    body: bytes
    headers: dict[str, str]
    attempt: int
    at: datetime


@dataclass(frozen=True)
class Answer:
    """What came of a POST: the status code, if any, and an error unless it was a 2xx."""

    status_code: int | None
    error: str | None


def _claim_next(session: Session, failing: set[int], lease: timedelta) -> Claim | None:
    """Lease the due delivery of the oldest event, locked against other senders."""
    now = clock.now()
    query = (
        select(Delivery)
        .where(Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now)
        .order_by(Delivery.event_id, Delivery.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if failing:
        query = query.where(Delivery.endpoint_id.not_in(failing))
    delivery = session.scalar(query)
    if delivery is None:
        return None
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.next_attempt_at = now + lease
    body = body_of(delivery.event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature(endpoint.secret, int(now.timestamp()), body),
    }
    return Claim(delivery.id, endpoint.id, endpoint.url, body, headers, delivery.attempts, now)


def _post(claim: Claim, timeout: float, allow_private: bool) -> Answer:
    """POST the event once, outside any transaction; keep only the status code."""
    try:
        if not allow_private:
            check_public(claim.url)
        # No redirects: the endpoint's own URL answers, or the attempt failed. Streamed and
        # closed unread: only the status line and headers are waited for, never a body.
        with requests.post(
            claim.url,
            data=claim.body,
            headers=claim.headers,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        ) as answer:
            code = answer.status_code
    except (NotPublic, Unresolvable) as refused:
        return Answer(None, f"Refused: {refused}"[:500])
    except requests.RequestException as error:
        return Answer(None, f"{type(error).__name__}: {error}"[:500])
    if 200 <= code < 300:
        return Answer(code, None)
    # Our own words for the status, never the receiver's: its text is not shown back.
    return Answer(code, f"HTTP {code}: {_phrase(code)}")


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "not a 2xx"


def _record(session: Session, claim: Claim, answer: Answer) -> Delivery | None:
    """Record the attempt's answer, if the delivery is still leased to this attempt."""
    # Read afresh (the session still holds the claim's copy), locked until recorded.
    delivery = session.get(
        Delivery, claim.delivery_id, with_for_update=True, populate_existing=True
    )
    if (
        delivery is None  # its endpoint was deleted meanwhile
        or delivery.status != DeliveryStatus.PENDING
        or delivery.attempts != claim.attempt
    ):
        return None
    delivery.last_status_code, delivery.last_error = answer.status_code, answer.error
    if answer.error is None:
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, claim.at
        delivery.next_attempt_at = None
    else:
        _retry_or_fail(delivery, delivery.event.created_at, claim.at)
    return delivery


def _outcome(delivery: Delivery) -> str:
    if delivery.status == DeliveryStatus.PENDING:
        return "retrying"
    return str(delivery.status)


def _retry_or_fail(delivery: Delivery, happened: datetime, now: datetime) -> None:
    retry_at = now + next_wait(delivery.attempts)
    if retry_at > happened + RETRY_WINDOW:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
    else:
        delivery.next_attempt_at = retry_at
