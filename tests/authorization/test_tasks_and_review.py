"""Tasks (taking, submitting, skipping), submissions and their review, batch samples and
review rounds, and disputes."""

from collections.abc import Callable

import pytest

from marketplace.db import unit_of_work
from marketplace.identity import service as identity
from marketplace.identity.models import Party, Role
from tests.authorization.matrix import (
    APPEAL,
    CREATED,
    FORBIDDEN,
    OK,
    RESULT,
    Check,
    Matrix,
    Row,
    World,
    by_endpoint,
    conflict,
    expect_status,
    field_is,
    id_is,
    ids_are,
    missing,
    only,
    per_caller,
    snapshot,
    table,
)
from tests.cast import PASSWORD
from tests.support import Response

pytestmark = pytest.mark.slow


def tasks_of_own_team(matrix: Matrix, caller: str, answer: Response) -> str | None:
    """Lotus's annotators get one task of Horizon's order; Tiger's holds no work, gets none."""
    orders = [task["order_id"] for task in answer.body]
    want = [] if caller == "rival_annotator" else [matrix.world.order]
    return None if orders == want else f"tasks of orders {orders}, expected {want}"


def batch_review_is(rounds: Callable[[World], list[tuple]]) -> Check:
    def check(matrix: Matrix, caller: str, answer: Response) -> str | None:
        got = [
            (r["batch_id"], r["round"], r["sample_size"], r["accepted"], r["outcome"])
            for r in answer.body
        ]
        want = rounds(matrix.world)
        return None if got == want else f"batch reviews {got}, expected {want}"

    return check


def dispute_upheld(matrix: Matrix, caller: str, answer: Response) -> str | None:
    """Upheld by the caller: Wang's box is accepted at her level's rate, 0.05."""
    w, body = matrix.world, answer.body
    if (body["status"], body["decided_by"]) != ("upheld", w.user(caller)):
        return f"dispute {body}"
    accepted = matrix.api.get("/submissions?status=accepted", w.tokens["owner"]).body
    rates = {s["id"]: s["rate"] for s in accepted}
    return None if rates.get(w.disputed) == "0.05" else f"accepted after the dispute: {rates}"


def dispute_opened(matrix: Matrix, caller: str, answer: Response) -> str | None:
    body, w = answer.body, matrix.world
    got = (body["submission_id"], body["status"], body["reviewer_id"], body["reason_code"])
    want = (w.rejected, "open", w.user("reviewer"), "box_off_target")
    return None if got == want else f"dispute {got}, expected {want}"


SKIP: dict = {"reason": "The image will not load."}
# Who reviews a team's work: its owner, reviewers and quality inspectors (Zhang, at a level
# that reviews). Every other team member sees her own submissions.
REVIEWS_LOTUS = ("owner", "reviewer", "zhang")
REVIEWS_TIGER = ("rival_owner", "rival_reviewer")
# A batch is seen by every team, the order's client and admins: only these do not see it.
BATCH_UNSEEN = dict(rival_client=missing("batch"), stranger=missing("batch"))

READS = [
    Row("GET", "/tasks", table(OK), check=ids_are(only("li", of=lambda w: {w.held_task}))),
    Row(
        "GET",
        "/tasks?status=submitted",
        table(OK),
        check=ids_are(
            lambda w, c: {"li": {w.submitted_task}, "rival_annotator": {w.tiger_task}}.get(c, set())
        ),
    ),
    Row(
        "GET",
        "/submissions",
        table(FORBIDDEN, teams=OK),
        check=ids_are(
            per_caller(
                **dict.fromkeys((*REVIEWS_LOTUS, "li"), lambda w: {w.waiting}),
                **dict.fromkeys(
                    (*REVIEWS_TIGER, "rival_annotator"), lambda w: {w.tiger_submission}
                ),
            )
        ),
    ),
    Row(
        "GET",
        "/submissions?status=accepted",
        table(FORBIDDEN, teams=OK),
        check=ids_are(only(*REVIEWS_LOTUS, "li", of=lambda w: {w.accepted})),
    ),
    Row(
        "GET",
        "/submissions?status=rejected",
        table(FORBIDDEN, teams=OK),
        check=ids_are(only(*REVIEWS_LOTUS, "wang", of=lambda w: {w.rejected, w.disputed})),
    ),
    Row(
        "GET",
        "/submissions/{accepted}/decisions",
        table(missing("submission"), li=OK, **dict.fromkeys(REVIEWS_LOTUS, OK)),
        check=lambda m, c, a: (
            None
            if [(d["status"], d["source"], d["decided_by"]) for d in a.body]
            == [("accepted", "review", m.world.user("reviewer"))]
            else f"decisions {a.body}"
        ),
    ),
    # A batch's review sample and rounds: for those who review the team holding it; every
    # team, the order's client and admins see the batch itself (see test_claims_and_rules).
    Row(
        "GET",
        "/batches/{review_batch}/sample",
        table(FORBIDDEN, **dict.fromkeys(REVIEWS_LOTUS, OK), **BATCH_UNSEEN),
        check=ids_are(lambda w, c: {w.rejected, w.disputed}),
    ),
    Row(
        "GET",
        "/batches/{tiger_trial}/sample",
        table(FORBIDDEN, **dict.fromkeys(REVIEWS_TIGER, OK), **BATCH_UNSEEN),
        check=ids_are(lambda w, c: {w.tiger_submission}),
    ),
    Row(
        "GET",
        "/batches/{review_batch}/reviews",
        table(FORBIDDEN, **dict.fromkeys(REVIEWS_LOTUS, OK), **BATCH_UNSEEN),
        check=batch_review_is(lambda w: [(w.review_batch, 1, 2, 0, "rework")]),
    ),
    Row(
        "GET",
        "/batches/{tiger_trial}/reviews",
        table(FORBIDDEN, **dict.fromkeys(REVIEWS_TIGER, OK), **BATCH_UNSEEN),
        check=batch_review_is(lambda w: []),
    ),
    # Disputes: the annotator's own, and those of the teams one reviews.
    Row(
        "GET",
        "/disputes",
        table(OK),
        check=ids_are(only(*REVIEWS_LOTUS, "wang", of=lambda w: {w.dispute})),
    ),
    Row(
        "GET",
        "/disputes/{dispute}",
        table(missing("dispute"), **dict.fromkeys((*REVIEWS_LOTUS, "wang"), OK)),
        check=id_is("dispute"),
    ),
]

WRITES = [
    # Tasks: annotators take their own team's; only the holder submits.
    Row(
        "POST",
        "/tasks/next",
        table(FORBIDDEN, annotators=OK),
        body={"count": 1},
        check=tasks_of_own_team,
    ),
    Row(
        "POST",
        "/tasks/{held_task}/submit",
        table(missing("task"), li=CREATED),
        body=RESULT,
        check=field_is("task_id", lambda w, c: w.held_task),
    ),
    Row(
        "POST",
        "/tasks/{submitted_task}/submit",
        table(missing("task"), li=conflict("task_not_open")),
        body=RESULT,
    ),
    Row("POST", "/tasks/{open_task}/submit", table(missing("task")), body=RESULT),
    # Review: reviewers, owners and quality inspectors (Zhang) of the submitting team. Li's
    # submission is her own; she is no reviewer anyway (her own work is refused with
    # own_submission, see below).
    Row(
        "POST",
        "/submissions/{waiting}/review",
        table(
            FORBIDDEN,
            owner=OK,
            reviewer=OK,
            zhang=OK,
            client=missing("submission"),
            rival_client=missing("submission"),
            tiger=missing("submission"),
            stranger=missing("submission"),
        ),
        body={"decision": "accept"},
        check=field_is("status", lambda w, c: "accepted"),
    ),
    Row(
        "POST",
        "/submissions/{accepted}/review",
        table(
            FORBIDDEN,
            owner=conflict("already_reviewed"),
            reviewer=conflict("already_reviewed"),
            zhang=conflict("already_reviewed"),
            client=missing("submission"),
            rival_client=missing("submission"),
            tiger=missing("submission"),
            stranger=missing("submission"),
        ),
        body={"decision": "reject", "reason_code": "box_off_target"},
    ),
    Row(
        "POST",
        "/reviews",
        table(
            FORBIDDEN,
            owner=OK,
            reviewer=OK,
            zhang=OK,
            client=missing("submission"),
            rival_client=missing("submission"),
            tiger=missing("submission"),
            stranger=missing("submission"),
        ),
        body=lambda w, c: {
            "decisions": [
                {"submission_id": w.waiting, "decision": "reject", "reason_code": "box_off_target"}
            ]
        },
        check=lambda m, c, a: (
            None if [s["status"] for s in a.body] == ["rejected"] else f"reviewed {a.body}"
        ),
    ),
    # Skipping: only the annotator holding the task puts it back.
    Row(
        "POST",
        "/tasks/{held_task}/skip",
        table(missing("task"), li=OK),
        body=SKIP,
        check=lambda m, c, a: (
            None
            if (a.body["id"], a.body["status"]) == (m.world.held_task, "open")
            else f"skipped {a.body}"
        ),
    ),
    Row(
        "POST",
        "/tasks/{submitted_task}/skip",
        table(missing("task"), li=conflict("task_not_open")),
        body=SKIP,
    ),
    Row("POST", "/tasks/{open_task}/skip", table(missing("task")), body=SKIP),
    # Disputes: only the annotator whose item was rejected opens one; a reviewer, owner or
    # inspector of her team other than the one who rejected it decides.
    Row(
        "POST",
        "/submissions/{rejected}/dispute",
        table(missing("submission"), wang=CREATED),
        body=APPEAL,
        check=dispute_opened,
    ),
    Row(
        "POST",
        "/submissions/{disputed}/dispute",
        table(missing("submission"), wang=conflict("already_disputed")),
        body=APPEAL,
    ),
    Row(
        "POST",
        "/submissions/{waiting}/dispute",
        table(missing("submission"), li=conflict("not_rejected")),
        body=APPEAL,
    ),
    Row(
        "POST",
        "/disputes/{dispute}/decision",
        table(
            missing("dispute"),
            owner=OK,
            zhang=OK,
            reviewer=(403, "original_reviewer"),
            wang=FORBIDDEN,
        ),
        body={"decision": "uphold", "note": "The box is on the wheel indeed."},
        check=dispute_upheld,
    ),
]


@pytest.mark.parametrize("rows", by_endpoint(WRITES))
def test_writes(app, api, world, rows):
    """Every write endpoint, by every caller, each call on a fresh world."""
    [prepare] = {row.prepare for row in rows}
    matrix = Matrix(app, api, world, prepare=prepare)
    wrong = matrix.run_rows(rows)
    assert not wrong, "\n".join(wrong)


def test_nobody_reviews_own_work(app, api, cast, world):
    """A Lotus member who both annotates and reviews may review Wang's work but not her own:
    403 own_submission, for one decision or in a bulk, and nothing changes."""
    with app.app_context(), unit_of_work() as session:
        lotus = session.get(Party, world.party("lotus"))
        user = identity.create_user(session, email="mei@example.com", name="Mei", password=PASSWORD)
        for role in (Role.ANNOTATOR, Role.REVIEWER):
            identity.add_membership(session, user=user, party=lotus, role=role)
        mei = identity.issue_token(session, user, token="token-mei")
    [task] = expect_status(api.post("/tasks/next", mei, {"count": 1}), 200)
    own = expect_status(api.post(f"/tasks/{task['id']}/submit", mei, RESULT), 201)["id"]
    [task] = expect_status(api.post("/tasks/next", cast.wang, {"count": 1}), 200)
    wangs = expect_status(api.post(f"/tasks/{task['id']}/submit", cast.wang, RESULT), 201)["id"]
    assert {s["id"] for s in expect_status(api.get("/submissions", mei), 200)} == {
        world.waiting,
        own,
        wangs,
    }
    before = snapshot(app)
    refused = [
        api.post(f"/submissions/{own}/review", mei, {"decision": "accept"}),
        api.post("/reviews", mei, {"decisions": [{"submission_id": own, "decision": "accept"}]}),
        api.post(
            "/reviews",
            mei,
            {
                "decisions": [
                    {"submission_id": wangs, "decision": "accept"},
                    {"submission_id": own, "decision": "accept"},
                ]
            },
        ),
    ]
    assert [(a.status, a.error_code) for a in refused] == [(403, "own_submission")] * 3
    assert snapshot(app) == before
    assert api.post(f"/submissions/{wangs}/review", mei, {"decision": "accept"}).status == 200
    assert (
        api.post(f"/submissions/{own}/review", cast.reviewer, {"decision": "accept"}).status == 200
    )
    accepted = expect_status(api.get("/submissions?status=accepted", mei), 200)
    assert {(s["id"], s["reviewer_id"]) for s in accepted} == {
        (world.accepted, world.user("reviewer")),
        (wangs, expect_status(api.get("/me", mei), 200)["id"]),
        (own, world.user("reviewer")),
    }
