"""Signing and sending the stand-in's events, when and as often as the test says.

Stripe sends each event at least once, maybe twice, maybe late and out of order; a test makes
each of those happen on purpose. The signature is Stripe's v1 scheme, the one
`stripe.Webhook.construct_event` checks: `t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<body>")>`.
"""

import hashlib
import hmac
import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

# A delivery target: takes the body and the headers, answers the HTTP status.
Post = Callable[[bytes, dict[str, str]], int]


def payload(event: dict) -> bytes:
    """The body as Stripe sends it: pretty-printed JSON, signed byte for byte."""
    return json.dumps(event, indent=2).encode()


def signature_header(body: bytes, secret: str, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def post_to_url(url: str) -> Post:
    """A target that POSTs to a real URL; a connection that fails counts as status 0."""

    def post(body: bytes, headers: dict[str, str]) -> int:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            return 0

    return post


@dataclass
class Delivery:
    event_id: str
    type: str
    status: int


class Outbox:
    """One webhook endpoint, and what was sent to it."""

    def __init__(self):
        self.post: Post | None = None
        self.secret: str | None = None
        self.deliveries: list[Delivery] = []
        self.acknowledged: set[str] = set()  # events that got a 2xx at least once

    def endpoint(self, target: str | Post, secret: str) -> None:
        self.post = post_to_url(target) if isinstance(target, str) else target
        self.secret = secret

    def deliver(
        self,
        event: dict,
        *,
        times: int = 1,
        timestamp: int | None = None,
        secret: str | None = None,
        post: Post | None = None,
    ) -> list[int]:
        post = post or self.post
        secret = secret or self.secret
        if post is None or secret is None:
            raise RuntimeError("no webhook endpoint: call webhook_endpoint(target, secret) first")
        body = payload(event)
        statuses = []
        for _ in range(times):
            # Each attempt is signed anew at the moment it is sent, as Stripe's retries are.
            stamp = int(time.time()) if timestamp is None else int(timestamp)
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": signature_header(body, secret, stamp),
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            }
            status = post(body, headers)
            self.deliveries.append(Delivery(event["id"], event["type"], status))
            if 200 <= status < 300:
                self.acknowledged.add(event["id"])
            statuses.append(status)
        return statuses

    def pending(self, events: list[dict], order: str = "created", seed: int = 0) -> list[dict]:
        """Events no 2xx has answered yet, in the order asked: created, reverse or random."""
        waiting = [event for event in events if event["id"] not in self.acknowledged]
        if order == "reverse":
            waiting.reverse()
        elif order == "random":
            random.Random(seed).shuffle(waiting)
        elif order != "created":
            raise ValueError(f"order must be created, reverse or random, not {order!r}")
        return waiting
