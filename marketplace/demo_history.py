"""Li's last fortnight at Lotus, so that the demo's earnings page has a story to tell.

Three small box orders of Nova Robotics (a client on a 5,000 CNY credit line), worked
by Li on eight of the last thirteen days, reviewed by Sun Mei (a few boxes rejected,
with their reason) and invoiced:

- the first invoice Nova paid, and the platform paid Li out: her money is paid;
- the second Nova paid: her money is available, waiting for the next payout;
- the third is open, not due for 30 days: her money is pending, and the page says which
  invoice it waits on.

Every step goes through the services the API calls, on the one clock, which the demo
stands at each past moment in turn (as drills do with `clock.set_source`), so her days,
her seconds per box and her hourly pay are those of real work.
"""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.identity.actor import Actor
from marketplace.money import from_minor
from marketplace.orders import claims
from marketplace.orders import service as orders
from marketplace.payments import balances, collection, payouts
from marketplace.payments.invoices import Terms, invoice_accepted_items
from marketplace.workers import review, tasks

SHANGHAI = ZoneInfo("Asia/Shanghai")
IMAGE = {"width": 1280, "height": 720}
# Per invoice: the days ago Li worked and how many boxes each day.
INVOICES = (((13, 30), (12, 42), (10, 38)), ((8, 45), (7, 40), (5, 44)), ((2, 36), (1, 41)))
# Seconds a box takes her, in turn: her median is 44 s.
PACE = (38, 44, 52, 41, 47, 44, 60, 35, 44, 49)
REJECT_EVERY = 15  # one box in fifteen misses its car


def seed_history(
    session: Session, people: dict[str, Actor], team_id: int, terms: Terms, idle_limit: int
) -> None:
    """Li's three invoiced orders, in the past; the clock is the real one again after."""
    balances.set_credit_line(
        session,
        people["admin"],
        next(iter(people["client"].party_ids())),
        "CNY",
        limit=Decimal("5000"),
        reason="demo: a known client",
    )
    today = clock.now().astimezone(SHANGHAI).date()
    moment = [clock.now()]
    previous = clock.set_source(lambda: moment[0])
    try:
        invoices = []
        for n, days in enumerate(INVOICES, start=1):
            order_id = _post_order(session, people, team_id, n, sum(b for _, b in days))
            for days_ago, boxes in days:
                day = today - timedelta(days=days_ago)
                moment[0] = datetime(day.year, day.month, day.day, 9, 30, tzinfo=SHANGHAI)
                _work_a_day(session, people, boxes, moment, idle_limit)
            invoices.append(invoice_accepted_items(session, people["admin"], order_id, terms))
        _pay(session, people["admin"], invoices[0], moment, today - timedelta(days=9))
        payouts.run_payouts(session, people["admin"], currency="CNY")
        _pay(session, people["admin"], invoices[1], moment, today - timedelta(days=3))
    finally:
        clock.set_source(previous)


def _post_order(session: Session, people: dict, team_id: int, n: int, items: int) -> int:
    order = orders.create_order(
        session,
        people["client"],
        {
            "title": f"Shop shelves {n}: 2D boxes around products",
            "task_type": "bbox_2d",
            "instructions": "Draw a tight box around every product on the shelf.",
            "unit_price_micros": 100_000,
            "currency": "CNY",
            "payment_terms_days": 30,
            "batch_size": items,
            "items": [
                {"ref": f"shelf-{n}-{i:03d}.jpg", "payload": IMAGE} for i in range(1, items + 1)
            ],
        },
    )
    orders.publish_order(session, people["client"], order.id)
    for batch in orders.order_batches(session, people["client"], order.id):
        claims.claim_batch(session, people["owner"], batch.id, team_id)
    return order.id


def _work_a_day(session: Session, people: dict, boxes: int, moment: list, idle_limit: int) -> None:
    """Li takes and submits `boxes` tasks at her pace; Sun Mei reviews them that evening."""
    submitted = []
    for n in range(boxes):
        [task] = tasks.take_tasks(session, people["li"], count=1)
        moment[0] += timedelta(seconds=PACE[n % len(PACE)])
        result = {"boxes": [{"label": "car", "x": 40 + n, "y": 60, "w": 220, "h": 140}]}
        submitted.append(
            tasks.submit(session, people["li"], task.id, result, idle_limit_seconds=idle_limit)
        )
    moment[0] += timedelta(hours=6)
    review.review(session, people["reviewer"], [_decision(n, s) for n, s in enumerate(submitted)])


def _decision(n: int, submission) -> dict:
    if n % REJECT_EVERY == REJECT_EVERY - 1:
        return {
            "submission_id": submission.id,
            "decision": "reject",
            "reason_code": "box_off_target",
            "reason": "The box misses the product on the left.",
        }
    return {"submission_id": submission.id, "decision": "accept"}


def _pay(session: Session, admin: Actor, invoice, moment: list, day) -> None:
    """Nova's bank transfer of the whole invoice, recorded on `day`."""
    moment[0] = datetime(day.year, day.month, day.day, 11, 0, tzinfo=SHANGHAI)
    collection.record_bank_transfer(
        session,
        admin,
        amount=from_minor(invoice.total_minor, invoice.currency),
        reference=f"ICBC-{invoice.number}",
        received_on=day,
        invoice_id=invoice.id,
    )
