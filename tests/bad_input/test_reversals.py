"""Refunds and chargebacks of a payment, and payout runs through Stripe, which the test app
has not configured (no STRIPE_SECRET_KEY): on the paid story (see the `paid` fixture)."""

import pytest

from tests.bad_input.cases import (
    FORM,
    HUGE_ID,
    SIGNED_OVERFLOW,
    TEXT,
    TOO_BIG,
    case,
    run,
)

pytestmark = pytest.mark.slow

INVALID = "validation_failed"
BAD_AMOUNT = "invalid_amount"


# -- refunds and chargebacks --------------------------------------------------------------

REVERSE = "POST /payments/{payment}/reversals"
GOOD_REFUND = {"kind": "refund", "amount": "0.01", "reference": "RF-2", "reason": "Duplicate."}


def reversal_case(case_id, status, code, who="admin", field=None, details=None, **changes):
    """The right refund of 0.01 of the payment (0.06 is left of it), fields changed (to
    `...`: left out)."""
    body = {key: value for key, value in (GOOD_REFUND | changes).items() if value is not ...}
    return case(case_id, f"{who} {REVERSE}", status, code, body, field=field, details=details)


REVERSAL_CASES = [
    *(
        reversal_case(f"kind {kind!r}", 422, INVALID, field="kind", kind=kind)
        for kind in ("REFUND", "payment", "refunds", "", " refund", None, 1, ["refund"], ...)
    ),
    *(
        reversal_case(f"amount {amount!r}", 422, BAD_AMOUNT, amount=amount)
        for amount in ("0", "-0", "-0.01", "0.001", "0.015", "1e400", TOO_BIG)
    ),
    *(
        reversal_case(f"amount {amount!r}", 422, INVALID, field="amount", amount=amount)
        for amount in ("NaN", "sNaN", "-Infinity", "", "a fen", None, True, ["0.01"], ...)
    ),
    case(
        "amount float 0.001",
        f"admin {REVERSE}",
        422,
        BAD_AMOUNT,
        text='{"kind": "refund", "amount": 0.001, "reference": "RF-2"}',
    ),
    # 0.05 of the 0.11 went back already: 0.06 is left.
    reversal_case(
        "more than is left",
        409,
        "reversal_exceeds_payment",
        details={"left": "0.06"},
        amount="0.07",
    ),
    reversal_case(
        "chargeback of a million",
        409,
        "reversal_exceeds_payment",
        kind="chargeback",
        amount="1000000",
    ),
    # RF-1 was a refund of 0.05: the same reference for another amount or kind is another
    # reversal.
    reversal_case("RF-1 for another amount", 409, "reference_reused", reference="RF-1"),
    reversal_case(
        "RF-1 as a chargeback",
        409,
        "reference_reused",
        reference="RF-1",
        kind="chargeback",
        amount="0.05",
    ),
    *(
        reversal_case(f"reference {name}", 422, INVALID, field="reference", reference=ref)
        for name, ref in (
            ("missing", ...),
            ("empty", ""),
            ("blank", "   "),
            ("of 201", "R" * 201),
            ("null", None),
            ("a number", 12345),
            ("with NUL", "RF\x002"),
        )
    ),
    *(
        reversal_case(f"reason {name}", 422, INVALID, field="reason", reason=reason)
        for name, reason in (
            ("of 301", "r" * 301),
            ("null", None),
            ("a number", 7),
            ("with NUL", "dup\x00licate"),
        )
    ),
    # A reason of 300, or none, is fine: the amount is what is refused.
    reversal_case(
        "reason of 300", 409, "reversal_exceeds_payment", amount="0.07", reason="r" * 300
    ),
    reversal_case("no reason", 409, "reversal_exceeds_payment", amount="0.07", reason=...),
    reversal_case("reversal unknown field", 422, INVALID, field="invoice_id", invoice_id=1),
    case("reversal a list", f"admin {REVERSE}", 422, INVALID, text="[]"),
    case("reversal truncated", f"admin {REVERSE}", 400, "malformed_json", text='{"kind": '),
    case(
        "reversal form-encoded",
        f"admin {REVERSE}",
        415,
        "unsupported_media_type",
        text="kind=refund&amount=0.01",
        content_type=FORM,
    ),
    *(
        case(f"reverse payment {n}", f"admin POST /payments/{n}/reversals", 404, code, GOOD_REFUND)
        for n, code in (
            (999_999, "payment_not_found"),
            (0, "payment_not_found"),
            (HUGE_ID, "payment_not_found"),
            (SIGNED_OVERFLOW, "payment_not_found"),
            ("abc", "not_found"),
        )
    ),
    # The client sees its payment but may not reverse it; nobody else sees it.
    reversal_case("client reverses", 403, "forbidden", who="client"),
    reversal_case("client reverses 0.001", 403, "forbidden", who="client", amount="0.001"),
    *(
        reversal_case(f"{who} reverses", 404, "payment_not_found", who=who)
        for who in ("owner", "reviewer", "li", "rival_client", "rival_owner")
    ),
    reversal_case("anonymous reverses", 401, "missing_token", who="anonymous"),
    reversal_case("stranger reverses", 401, "invalid_token", who="stranger"),
]


# -- payout runs through Stripe, which is not configured -----------------------------------

SEND = "POST /payout-runs/{payout_run}/send"
RUNS = "admin POST /payout-runs"
NOT_CONFIGURED = (409, "stripe_not_configured")

PAYOUT_SEND_CASES = [
    case("send without Stripe", f"admin {SEND}", *NOT_CONFIGURED),
    case("send with a body", f"admin {SEND}", *NOT_CONFIGURED, {}),
    case(
        "send as text", f"admin {SEND}", 415, "unsupported_media_type", text="go", content_type=TEXT
    ),
    *(
        case(f"send run {n}", f"admin POST /payout-runs/{n}/send", 404, code)
        for n, code in (
            (999_999, "payout_run_not_found"),
            (0, "payout_run_not_found"),
            (HUGE_ID, "payout_run_not_found"),
            (SIGNED_OVERFLOW, "payout_run_not_found"),
            ("abc", "not_found"),
        )
    ),
    *(
        case(f"{who} sends", f"{who} {SEND}", 403, "forbidden")
        for who in ("client", "owner", "li", "rival_client", "rival_owner")
    ),
    case("client sends no run", "client POST /payout-runs/999999/send", 403, "forbidden"),
    case("anonymous sends", f"anonymous {SEND}", 401, "missing_token"),
    case("read send", "admin GET /payout-runs/{payout_run}/send", 405, "method_not_allowed"),
]

STRIPE_RUN = {"currency": "CNY", "gateway": "stripe"}

PAYOUT_GATEWAY_CASES = [
    *(
        case(
            f"gateway {gateway!r}",
            RUNS,
            422,
            INVALID,
            {"currency": "CNY", "gateway": gateway},
            field="gateway",
        )
        for gateway in ("bank", "STRIPE", "Stripe", "", " stripe", None, 1, ["stripe"])
    ),
    # What is available (Li's and Lotus's settled shares) stays available.
    case("stripe run without Stripe", RUNS, *NOT_CONFIGURED, STRIPE_RUN),
    case("stripe run in JPY", RUNS, *NOT_CONFIGURED, STRIPE_RUN | {"currency": "JPY"}),
    case("stripe run of all", RUNS, *NOT_CONFIGURED, STRIPE_RUN | {"minimum": "0.01"}),
    case("stripe run, bad currency", RUNS, 422, INVALID, STRIPE_RUN | {"currency": "XXX"}),
    case("anonymous stripe run", "anonymous POST /payout-runs", 401, "missing_token", STRIPE_RUN),
]


def test_a_bad_reversal_or_stripe_payout_moves_no_money(subtests, app, api, cast, paid):
    run(
        subtests,
        app,
        api,
        cast,
        paid,
        REVERSAL_CASES + PAYOUT_SEND_CASES + PAYOUT_GATEWAY_CASES,
    )


# -- who asks, and what, is answered before how the platform is configured ---------------

STRIPE_RUN_ORDER_CASES = [
    *(
        case(
            f"{who} asks for a stripe run", f"{who} POST /payout-runs", 403, "forbidden", STRIPE_RUN
        )
        for who in ("client", "owner", "li")
    ),
    case("stripe run, minimum 0.001", RUNS, 422, BAD_AMOUNT, STRIPE_RUN | {"minimum": "0.001"}),
]


def test_a_stripe_run_is_refused_for_its_caller_or_minimum_before_the_configuration(
    subtests, app, api, cast, paid
):
    run(subtests, app, api, cast, paid, STRIPE_RUN_ORDER_CASES)
