"""An annotator's work on funded orders that waits for review: its money is reserved, so
it waits on no invoice, only on the review (or the window that accepts it)."""

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.money import line_minor
from marketplace.orders.models import Funding, Order
from marketplace.workers.decisions import item_rate
from marketplace.workers.models import Submission, SubmissionStatus


def funded_in_review(session: Session, party_id: int, user_id: int) -> dict[str, list[dict]]:
    """Per currency, per funded order: her submitted items not decided yet, what they will
    earn at her rate, and the day the review window accepts the last of them, if no
    reviewer decides first. Once accepted, the money is available within minutes."""
    waiting = (
        select(Submission.order_id, item_rate().label("rate"), Submission.submitted_at)
        .join(Order, Order.id == Submission.order_id)
        .where(
            Submission.team_party_id == party_id,
            Submission.annotator_user_id == user_id,
            Submission.status == SubmissionStatus.SUBMITTED,
            Order.funding != Funding.INVOICED,
        )
        .subquery()
    )
    rows = session.execute(
        select(
            Order.id,
            Order.title,
            Order.currency,
            Order.funding,
            Order.review_window_days,
            waiting.c.rate,
            func.count(),
            func.max(waiting.c.submitted_at),
        )
        .join(Order, Order.id == waiting.c.order_id)
        .group_by(Order.id, waiting.c.rate)
        .order_by(Order.id)
    )
    by_order: dict[int, dict] = {}
    for order_id, title, currency, funding, window, rate, count, last in rows:
        entry = by_order.setdefault(
            order_id,
            {
                "order_id": order_id,
                "title": title,
                "funding": funding,
                "currency": currency,
                "items": 0,
                "amount_minor": 0,
                "review_until": None,
            },
        )
        entry["items"] += count
        entry["amount_minor"] += line_minor(count, rate or 0, currency)
        if isinstance(last, str):  # SQLite gives an aggregate's moment back as text
            last = datetime.fromisoformat(last)
        until = (last + timedelta(days=window)).date()
        entry["review_until"] = max(filter(None, (entry["review_until"], until)))
    by_currency: dict[str, list[dict]] = defaultdict(list)
    for entry in by_order.values():
        by_currency[entry["currency"]].append(entry)
    return by_currency
