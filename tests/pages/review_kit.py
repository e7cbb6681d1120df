"""What the review pages' tests share: Li's boxes waiting for Lotus's reviewer, a rival
team's item beside them, the database's record of a decision to compare, a quality
inspector, and a signed-in page client with the error beside a field.

All of it through the API (tests/flows.py), as people would have done it.
"""

import re

from sqlalchemy import select

from marketplace.db import db
from marketplace.workers.models import Dispute, ReviewDecision, Submission
from tests import flows
from tests.pages.kit import PageClient, text


def lis_boxes(api, cast, items: int = 3, **terms) -> list[int]:
    """An order of `items` boxes (and any other `terms`) claimed by Lotus, all submitted
    by Li: her submission ids (the batch is finished, so its review sample is drawn:
    round 1, all of it unless the order's review terms say less)."""
    order_id = flows.post_order(api, cast.client, items=items, batch_size=items, **terms)
    flows.claim(api, cast.owner, order_id)
    flows.set_rate(api, cast.owner, order_id, "0.06")
    return flows.submit(api, cast.li, items)


def rivals_box(api, cast) -> int:
    """One box of Tiger's (another team), submitted by its annotator: its submission id."""
    order_id = flows.post_order(api, cast.client, items=1, batch_size=1)
    flows.claim(api, cast.rival_owner, order_id)
    flows.set_rate(api, cast.rival_owner, order_id, "0.05")
    return flows.submit(api, cast.rival_annotator, 1)[0]


def decision_record(app, submission_id: int) -> dict:
    """What the database holds of a submission's decision, without ids and moments."""
    with app.app_context():
        s = db.session.get(Submission, submission_id)
        history = db.session.scalars(
            select(ReviewDecision)
            .where(ReviewDecision.submission_id == submission_id)
            .order_by(ReviewDecision.id)
        ).all()
        return {
            "status": s.status,
            "reason_code": s.reason_code,
            "reason": s.reason,
            "reviewer": s.reviewer_user_id,
            "rate_micros": s.rate_micros,
            "history": [
                (d.status, d.source, d.reason_code, d.note, d.decided_by_user_id) for d in history
            ],
        }


def disputes_of(app, submission_id: int) -> list[tuple]:
    with app.app_context():
        return [
            (d.status, d.reason, d.decided_by_user_id, d.note, d.reason_code)
            for d in db.session.scalars(
                select(Dispute).where(Dispute.submission_id == submission_id)
            )
        ]


def make_inspector(api, cast, label: str = "zhang") -> None:
    """Lotus's owner adds a level that reviews (quality inspector) and moves `label` to it."""
    team = cast.party_ids["lotus"]
    level = api.post(
        f"/teams/{team}/levels", cast.owner, {"name": "Inspector", "rank": 5, "reviews": True}
    )
    assert level.status == 201, level.body
    moved = api.post(
        f"/teams/{team}/members/{cast.user_ids[label]}/levels",
        cast.owner,
        {"level_id": level.body["id"]},
    )
    assert moved.status == 201, moved.body


# A rejection as Lotus's reviewer words it (tests/flows.py review() sends the same).
REJECT = {"decision": "reject", "reason_code": "box_off_target", "reason": "box misses the wheel"}


def signed_in(app, label: str, language: str = "zh-CN") -> PageClient:
    browser = PageClient(app.test_client(), language)
    assert browser.sign_in(f"{label}@example.com").status_code == 302
    if language == "en":  # over her profile's Chinese, as the header's switch does
        browser.post("/language", {"locale": "en", "next": "/"}, token_from="/review")
    return browser


def field_error(answer, name: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="error-{name}"[^>]*>([^<]*)</p>', text(answer))
    return found and found.group(1)
