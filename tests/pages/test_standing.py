"""The annotator's standing through Flask's test client: her level and what the next
level needs; her rejection with its reason; her dispute with a reason, refused without
one, decided by someone other than its reviewer; no dispute once its window passed."""

import re

import pytest

from tests import flows
from tests.pages.kit import text
from tests.pages.review_kit import (
    decision_record,
    disputes_of,
    field_error,
    lis_boxes,
    signed_in,
)
from tests.support import row_counts

# Through the pages and the API end to end: `make test` runs them; `make check` stays
# under a minute.
pytestmark = pytest.mark.slow


def test_li_sees_her_rejection_disputes_it_and_another_reviewer_decides(app, api, cast):
    accepted, rejected = lis_boxes(api, cast, items=2)
    flows.review(api, cast.reviewer, accept=[accepted], reject=[rejected])
    li = signed_in(app, "li")
    wang = signed_in(app, "wang")
    page = text(li.get("/me/standing"))
    assert "我的等级" in page and "未通过的作品" in page
    assert "框未对准目标" in page and "box misses the wheel" in page  # the code, the note
    assert f"/me/standing/rejections/{accepted}/dispute" not in page
    form = f"/me/standing/rejections/{rejected}/dispute"
    assert form in page

    before = row_counts(app)
    blank = li.post(form, {"reason": "  "}, token_from="/me/standing")
    assert blank.status_code == 422
    assert field_error(blank, f"dispute-{rejected}")
    assert row_counts(app) == before
    # Not hers: 404 as the API answers; nothing written.
    assert wang.post(form, {"reason": "mine"}, token_from="/me/standing").status_code == 404
    assert row_counts(app) == before

    sent = li.post(form, {"reason": "The box is on the wheel."}, token_from="/me/standing")
    assert (sent.status_code, sent.headers["Location"]) == (
        302,
        f"/me/standing#rejection-{rejected}",
    )
    assert disputes_of(app, rejected) == [
        ("open", "The box is on the wheel.", None, None, "box_off_target")
    ]
    page = text(li.get("/me/standing"))
    assert "申诉已提交" in page and "待裁决" in page and form not in page
    again = li.post(form, {"reason": "again"}, token_from="/me/standing")
    assert again.status_code == 409  # the API's already_disputed
    assert field_error(again, f"dispute-{rejected}") == "该作品已提出过申诉。"
    assert len(disputes_of(app, rejected)) == 1

    # The reviewer who rejected it may not decide it: said beside the note, nothing written.
    reviewer = signed_in(app, "reviewer", "en")
    listed = text(reviewer.get("/review/disputes"))
    assert "The box is on the wheel." in listed
    [dispute_id] = re.findall(r'action="/review/disputes/(\d+)"', listed)
    before = row_counts(app)
    refused = reviewer.post(
        f"/review/disputes/{dispute_id}",
        {"decision": "uphold", "note": "fine"},
        token_from="/review/disputes",
    )
    assert refused.status_code == 403
    assert field_error(refused, f"note-{dispute_id}") == (
        "Someone other than the reviewer who rejected the item decides."
    )
    assert row_counts(app) == before

    owner = signed_in(app, "owner", "en")
    no_note = owner.post(
        f"/review/disputes/{dispute_id}", {"decision": "uphold"}, token_from="/review/disputes"
    )
    assert no_note.status_code == 422 and field_error(no_note, f"note-{dispute_id}")
    upheld = owner.post(
        f"/review/disputes/{dispute_id}",
        {"decision": "uphold", "note": "The box is right."},
        token_from="/review/disputes",
    )
    assert upheld.status_code == 302
    assert disputes_of(app, rejected) == [
        (
            "upheld",
            "The box is on the wheel.",
            cast.user_ids["owner"],
            "The box is right.",
            "box_off_target",
        )
    ]
    record = decision_record(app, rejected)
    assert (record["status"], record["rate_micros"]) == ("accepted", 60_000)
    assert record["history"][-1] == (
        "accepted",
        "dispute",
        None,
        "The box is right.",
        cast.user_ids["owner"],
    )
    assert "Upheld: your item is accepted" in text(owner.get("/review/disputes"))
    twice = owner.post(
        f"/review/disputes/{dispute_id}",
        {"decision": "dismiss", "note": "No."},
        token_from="/review/disputes",
    )
    assert twice.status_code == 409  # the API's dispute_decided, said on the page
    assert "This dispute was decided." in text(twice)
    assert disputes_of(app, rejected)[0][0] == "upheld"
    page = text(li.get("/me/standing"))
    assert "申诉成立：作品已改为通过" in page
    # Why it was rejected stays said: the rejection's code and note, not the decision's.
    assert '<dd class="reason">框未对准目标</dd>' in page
    assert '<dd class="note">box misses the wheel</dd>' in page


def test_her_level_and_what_the_next_level_needs(app, api, cast):
    team = cast.party_ids["lotus"]
    trainee = api.post(
        f"/teams/{team}/levels", cast.owner, {"name": "Trainee", "rank": 1, "daily_quota": 40}
    )
    senior = api.post(
        f"/teams/{team}/levels",
        cast.owner,
        {"name": "Senior", "rank": 2, "promotion": {"min_accuracy": "0.95", "over_items": 2}},
    )
    assert trainee.status == senior.status == 201
    moved = api.post(
        f"/teams/{team}/members/{cast.user_ids['li']}/levels",
        cast.owner,
        {"level_id": trainee.body["id"]},
    )
    assert moved.status == 201
    ids = lis_boxes(api, cast, items=2)
    flows.review(api, cast.reviewer, accept=ids)
    page = text(signed_in(app, "li", "en").get("/me/standing"))
    assert '<dd class="level-name">Trainee</dd>' in page and "40 items" in page
    assert "Senior" in page
    assert "Needs 95% of your last 2 reviewed items accepted." in page
    assert "Now: 2 accepted of your last 2 reviewed." in page
    assert "You meet it: your team owner can move you up." in page
    # Who annotates for no team has no standing page (403, as the API's annotator reads).
    assert signed_in(app, "reviewer").get("/me/standing").status_code == 403


def test_a_rejection_past_its_dispute_window_offers_no_dispute(app, api, cast, frozen_clock):
    [rejected] = lis_boxes(api, cast, items=1)
    flows.review(api, cast.reviewer, accept=[], reject=[rejected])
    li = signed_in(app, "li", "en")
    form = f"/me/standing/rejections/{rejected}/dispute"
    page = text(li.get("/me/standing"))
    # Rejected on 2026-03-02 at 18:00 in Shanghai; the order's window is 3 days.
    assert "You may dispute until March 5, 2026, 6:00" in page and form in page
    frozen_clock.stand_at("2026-03-05T18:00:01+08:00")
    page = text(li.get("/me/standing"))
    assert form not in page and "The time to dispute this rejection has passed." in page
    before = row_counts(app)
    late = li.post(form, {"reason": "late"}, token_from="/me/standing")
    assert late.status_code == 409  # the service's dispute_window_closed
    assert field_error(late, f"dispute-{rejected}") == (
        "The time to dispute this rejection has passed."
    )
    assert row_counts(app) == before
