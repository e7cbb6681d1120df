"""Claims under the order's rules: interest in a lottery drop, standing claim rules, trial
scores."""

import pytest

from tests.bad_input.cases import FORM, HUGE_ID, TEXT, TOO_BIG, Case, case, run_rules

pytestmark = pytest.mark.slow


# -- claims under the order's rules: interest, standing rules, trials ---------------------

# PUT /orders/{id}/interest: a count of batches of the lottery's next drop.
INTEREST_PATH = "/orders/{lottery}/interest"
INTEREST = f"owner PUT {INTEREST_PATH}"
ONE = {"batches": 1}

INTEREST_CASES = [
    *(
        case(f"batches {n!r}", INTEREST, 422, "validation_failed", {"batches": n}, field="batches")
        for n in (0, -1, 100_001, 10**30, "1", "one", True, None, [1], {"n": 1})
    ),
    *(
        case(
            f"batches {n}",
            INTEREST,
            422,
            "validation_failed",
            text=f'{{"batches": {n}}}',
            field="batches",
        )
        for n in ("1.0", "1.5", "1e0", "1e400", "-0.0")
    ),
    case("batches missing", INTEREST, 422, "validation_failed", {}, field="batches"),
    case(
        "batches missing, team only",
        INTEREST,
        422,
        "validation_failed",
        lambda ids: {"team_id": ids["lotus"]},
        field="batches",
    ),
    case(
        "interest team by name",
        INTEREST,
        422,
        "validation_failed",
        ONE | {"team_id": "lotus"},
        field="team_id",
    ),
    case(
        "interest team '3'",
        INTEREST,
        422,
        "validation_failed",
        lambda ids: ONE | {"team_id": str(ids["lotus"])},
        field="team_id",
    ),
    case(
        "interest team 1.0",
        INTEREST,
        422,
        "validation_failed",
        text='{"batches": 1, "team_id": 1.0}',
        field="team_id",
    ),
    case(
        "interest for tiger",
        INTEREST,
        404,
        "team_not_found",
        lambda ids: ONE | {"team_id": ids["tiger"]},
    ),
    case("interest for 10**20", INTEREST, 404, "team_not_found", ONE | {"team_id": HUGE_ID}),
    case(
        "interest unknown field",
        INTEREST,
        422,
        "validation_failed",
        ONE | {"drop": "next"},
        field="drop",
    ),
    case("interest a list", INTEREST, 422, "validation_failed", text="[]"),
    case("interest a number", INTEREST, 422, "validation_failed", text="1"),
    case("interest empty body", INTEREST, 422, "validation_failed", text=""),
    case("interest truncated", INTEREST, 400, "malformed_json", text='{"batches": '),
    case("interest NaN", INTEREST, 400, "malformed_json", text='{"batches": NaN}'),
    case(
        "interest integer of 5,000 digits",
        INTEREST,
        400,
        "malformed_json",
        text='{"batches": %s}' % ("9" * 5000),
    ),
    case(
        "interest form-encoded",
        INTEREST,
        415,
        "unsupported_media_type",
        text="batches=1",
        content_type=FORM,
    ),
    case(
        "interest as text",
        INTEREST,
        415,
        "unsupported_media_type",
        text='{"batches": 1}',
        content_type=TEXT,
    ),
    # Which order, and who asks.
    case("interest in order abc", "owner PUT /orders/abc/interest", 404, "not_found", ONE),
    case("interest in no order", "owner PUT /orders/999999/interest", 404, "order_not_found", ONE),
    case(
        "interest in 10**20", f"owner PUT /orders/{HUGE_ID}/interest", 404, "order_not_found", ONE
    ),
    case(
        "interest in the draft", "owner PUT /orders/{draft}/interest", 404, "order_not_found", ONE
    ),
    case("client asks in its draft", "client PUT /orders/{draft}/interest", 403, "forbidden", ONE),
    case("client asks", f"client PUT {INTEREST_PATH}", 403, "forbidden", ONE),
    case("rival client asks", f"rival_client PUT {INTEREST_PATH}", 404, "order_not_found", ONE),
    case("annotator asks", f"li PUT {INTEREST_PATH}", 403, "forbidden", ONE),
    case("reviewer asks", f"reviewer PUT {INTEREST_PATH}", 403, "forbidden", ONE),
    case("admin asks", f"admin PUT {INTEREST_PATH}", 403, "forbidden", ONE),
    case("anonymous asks", f"anonymous PUT {INTEREST_PATH}", 401, "missing_token", ONE),
    case("stranger asks", f"stranger PUT {INTEREST_PATH}", 401, "invalid_token", ONE),
    case(
        "anonymous bad interest",
        f"anonymous PUT {INTEREST_PATH}",
        401,
        "missing_token",
        text='{"batches":',
    ),
    case("POST interest", f"owner POST {INTEREST_PATH}", 405, "method_not_allowed", ONE),
    # Valid requests the order's rules refuse.
    case(
        "interest in a first-come order",
        "owner PUT /orders/{order}/interest",
        409,
        "not_a_lottery",
        ONE,
    ),
    case(
        "interest in a first-come trial order",
        "owner PUT /orders/{trial_order}/interest",
        409,
        "not_a_lottery",
        ONE,
    ),
    case(
        "interest after the last drop",
        "owner PUT /orders/{ended}/interest",
        409,
        "no_drop_coming",
        ONE,
    ),
    *(
        case(
            f"interest in {n} of a drop, 2 allowed",
            INTEREST,
            409,
            "claim_limit_reached",
            {"batches": n},
            details={"limit": "batches_per_drop", "max": 2, "wanted": n},
        )
        for n in (3, 100_000)
    ),
    case(
        "tiger raises its interest over the limit",
        f"rival_owner PUT {INTEREST_PATH}",
        409,
        "claim_limit_reached",
        {"batches": 3},
        details={"limit": "batches_per_drop", "max": 2, "used": 0},
    ),
    case(
        "interest before a trial",
        "owner PUT /orders/{lottery_trial}/interest",
        409,
        "trial_required",
        ONE,
        details={"pass_score": 50},
    ),
    case(
        "interest before the trial is scored",
        "rival_owner PUT /orders/{lottery_trial}/interest",
        409,
        "trial_required",
        ONE,
        details={"pass_score": 50},
    ),
    # Taking interest back: only one's own team's, in a drop still coming.
    case("withdraw no interest", f"owner DELETE {INTEREST_PATH}", 404, "interest_not_found"),
    case(
        "withdraw tiger's", f"owner DELETE {INTEREST_PATH}?team_id={{tiger}}", 404, "team_not_found"
    ),
    case(
        "withdraw for 10**20",
        f"owner DELETE {INTEREST_PATH}?team_id={HUGE_ID}",
        404,
        "team_not_found",
    ),
    case(
        "withdraw team by name",
        f"rival_owner DELETE {INTEREST_PATH}?team_id=tiger",
        422,
        "validation_failed",
        field="team_id",
        location="query",
    ),
    case(
        "withdraw team 1.5",
        f"rival_owner DELETE {INTEREST_PATH}?team_id=1.5",
        422,
        "validation_failed",
        field="team_id",
        location="query",
    ),
    case(
        "withdraw from no order",
        "rival_owner DELETE /orders/999999/interest",
        404,
        "order_not_found",
    ),
    case(
        "withdraw from 10**20",
        f"rival_owner DELETE /orders/{HUGE_ID}/interest",
        404,
        "order_not_found",
    ),
    case(
        "withdraw from the draft",
        "rival_owner DELETE /orders/{draft}/interest",
        404,
        "order_not_found",
    ),
    case(
        "withdraw after the last drop",
        "rival_owner DELETE /orders/{ended}/interest",
        409,
        "no_drop_coming",
    ),
    case("client withdraws", f"client DELETE {INTEREST_PATH}", 403, "forbidden"),
    case("annotator withdraws", f"rival_annotator DELETE {INTEREST_PATH}", 403, "forbidden"),
    case("anonymous withdraws", f"anonymous DELETE {INTEREST_PATH}", 401, "missing_token"),
]


def test_interest_in_a_lottery_drop(subtests, app, api, cast, rules_world):
    run_rules(subtests, app, api, cast, rules_world, INTEREST_CASES)


# POST /claim-rules and DELETE /claim-rules/{id}: a team's standing claims.
RULES = "owner POST /claim-rules"


def rule(**changes):
    """A valid rule matching the lottery (its client, currency, task type, price, order),
    with fields changed (to `...`: left out)."""

    def build(ids):
        body = {
            "batches_per_drop": 2,
            "task_type": "bbox_2d",
            "client_id": ids["horizon"],
            "currency": "CNY",
            "min_unit_price": "0.05",
            "order_id": ids["lottery"],
        } | {key: value(ids) if callable(value) else value for key, value in changes.items()}
        return {key: value for key, value in body.items() if value is not ...}

    return build


def rule_case(case_id, field, status=422, code="validation_failed", **changes) -> Case:
    return case(
        case_id,
        RULES,
        status,
        code,
        rule(**changes),
        field=field if code == "validation_failed" else None,
    )


def raw_rule_case(case_id, field, literal) -> Case:
    """A rule of one field, written as a raw JSON literal, besides the batch count."""
    text = (
        f'{{"batches_per_drop": 2, "{field}": {literal}}}'
        if field != "batches_per_drop"
        else (f'{{"batches_per_drop": {literal}}}')
    )
    return case(case_id, RULES, 422, "validation_failed", text=text, field=field)


CLAIM_RULE_CASES = [
    rule_case("batches missing", "batches_per_drop", batches_per_drop=...),
    *(
        rule_case(f"batches {n!r}", "batches_per_drop", batches_per_drop=n)
        for n in (0, -1, 100_001, 10**30, "2", True, None, [2])
    ),
    *(raw_rule_case(f"batches {n}", "batches_per_drop", n) for n in ("2.0", "2.5", "2e0")),
    # Filters.
    *(
        rule_case(f"task type {t!r}", "task_type", task_type=t)
        for t in ("", "x" * 65, 5, ["bbox_2d"])
    ),
    rule_case("task type with NUL", "task_type", task_type="bbox\x00"),
    rule_case("task type blank", "task_type", task_type="   "),
    *(rule_case(f"client {c!r}", "client_id", client_id=c) for c in ("2", "horizon", True)),
    raw_rule_case("client 2.0", "client_id", "2.0"),
    rule_case("client unknown", None, 422, "unknown_client", client_id=999_999),
    rule_case("client 10**20", None, 422, "unknown_client", client_id=HUGE_ID),
    rule_case("client 0", None, 422, "unknown_client", client_id=0),
    rule_case("client -1", None, 422, "unknown_client", client_id=-1),
    rule_case("client a team", None, 422, "unknown_client", client_id=lambda ids: ids["tiger"]),
    rule_case(
        "client our own team", None, 422, "unknown_client", client_id=lambda ids: ids["lotus"]
    ),
    rule_case(
        "client the platform", None, 422, "unknown_client", client_id=lambda ids: ids["platform"]
    ),
    *(
        rule_case(f"currency {c!r}", "currency", currency=c)
        for c in ("XXY", "cny", " CNY", "", "XXX", "XTS", "DEM", "CNH", 156, ["CNY"])
    ),
    *(
        rule_case(f"min price {p!r}", "min_unit_price", min_unit_price=p)
        for p in (
            "0",
            "-0",
            "-0.05",
            "0.0000001",
            "1000000.000001",
            "1e400",
            TOO_BIG,
            "NaN",
            "sNaN",
            "Infinity",
            "five fen",
            "",
            "0.0_5",
            "\u0660.\u0665",
            True,
            ["0.05"],
            {"amount": "0.05"},
            1_000_001,
        )
    ),
    *(
        raw_rule_case(f"min price float {p}", "min_unit_price", p)
        for p in ("0.0000001", "1e-7", "-0.0", "0", "1e400", "1000000.5", TOO_BIG)
    ),
    case(
        "min price NaN literal",
        RULES,
        400,
        "malformed_json",
        text='{"batches_per_drop": 2, "min_unit_price": NaN}',
    ),
    *(rule_case(f"order {o!r}", "order_id", order_id=o) for o in ("1", True, [1])),
    raw_rule_case("order 1.0", "order_id", "1.0"),
    rule_case("order unknown", None, 422, "unknown_order", order_id=999_999),
    rule_case("order 10**20", None, 422, "unknown_order", order_id=HUGE_ID),
    rule_case("order 0", None, 422, "unknown_order", order_id=0),
    rule_case("order the draft", None, 422, "unknown_order", order_id=lambda ids: ids["draft"]),
    rule_case("minimum price without currency", None, 422, "currency_required", currency=...),
    rule_case("team by name", "team_id", team_id="lotus"),
    rule_case("team tiger", None, 404, "team_not_found", team_id=lambda ids: ids["tiger"]),
    rule_case("team 10**20", None, 404, "team_not_found", team_id=HUGE_ID),
    rule_case("unknown field", "max_unit_price", max_unit_price="1.00"),
    rule_case("filter by title", "title", title="Boxes"),
    # Bodies.
    case("rule a list", RULES, 422, "validation_failed", text="[]"),
    case("rule null", RULES, 422, "validation_failed", text="null"),
    case("rule empty body", RULES, 422, "validation_failed", text=""),
    case("rule truncated", RULES, 400, "malformed_json", text='{"batches_per_drop": '),
    case("rule not UTF-8", RULES, 400, "malformed_json", text=b'{"task_type": "\xff"}'),
    case(
        "rule form-encoded",
        RULES,
        415,
        "unsupported_media_type",
        text="batches_per_drop=2",
        content_type=FORM,
    ),
    case(
        "rule as text",
        RULES,
        415,
        "unsupported_media_type",
        text='{"batches_per_drop": 2}',
        content_type=TEXT,
    ),
    # Who.
    case("client saves a rule", "client POST /claim-rules", 403, "forbidden", rule()),
    case("annotator saves a rule", "li POST /claim-rules", 403, "forbidden", rule()),
    case("reviewer saves a rule", "reviewer POST /claim-rules", 403, "forbidden", rule()),
    case("admin saves a rule", "admin POST /claim-rules", 403, "forbidden", rule()),
    case("anonymous saves a rule", "anonymous POST /claim-rules", 401, "missing_token", rule()),
    case("PUT /claim-rules", "owner PUT /claim-rules", 405, "method_not_allowed", rule()),
    # Deleting: one's own team's rule only.
    case(
        "delete tiger's rule", "owner DELETE /claim-rules/{tiger_rule}", 404, "claim_rule_not_found"
    ),
    case(
        "client deletes tiger's rule",
        "client DELETE /claim-rules/{tiger_rule}",
        404,
        "claim_rule_not_found",
    ),
    case(
        "annotator deletes tiger's rule",
        "rival_annotator DELETE /claim-rules/{tiger_rule}",
        404,
        "claim_rule_not_found",
    ),
    case("delete no rule", "rival_owner DELETE /claim-rules/999999", 404, "claim_rule_not_found"),
    case(
        "delete rule 10**20",
        f"rival_owner DELETE /claim-rules/{HUGE_ID}",
        404,
        "claim_rule_not_found",
    ),
    case("delete rule abc", "rival_owner DELETE /claim-rules/abc", 404, "not_found"),
    case("delete rule -1", "rival_owner DELETE /claim-rules/-1", 404, "not_found"),
    case("anonymous deletes", "anonymous DELETE /claim-rules/{tiger_rule}", 401, "missing_token"),
]


def test_standing_claim_rules(subtests, app, api, cast, rules_world):
    run_rules(subtests, app, api, cast, rules_world, CLAIM_RULE_CASES)


# POST /batches/{id}/trial-score: the client scores a finished trial, once.
SCORE_DONE = "POST /batches/{trial_done}/trial-score"
SCORE = f"client {SCORE_DONE}"
PASS = {"score": 80}

TRIAL_SCORE_CASES = [
    *(
        case(f"score {n!r}", SCORE, 422, "validation_failed", {"score": n}, field="score")
        for n in (-1, 101, 10**30, "80", "eighty", True, None, [80], {"value": 80})
    ),
    *(
        case(f"score {n}", SCORE, 422, "validation_failed", text=f'{{"score": {n}}}', field="score")
        for n in ("80.0", "80.5", "8e1", "1e400", "-0.0")
    ),
    case("score missing", SCORE, 422, "validation_failed", {"note": "fine"}, field="score"),
    case("score NaN", SCORE, 400, "malformed_json", text='{"score": NaN}'),
    case("score Infinity", SCORE, 400, "malformed_json", text='{"score": Infinity}'),
    *(
        case(f"note {name}", SCORE, 422, "validation_failed", PASS | {"note": note}, field="note")
        for name, note in (
            ("of 1001", "x" * 1001),
            ("a number", 5),
            ("a list", ["fine"]),
            ("with NUL", "fi\x00ne"),
        )
    ),
    case(
        "note a lone surrogate",
        SCORE,
        422,
        "validation_failed",
        text='{"score": 80, "note": "\\ud800"}',
        field="note",
    ),
    case(
        "score unknown field",
        SCORE,
        422,
        "validation_failed",
        PASS | {"passed": True},
        field="passed",
    ),
    case(
        "score for a team",
        SCORE,
        422,
        "validation_failed",
        lambda ids: PASS | {"team_id": ids["tiger"]},
        field="team_id",
    ),
    case("score a list", SCORE, 422, "validation_failed", text="[80]"),
    case("score a bare number", SCORE, 422, "validation_failed", text="80"),
    case("score empty body", SCORE, 422, "validation_failed", text=""),
    case("score truncated", SCORE, 400, "malformed_json", text='{"score": 8'),
    case(
        "score form-encoded",
        SCORE,
        415,
        "unsupported_media_type",
        text="score=80",
        content_type=FORM,
    ),
    case("score as text", SCORE, 415, "unsupported_media_type", text="80", content_type=TEXT),
    # Which batch.
    case("score batch abc", "client POST /batches/abc/trial-score", 404, "not_found", PASS),
    case("score no batch", "client POST /batches/999999/trial-score", 404, "batch_not_found", PASS),
    case(
        "score batch 10**20",
        f"client POST /batches/{HUGE_ID}/trial-score",
        404,
        "batch_not_found",
        PASS,
    ),
    case(
        "score a regular batch",
        "client POST /batches/{regular_batch}/trial-score",
        409,
        "not_a_trial",
        PASS,
    ),
    case(
        "score the story's batch",
        "client POST /batches/{taken_batch}/trial-score",
        409,
        "not_a_trial",
        PASS,
    ),
    case(
        "score a trial nobody took",
        "client POST /batches/{trial_free}/trial-score",
        409,
        "trial_not_finished",
        PASS,
        details={"status": "released"},
    ),
    case(
        "score a trial being worked",
        "client POST /batches/{trial_claimed}/trial-score",
        409,
        "trial_not_finished",
        PASS,
        details={"status": "claimed"},
    ),
    case(
        "score a trial again",
        "client POST /batches/{trial_scored}/trial-score",
        409,
        "trial_already_scored",
        {"score": 10},
        details={"score": 90},
    ),
    # Who: the order's client only.
    case("team scores its own trial", f"rival_owner {SCORE_DONE}", 403, "forbidden", PASS),
    case("reviewer scores", f"rival_reviewer {SCORE_DONE}", 403, "forbidden", PASS),
    case("other team scores", f"owner {SCORE_DONE}", 403, "forbidden", PASS),
    case("admin scores", f"admin {SCORE_DONE}", 403, "forbidden", PASS),
    case("rival client scores", f"rival_client {SCORE_DONE}", 404, "batch_not_found", PASS),
    case("anonymous scores", f"anonymous {SCORE_DONE}", 401, "missing_token", PASS),
    case("stranger scores", f"stranger {SCORE_DONE}", 401, "invalid_token", PASS),
    case(
        "PUT a score",
        "client PUT /batches/{trial_done}/trial-score",
        405,
        "method_not_allowed",
        PASS,
    ),
]


def test_trial_scores(subtests, app, api, cast, rules_world):
    run_rules(subtests, app, api, cast, rules_world, TRIAL_SCORE_CASES)
