"""Piece rates, taking, submitting and skipping tasks, and reviews: the fields, and the
task type's rules."""

import pytest

from tests.bad_input.cases import (
    HUGE_ID,
    SIGNED_OVERFLOW,
    TEXT,
    TOO_BIG,
    Case,
    case,
    query_case,
    run,
    run_work,
)
from tests.flows import BOXES

pytestmark = pytest.mark.slow


# -- piece rates, taking and submitting tasks ----------------------------------------------

SET_RATE = "PUT /orders/{order}/piece-rate"
RATE = f"owner {SET_RATE}"
TAKE = "li POST /tasks/next"
SUBMIT_HELD = "POST /tasks/{held_task}/submit"
RESULT = {"result": {}}
FIVE_FEN = {"unit_price": "0.05"}

WORK_CASES = [
    # Piece rates: above zero, at most 6 decimals, at most the contract's 0.10.
    case("rate 0.11", RATE, 409, "rate_above_contract_price", {"unit_price": "0.11"}),
    case("rate 0.100001", RATE, 409, "rate_above_contract_price", {"unit_price": "0.100001"}),
    *(
        case(f"rate {value!r}", RATE, 422, "validation_failed", {"unit_price": value})
        for value in ("0", "-0.01", "0.0000001", "NaN", "abc", None, True, ["0.05"])
    ),
    case("rate 1e999999", RATE, 422, "validation_failed", {"unit_price": TOO_BIG}),
    case("rate float 1e-7", RATE, 422, "validation_failed", text='{"unit_price": 0.0000001}'),
    case("rate missing", RATE, 422, "validation_failed", {}),
    case("rate extra field", RATE, 422, "validation_failed", FIVE_FEN | {"currency": "USD"}),
    case("rate as text", RATE, 415, "unsupported_media_type", text="0.05", content_type=TEXT),
    case("rival sets the rate", f"rival_owner {SET_RATE}", 404, "order_not_found", FIVE_FEN),
    case("annotator sets the rate", f"li {SET_RATE}", 403, "forbidden", FIVE_FEN),
    case("client sets the rate", f"client {SET_RATE}", 403, "forbidden", FIVE_FEN),
    case(
        "rate of the draft",
        "owner PUT /orders/{draft}/piece-rate",
        404,
        "order_not_found",
        FIVE_FEN,
    ),
    case(
        "rate of no order",
        "owner PUT /orders/999999/piece-rate",
        404,
        "order_not_found",
        FIVE_FEN,
    ),
    # Taking tasks: 1 to 500 at a time, annotators only.
    *(
        case(f"take {count!r}", TAKE, 422, "validation_failed", {"count": count})
        for count in (0, -1, 501, "ten", "1", True, None)
    ),
    case("take 1.5", TAKE, 422, "validation_failed", text='{"count": 1.5}'),
    case("take 1.0", TAKE, 422, "validation_failed", text='{"count": 1.0}'),
    case("take extra field", TAKE, 422, "validation_failed", {"count": 1, "order_id": 1}),
    case("owner takes", "owner POST /tasks/next", 403, "forbidden", {"count": 1}),
    case("client takes", "client POST /tasks/next", 403, "forbidden", {"count": 1}),
    case("rival owner takes", "rival_owner POST /tasks/next", 403, "forbidden", {"count": 1}),
    # Submitting: one's own assigned task, once, with an object for a result.
    case("submit another's task", f"wang {SUBMIT_HELD}", 404, "task_not_found", RESULT),
    case("owner submits Li's task", f"owner {SUBMIT_HELD}", 404, "task_not_found", RESULT),
    case("submit an open task", "li POST /tasks/{open_task}/submit", 404, "task_not_found", RESULT),
    case("submit unknown task", "li POST /tasks/999999/submit", 404, "task_not_found", RESULT),
    case("submit twice", "li POST /tasks/{waiting_task}/submit", 409, "task_not_open", RESULT),
    case(
        "submit an accepted task",
        "li POST /tasks/{accepted_task}/submit",
        409,
        "task_not_open",
        RESULT,
    ),
    *(
        case(
            f"result {result!r}", f"li {SUBMIT_HELD}", 422, "validation_failed", {"result": result}
        )
        for result in ([1, 2], "boxes", 5, None, True)
    ),
    case("result missing", f"li {SUBMIT_HELD}", 422, "validation_failed", {}),
    case("submit a list", f"li {SUBMIT_HELD}", 422, "validation_failed", text="[]"),
    case("submit truncated", f"li {SUBMIT_HELD}", 400, "malformed_json", text='{"result": {'),
    case("submit NaN", f"li {SUBMIT_HELD}", 400, "malformed_json", text='{"result": {"x": NaN}}'),
    case(
        "result with a lone surrogate",
        f"li {SUBMIT_HELD}",
        422,
        "validation_failed",
        text='{"result": {"label": "\\udc00"}}',
    ),
    case(
        "result 1e5000",
        f"li {SUBMIT_HELD}",
        422,
        "validation_failed",
        text='{"result": {"n": 1e5000}}',
    ),
    case(
        "result beyond a double",
        f"li {SUBMIT_HELD}",
        422,
        "validation_failed",
        text='{"result": {"n": 1%s.5}}' % ("0" * 400),
    ),
]


def test_piece_rates_taking_and_submitting(subtests, app, api, cast, story):
    run(subtests, app, api, cast, story, WORK_CASES)


# -- reviews -------------------------------------------------------------------------------

REVIEW_WAITING = "POST /submissions/{waiting}/review"
REVIEW = f"reviewer {REVIEW_WAITING}"
REVIEWS = "reviewer POST /reviews"
ACCEPT = {"decision": "accept"}


def decisions(*rows):
    """A /reviews body from (submission, decision[, reason]) rows; a submission is the name
    of one of the story's ids, or a number."""

    def build(ids):
        return {
            "decisions": [
                {"submission_id": ids.get(submission, submission), "decision": decision}
                | ({"reason_code": "box_off_target", "reason": reason[0]} if reason else {})
                for submission, decision, *reason in rows
            ]
        }

    return build


REVIEW_CASES = [
    case("reject, no reason", REVIEW, 422, "validation_failed", {"decision": "reject"}),
    *(
        case(
            f"reject, reason {reason!r}",
            REVIEW,
            422,
            "validation_failed",
            {"decision": "reject", "reason_code": "box_off_target", "reason": reason},
        )
        for reason in ("", "x" * 501)
    ),
    *(
        case(
            f"reject, reason {reason!r}",
            REVIEW,
            422,
            "validation_failed",
            {"decision": "reject", "reason_code": "box_off_target", "reason": reason},
        )
        for reason in ("   ", "box\x00")
    ),
    case(
        "reject, reason without a code",
        REVIEW,
        422,
        "validation_failed",
        {"decision": "reject", "reason": "blurry"},
        field="reason_code",
    ),
    *(
        case(
            f"reject, reason code {code!r}",
            REVIEW,
            422,
            "validation_failed",
            {"decision": "reject", "reason_code": code},
            field="reason_code",
        )
        for code in ("", "   ", "x" * 65, 5, None, "a\x00")
    ),
    case(
        "reject, reason code of another task type",
        REVIEW,
        422,
        "unknown_reason_code",
        {"decision": "reject", "reason_code": "wrong_rating"},
    ),
    *(
        case(f"decision {d!r}", REVIEW, 422, "validation_failed", {"decision": d})
        for d in ("maybe", "ACCEPT", "", True, None)
    ),
    case("decision missing", REVIEW, 422, "validation_failed", {}),
    case(
        "review unknown submission",
        "reviewer POST /submissions/999999/review",
        404,
        "submission_not_found",
        ACCEPT,
    ),
    case(
        "review again",
        "reviewer POST /submissions/{accepted}/review",
        409,
        "already_reviewed",
        {"decision": "reject", "reason_code": "other", "reason": "changed my mind"},
    ),
    case("rival reviews", f"rival_reviewer {REVIEW_WAITING}", 404, "submission_not_found", ACCEPT),
    case("annotator reviews", f"wang {REVIEW_WAITING}", 403, "forbidden", ACCEPT),
    case("client reviews", f"client {REVIEW_WAITING}", 404, "submission_not_found", ACCEPT),
    # Many at once: all decisions apply, or none.
    case("reviews empty", REVIEWS, 422, "validation_failed", {"decisions": []}),
    case("reviews missing", REVIEWS, 422, "validation_failed", {}),
    case("reviews an object", REVIEWS, 422, "validation_failed", {"decisions": ACCEPT}),
    case(
        "reviews 1,001",
        REVIEWS,
        422,
        "validation_failed",
        decisions(*[(n, "accept") for n in range(1, 1002)]),
    ),
    case(
        "reviews id a string",
        REVIEWS,
        422,
        "validation_failed",
        lambda ids: {"decisions": [{"submission_id": str(ids["waiting"]), "decision": "accept"}]},
    ),
    case(
        "reviews same id twice",
        REVIEWS,
        409,
        "duplicate_decision",
        decisions(("waiting", "accept"), ("waiting", "accept")),
    ),
    case(
        "reviews same id both ways",
        REVIEWS,
        409,
        "duplicate_decision",
        decisions(("waiting", "accept"), ("waiting_2", "accept"), ("waiting", "reject", "no")),
    ),
    case(
        "reviews last unknown",
        REVIEWS,
        404,
        "submission_not_found",
        decisions(("waiting", "accept"), ("waiting_2", "reject", "blurry"), (999999, "accept")),
    ),
    case(
        "reviews last already reviewed",
        REVIEWS,
        409,
        "already_reviewed",
        decisions(("waiting", "accept"), ("waiting_2", "reject", "blurry"), ("accepted", "accept")),
    ),
    case(
        "reviews last without reason",
        REVIEWS,
        422,
        "validation_failed",
        decisions(("waiting", "accept"), ("waiting_2", "reject")),
    ),
    case(
        "reviews last not an object",
        REVIEWS,
        422,
        "validation_failed",
        lambda ids: {"decisions": [{"submission_id": ids["waiting"], "decision": "accept"}, 7]},
    ),
    case(
        "reviews by the rival",
        "rival_reviewer POST /reviews",
        404,
        "submission_not_found",
        decisions(("waiting", "accept")),
    ),
    case(
        "reviews last beyond 64 bits",
        REVIEWS,
        404,
        "submission_not_found",
        decisions(("waiting", "accept"), (HUGE_ID, "accept")),
    ),
]


def test_reviews(subtests, app, api, cast, story):
    run(subtests, app, api, cast, story, REVIEW_CASES)


# POST /tasks/{id}/submit, /skip and /tasks/next, and reviews: the task type's rules.
SUBMIT_BOXES = "li POST /tasks/{held_task}/submit"
SUBMIT_RATING = "rival_annotator POST /tasks/{tiger_held}/submit"
SKIP = "li POST /tasks/{held_task}/skip"
BECAUSE = {"reason": "The image is blank."}


def boxes(*xywh) -> dict:
    """A submission of boxes, each (x, y, w, h), on Li's image of 1920 x 1080."""
    return {"result": {"boxes": [dict(zip("xywh", box, strict=True)) for box in xywh]}}


def decisions_of(*rows):
    """A /reviews body from (submission, decision, reason code) rows."""
    return lambda ids: {
        "decisions": [
            {"submission_id": ids[submission], "decision": decision, "reason_code": code}
            for submission, decision, code in rows
        ]
    }


def broken(case_id, route, result, rule, **details) -> Case:
    body = result if "result" in result else {"result": result}
    return case(case_id, route, 422, "result_breaks_rule", body, details={"rule": rule} | details)


RESULT_CASES = [
    # bbox_2d: every box ends inside the image.
    broken(
        "box past the right edge",
        SUBMIT_BOXES,
        boxes((1900, 0, 21, 10)),
        "box_inside_image_width",
        index=0,
    ),
    broken(
        "box past the bottom",
        SUBMIT_BOXES,
        boxes((0, 1070, 5, 11)),
        "box_inside_image_height",
        index=0,
    ),
    broken(
        "second box past the right edge",
        SUBMIT_BOXES,
        boxes((1, 2, 30, 40), (1919.5, 0, 0.75, 1)),
        "box_inside_image_width",
        index=1,
    ),
    broken(
        "box far outside", SUBMIT_BOXES, boxes((10**17, 0, 1, 1)), "box_inside_image_width", index=0
    ),
    *(
        broken(f"boxes {name}", SUBMIT_BOXES, result, "result_schema", path=path)
        for name, result, path in (
            ("missing", {}, ""),
            ("a list", {"boxes": {"x": 1}}, "boxes"),
            ("x -1", boxes((-1, 0, 5, 5)), "boxes/0/x"),
            ("w 0", boxes((0, 0, 0, 5)), "boxes/0/w"),
            ("h -5", boxes((0, 0, 5, -5)), "boxes/0/h"),
            ("x '1'", boxes(("1", 0, 5, 5)), "boxes/0/x"),
            ("y true", boxes((0, True, 5, 5)), "boxes/0/y"),
            ("h missing", {"boxes": [{"x": 0, "y": 0, "w": 5}]}, "boxes/0"),
            ("an unknown field", {"boxes": [{"x": 0, "y": 0, "w": 5, "h": 5, "z": 1}]}, "boxes/0"),
            (
                "label of 101",
                {"boxes": [{"label": "c" * 101, "x": 0, "y": 0, "w": 5, "h": 5}]},
                "boxes/0/label",
            ),
            ("and a note", {"boxes": [], "note": "none"}, ""),
            ("1,001 of them", boxes(*[(0, 0, 1, 1)] * 1001), "boxes"),
            ("a rating instead", {"rating": 5}, ""),
        )
    ),
    # rating_1_5: a low rating names an error type, from the order's list.
    broken(
        "rating 2 without error type",
        SUBMIT_RATING,
        {"rating": 2},
        "error_type_required_for_low_rating",
    ),
    broken(
        "rating 1 with no error types",
        SUBMIT_RATING,
        {"rating": 1, "error_types": []},
        "error_type_required_for_low_rating",
    ),
    broken(
        "error type not on the list",
        SUBMIT_RATING,
        {"rating": 4, "error_types": ["typo"]},
        "error_type_from_order_list",
        index=0,
    ),
    broken(
        "second error type not on the list",
        SUBMIT_RATING,
        {"rating": 2, "error_types": ["unsafe", "Unsafe"]},
        "error_type_from_order_list",
        index=1,
    ),
    *(
        broken(f"rating {name}", SUBMIT_RATING, result, "result_schema")
        for name, result in (
            ("0", {"rating": 0}),
            ("6", {"rating": 6}),
            ("'5'", {"rating": "5"}),
            ("4.5", {"rating": 4.5}),
            ("true", {"rating": True}),
            ("missing", {"error_types": ["unsafe"]}),
            ("error types a string", {"rating": 2, "error_types": "unsafe"}),
            ("comment of 2001", {"rating": 5, "comment": "c" * 2001}),
            ("and a score", {"rating": 5, "score": 2}),
            ("boxes instead", BOXES),
        )
    ),
    # Skipping: a task in one's hands, with a reason.
    case("skip without reason", SKIP, 422, "validation_failed", {}, field="reason"),
    *(
        case(
            f"skip reason {reason!r}",
            SKIP,
            422,
            "validation_failed",
            {"reason": reason},
            field="reason",
        )
        for reason in ("", "   ", "x" * 501, 5, None, ["blank"], "bl\x00ank")
    ),
    case(
        "skip unknown field",
        SKIP,
        422,
        "validation_failed",
        BECAUSE | {"retry": False},
        field="retry",
    ),
    case("skip a list", SKIP, 422, "validation_failed", text="[]"),
    case("skip truncated", SKIP, 400, "malformed_json", text='{"reason": '),
    case("skip as text", SKIP, 415, "unsupported_media_type", text="blank", content_type=TEXT),
    case("skip Li's task", "wang POST /tasks/{held_task}/skip", 404, "task_not_found", BECAUSE),
    case(
        "owner skips Li's task",
        "owner POST /tasks/{held_task}/skip",
        404,
        "task_not_found",
        BECAUSE,
    ),
    case(
        "tiger skips Li's task",
        "rival_annotator POST /tasks/{held_task}/skip",
        404,
        "task_not_found",
        BECAUSE,
    ),
    case("skip an open task", "li POST /tasks/{open_task}/skip", 404, "task_not_found", BECAUSE),
    case(
        "skip a submitted task", "li POST /tasks/{waiting_task}/skip", 409, "task_not_open", BECAUSE
    ),
    case(
        "skip an accepted task",
        "li POST /tasks/{accepted_task}/skip",
        409,
        "task_not_open",
        BECAUSE,
    ),
    *(
        case(f"skip task {n}", f"li POST /tasks/{n}/skip", 404, "task_not_found", BECAUSE)
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("skip task abc", "li POST /tasks/abc/skip", 404, "not_found", BECAUSE),
    case(
        "anonymous skips", "anonymous POST /tasks/{held_task}/skip", 401, "missing_token", BECAUSE
    ),
    case("GET a skip", "li GET /tasks/{held_task}/skip", 405, "method_not_allowed"),
    # Taking: Li's quota as a Junior is 4 a day (3 submitted, 1 in her hands).
    case(
        "take past the daily quota",
        "li POST /tasks/next",
        409,
        "daily_quota_reached",
        {"count": 1},
        details=lambda ids: {"team_id": ids["lotus"], "resets_at": "2026-03-03T00:00:00+08:00"},
    ),
    case(
        "take 500 past the daily quota",
        "li POST /tasks/next",
        409,
        "daily_quota_reached",
        {"count": 500},
    ),
    *(
        query_case(f"tasks {query}", "li GET /tasks", query, field)
        for query, field in (
            ("status=bogus", "status"),
            ("status=returned", "status"),
            ("limit=0", "limit"),
        )
    ),
    # Rejecting: a reason code of the item's own task type.
    case(
        "reject a rating for a box's reason",
        "rival_reviewer POST /submissions/{tiger_waiting}/review",
        422,
        "unknown_reason_code",
        {"decision": "reject", "reason_code": "box_off_target"},
        details=lambda ids: {
            "submission_id": ids["tiger_waiting"],
            "reason_codes": ["wrong_rating", "error_type_missing", "error_type_wrong", "other"],
        },
    ),
    case(
        "reject a rating without a reason code",
        "rival_reviewer POST /submissions/{tiger_waiting}/review",
        422,
        "validation_failed",
        {"decision": "reject", "reason": "Too kind."},
        field="reason_code",
    ),
    case(
        "reviews: reject a rating for a box's reason",
        "rival_reviewer POST /reviews",
        422,
        "unknown_reason_code",
        decisions_of(("tiger_waiting", "reject", "object_missed")),
    ),
    case(
        "review the rejected again",
        "rival_reviewer POST /submissions/{disputed_sub}/review",
        409,
        "already_reviewed",
        ACCEPT,
    ),
    case(
        "review Tiger's work from Lotus",
        "reviewer POST /submissions/{tiger_waiting}/review",
        404,
        "submission_not_found",
        ACCEPT,
    ),
]


def test_a_result_must_keep_its_task_types_rules(subtests, app, api, cast, work_world):
    run_work(subtests, app, api, cast, work_world, RESULT_CASES)
