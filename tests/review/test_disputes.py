"""Disputes: an annotator challenges a rejection; someone other than its reviewer decides."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from marketplace.db import unit_of_work
from marketplace.identity import service as identity
from marketplace.identity.models import Party, Role
from tests.cast import PASSWORD
from tests.flows import review, submit
from tests.review import REASON, REASON_CODE, day, history, submissions, work, worked_order
from tests.support import row_counts

# Whole flows of the work side: `make test` runs them, `make check` leaves them out.
pytestmark = pytest.mark.slow

WHY = "The box covers the whole wheel; see the left edge."


@dataclass
class Work:
    """Li's three boxes, reviewed by Lotus's reviewer at `reviewed_at`."""

    accepted: int
    rejected: list[int]
    reviewed_at: datetime
    chen: str  # a second reviewer of Lotus (token)
    chen_id: int


@pytest.fixture
def reviewed(app, api, cast, frozen_clock) -> Work:
    """Lotus has a second reviewer, Chen. Li submitted 3 boxes (pay 0.06, review window
    3 days); the reviewer accepted one and rejected two (box_off_target)."""
    with app.app_context(), unit_of_work() as session:
        chen = identity.create_user(
            session, email="chen@example.com", name="Chen", password=PASSWORD
        )
        lotus = session.get(Party, cast.party_ids["lotus"])
        identity.add_membership(session, user=chen, party=lotus, role=Role.REVIEWER)
        token, chen_id = identity.issue_token(session, chen, token="token-chen"), chen.id
    worked_order(api, cast, items=3, window_days=3)
    first, *rest = submit(api, cast.li, 3)
    review(api, cast.reviewer, accept=[first], reject=rest)
    return Work(first, rest, frozen_clock.moment, token, chen_id)


def dispute(api, token, submission_id, reason=WHY):
    return api.post(f"/submissions/{submission_id}/dispute", token, {"reason": reason})


def decide(api, token, dispute_id, decision, note="Checked against the image."):
    return api.post(f"/disputes/{dispute_id}/decision", token, {"decision": decision, "note": note})


def test_an_annotator_disputes_a_rejection_and_follows_it(api, cast, reviewed, frozen_clock):
    """Li disputes a rejected box the next day, with a note: the dispute is open, names the
    rejection's reason code and reviewer, and she and her team's reviewers see it; other
    annotators and other teams do not."""
    frozen_clock.step(days=1)
    opened = dispute(api, cast.li, reviewed.rejected[0])
    assert opened.status == 201, opened.body
    mine = opened.body
    assert {k: mine[k] for k in mine if k not in ("id", "created_at")} == {
        "submission_id": reviewed.rejected[0],
        "team_id": cast.party_ids["lotus"],
        "annotator_id": cast.user_ids["li"],
        "reviewer_id": cast.user_ids["reviewer"],
        "reason": WHY,
        "status": "open",
        "decided_by": None,
        "decided_at": None,
        "note": None,
        "reason_code": REASON_CODE,
    }
    assert datetime.fromisoformat(mine["created_at"]) == frozen_clock.moment
    assert api.get("/disputes", cast.li).body == [mine]
    assert api.get(f"/disputes/{mine['id']}", cast.li).body == mine
    for token in (cast.reviewer, reviewed.chen, cast.owner):
        assert [d["id"] for d in api.get("/disputes?status=open", token).body] == [mine["id"]]
    for token in (cast.wang, cast.rival_reviewer, cast.rival_owner):
        assert api.get("/disputes", token).body == []
        answer = api.get(f"/disputes/{mine['id']}", token)
        assert (answer.status, answer.error_code) == (404, "dispute_not_found")
    # The box itself is still rejected while the dispute is open.
    assert [s["id"] for s in submissions(api, cast.reviewer, "rejected")] == reviewed.rejected


def test_only_her_own_rejection_is_disputed_and_only_once(app, api, cast, reviewed):
    """An accepted box (409 not_rejected), someone else's box (404), a second dispute of the
    same rejection (409 already_disputed): refused, and nothing is written."""
    assert dispute(api, cast.li, reviewed.rejected[0]).status == 201
    before = row_counts(app)
    refusals = [
        (dispute(api, cast.li, reviewed.accepted), 409, "not_rejected"),
        (dispute(api, cast.wang, reviewed.rejected[1]), 404, "submission_not_found"),
        (dispute(api, cast.rival_annotator, reviewed.rejected[1]), 404, "submission_not_found"),
        (dispute(api, cast.li, reviewed.rejected[0], "Again."), 409, "already_disputed"),
    ]
    for answer, status, code in refusals:
        assert (answer.status, answer.error_code) == (status, code)
    assert row_counts(app) == before


def test_a_rejection_may_be_disputed_until_the_review_window_closes(
    app, api, cast, reviewed, frozen_clock
):
    """The window is the order's 3 days from the rejection: at its last moment a dispute is
    taken, a second later it is refused with when it closed."""
    frozen_clock.moment = reviewed.reviewed_at + timedelta(days=3)
    assert dispute(api, cast.li, reviewed.rejected[0]).status == 201
    frozen_clock.step(seconds=1)
    before = row_counts(app)
    late = dispute(api, cast.li, reviewed.rejected[1])
    assert (late.status, late.error_code) == (409, "dispute_window_closed")
    closed_at = datetime.fromisoformat(late.body["error"]["details"]["closed_at"])
    assert closed_at == reviewed.reviewed_at + timedelta(days=3)
    assert row_counts(app) == before


def test_the_reviewer_who_rejected_the_box_may_not_decide_its_dispute(app, api, cast, reviewed):
    """Neither the original reviewer (403 original_reviewer) nor Li herself decides; the
    dispute stays open and the box rejected."""
    opened = dispute(api, cast.li, reviewed.rejected[0]).body
    before = row_counts(app)
    answer = decide(api, cast.reviewer, opened["id"], "dismiss")
    assert (answer.status, answer.error_code) == (403, "original_reviewer")
    assert decide(api, cast.li, opened["id"], "uphold").status == 403
    assert row_counts(app) == before
    assert api.get(f"/disputes/{opened['id']}", cast.li).body["status"] == "open"
    assert len(history(app, reviewed.rejected[0])) == 1


def test_an_upheld_dispute_accepts_the_box_and_its_pay_accrues(
    app, api, cast, reviewed, frozen_clock
):
    """Chen upholds Li's dispute a day later: the box is accepted at 0.06, Li's pay grows from
    0.06 to 0.12, and the box's history shows the rejection, then the acceptance by
    dispute, by Chen, with his note. Deciding again is refused."""
    before = work(api, cast.li)
    assert before["unbilled"] == {"items": 1, "amount": "0.06"}
    opened = dispute(api, cast.li, reviewed.rejected[0]).body
    frozen_clock.step(days=1)
    note = "The box is on the wheel; the rejection was a slip."
    upheld = decide(api, reviewed.chen, opened["id"], "uphold", note)
    assert upheld.status == 200, upheld.body
    assert (upheld.body["status"], upheld.body["decided_by"], upheld.body["note"]) == (
        "upheld",
        reviewed.chen_id,
        note,
    )
    assert datetime.fromisoformat(upheld.body["decided_at"]) == frozen_clock.moment
    assert api.get(f"/disputes/{opened['id']}", cast.li).body == upheld.body

    [box] = [
        s for s in submissions(api, cast.reviewer, "accepted") if s["id"] == opened["submission_id"]
    ]
    assert (box["rate"], box["reviewer_id"]) == ("0.06", reviewed.chen_id)
    assert history(app, box["id"]) == [
        (
            "rejected",
            "review",
            REASON_CODE,
            REASON,
            cast.user_ids["reviewer"],
            reviewed.reviewed_at,
        ),
        ("accepted", "dispute", None, note, reviewed.chen_id, frozen_clock.moment),
    ]
    after = work(api, cast.li)
    assert after["unbilled"] == {"items": 2, "amount": "0.12"}
    # Upheld the next day: today's work is the one box accepted, worth its 0.06.
    assert after["today"] == day(0, 1, 0, "0.06")
    assert after["this_month"]["earned"] == "0.12"

    before = row_counts(app)
    again = decide(api, cast.owner, opened["id"], "dismiss")
    assert (again.status, again.error_code) == (409, "dispute_decided")
    assert row_counts(app) == before
    assert work(api, cast.li) == after


def test_an_upheld_dispute_still_names_the_rejection_it_reversed(api, cast, reviewed):
    """Li's list of disputes keeps saying what each was about, after it was decided."""
    opened = dispute(api, cast.li, reviewed.rejected[0]).body
    assert decide(api, cast.owner, opened["id"], "uphold").status == 200
    assert api.get(f"/disputes/{opened['id']}", cast.li).body["reason_code"] == REASON_CODE


def test_an_upheld_box_no_longer_counts_as_rejected_in_her_month(api, cast, reviewed):
    """Li's month: 3 boxes submitted, 1 accepted, 2 rejected; once one rejection is reversed
    it reads 2 accepted and 1 rejected, not 2 and 2 (more verdicts than boxes)."""
    assert work(api, cast.li)["this_month"] == day(3, 1, 2, "0.06")
    opened = dispute(api, cast.li, reviewed.rejected[0]).body
    assert decide(api, cast.owner, opened["id"], "uphold").status == 200
    assert work(api, cast.li)["this_month"] == day(3, 2, 1, "0.12")


def test_a_dismissed_dispute_leaves_the_rejection_standing(app, api, cast, reviewed):
    """The owner dismisses: the dispute says so, by whom and why; the box stays rejected with
    its one decision, Li's pay is unchanged, and a second decision is refused."""
    before = work(api, cast.li)
    opened = dispute(api, cast.li, reviewed.rejected[1]).body
    note = "The box cuts the wheel in half."
    dismissed = decide(api, cast.owner, opened["id"], "dismiss", note)
    assert dismissed.status == 200, dismissed.body
    assert (dismissed.body["status"], dismissed.body["decided_by"], dismissed.body["note"]) == (
        "dismissed",
        cast.user_ids["owner"],
        note,
    )
    assert api.get("/disputes?status=dismissed", cast.li).body == [dismissed.body]
    assert [s["id"] for s in submissions(api, cast.reviewer, "rejected")] == reviewed.rejected
    assert len(history(app, reviewed.rejected[1])) == 1
    assert work(api, cast.li) == before

    again = decide(api, reviewed.chen, opened["id"], "uphold")
    assert (again.status, again.error_code) == (409, "dispute_decided")
    assert [s["id"] for s in submissions(api, cast.reviewer, "rejected")] == reviewed.rejected
    assert work(api, cast.li) == before


def test_she_finds_her_rejected_boxes_and_reads_every_decision_on_them(
    app, api, cast, reviewed, frozen_clock
):
    """Li lists her own rejected boxes (not Wang's, not the team's) and reads each one's
    decisions as recorded: who, when, why and how; after an upheld dispute, both. Wang and
    another team's reviewer cannot read them."""
    mine = submissions(api, cast.li, "rejected")
    assert [s["id"] for s in mine] == reviewed.rejected
    assert {s["reason_code"] for s in mine} == {REASON_CODE}
    assert submissions(api, cast.wang, "rejected") == []
    opened = dispute(api, cast.li, reviewed.rejected[0]).body
    frozen_clock.step(hours=5)
    decide(api, reviewed.chen, opened["id"], "uphold", "Fine after all.")
    answer = api.get(f"/submissions/{reviewed.rejected[0]}/decisions", cast.li)
    assert answer.status == 200, answer.body
    assert [
        (d["status"], d["source"], d["reason_code"], d["note"], d["decided_by"])
        for d in answer.body
    ] == [
        ("rejected", "review", REASON_CODE, REASON, cast.user_ids["reviewer"]),
        ("accepted", "dispute", None, "Fine after all.", reviewed.chen_id),
    ]
    assert [datetime.fromisoformat(d["decided_at"]) for d in answer.body] == [
        reviewed.reviewed_at,
        frozen_clock.moment,
    ]
    assert [row[:5] for row in history(app, reviewed.rejected[0])] == [
        tuple(d[k] for k in ("status", "source", "reason_code", "note", "decided_by"))
        for d in answer.body
    ]
    assert api.get(f"/submissions/{reviewed.rejected[0]}/decisions", cast.owner).status == 200
    for token in (cast.wang, cast.rival_reviewer):
        refused = api.get(f"/submissions/{reviewed.rejected[0]}/decisions", token)
        assert (refused.status, refused.error_code) == (404, "submission_not_found")
