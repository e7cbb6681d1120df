"""Collection: a client's bank transfer recorded by an admin (what test_money's table leaves
out), a card payment and Stripe's webhook without Stripe configured, and credit notes.

The test app has neither STRIPE_SECRET_KEY nor STRIPE_WEBHOOK_SECRET: a valid card payment
or webhook is refused with 409 `stripe_not_configured`, and nothing is written."""

import json

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
from tests.bad_input.test_money import client_payment_case as transfer

pytestmark = pytest.mark.slow

INVALID = "validation_failed"
BAD_AMOUNT = "invalid_amount"


# -- a client's bank transfer (POST /payments), beyond test_money's table ------------------

TRANSFER = "admin POST /payments"

CLIENT_TRANSFER_CASES = [
    transfer("amount missing", 422, INVALID, amount=...),
    transfer("amount null", 422, INVALID, amount=None),
    transfer("amount empty", 422, INVALID, amount=""),
    transfer("amount NaN", 422, INVALID, amount="NaN"),
    transfer("amount Infinity", 422, INVALID, amount="Infinity"),
    transfer("amount a bool", 422, INVALID, amount=True),
    transfer("amount -0.11", 422, BAD_AMOUNT, amount="-0.11"),
    transfer("amount 1e400", 422, BAD_AMOUNT, amount="1e400"),
    transfer("amount 1e999999", 422, BAD_AMOUNT, amount=TOO_BIG),
    transfer("amount past 10^13", 422, BAD_AMOUNT, amount="10000000000000.01"),
    transfer("reference missing", 422, INVALID, reference=...),
    transfer("reference of 201", 422, INVALID, reference="R" * 201),
    transfer("reference with NUL", 422, INVALID, reference="IC\x00BC"),
    transfer("received_on missing", 422, INVALID, received_on=...),
    transfer("received_on 2026-02-30", 422, INVALID, received_on="2026-02-30"),
    transfer("received_on 9999-12-31", 422, INVALID, received_on="9999-12-31"),
    transfer("client null", 422, INVALID, client_id=None),
    transfer("client a bool", 422, INVALID, client_id=True),
    transfer("client past signed 64 bits", 422, INVALID, client_id=SIGNED_OVERFLOW),
    transfer("invoice past 64 bits", 422, INVALID, invoice_id=HUGE_ID),
    transfer("invoice -1", 422, INVALID, invoice_id=-1),
    transfer("invoice a string", 422, INVALID, invoice_id="INV-2026-000001"),
    transfer("unknown field", 422, INVALID, gateway="stripe"),
    transfer("a stranger records", 401, "invalid_token", who="stranger"),
    transfer("rival records, naming none", 403, "forbidden", who="rival_client", invoice_id=...),
    transfer("li records", 404, "invoice_not_found", who="li"),
    case("transfer a list", TRANSFER, 422, INVALID, text="[]"),
    case("transfer truncated", TRANSFER, 400, "malformed_json", text='{"client_id": 2, '),
    case(
        "transfer form-encoded",
        TRANSFER,
        415,
        "unsupported_media_type",
        text="client_id=2&amount=0.11",
        content_type=FORM,
    ),
]


# -- a card payment through Stripe, which is not configured -------------------------------

CARD = "POST /invoices/{invoice}/card-payments"
PAY_BY_CARD = f"client {CARD}"
VISA = {"payment_method": "pm_card_visa"}

CARD_PAYMENT_CASES = [
    case("card without Stripe", PAY_BY_CARD, 409, "stripe_not_configured", VISA),
    *(
        case(f"payment_method {name}", PAY_BY_CARD, 422, INVALID, body, field="payment_method")
        for name, body in (
            ("missing", {}),
            ("empty", {"payment_method": ""}),
            ("blank", {"payment_method": "   "}),
            ("of 256", {"payment_method": "p" * 256}),
            ("null", {"payment_method": None}),
            ("a number", {"payment_method": 4242}),
            ("a list", {"payment_method": ["pm_card_visa"]}),
            ("with NUL", {"payment_method": "pm_\x00visa"}),
        )
    ),
    case(
        "card unknown field", PAY_BY_CARD, 422, INVALID, VISA | {"amount": "0.11"}, field="amount"
    ),
    case("card a list", PAY_BY_CARD, 422, INVALID, text="[]"),
    case("card truncated", PAY_BY_CARD, 400, "malformed_json", text='{"payment_method": '),
    case("card as text", PAY_BY_CARD, 415, "unsupported_media_type", text="pm", content_type=TEXT),
    # Validation answers first, whoever asks.
    case("admin, blank", f"admin {CARD}", 422, INVALID, {"payment_method": " "}),
    # The client's admin pays; an admin sees the invoice but may not pay it; the rest do not
    # see it.
    case("admin pays by card", f"admin {CARD}", 403, "forbidden", VISA),
    *(
        case(f"{who} pays by card", f"{who} {CARD}", 404, "invoice_not_found", VISA)
        for who in ("owner", "reviewer", "li", "rival_client", "rival_owner")
    ),
    case("anonymous pays by card", f"anonymous {CARD}", 401, "missing_token", VISA),
    case("stranger pays by card", f"stranger {CARD}", 401, "invalid_token", VISA),
    *(
        case(f"card on invoice {n}", f"client POST /invoices/{n}/card-payments", *missing, VISA)
        for n, missing in (
            (999_999, (404, "invoice_not_found")),
            (0, (404, "invoice_not_found")),
            (HUGE_ID, (404, "invoice_not_found")),
            (SIGNED_OVERFLOW, (404, "invoice_not_found")),
            ("abc", (404, "not_found")),
        )
    ),
]


# -- Stripe's webhook, without its secret -------------------------------------------------

HOOK = "anonymous POST /payments/stripe/webhook"
SIGNED = {"Stripe-Signature": "t=1772445600,v1=" + "0" * 64}


def succeeded(ids) -> dict:
    """A forged event saying the invoice was paid by card: recorded, it would pay it."""
    intent = {
        "id": "pi_forged",
        "object": "payment_intent",
        "status": "succeeded",
        "amount": 11,
        "amount_received": 11,
        "currency": "cny",
        "created": 1772445600,
        "metadata": {"invoice_id": str(ids["invoice"]), "client_id": str(ids["horizon"])},
    }
    return {"id": "evt_forged", "type": "payment_intent.succeeded", "data": {"object": intent}}


NOT_CONFIGURED = (409, "stripe_not_configured")

WEBHOOK_CASES = [
    case("signed payment event", HOOK, *NOT_CONFIGURED, succeeded, headers=SIGNED),
    case("unsigned payment event", HOOK, *NOT_CONFIGURED, succeeded),
    case(
        "refund event",
        HOOK,
        *NOT_CONFIGURED,
        {"id": "evt_refund", "type": "charge.refunded", "data": {"object": {"id": "ch_1"}}},
        headers=SIGNED,
    ),
    case("empty event", HOOK, *NOT_CONFIGURED, text="", headers=SIGNED),
    case("truncated event", HOOK, *NOT_CONFIGURED, text='{"id": "evt_', headers=SIGNED),
    case("event sent with a token", "client POST /payments/stripe/webhook", *NOT_CONFIGURED, {}),
    case(
        "event as text",
        HOOK,
        415,
        "unsupported_media_type",
        text=json.dumps({"id": "evt_1"}),
        content_type=TEXT,
        headers=SIGNED,
    ),
    case("webhook read", "anonymous GET /payments/stripe/webhook", 405, "method_not_allowed"),
]


# -- credit notes -------------------------------------------------------------------------

NOTE = "POST /invoices/{invoice}/credit-notes"
CREDIT = f"admin {NOTE}"
GOOD_NOTE = {"amount": "0.01", "reason": "One box was drawn twice."}


def note_case(case_id, status, code, who="admin", field=None, **changes):
    """The right credit note on the open invoice (0.11 outstanding), fields changed (to
    `...`: left out)."""
    body = {key: value for key, value in (GOOD_NOTE | changes).items() if value is not ...}
    return case(case_id, f"{who} {NOTE}", status, code, body, field=field)


CREDIT_NOTE_CASES = [
    *(
        note_case(f"note amount {amount!r}", 422, BAD_AMOUNT, amount=amount)
        for amount in ("0", "-0", "-0.01", "0.001", "0.105", "1e400", TOO_BIG)
    ),
    *(
        note_case(f"note amount {amount!r}", 422, INVALID, field="amount", amount=amount)
        for amount in ("NaN", "Infinity", "", "one fen", "0.0_1", None, True, ["0.01"], ...)
    ),
    case(
        "note amount float 0.001", CREDIT, 422, BAD_AMOUNT, text='{"amount": 0.001, "reason": "x"}'
    ),
    note_case("more than outstanding", 409, "credit_exceeds_outstanding", amount="0.12"),
    note_case("a million", 409, "credit_exceeds_outstanding", amount="1000000"),
    # A reason of 500 is a reason: the amount is what is refused.
    note_case("reason of 500", 409, "credit_exceeds_outstanding", amount="0.12", reason="r" * 500),
    *(
        note_case(f"reason {name}", 422, INVALID, field="reason", reason=reason)
        for name, reason in (
            ("missing", ...),
            ("empty", ""),
            ("blank", " \t "),
            ("of 501", "r" * 501),
            ("null", None),
            ("a number", 42),
            ("with NUL", "dup\x00licate"),
        )
    ),
    note_case("note unknown field", 422, INVALID, field="currency", currency="CNY"),
    case("note a list", CREDIT, 422, INVALID, text="[]"),
    case("note truncated", CREDIT, 400, "malformed_json", text='{"amount": "0.01", '),
    case("note as text", CREDIT, 415, "unsupported_media_type", text="0.01", content_type=TEXT),
    *(
        case(f"note on invoice {n}", f"admin POST /invoices/{n}/credit-notes", 404, code, GOOD_NOTE)
        for n, code in (
            (999_999, "invoice_not_found"),
            (0, "invoice_not_found"),
            (HUGE_ID, "invoice_not_found"),
            (SIGNED_OVERFLOW, "invoice_not_found"),
            ("abc", "not_found"),
        )
    ),
    note_case("client credits", 403, "forbidden", who="client"),
    # Authorization comes before the amount's own check.
    note_case("client credits 0.001", 403, "forbidden", who="client", amount="0.001"),
    *(
        note_case(f"{who} credits", 404, "invoice_not_found", who=who)
        for who in ("owner", "li", "rival_client", "rival_owner")
    ),
    note_case("anonymous credits", 401, "missing_token", who="anonymous"),
]


def test_a_bad_transfer_card_payment_webhook_or_credit_note_leaves_the_invoice_open(
    subtests, app, api, cast, invoiced
):
    run(
        subtests,
        app,
        api,
        cast,
        invoiced,
        CLIENT_TRANSFER_CASES + CARD_PAYMENT_CASES + WEBHOOK_CASES + CREDIT_NOTE_CASES,
    )
