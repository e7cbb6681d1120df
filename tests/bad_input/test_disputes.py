"""Disputes, and reading a batch's review."""

import pytest

from tests.bad_input.cases import HUGE_ID, SIGNED_OVERFLOW, TEXT, case, run_work

pytestmark = pytest.mark.slow


# Disputes, and reading a batch's review: the annotator's own rejection, in time, once.
DISPUTE = "rival_annotator POST /submissions/{disputed_sub}/dispute"
DISPUTE_NEW = "POST /submissions/{tiger_waiting}/dispute"
DECIDE = "POST /disputes/{dispute}/decision"
UPHOLD = {"decision": "uphold", "note": "The answer was fine."}
FINE = {"reason": "The answer was fine."}

DISPUTE_CASES = [
    case("dispute without a reason", DISPUTE, 422, "validation_failed", {}, field="reason"),
    *(
        case(
            f"dispute reason {reason!r}",
            DISPUTE,
            422,
            "validation_failed",
            {"reason": reason},
            field="reason",
        )
        for reason in ("", "  ", "x" * 1001, 5, None, ["fine"], "fi\x00ne")
    ),
    case(
        "dispute unknown field",
        DISPUTE,
        422,
        "validation_failed",
        FINE | {"reviewer_id": 1},
        field="reviewer_id",
    ),
    case("dispute as text", DISPUTE, 415, "unsupported_media_type", text="fine", content_type=TEXT),
    case("dispute truncated", DISPUTE, 400, "malformed_json", text='{"reason": '),
    case(
        "dispute what waits for review",
        f"rival_annotator {DISPUTE_NEW}",
        409,
        "not_rejected",
        FINE,
        details={"status": "submitted"},
    ),
    case(
        "dispute an accepted box",
        "li POST /submissions/{accepted}/dispute",
        409,
        "not_rejected",
        FINE,
    ),
    case("dispute twice", DISPUTE, 409, "already_disputed", FINE),
    case(
        "dispute after a dismissal",
        "rival_annotator POST /submissions/{dismissed_sub}/dispute",
        409,
        "already_disputed",
        FINE,
    ),
    case(
        "dispute after the window",
        "rival_annotator POST /submissions/{old_rejection}/dispute",
        409,
        "dispute_window_closed",
        FINE,
        details={"closed_at": "2026-03-01T10:00:00+00:00"},
    ),
    case(
        "dispute another's rejection",
        "li POST /submissions/{disputed_sub}/dispute",
        404,
        "submission_not_found",
        FINE,
    ),
    case(
        "owner disputes",
        "rival_owner POST /submissions/{old_rejection}/dispute",
        404,
        "submission_not_found",
        FINE,
    ),
    case(
        "reviewer disputes",
        "rival_reviewer POST /submissions/{old_rejection}/dispute",
        404,
        "submission_not_found",
        FINE,
    ),
    case(
        "client disputes",
        "client POST /submissions/{old_rejection}/dispute",
        404,
        "submission_not_found",
        FINE,
    ),
    *(
        case(
            f"dispute submission {n}",
            f"rival_annotator POST /submissions/{n}/dispute",
            404,
            "submission_not_found",
            FINE,
        )
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case(
        "dispute submission abc",
        "rival_annotator POST /submissions/abc/dispute",
        404,
        "not_found",
        FINE,
    ),
    case(
        "anonymous disputes",
        "anonymous POST /submissions/{old_rejection}/dispute",
        401,
        "missing_token",
        FINE,
    ),
    case(
        "GET a dispute of a submission",
        "rival_annotator GET /submissions/{disputed_sub}/dispute",
        405,
        "method_not_allowed",
    ),
    # Deciding: uphold or dismiss with a note, by someone other than the rejecting reviewer.
    *(
        case(
            f"decision {d!r}",
            f"rival_owner {DECIDE}",
            422,
            "validation_failed",
            UPHOLD | {"decision": d},
            field="decision",
        )
        for d in ("maybe", "UPHOLD", "upheld", "", True, None)
    ),
    case(
        "decision missing",
        f"rival_owner {DECIDE}",
        422,
        "validation_failed",
        {"note": "ok"},
        field="decision",
    ),
    *(
        case(
            f"decision note {note!r}",
            f"rival_owner {DECIDE}",
            422,
            "validation_failed",
            UPHOLD | {"note": note},
            field="note",
        )
        for note in ("", "   ", "x" * 1001, None, 5)
    ),
    case(
        "decision without a note",
        f"rival_owner {DECIDE}",
        422,
        "validation_failed",
        {"decision": "dismiss"},
        field="note",
    ),
    case(
        "decision as text",
        f"rival_owner {DECIDE}",
        415,
        "unsupported_media_type",
        text="uphold",
        content_type=TEXT,
    ),
    case(
        "decided by the rejecting reviewer",
        f"rival_reviewer {DECIDE}",
        403,
        "original_reviewer",
        UPHOLD,
    ),
    case("decided by its annotator", f"rival_annotator {DECIDE}", 403, "forbidden", UPHOLD),
    case(
        "decided again",
        "rival_owner POST /disputes/{dismissed}/decision",
        409,
        "dispute_decided",
        UPHOLD,
        details={"status": "dismissed"},
    ),
    case("decided by lotus", f"reviewer {DECIDE}", 404, "dispute_not_found", UPHOLD),
    case("decided by lotus's owner", f"owner {DECIDE}", 404, "dispute_not_found", UPHOLD),
    case("decided by the client", f"client {DECIDE}", 404, "dispute_not_found", UPHOLD),
    case("decided by nobody", f"anonymous {DECIDE}", 401, "missing_token", UPHOLD),
    *(
        case(
            f"decide dispute {n}",
            f"rival_owner POST /disputes/{n}/decision",
            404,
            "dispute_not_found",
            UPHOLD,
        )
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("decide dispute abc", "rival_owner POST /disputes/abc/decision", 404, "not_found", UPHOLD),
    # Reading disputes and reviews.
    *(
        case(
            f"disputes {query}",
            f"rival_owner GET /disputes?{query}",
            422,
            "validation_failed",
            field=field,
            location="query",
        )
        for query, field in (
            ("status=bogus", "status"),
            ("status=OPEN", "status"),
            ("limit=0", "limit"),
            ("limit=1001", "limit"),
            ("after=-1", "after"),
            ("after=abc", "after"),
        )
    ),
    case("dispute of another team", "reviewer GET /disputes/{dispute}", 404, "dispute_not_found"),
    case("dispute by the client", "client GET /disputes/{dispute}", 404, "dispute_not_found"),
    *(
        case(f"dispute {n}", f"rival_owner GET /disputes/{n}", 404, "dispute_not_found")
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("dispute abc", "rival_owner GET /disputes/abc", 404, "not_found"),
    case("anonymous disputes list", "anonymous GET /disputes", 401, "missing_token"),
    *(
        case(
            f"{what} of a batch {who} sees but does not review",
            f"{who} GET /batches/{{ratings_batch}}/{what}",
            403,
            "forbidden",
        )
        for what in ("sample", "reviews")
        for who in ("reviewer", "owner", "rival_annotator", "client")
    ),
    *(
        case(
            f"{what} of batch {n}",
            f"rival_reviewer GET /batches/{n}/{what}",
            404,
            "batch_not_found",
        )
        for what in ("sample", "reviews")
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("sample of batch abc", "rival_reviewer GET /batches/abc/sample", 404, "not_found"),
    *(
        case(
            f"decisions on it by {who}",
            f"{who} GET /submissions/{{disputed_sub}}/decisions",
            404,
            "submission_not_found",
        )
        for who in ("reviewer", "owner", "li", "client")
    ),
    *(
        case(
            f"decisions on {n}",
            f"rival_owner GET /submissions/{n}/decisions",
            404,
            "submission_not_found",
        )
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("decisions on abc", "rival_owner GET /submissions/abc/decisions", 404, "not_found"),
    case(
        "anonymous decisions",
        "anonymous GET /submissions/{disputed_sub}/decisions",
        401,
        "missing_token",
    ),
    case(
        "submissions sampled maybe",
        "rival_reviewer GET /submissions?sampled=maybe",
        422,
        "validation_failed",
        field="sampled",
        location="query",
    ),
]


def test_a_dispute_is_the_annotators_in_time_and_once(subtests, app, api, cast, work_world):
    run_work(subtests, app, api, cast, work_world, DISPUTE_CASES)
