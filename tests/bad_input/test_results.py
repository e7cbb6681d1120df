"""Results out, on the story: a format, status, batch or moment the export cannot take is
refused before a byte is streamed (422 naming the query field, 404 for a batch of another
order, 409 for a format the task type has no shape for); a team's reviewers and
annotators get 403, whoever does not see the order 404. Reading writes nothing."""

import pytest

from tests.bad_input.cases import HUGE_ID, SIGNED_OVERFLOW, case, query_case, run

pytestmark = pytest.mark.slow

RESULTS = "client GET /orders/{order}/results"

RESULTS_CASES = [
    *(
        query_case(f"results {query}", RESULTS, query, field)
        for query, field in (
            ("format=xml", "format"),
            ("format=JSONL", "format"),
            ("format=", "format"),
            ("status=rejected", "status"),
            ("status=", "status"),
            ("since=yesterday", "since"),
            ("since=2026-03-02", "since"),
            ("since=2026-03-02T10:00:00", "since"),  # no offset: whose 10:00?
            ("since=2026-02-30T10:00:00Z", "since"),
            ("batch_id=0", "batch_id"),
            ("batch_id=-1", "batch_id"),
            ("batch_id=one", "batch_id"),
            (f"batch_id={SIGNED_OVERFLOW}", "batch_id"),
            (f"batch_id={HUGE_ID}", "batch_id"),
        )
    ),
    case(
        "results of another order's batch",
        "client GET /orders/{draft}/results?batch_id={taken_batch}",
        404,
        "batch_not_found",
    ),
    case("results of an unknown batch", f"{RESULTS}?batch_id=999999", 404, "batch_not_found"),
    case("results of boxes as csv", f"{RESULTS}?format=csv", 409, "format_not_flat"),
    case(
        "results of an unknown order", "client GET /orders/999999/results", 404, "order_not_found"
    ),
    case(
        "results of an order beyond 64 bits",
        f"client GET /orders/{HUGE_ID}/results",
        404,
        "order_not_found",
    ),
    *(
        case(f"results as {who}", f"{who} GET /orders/{{order}}/results", 404, "order_not_found")
        for who in ("rival_client", "rival_owner", "rival_annotator")
    ),
    *(
        case(f"results as {who}", f"{who} GET /orders/{{order}}/results", 403, "forbidden")
        for who in ("reviewer", "li")
    ),
    case("results without a token", "anonymous GET /orders/{order}/results", 401, "missing_token"),
]


def test_results_refused(subtests, app, api, cast, story):
    run(subtests, app, api, cast, story, RESULTS_CASES)
