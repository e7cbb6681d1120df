"""The review pages through Flask's test client: the queue holds the team's submitted
items only; a decision through the forms writes exactly what the API writes; refusals
(no reason code, another team's item, a role that does not review, a forged form) write
nothing; a batch's sample is decided on its page. The annotator's standing and disputes
are in test_standing.py, the browser walk in test_review_browser.py."""

import re

import pytest

from marketplace.db import db
from marketplace.workers.models import Submission
from tests import flows
from tests.pages.kit import text
from tests.pages.review_kit import (
    REJECT,
    decision_record,
    field_error,
    lis_boxes,
    make_inspector,
    rivals_box,
    signed_in,
)
from tests.support import row_counts

# Through the pages and the API end to end: `make test` runs them; `make check` stays
# under a minute.
pytestmark = pytest.mark.slow


def test_the_queue_holds_the_teams_submitted_items_only(app, api, cast):
    mine = lis_boxes(api, cast, items=2)
    theirs = rivals_box(api, cast)
    reviewer = signed_in(app, "reviewer")
    queue = reviewer.get("/review")
    assert queue.status_code == 200
    page = text(queue)
    assert "审核队列" in page and '<a href="/review">审核</a>' not in page
    for submission_id in mine:
        assert f'href="/review/items/{submission_id}"' in page
        assert f'name="submission_id" value="{submission_id}"' in page
    assert f"/review/items/{theirs}" not in page and f'value="{theirs}"' not in page
    assert "Li" in page and "第 1 轮" in page  # her name, the batch's sample round
    # The header offers the queue to who reviews.
    assert 'href="/review"' in page
    # Tiger's reviewer sees Tiger's item and none of Lotus's.
    rival = text(signed_in(app, "rival_reviewer").get("/review"))
    assert f"/review/items/{theirs}" in rival
    assert not any(f"/review/items/{i}" in rival for i in mine)


def test_an_item_shows_its_boxes_read_only_in_the_images_pixels(app, api, cast):
    [submission_id] = lis_boxes(api, cast, items=1)
    page = text(signed_in(app, "reviewer", "en").get(f"/review/items/{submission_id}"))
    assert 'viewBox="0 0 1920 1080"' in page
    # The annotator's own work surface, read-only: the box over the image, its numbers.
    assert '<rect class="box-body" x="1" y="2" width="30" height="40">' in page
    assert 'role="img" aria-label="1 box"' in page
    result = page.split('id="result-heading"')[1].split("</section>")[0]
    assert 'value="car"' in result
    assert len(re.findall(r"<input [^>]*>", result)) == len(re.findall(r" readonly", result)) == 5
    assert '<option value="box_off_target">Box off target</option>' in page


def test_decisions_through_the_forms_write_what_the_api_writes(app, api, cast):
    by_page, by_page_too, by_api, by_api_too = lis_boxes(api, cast, items=4)
    reviewer = signed_in(app, "reviewer")
    accepted = reviewer.post(
        f"/review/items/{by_page}", {"decision": "accept"}, token_from="/review"
    )
    # One at a time: the next waiting item opens.
    assert (accepted.status_code, accepted.headers["Location"]) == (
        302,
        f"/review/items/{by_page_too}",
    )
    rejected = reviewer.post(f"/review/items/{by_page_too}", REJECT, token_from="/review")
    assert rejected.status_code == 302
    flows.review(api, cast.reviewer, accept=[by_api], reject=[by_api_too])
    assert decision_record(app, by_page) == decision_record(app, by_api)
    assert decision_record(app, by_page_too) == decision_record(app, by_api_too)
    record = decision_record(app, by_page_too)
    assert (record["status"], record["reason_code"], record["reason"]) == (
        "rejected",
        "box_off_target",
        "box misses the wheel",
    )
    assert decision_record(app, by_page)["rate_micros"] == 60_000  # her 0.06 in force


def test_many_items_at_once_in_the_table(app, api, cast):
    ids = lis_boxes(api, cast, items=3)
    reviewer = signed_in(app, "reviewer", "en")
    answer = reviewer.post(
        "/review/decisions",
        {"submission_id": ids[:2], "decision": "accept", "reason_code": "other"},
        token_from="/review",
    )
    assert (answer.status_code, answer.headers["Location"]) == (302, "/review")
    assert "Accepted 2, rejected 0." in text(reviewer.get("/review"))
    assert [decision_record(app, i)["status"] for i in ids] == ["accepted", "accepted", "submitted"]
    # Accepted: the reason chooser belongs to the reject button, none is recorded.
    assert decision_record(app, ids[0])["reason_code"] is None
    # The last item completes the batch's sample: the batch review concludes.
    reviewer.post("/review/decisions", {"submission_id": [ids[2]], **REJECT}, token_from="/review")
    batch_page = text(reviewer.get(f"/review/batches/{_batch_of(app, ids[0])}"))
    assert "Passed: the rest accepted" in batch_page and "66.66%" in batch_page


def _batch_of(app, submission_id: int) -> int:
    with app.app_context():
        return db.session.get(Submission, submission_id).batch_id


def test_a_rejection_without_a_reason_code_is_said_beside_the_field_and_writes_nothing(
    app, api, cast
):
    [submission_id] = lis_boxes(api, cast, items=1)
    reviewer = signed_in(app, "reviewer")
    before = row_counts(app)
    answer = reviewer.post(
        f"/review/items/{submission_id}",
        {"decision": "reject", "reason_code": "", "reason": "no"},
        token_from="/review",
    )
    assert answer.status_code == 422
    assert field_error(answer, "reason_code") == "不通过须选择原因。"
    assert 'aria-describedby="error-reason_code"' in text(answer)
    bulk = reviewer.post(
        "/review/decisions",
        {"submission_id": [submission_id], "decision": "reject"},
        token_from="/review",
    )
    assert bulk.status_code == 422 and field_error(bulk, "reason_code") == "不通过须选择原因。"
    nothing = reviewer.post("/review/decisions", {"decision": "accept"}, token_from="/review")
    assert (
        nothing.status_code == 422 and field_error(nothing, "submission_id") == "请至少勾选一项。"
    )
    # A code another task type has is refused by the service, beside the same field.
    foreign = reviewer.post(
        f"/review/items/{submission_id}",
        {"decision": "reject", "reason_code": "wrong_rating"},
        token_from="/review",
    )
    assert foreign.status_code == 422 and field_error(foreign, "reason_code")
    assert row_counts(app) == before
    assert decision_record(app, submission_id)["status"] == "submitted"


def test_another_teams_item_is_not_found_and_nothing_is_written(app, api, cast):
    lis_boxes(api, cast, items=1)
    theirs = rivals_box(api, cast)
    reviewer = signed_in(app, "reviewer")
    before = row_counts(app)
    assert reviewer.get(f"/review/items/{theirs}").status_code == 404
    assert reviewer.get("/review/items/99999999999999").status_code == 404
    posted = reviewer.post(f"/review/items/{theirs}", REJECT, token_from="/review")
    assert posted.status_code == 404
    bulk = reviewer.post(
        "/review/decisions", {"submission_id": [theirs], "decision": "accept"}, token_from="/review"
    )
    assert bulk.status_code == 404
    # Tiger's batch is on the board, so the API answers 403 for its review: the page too.
    batch = _batch_of(app, theirs)
    api_answer = api.get(f"/batches/{batch}/sample", cast.reviewer).status
    assert reviewer.get(f"/review/batches/{batch}").status_code == api_answer == 403
    assert row_counts(app) == before
    assert decision_record(app, theirs)["status"] == "submitted"


def test_an_annotator_who_does_not_review_is_refused_as_the_api_refuses_her(app, api, cast):
    [submission_id] = lis_boxes(api, cast, items=1)
    wang = signed_in(app, "wang")
    li = signed_in(app, "li")
    assert 'href="/review"' not in text(wang.get("/me/standing"))
    before = row_counts(app)
    assert wang.get("/review").status_code == 403
    assert wang.get("/review/disputes").status_code == 403
    answer = wang.post(
        "/review/decisions",
        {"submission_id": [submission_id], "decision": "accept"},
        token_from="/me/standing",
    )
    api_answer = api.post(
        "/reviews",
        cast.wang,
        {"decisions": [{"submission_id": submission_id, "decision": "accept"}]},
    )
    assert answer.status_code == api_answer.status == 403
    assert (
        wang.post(
            f"/review/items/{submission_id}", {"decision": "accept"}, token_from="/me/standing"
        ).status_code
        == 403
    )
    # Li, its annotator, sees her item's decisions through the API, but reviews nothing.
    assert li.get(f"/review/items/{submission_id}").status_code == 403
    assert row_counts(app) == before


def test_a_quality_inspector_reviews_her_teams_work(app, api, cast):
    [submission_id] = lis_boxes(api, cast, items=1)
    make_inspector(api, cast, "zhang")
    zhang = signed_in(app, "zhang", "en")
    standing = text(zhang.get("/me/standing"))
    assert 'href="/review">Review</a>' in standing and "Inspector" in standing
    assert "At this level you review your team's work." in standing
    answer = zhang.post(
        f"/review/items/{submission_id}", {"decision": "accept"}, token_from="/review"
    )
    assert answer.status_code == 302
    record = decision_record(app, submission_id)
    assert (record["status"], record["reviewer"]) == ("accepted", cast.user_ids["zhang"])


def test_a_forged_form_is_refused_and_writes_nothing(app, api, cast):
    [submission_id] = lis_boxes(api, cast, items=1)
    reviewer = signed_in(app, "reviewer")
    li = signed_in(app, "li")
    before = row_counts(app)
    forged = reviewer.post(f"/review/items/{submission_id}", REJECT, token_from=None)
    assert forged.status_code == 400
    bulk = reviewer.post(
        "/review/decisions",
        {"submission_id": [submission_id], "decision": "accept", "csrf_token": "forged"},
        token_from=None,
    )
    assert bulk.status_code == 400
    assert (
        reviewer.post(
            "/review/disputes/1", {"decision": "uphold", "note": "x"}, token_from=None
        ).status_code
        == 400
    )
    assert (
        li.post(
            f"/me/standing/rejections/{submission_id}/dispute", {"reason": "x"}, token_from=None
        ).status_code
        == 400
    )
    assert row_counts(app) == before


def test_a_batchs_sample_is_decided_on_its_page_and_sends_the_batch_back(app, api, cast):
    """Half of the batch is sampled; the sample's two items are rejected from the batch's
    page, under the order's 90 % threshold: the other two go back to Li for rework."""
    review_terms = {"sample_rate": "0.5", "accuracy_threshold": "0.9"}
    ids = lis_boxes(api, cast, items=4, review=review_terms)
    reviewer = signed_in(app, "reviewer", "en")
    sampled = re.findall(
        r'name="submission_id" value="(\d+)"', text(reviewer.get("/review?sampled=1"))
    )
    rest = re.findall(
        r'name="submission_id" value="(\d+)"', text(reviewer.get("/review?sampled=0"))
    )
    assert len(sampled) == len(rest) == 2 and sorted(map(int, sampled + rest)) == sorted(ids)
    batch = f"/review/batches/{_batch_of(app, ids[0])}"
    page = text(reviewer.get(batch))
    assert "2 items of the sample wait for a decision." in page
    assert re.findall(r'name="submission_id" value="(\d+)"', page) == sampled

    # No reason: said beside the field on the batch's page, nothing written.
    before = row_counts(app)
    refused = reviewer.post(
        "/review/decisions",
        {"submission_id": sampled, "decision": "reject", "batch": batch.rsplit("/", 1)[1]},
        token_from=batch,
    )
    assert refused.status_code == 422 and "review sample" in text(refused)
    assert field_error(refused, "reason_code") == "A rejection needs a reason code."
    assert row_counts(app) == before

    answer = reviewer.post(
        "/review/decisions", {"submission_id": sampled, **REJECT, "back": batch}, token_from=batch
    )
    assert (answer.status_code, answer.headers["Location"]) == (302, batch)
    page = text(reviewer.get(batch))
    assert "Sent back for rework" in page and "<td>0%</td><td>90%</td>" in page
    assert [decision_record(app, int(i))["status"] for i in rest] == ["returned", "returned"]


def test_the_queue_pages_on(app, api, cast, monkeypatch):
    monkeypatch.setattr("marketplace.pages.review.QUEUE_PAGE", 2)
    ids = lis_boxes(api, cast, items=3)
    reviewer = signed_in(app, "reviewer")
    first = text(reviewer.get("/review?sampled=1"))
    assert re.findall(r'name="submission_id" value="(\d+)"', first) == [str(i) for i in ids[:2]]
    more = f'href="/review?after={ids[1]}&amp;sampled=1"'
    assert more in first
    second = text(reviewer.get(f"/review?after={ids[1]}&sampled=1"))
    assert re.findall(r'name="submission_id" value="(\d+)"', second) == [str(ids[2])]
    assert reviewer.get("/review?after=x").status_code == 404
