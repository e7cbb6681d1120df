"""Events: what a use case announces to the parties' webhook endpoints.

`publish` is the one function the domain calls, inside the unit of work of the change
it reports: the event and one delivery per subscribed endpoint are written with the
change, so a change rolled back announces nothing and a committed one is delivered
afterwards by notices/webhooks.py. Each receiving party gets its own event, carrying
only what that party may read: ids and counts, and an amount only to the party it
belongs to. One payload told to several parties (a drop to every team that may claim
it, a claim to the team and the client) is the same bytes for each, so it may carry no
money at all: `publish` refuses one with a money-like key (MONEY_WORDS), and a use case
with amounts publishes once per party instead.
"""

import secrets
from collections.abc import Collection
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.notices.models import Delivery, Event, WebhookEndpoint

# Every event type, with what it tells (docs/webhooks.md gives each payload).
CATALOGUE = {
    "drop.released": "A drop released batches your team may claim.",
    "drop.skipped": "A drop of your order was missed beyond its grace and skipped.",
    "drop.held": "A drop of your order was held: your account is on credit hold.",
    "batch.claimed": "A team claimed a batch (of your order, or for your team).",
    "batch.lease_expiring": "Your team's lease on a batch ends within the hour.",
    "submission.rejected": "A reviewer rejected an item your team submitted.",
    "dispute.decided": "A dispute of a rejection was decided.",
    "invoice.issued": "An invoice was issued to you.",
    "invoice.overdue": "An invoice of yours is past due (a dunning step was taken).",
    "payment.settled": "Money arrived and was settled: earnings became available.",
    "payout.paid": "A payout run paid your party (status pending: its transfers are queued).",
    "results.ready": "Every item of a batch of your order is accepted.",
}
EVERY_TYPE = "*"
# A key holding any of these is money, which only its own party may read (DESIGN.md).
MONEY_WORDS = ("amount", "price", "fee", "margin", "total", "outstanding", "applied", "available")


def publish(
    session: Session,
    type_: str,
    party_ids: Collection[int] | Select,
    data: dict[str, Any],
) -> list[Event]:
    """Announce `type_` with `data` to each of `party_ids` (ids, or a SELECT of them) that
    has an enabled endpoint taking the type: one event per such party, one delivery per
    such endpoint, due at once. Parties with no such endpoint get nothing written.
    ValueError for data with a money-like key told to more than one party (or to a
    SELECT of parties), whether or not any of them subscribes."""
    if type_ not in CATALOGUE:
        raise ValueError(f"unknown event type {type_!r}")
    if isinstance(party_ids, Select) or len(set(party_ids)) > 1:
        money = sorted(key for key in data if any(word in key.lower() for word in MONEY_WORDS))
        if money:
            raise ValueError(f"{type_}: {money} told to several parties; publish per party")
    endpoints = session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.party_id.in_(party_ids), WebhookEndpoint.enabled.is_(True))
        .order_by(WebhookEndpoint.id)
    ).all()
    now = clock.now()
    events: dict[int, Event] = {}
    for endpoint in endpoints:
        if type_ not in endpoint.events and EVERY_TYPE not in endpoint.events:
            continue
        event = events.get(endpoint.party_id)
        if event is None:
            event = events[endpoint.party_id] = Event(
                public_id=f"evt_{secrets.token_hex(12)}",
                party_id=endpoint.party_id,
                type=type_,
                data=data,
                created_at=now,
            )
            session.add(event)
        session.add(Delivery(endpoint_id=endpoint.id, event=event, next_attempt_at=now))
    return list(events.values())
