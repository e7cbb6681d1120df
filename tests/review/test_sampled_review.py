"""Sampled review: a finished batch's sample decides the fate of the rest of the batch."""

import random
from datetime import datetime, timedelta

import pytest

from tests.flows import BOXES, review, submit
from tests.review import REASON, REASON_CODE, day, history, submissions, work, worked_order
from tests.support import row_counts

# Whole flows of the work side: `make test` runs them, `make check` leaves them out.
pytestmark = pytest.mark.slow

TERMS = {"sample_rate": "0.2", "accuracy_threshold": "0.9"}
REWORK_NOTE = "The batch's sample was 50.00 % accurate, under 90.00 %."


def sample_of(api, token, batch_id) -> list[dict]:
    answer = api.get(f"/batches/{batch_id}/sample", token)
    assert answer.status == 200, answer.body
    return answer.body


def seeded_draw(batch_id: int, round_: int, waiting: list[int], size: int) -> list[int]:
    """The published draw: seeded by batch and round, over the waiting items in id order."""
    return sorted(random.Random(f"{batch_id}:{round_}").sample(sorted(waiting), size))


def batch_reviews(api, token, batch_id) -> list[dict]:
    answer = api.get(f"/batches/{batch_id}/reviews", token)
    assert answer.status == 200, answer.body
    return [{k: v for k, v in r.items() if k != "created_at"} for r in answer.body]


@pytest.fixture
def batch(api, cast, frozen_clock):
    """Li submitted every box of a batch of 10 (sample 0.2, threshold 0.9, pay 0.06 a box):
    (batch id, the sample's ids, the rest's ids)."""
    worked_order(api, cast, items=10, **TERMS)
    ids = submit(api, cast.li, 10)
    batch_id = api.get("/submissions?limit=1", cast.reviewer).body[0]["batch_id"]
    sampled = [s["id"] for s in sample_of(api, cast.reviewer, batch_id)]
    return batch_id, sampled, sorted(set(ids) - set(sampled))


def test_the_last_box_of_a_batch_draws_a_fifth_of_it_for_review_and_the_draw_can_be_checked(
    api, cast, frozen_clock
):
    """Nothing is drawn while the batch is being worked; its last box draws ceil(10 x 0.2)
    = 2 of its boxes, the same every time anyone looks, and anyone can redraw it."""
    worked_order(api, cast, items=10, **TERMS)
    first = submit(api, cast.li, 9)
    batch_id = api.get("/submissions?limit=1", cast.reviewer).body[0]["batch_id"]
    assert sample_of(api, cast.reviewer, batch_id) == []
    ids = first + submit(api, cast.li, 1)

    sample = sample_of(api, cast.reviewer, batch_id)
    assert [(s["sample_round"], s["status"]) for s in sample] == [(1, "submitted")] * 2
    drawn = [s["id"] for s in sample]
    assert drawn == seeded_draw(batch_id, 1, ids, 2)
    assert [s["id"] for s in sample_of(api, cast.reviewer, batch_id)] == drawn
    assert [s["id"] for s in sample_of(api, cast.owner, batch_id)] == drawn
    # The reviewer's queue tells the sample from the rest.
    assert [s["id"] for s in submissions(api, cast.reviewer, "submitted", sampled="true")] == drawn
    rest = submissions(api, cast.reviewer, "submitted", sampled="false")
    assert sorted(s["id"] for s in rest) == sorted(set(ids) - set(drawn))
    assert batch_reviews(api, cast.reviewer, batch_id) == []


def test_a_sample_is_rounded_up_so_even_a_one_box_batch_is_checked(api, cast, frozen_clock):
    """Batches of 11 and 1 boxes at 0.2: ceil(2.2) = 3 and ceil(0.2) = 1 are reviewed."""
    worked_order(api, cast, items=12, batch_size=11, **TERMS)
    submit(api, cast.li, 12)
    batches = sorted({s["batch_id"] for s in submissions(api, cast.reviewer, "submitted")})
    assert [len(sample_of(api, cast.reviewer, b)) for b in batches] == [3, 1]


def test_a_sample_that_passes_accepts_the_rest_of_the_batch_as_billable_work(
    app, api, cast, batch, frozen_clock
):
    """Both boxes of the sample are good: the other 8 are accepted unseen (source
    sample_passed) at Li's rate, she sees 10 boxes and 0.60 earned, and all 10 are billed."""
    batch_id, sampled, rest = batch
    now = frozen_clock.moment
    review(api, cast.reviewer, accept=sampled[:1])
    # Half a sample decides nothing.
    assert batch_reviews(api, cast.reviewer, batch_id) == []
    assert len(submissions(api, cast.reviewer, "submitted")) == 9

    review(api, cast.reviewer, accept=sampled[1:])
    assert batch_reviews(api, cast.reviewer, batch_id) == [
        {
            "batch_id": batch_id,
            "round": 1,
            "sample_size": 2,
            "accepted": 2,
            "accuracy": "1.0000",
            "threshold": "0.9000",
            "outcome": "passed",
            "reviewer_id": cast.user_ids["reviewer"],
        }
    ]
    accepted = submissions(api, cast.reviewer, "accepted")
    assert sorted(s["id"] for s in accepted) == sorted(sampled + rest)
    assert {(s["rate"], s["reviewer_id"]) for s in accepted} == {
        ("0.06", cast.user_ids["reviewer"])
    }
    reviewer = cast.user_ids["reviewer"]
    for item in sampled:
        assert history(app, item) == [("accepted", "review", None, None, reviewer, now)]
    for item in rest:
        assert history(app, item) == [("accepted", "sample_passed", None, None, reviewer, now)]

    mine = work(api, cast.li)
    assert mine["today"] == mine["this_month"] == day(10, 10, 0, "0.6")
    assert mine["unbilled"] == {"items": 10, "amount": "0.60"}
    invoice = api.post(f"/orders/{accepted[0]['order_id']}/invoices", cast.admin)
    assert invoice.status == 201, invoice.body
    [line] = [line for line in invoice.body["lines"] if line["kind"] == "items"]
    assert (line["quantity"], line["amount"]) == (10, "1.00")


def test_a_sample_under_the_threshold_sends_the_rest_back_to_its_annotator(
    app, api, cast, batch, frozen_clock
):
    """One box of two is wrong (0.5 < 0.9): the 8 unseen boxes go back to Li, in her hands
    again for the order's task lease (120 minutes), reworked once; the two she was judged
    on keep their decisions, and only the accepted one is pay."""
    batch_id, sampled, rest = batch
    now = frozen_clock.moment
    good, bad = sampled
    review(api, cast.reviewer, accept=[good], reject=[bad])

    reviewer = cast.user_ids["reviewer"]
    [rework] = batch_reviews(api, cast.reviewer, batch_id)
    assert (rework["sample_size"], rework["accepted"], rework["accuracy"]) == (2, 1, "0.5000")
    assert (rework["outcome"], rework["reviewer_id"]) == ("rework", reviewer)
    assert sorted(s["id"] for s in submissions(api, cast.reviewer, "returned")) == rest
    assert submissions(api, cast.reviewer, "submitted") == []
    assert history(app, bad) == [("rejected", "review", REASON_CODE, REASON, reviewer, now)]
    assert history(app, good) == [("accepted", "review", None, None, reviewer, now)]
    for item in rest:
        assert history(app, item) == [("returned", "rework", None, REWORK_NOTE, reviewer, now)]

    tasks = api.get("/tasks?limit=100", cast.li).body
    returned = {s["task_id"] for s in submissions(api, cast.reviewer, "returned")}
    assert {t["id"] for t in tasks} == returned
    for task in tasks:
        assert task["reworks"] == 1
        assert datetime.fromisoformat(task["assigned_at"]) == now
        assert datetime.fromisoformat(task["lease_expires_at"]) == now + timedelta(minutes=120)
    assert api.get("/tasks?limit=100", cast.wang).body == []
    mine = work(api, cast.li)
    assert mine["today"] == day(10, 1, 1, "0.06")
    assert mine["unbilled"] == {"items": 1, "amount": "0.06"}


def test_rework_of_a_deactivated_annotator_goes_back_to_the_team_for_another(
    api, cast, batch, frozen_clock
):
    """Li's team deactivated her before her sample failed: the 8 boxes to redo do not go
    back to her hands but to the team's open tasks, reworked once, and Wang takes them."""
    _, sampled, rest = batch
    good, bad = sampled
    gone = api.post(
        f"/teams/{cast.party_ids['lotus']}/members/{cast.user_ids['li']}/deactivate", cast.owner
    )
    assert gone.status == 200, gone.body
    review(api, cast.reviewer, accept=[good], reject=[bad])

    assert sorted(s["id"] for s in submissions(api, cast.reviewer, "returned")) == rest
    assert api.get("/tasks?limit=100", cast.li).body == []
    taken = api.post("/tasks/next", cast.wang, {"count": 20})
    assert taken.status == 200, taken.body
    assert len(taken.body) == len(rest)
    assert {t["reworks"] for t in taken.body} == {1}


def test_reworked_boxes_are_sampled_afresh_and_pass_on_their_own(
    app, api, cast, batch, frozen_clock
):
    """Li redoes the 8 boxes: a second round samples ceil(8 x 0.2) = 2 of the redone ones
    only; both pass, the other 6 are accepted, and her first sample keeps its verdicts."""
    batch_id, sampled, rest = batch
    good, bad = sampled
    review(api, cast.reviewer, accept=[good], reject=[bad])
    frozen_clock.step(minutes=30)
    redone = []
    for task in api.get("/tasks?limit=100", cast.li).body:
        answer = api.post(f"/tasks/{task['id']}/submit", cast.li, {"result": BOXES})
        assert answer.status == 201, answer.body
        redone.append(answer.body["id"])

    second = sample_of(api, cast.reviewer, batch_id)
    assert {s["sample_round"] for s in second} == {2}
    assert [s["id"] for s in second] == seeded_draw(batch_id, 2, redone, 2)
    review(api, cast.reviewer, accept=[s["id"] for s in second])

    rounds = batch_reviews(api, cast.reviewer, batch_id)
    assert [(r["round"], r["sample_size"], r["accepted"], r["outcome"]) for r in rounds] == [
        (1, 2, 1, "rework"),
        (2, 2, 2, "passed"),
    ]
    accepted = sorted(s["id"] for s in submissions(api, cast.reviewer, "accepted"))
    assert accepted == sorted([good, *redone])
    assert [s["id"] for s in submissions(api, cast.reviewer, "rejected")] == [bad]
    assert sorted(s["id"] for s in submissions(api, cast.reviewer, "returned")) == rest
    assert len(history(app, bad)) == len(history(app, good)) == 1
    mine = work(api, cast.li)
    assert (mine["today"]["accepted"], mine["today"]["rejected"]) == (9, 1)
    assert mine["today"]["earned"] == "0.54"
    assert mine["unbilled"] == {"items": 9, "amount": "0.54"}


@pytest.mark.parametrize("path", ["/reviews", "/submissions/{id}/review"])
def test_a_rejection_names_one_of_the_task_types_reason_codes(
    app, api, cast, batch, frozen_clock, path
):
    """A box rejected for a rating's reason, or for no reason, is refused, and nothing of the
    review is written (not even the decision beside it)."""
    _, sampled, _ = batch
    before = row_counts(app)

    def post(decision: dict):
        if path == "/reviews":
            bulk = [{"submission_id": sampled[0], "decision": "accept"}]
            return api.post(path, cast.reviewer, {"decisions": [*bulk, decision]})
        return api.post(path.format(id=decision.pop("submission_id")), cast.reviewer, decision)

    foreign = post(
        {"submission_id": sampled[1], "decision": "reject", "reason_code": "wrong_rating"}
    )
    assert (foreign.status, foreign.error_code) == (422, "unknown_reason_code")
    assert foreign.body["error"]["details"]["reason_codes"] == [
        "box_off_target",
        "object_missed",
        "wrong_label",
        "other",
    ]
    silent = post({"submission_id": sampled[1], "decision": "reject", "reason": "bad"})
    assert (silent.status, silent.error_code) == (422, "validation_failed")
    assert row_counts(app) == before
    assert len(submissions(api, cast.reviewer, "submitted")) == 10


def test_a_batch_another_team_holds_is_not_theirs_to_review(app, api, cast, batch):
    """Tiger's reviewer and owner, and Lotus's annotators, see Lotus's batch on the board
    but not its review (403); a stranger to the batch sees nothing (404); none reviews it."""
    batch_id, sampled, _ = batch
    before = row_counts(app)
    for token in (cast.rival_reviewer, cast.rival_owner, cast.wang):
        for path in (f"/batches/{batch_id}/sample", f"/batches/{batch_id}/reviews"):
            answer = api.get(path, token)
            assert (answer.status, answer.error_code) == (403, "forbidden"), path
    for token, batch_seen in ((cast.reviewer, 999_999), (cast.rival_client, batch_id)):
        for path in (f"/batches/{batch_seen}/sample", f"/batches/{batch_seen}/reviews"):
            answer = api.get(path, token)
            assert (answer.status, answer.error_code) == (404, "batch_not_found"), path
    decisions = [{"submission_id": i, "decision": "accept"} for i in sampled]
    answer = api.post("/reviews", cast.rival_reviewer, {"decisions": decisions})
    assert (answer.status, answer.error_code) == (404, "submission_not_found")
    assert row_counts(app) == before
