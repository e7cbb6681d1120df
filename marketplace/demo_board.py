"""What the demo adds for the team owner's drop board and chain pages: an order that drops
at 03:00 in Shanghai every night, so the board counts down to it, and Lotus's cost floor
for boxes, so the chain page flags the 0.055 a box Bridge passes down to it.

Called once from `demo.seed_demo`; never seed production.
"""

from sqlalchemy.orm import Session

from marketplace.identity.actor import Actor
from marketplace.orders import service as orders
from marketplace.subcontract import floors


def seed_board(session: Session, buyer: Actor, owner: Actor) -> None:
    """A nightly 03:00 drop of street-sign boxes (two batches of 100 a night, a 24-hour
    lease, at most three held at once), and Lotus's floor of 0.06 CNY a box."""
    order = orders.create_order(
        session,
        buyer,
        {
            "title": "Street signs: 2D boxes around traffic signs",
            "task_type": "bbox_2d",
            "instructions": "Draw a tight box around every traffic sign.",
            "unit_price_micros": 80_000,  # 0.08 CNY per box
            "currency": "CNY",
            "payment_terms_days": 30,
            "batch_size": 100,
            "estimated_seconds_per_item": 10,
            "lease_hours": 24,
            "limits": {"batches_held": 3},
            "items": [
                {"ref": f"signs-{n:05d}.jpg", "payload": {"width": 1920, "height": 1080}}
                for n in range(1, 1001)
            ],
            "release_plan": {
                "cron": "0 3 * * *",
                "timezone": "Asia/Shanghai",
                "batches_per_drop": 2,
                "starts_at": None,
                "ends_at": None,
                "grace_minutes": 5,
            },
        },
    )
    orders.publish_order(session, buyer, order.id)
    floors.set_cost_floor(
        session, owner, {"task_type": "bbox_2d", "currency": "CNY", "unit_price_micros": 60_000}
    )
