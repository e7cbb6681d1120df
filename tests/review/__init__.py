"""Shared steps of the review tests: an order with review terms, and what was recorded."""

from sqlalchemy import select

from marketplace.db import db
from marketplace.workers.models import ReviewDecision
from tests.flows import claim, holding, post_order, set_rate
from tests.support import ApiClient

# The reject of tests.flows.review: a reason code of bbox_2d, and a note.
REASON_CODE = "box_off_target"
REASON = "box misses the wheel"


def worked_order(
    api: ApiClient, cast, *, items: int, rate: str = "0.06", batch_size: int | None = None, **review
) -> int:
    """Horizon posts `items` boxes at 0.10 with the `review` terms, Lotus claims them all and
    pays `rate` per accepted box; the order's id."""
    order_id = post_order(
        api, cast.client, items=items, batch_size=batch_size or items, review=review
    )
    claim(api, cast.owner, order_id)
    set_rate(api, cast.owner, order_id, rate)
    return order_id


def history(app, submission_id: int) -> list[tuple]:
    """Every decision recorded on the submission, oldest first:
    (status, source, reason code, note, decided by, decided at)."""
    with app.app_context():
        return [
            tuple(row)
            for row in db.session.execute(
                select(
                    ReviewDecision.status,
                    ReviewDecision.source,
                    ReviewDecision.reason_code,
                    ReviewDecision.note,
                    ReviewDecision.decided_by_user_id,
                    ReviewDecision.decided_at,
                )
                .where(ReviewDecision.submission_id == submission_id)
                .order_by(ReviewDecision.id)
            )
        ]


def work(api: ApiClient, token: str) -> dict:
    """The annotator's earnings entry: today, this_month, unbilled, pending..."""
    return holding(api, token, "annotator")


def day(submitted: int, accepted: int, rejected: int, earned: str) -> dict:
    """A work total as /me/earnings shows it (earned exact, unrounded)."""
    return {"submitted": submitted, "accepted": accepted, "rejected": rejected, "earned": earned}


def submissions(api: ApiClient, token: str, status: str, **query) -> list[dict]:
    """The team's submissions in `status`, as its reviewer lists them."""
    args = "&".join(f"{k}={v}" for k, v in {"status": status, "limit": 1000, **query}.items())
    answer = api.get(f"/submissions?{args}", token)
    assert answer.status == 200, answer.body
    return answer.body
