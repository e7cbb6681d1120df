"""POST /orders refused field by field, and publishing and claiming refused."""

import pytest

from tests.bad_input.cases import (
    CAPS,
    FORM,
    ORDER,
    PLAN,
    POST_ORDER,
    TEXT,
    TOO_BIG,
    TRIAL,
    Case,
    case,
    order_json,
    run,
)

pytestmark = pytest.mark.slow


# -- POST /orders: fields ----------------------------------------------------------------


def order_case(case_id: str, field: str, **changes) -> Case:
    """The valid order with fields changed (to `...`: left out), refused for `field`."""
    body = {key: value for key, value in (ORDER | changes).items() if value is not ...}
    return case(case_id, POST_ORDER, 422, "validation_failed", body, field=field)


def raw_order_case(case_id: str, field: str, **literals) -> Case:
    """The valid order with fields written as raw JSON literals, refused for `field`."""
    text = order_json(**literals)
    return case(case_id, POST_ORDER, 422, "validation_failed", text=text, field=field)


ORDER_FIELD_CASES = [
    *(
        order_case(f"missing {field}", field, **{field: ...})
        for field in (
            "title",
            "task_type",
            "unit_price",
            "currency",
            "payment_terms_days",
            "batch_size",
            "items",
        )
    ),
    # Prices: above zero, at most 6 decimals, at most 1,000,000, exact decimals only.
    order_case("price 0", "unit_price", unit_price="0"),
    order_case("price -0", "unit_price", unit_price="-0"),
    order_case("price -0.10", "unit_price", unit_price="-0.10"),
    order_case("price 0.0000001", "unit_price", unit_price="0.0000001"),
    order_case("price 1e400", "unit_price", unit_price="1e400"),
    order_case("price 1e999999", "unit_price", unit_price=TOO_BIG),
    order_case("price NaN", "unit_price", unit_price="NaN"),
    order_case("price sNaN", "unit_price", unit_price="sNaN"),
    order_case("price Infinity", "unit_price", unit_price="Infinity"),
    order_case("price -Infinity", "unit_price", unit_price="-Infinity"),
    order_case("price in words", "unit_price", unit_price="ten fen"),
    order_case("price empty", "unit_price", unit_price=""),
    order_case("price null", "unit_price", unit_price=None),
    order_case("price a list", "unit_price", unit_price=["0.10"]),
    order_case("price a bool", "unit_price", unit_price=True),
    order_case("price an object", "unit_price", unit_price={"amount": "0.10"}),
    order_case("price 1000001", "unit_price", unit_price=1_000_001),
    order_case("price 1000000.000001", "unit_price", unit_price="1000000.000001"),
    order_case("price 0.1_0", "unit_price", unit_price="0.1_0"),  # Decimal("0.1_0") is 0.10
    order_case("price in Arabic-Indic digits", "unit_price", unit_price="\u0660.\u0661"),
    raw_order_case("price float 0.0000001", "unit_price", unit_price="0.0000001"),
    raw_order_case("price float 1e-7", "unit_price", unit_price="1e-7"),
    raw_order_case("price float 1e400", "unit_price", unit_price="1e400"),
    raw_order_case("price float -0.0", "unit_price", unit_price="-0.0"),
    raw_order_case("price float 1000000.5", "unit_price", unit_price="1000000.5"),
    raw_order_case("price float 1e999999", "unit_price", unit_price=TOO_BIG),
    # Currencies: ISO 4217 codes, exactly.
    order_case("currency XXY", "currency", currency="XXY"),
    order_case("currency cny", "currency", currency="cny"),
    order_case("currency ' CNY'", "currency", currency=" CNY"),
    order_case("currency 156", "currency", currency=156),
    order_case("currency empty", "currency", currency=""),
    *(
        order_case(f"currency {code}", "currency", currency=code)
        # No currency, testing, withdrawn in 2002, offshore yuan (not ISO 4217).
        for code in ("XXX", "XTS", "DEM", "CNH")
    ),
    # Whole numbers: strict integers within their ranges.
    order_case("terms -1", "payment_terms_days", payment_terms_days=-1),
    order_case("terms 366", "payment_terms_days", payment_terms_days=366),
    order_case("terms '30'", "payment_terms_days", payment_terms_days="30"),
    order_case("terms true", "payment_terms_days", payment_terms_days=True),
    raw_order_case("terms 30.5", "payment_terms_days", payment_terms_days="30.5"),
    order_case("batch size 0", "batch_size", batch_size=0),
    order_case("batch size '5'", "batch_size", batch_size="5"),
    order_case("batch size 10**30", "batch_size", batch_size=10**30),
    order_case("batch size 100001", "batch_size", batch_size=100_001),
    raw_order_case("batch size 5.0", "batch_size", batch_size="5.0"),
    raw_order_case("batch size 1.5", "batch_size", batch_size="1.5"),
    raw_order_case("batch size 5e0", "batch_size", batch_size="5e0"),
    order_case("client_id '2'", "client_id", client_id="2"),
    # Texts.
    order_case("title empty", "title", title=""),
    order_case("title of 201", "title", title="x" * 201),
    order_case("title a number", "title", title=5),
    order_case("title blank", "title", title="   "),
    order_case("title with NUL", "title", title="Bo\x00xes"),
    raw_order_case("title a lone surrogate", "title", title='"\\ud800"'),
    order_case("task type blank", "task_type", task_type=" "),
    order_case("task type of 65", "task_type", task_type="x" * 65),
    order_case("instructions of 20001", "instructions", instructions="x" * 20_001),
    # Items: 1 to 100,000 objects, each with a ref.
    order_case("items empty", "items", items=[]),
    order_case("items a string", "items", items="s3://a.jpg"),
    order_case("items an object", "items", items={"ref": "s3://a.jpg"}),
    order_case("item a string", "items", items=["s3://a.jpg"]),
    order_case("item without ref", "items", items=[{"payload": {}}]),
    order_case("item ref empty", "items", items=[{"ref": ""}]),
    order_case("item ref blank", "items", items=[{"ref": " "}]),
    order_case("item ref a number", "items", items=[{"ref": 5}]),
    order_case("item ref of 2049", "items", items=[{"ref": "x" * 2049}]),
    order_case("item payload a list", "items", items=[{"ref": "x", "payload": [1]}]),
    order_case("item unknown field", "items", items=[{"ref": "x", "colour": "red"}]),
    order_case("item payload NUL key", "items", items=[{"ref": "x", "payload": {"a\x00": 1}}]),
    raw_order_case(
        "item payload 1e5000",
        "items",
        items='[{"ref": "x", "payload": {"n": 1e5000}}]',
    ),
    raw_order_case(
        "item payload beyond a double",
        "items",
        items='[{"ref": "x", "payload": {"n": 1%s.5}}]' % ("0" * 400),
    ),
    raw_order_case(
        "100,001 items", "items", items=", ".join(['{"ref": "x"}'] * 100_001).join("[]")
    ),
    # The order's claim rules: a claim mode, per-team limits, a lease, a trial.
    *(
        order_case(f"claim mode {mode!r}", "claim_mode", claim_mode=mode)
        for mode in ("auction", "LOTTERY", "first-come", "", None, 1, True, ["lottery"])
    ),
    *(
        order_case(f"limits {limits!r}", "limits", limits=limits)
        for limits in (
            {"batches_held": 0},
            {"batches_held": -1},
            {"batches_held": 100_001},
            {"batches_held": "1"},
            {"batches_held": True},
            {"batches_held": 10**30},
            {"batches_per_drop": 0},
            {"batches_per_drop": 100_001},
            {"batches_per_drop": "2"},
            {"batches_per_drop": [2]},
            {"batches_per_drop": 2, "teams": 3},
            [{"batches_held": 1}],
            3,
            "1/drop",
        )
    ),
    raw_order_case("limits held 1.5", "limits", limits='{"batches_held": 1.5}'),
    raw_order_case("limits held 1.0", "limits", limits='{"batches_held": 1.0}'),
    raw_order_case("limits per drop 2e0", "limits", limits='{"batches_per_drop": 2e0}'),
    *(
        order_case(f"lease {hours!r}", "lease_hours", lease_hours=hours)
        for hours in (0, -1, 8785, 10**30, "24", True, [24], {"hours": 24})
    ),
    raw_order_case("lease 24.0", "lease_hours", lease_hours="24.0"),
    raw_order_case("lease 0.5", "lease_hours", lease_hours="0.5"),
    raw_order_case("lease 1e400", "lease_hours", lease_hours="1e400"),
    *(
        order_case(f"trial {name}", "trial", trial=TRIAL | change)
        for name, change in (
            ("batches 0", {"batches": 0}),
            ("batches 1001", {"batches": 1001}),
            ("batches '1'", {"batches": "1"}),
            ("batches null", {"batches": None}),
            ("batch size 0", {"batch_size": 0}),
            ("batch size 100001", {"batch_size": 100_001}),
            ("batch size true", {"batch_size": True}),
            ("pass score -1", {"pass_score": -1}),
            ("pass score 101", {"pass_score": 101}),
            ("pass score '80'", {"pass_score": "80"}),
            ("unknown field", {"teams": 2}),
        )
    ),
    *(
        order_case(
            f"trial without {field}", "trial", trial={k: v for k, v in TRIAL.items() if k != field}
        )
        for field in TRIAL
    ),
    order_case("trial a list", "trial", trial=[TRIAL]),
    order_case("trial true", "trial", trial=True),
    raw_order_case(
        "trial pass score 80.5",
        "trial",
        trial='{"batches": 1, "batch_size": 1, "pass_score": 80.5}',
    ),
    raw_order_case(
        "trial pass score 80.0",
        "trial",
        trial='{"batches": 1, "batch_size": 1, "pass_score": 80.0}',
    ),
    # Sourcing: claims or bids, and the client's caps on the chains of subcontracts.
    *(
        order_case(f"sourcing {sourcing!r}", "sourcing", sourcing=sourcing)
        for sourcing in ("auction", "BIDS", "bid", "claims ", "", None, 1, True, ["bids"])
    ),
    *(
        order_case(f"chain caps {caps!r}", "chain_caps", chain_caps=caps)
        for caps in (
            [CAPS],
            "3 deep",
            3,
            True,
            {"max_depth": 2, "depth": 2},
            {"max_depth": 0},
            {"max_depth": -1},
            {"max_depth": 21},
            {"max_depth": 10**30},
            {"max_depth": "3"},
            {"max_depth": True},
            {"max_depth": [3]},
            *(
                {"min_pass_through": share}
                for share in (
                    "0",
                    "-0",
                    "-0.5",
                    "0.00009",
                    "0.00001",
                    "0.12345",
                    "1.0001",
                    "2",
                    "1e400",
                    TOO_BIG,
                    "1e-999999",
                    "NaN",
                    "sNaN",
                    "Infinity",
                    "half",
                    "50%",
                    "",
                    "0.5_0",
                    "\u0660.\u0665",
                    True,
                    ["0.5"],
                    {"share": "0.5"},
                    2,
                )
            ),
        )
    ),
    *(
        raw_order_case(f"chain caps {literal}", "chain_caps", chain_caps=literal)
        for literal in (
            '{"max_depth": 3.0}',
            '{"max_depth": 2.5}',
            '{"max_depth": 3e0}',
            '{"max_depth": 1e400}',
            '{"min_pass_through": 0.00005}',
            '{"min_pass_through": 1e-5}',
            '{"min_pass_through": 0.12345}',
            '{"min_pass_through": 1.5}',
            '{"min_pass_through": -0.0}',
            '{"min_pass_through": 0}',
            f'{{"min_pass_through": {TOO_BIG}}}',
        )
    ),
    case(
        "chain caps NaN literal",
        POST_ORDER,
        400,
        "malformed_json",
        text=order_json(chain_caps='{"min_pass_through": NaN}'),
    ),
    # Valid fields, an order that cannot be: no plan for the lottery, no items left after the trial.
    case(
        "lottery without a release plan",
        POST_ORDER,
        422,
        "lottery_needs_release_plan",
        ORDER | {"claim_mode": "lottery", "limits": {"batches_per_drop": 1}},
    ),
    *(
        case(
            f"trial of {batches}x{size} for 2 items",
            POST_ORDER,
            422,
            "trial_too_large",
            ORDER | {"trial": {"batches": batches, "batch_size": size, "pass_score": 80}},
            details={"trial_items": batches * size, "quantity": 2},
        )
        for batches, size in ((1, 2), (2, 1), (1, 3), (1000, 100_000))
    ),
    # A bids order's batches go first come to its contract holders: no lottery, no trial.
    *(
        case(
            f"bids order {name}",
            POST_ORDER,
            422,
            "bids_order_claims_first_come",
            ORDER | {"sourcing": "bids"} | terms,
        )
        for name, terms in (
            ("by lottery", {"claim_mode": "lottery", "release_plan": PLAN}),
            ("by lottery without a plan", {"claim_mode": "lottery"}),
            ("with a trial", {"trial": TRIAL}),
            ("with capped chains and a trial", {"trial": TRIAL, "chain_caps": CAPS}),
        )
    ),
    # The schema is closed.
    order_case("unknown field", "priority", priority="high"),
]


def test_an_invalid_order_is_refused_whole(subtests, app, api, cast, story):
    run(subtests, app, api, cast, story, ORDER_FIELD_CASES)


# -- publishing and claiming ---------------------------------------------------------------

PUBLISH_DRAFT = "POST /orders/{draft}/publish"
CLAIM_FREE = "owner POST /batches/{free_batch}/claim"
CLAIM_TAKEN = "POST /batches/{taken_batch}/claim"

PUBLISH_AND_CLAIM_CASES = [
    case("publish unknown order", "client POST /orders/999999/publish", 404, "order_not_found"),
    case("publish again", "client POST /orders/{order}/publish", 409, "order_not_draft"),
    case("rival publishes", f"rival_client {PUBLISH_DRAFT}", 404, "order_not_found"),
    case("team publishes", f"owner {PUBLISH_DRAFT}", 404, "order_not_found"),
    case("annotator publishes", f"li {PUBLISH_DRAFT}", 404, "order_not_found"),
    case(
        "publish with a text body",
        f"client {PUBLISH_DRAFT}",
        415,
        "unsupported_media_type",
        text="now",
        content_type=TEXT,
    ),
    case("claim unknown batch", "owner POST /batches/999999/claim", 404, "batch_not_found"),
    case("claim a taken batch", f"rival_owner {CLAIM_TAKEN}", 409, "batch_taken"),
    case("claim it twice", f"owner {CLAIM_TAKEN}", 409, "batch_taken"),
    case("annotator claims", "li POST /batches/{free_batch}/claim", 403, "forbidden"),
    case("reviewer claims", "reviewer POST /batches/{free_batch}/claim", 403, "forbidden"),
    case("client claims", "client POST /batches/{free_batch}/claim", 403, "forbidden"),
    case("claim team by name", CLAIM_FREE, 422, "validation_failed", {"team_id": "lotus"}),
    case("claim team true", CLAIM_FREE, 422, "validation_failed", {"team_id": True}),
    case(
        "claim for tiger", CLAIM_FREE, 404, "team_not_found", lambda ids: {"team_id": ids["tiger"]}
    ),
    case("claim body a list", CLAIM_FREE, 422, "validation_failed", text="[]"),
    case("claim truncated", CLAIM_FREE, 400, "malformed_json", text='{"team_id":'),
    case(
        "claim form-encoded",
        CLAIM_FREE,
        415,
        "unsupported_media_type",
        text="team_id=3",
        content_type=FORM,
    ),
]


def test_publishing_and_claiming(subtests, app, api, cast, story):
    run(subtests, app, api, cast, story, PUBLISH_AND_CLAIM_CASES)
