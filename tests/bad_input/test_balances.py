"""A client's balance: reading it and its history, topping it up by card (the test app has
no Stripe configured: a valid top-up is refused with 409 `stripe_not_configured`), and the
credit lines platform admins set and end; on the invoiced story, whose clients hold the
test cast's credit lines (CNY, USD, JPY) and no money.

Refund requests (asking for the balance back, recording the transfer that sent one,
refusing one) run on the invoiced story where Acme sent 5.00 CNY and asked for parts of it
back (see `refunds`).

After each table the clients' balances, credit lines and histories (and the refund
requests) must read back as they did at the start."""

from datetime import date
from typing import Any

import pytest

from marketplace.db import unit_of_work
from marketplace.payments.collection import Arrival, receive_payment
from marketplace.payments.stripe_collection import STRIPE
from tests.bad_input.cases import (
    FORM,
    HUGE_ID,
    SIGNED_OVERFLOW,
    TEXT,
    TOO_BIG,
    case,
    query_case,
    refused,
    run,
)

pytestmark = pytest.mark.slow

INVALID = "validation_failed"
BAD_AMOUNT = "invalid_amount"
NOT_THE_CLIENT = (404, "client_not_found")
NON_CLIENT_ADMINS = ("owner", "reviewer", "li", "rival_owner", "rival_annotator")

# Amounts and limits refused by their value (zero, negative, finer than a fen, beyond what
# the platform holds) and by their form (not a decimal at all).
NOT_POSITIVE_OR_TOO_FINE = (
    "0",
    "-0",
    "0.00",
    "-0.01",
    "-100",
    "0.001",
    "100.005",
    "1e400",
    TOO_BIG,
    "10000000000000.01",
)
NOT_DECIMALS = ("", " ", "NaN", "sNaN", "Infinity", "-Infinity", "a hundred", "1_00", "0x10")
NOT_DECIMAL_VALUES = (None, True, ["100.00"], {"amount": "100.00"})
UNKNOWN_CURRENCIES = ("XYZ", "cny", "RMB", "XXX", "", "CNYY", 156, None)
UNKNOWN_CLIENTS = (999_999, 0, HUGE_ID, SIGNED_OVERFLOW)


# -- reading the balance and its history --------------------------------------------------

BALANCE = "GET /balance"
HISTORY = "GET /balance/history"

BALANCE_READ_CASES = [
    *(
        query_case(
            f"balance client_id={value}", f"client {BALANCE}", f"client_id={value}", "client_id"
        )
        for value in (0, -1, HUGE_ID, SIGNED_OVERFLOW, "abc", "1.5", "")
    ),
    case("balance of another client", f"client {BALANCE}?client_id={{acme}}", *NOT_THE_CLIENT),
    case("balance of a team", f"admin {BALANCE}?client_id={{lotus}}", *NOT_THE_CLIENT),
    case("balance of nobody", f"admin {BALANCE}?client_id=999999", *NOT_THE_CLIENT),
    case("admin's balance, naming no client", f"admin {BALANCE}", 422, "client_required"),
    *(case(f"balance as {who}", f"{who} {BALANCE}", 403, "forbidden") for who in NON_CLIENT_ADMINS),
    case("balance as anonymous", f"anonymous {BALANCE}", 401, "missing_token"),
    case("balance as a stranger", f"stranger {BALANCE}", 401, "invalid_token"),
    # The history: a currency is needed, and pages of 1 to 1000 after an id.
    query_case("history without a currency", f"client {HISTORY}", "limit=10", "currency"),
    *(
        query_case(
            f"history currency={value!r}", f"client {HISTORY}", f"currency={value}", "currency"
        )
        for value in ("XYZ", "cny", "RMB", "", "CNY,USD")
    ),
    *(
        query_case(f"history {query}", f"client {HISTORY}", f"currency=CNY&{query}", field)
        for query, field in (
            ("limit=0", "limit"),
            ("limit=1001", "limit"),
            ("limit=ten", "limit"),
            ("after=-1", "after"),
            (f"after={HUGE_ID}", "after"),
            (f"after={SIGNED_OVERFLOW}", "after"),
            ("client_id=0", "client_id"),
            (f"client_id={HUGE_ID}", "client_id"),
        )
    ),
    case(
        "history of another client",
        f"client {HISTORY}?currency=CNY&client_id={{acme}}",
        *NOT_THE_CLIENT,
    ),
    case(
        "admin's history, naming no client",
        f"admin {HISTORY}?currency=CNY",
        422,
        "client_required",
    ),
    case("history as an owner", f"owner {HISTORY}?currency=CNY", 403, "forbidden"),
    case("history as anonymous", f"anonymous {HISTORY}?currency=CNY", 401, "missing_token"),
]


# -- a top-up by card, without Stripe -----------------------------------------------------

TOP_UPS = "POST /balance/top-ups"
TOP_UP = f"client {TOP_UPS}"
GOOD_TOP_UP = {
    "amount": "100.00",
    "currency": "CNY",
    "payment_method": "pm_card_visa",
    "attempt": "top-up-1",
}


def top_up(case_id, status, code, who="client", field=None, client=None, **changes):
    """The right top-up, fields changed (to `...`: left out), naming the `client` (a label
    of the story's ids) if given."""
    body = {key: value for key, value in (GOOD_TOP_UP | changes).items() if value is not ...}
    named = (lambda ids: body | {"client_id": ids[client]}) if client else body
    return case(case_id, f"{who} {TOP_UPS}", status, code, named, field=field)


TOP_UP_CASES = [
    top_up("top-up without Stripe", 409, "stripe_not_configured"),
    top_up("top-up naming its client", 409, "stripe_not_configured", client="horizon"),
    *(
        top_up(f"amount {amount!r}", 422, BAD_AMOUNT, amount=amount)
        for amount in NOT_POSITIVE_OR_TOO_FINE
    ),
    top_up("amount 1.5 JPY", 422, BAD_AMOUNT, amount="1.5", currency="JPY"),
    top_up("amount 0.5 JPY", 422, BAD_AMOUNT, amount="0.5", currency="JPY"),
    *(
        top_up(f"amount {amount!r}", 422, INVALID, field="amount", amount=amount)
        for amount in (*NOT_DECIMALS, *NOT_DECIMAL_VALUES, ...)
    ),
    case(
        "amount float 0.001",
        TOP_UP,
        422,
        BAD_AMOUNT,
        text='{"amount": 0.001, "currency": "CNY", "payment_method": "pm_x", "attempt": "a"}',
    ),
    *(
        top_up(f"currency {currency!r}", 422, INVALID, field="currency", currency=currency)
        for currency in (*UNKNOWN_CURRENCIES, ...)
    ),
    *(
        top_up(f"attempt {name}", 422, INVALID, field="attempt", attempt=attempt)
        for name, attempt in (
            ("missing", ...),
            ("null", None),
            ("empty", ""),
            ("with a space", "top up"),
            ("with a slash", "top/up"),
            ("with NUL", "top\x00up"),
            ("not ASCII", "充值-1"),
            ("of 65", "a" * 65),
            ("a number", 1),
            ("a list", ["top-up-1"]),
        )
    ),
    *(
        top_up(f"payment_method {name}", 422, INVALID, field="payment_method", payment_method=pm)
        for name, pm in (
            ("missing", ...),
            ("empty", ""),
            ("blank", "   "),
            ("of 256", "p" * 256),
            ("null", None),
            ("a number", 4242),
            ("with NUL", "pm_\x00visa"),
        )
    ),
    *(
        top_up(f"client_id {value!r}", 422, INVALID, field="client_id", client_id=value)
        for value in (0, -1, HUGE_ID, SIGNED_OVERFLOW, "abc", "", True, [2], {"id": 2})
    ),
    top_up("client_id of another client", *NOT_THE_CLIENT, client="acme"),
    top_up("client_id of a team", *NOT_THE_CLIENT, client="lotus"),
    top_up("client_id of nobody", *NOT_THE_CLIENT, client_id=999_999),
    top_up("top-up unknown field", 422, INVALID, field="reference", reference="ICBC-1"),
    case("top-up a list", TOP_UP, 422, INVALID, text="[]"),
    case("top-up a string", TOP_UP, 422, INVALID, text='"100.00"'),
    case("top-up truncated", TOP_UP, 400, "malformed_json", text='{"amount": "100.00", '),
    case("top-up as text", TOP_UP, 415, "unsupported_media_type", text="100", content_type=TEXT),
    case(
        "top-up form-encoded",
        TOP_UP,
        415,
        "unsupported_media_type",
        text="amount=100.00&currency=CNY",
        content_type=FORM,
    ),
    # Client admins top up; platform admins record transfers, the rest hold no client.
    top_up("admin tops up", 403, "forbidden", who="admin"),
    top_up("admin tops up Horizon", 403, "forbidden", who="admin", client="horizon"),
    *(top_up(f"{who} tops up", 403, "forbidden", who=who) for who in NON_CLIENT_ADMINS),
    top_up("anonymous tops up", 401, "missing_token", who="anonymous"),
    top_up("stranger tops up", 401, "invalid_token", who="stranger"),
]


# -- credit lines -------------------------------------------------------------------------

LINE_PATH = "/clients/{horizon}/credit-lines/CNY"
SET_LINE = f"admin PUT {LINE_PATH}"
XYZ_LINE = "/clients/{horizon}/credit-lines/XYZ"
GOOD_LINE = {"limit": "50000.00", "reason": "Pays every invoice on time."}


def line(case_id, status, code, who="admin", path=LINE_PATH, field=None, **changes):
    """The right credit line for Horizon in CNY, fields changed (to `...`: left out)."""
    body = {key: value for key, value in (GOOD_LINE | changes).items() if value is not ...}
    return case(case_id, f"{who} PUT {path}", status, code, body, field=field)


CREDIT_LINE_CASES = [
    *(line(f"limit {limit!r}", 422, BAD_AMOUNT, limit=limit) for limit in NOT_POSITIVE_OR_TOO_FINE),
    line(
        "limit 0.5 JPY",
        422,
        BAD_AMOUNT,
        path="/clients/{horizon}/credit-lines/JPY",
        limit="0.5",
    ),
    *(
        line(f"limit {limit!r}", 422, INVALID, field="limit", limit=limit)
        for limit in (*NOT_DECIMALS, *NOT_DECIMAL_VALUES, ...)
    ),
    *(
        line(f"reason {name}", 422, INVALID, field="reason", reason=reason)
        for name, reason in (
            ("missing", ...),
            ("empty", ""),
            ("blank", " \t\n "),
            ("of 501", "r" * 501),
            ("null", None),
            ("a number", 42),
            ("a list", ["on time"]),
            ("with NUL", "on\x00time"),
        )
    ),
    line("line unknown field", 422, INVALID, field="currency", currency="CNY"),
    line("line naming its client", 422, INVALID, field="client_id", client_id=1),
    case("line a list", SET_LINE, 422, INVALID, text="[]"),
    case("line truncated", SET_LINE, 400, "malformed_json", text='{"limit": "1.00", '),
    case("line as text", SET_LINE, 415, "unsupported_media_type", text="1.00", content_type=TEXT),
    case("line without a body", SET_LINE, 422, INVALID),
    # The currency in the path: an ISO 4217 code in use, in capitals.
    *(
        line(
            f"line in {currency!r}",
            422,
            "invalid_currency",
            path=f"/clients/{{horizon}}/credit-lines/{currency}",
        )
        for currency in ("XYZ", "cny", "RMB", "XXX", "CNYY", "156", "%20CNY")
    ),
    *(
        line(f"line for client {n}", *NOT_THE_CLIENT, path=f"/clients/{n}/credit-lines/CNY")
        for n in UNKNOWN_CLIENTS
    ),
    line("line for a team", *NOT_THE_CLIENT, path="/clients/{lotus}/credit-lines/CNY"),
    line("line for client abc", 404, "not_found", path="/clients/abc/credit-lines/CNY"),
    line("line for client -1", 404, "not_found", path="/clients/-1/credit-lines/CNY"),
    line("line with no currency", 404, "not_found", path="/clients/{horizon}/credit-lines"),
    # Platform admins alone; the body and the currency are read first, whoever asks.
    line("client, blank reason", 422, INVALID, who="client", field="reason", reason=" "),
    line("client, in XYZ", 422, "invalid_currency", who="client", path=XYZ_LINE),
    line("owner, in XYZ", 422, "invalid_currency", who="owner", path=XYZ_LINE),
    *(
        line(f"{who} sets a line", 403, "forbidden", who=who)
        for who in ("client", "rival_client", *NON_CLIENT_ADMINS)
    ),
    # Authorization comes before the limit's own check (as for credit notes).
    line("client sets its own line of 0.001", 403, "forbidden", who="client", limit="0.001"),
    line("anonymous sets a line", 401, "missing_token", who="anonymous"),
    line("stranger sets a line", 401, "invalid_token", who="stranger"),
    # Ending one: there must be one, in a known currency, of a client.
    *(
        case(
            f"end a line in {currency!r}",
            f"admin DELETE /clients/{{horizon}}/credit-lines/{currency}",
            422,
            "invalid_currency",
        )
        for currency in ("XYZ", "cny", "RMB", "XXX")
    ),
    case(
        "end a line there is not",
        "admin DELETE /clients/{horizon}/credit-lines/EUR",
        404,
        "credit_line_not_found",
    ),
    *(
        case(
            f"end a line of client {n}",
            f"admin DELETE /clients/{n}/credit-lines/CNY",
            *NOT_THE_CLIENT,
        )
        for n in UNKNOWN_CLIENTS
    ),
    case(
        "end a line of a team",
        "admin DELETE /clients/{lotus}/credit-lines/CNY",
        *NOT_THE_CLIENT,
    ),
    case(
        "end a line of client abc", "admin DELETE /clients/abc/credit-lines/CNY", 404, "not_found"
    ),
    *(
        case(f"{who} ends a line", f"{who} DELETE {LINE_PATH}", 403, "forbidden")
        for who in ("client", "rival_client", *NON_CLIENT_ADMINS)
    ),
    case("anonymous ends a line", f"anonymous DELETE {LINE_PATH}", 401, "missing_token"),
    case("stranger ends a line", f"stranger DELETE {LINE_PATH}", 401, "invalid_token"),
]


def balance_view(api, cast, ids) -> dict[str, Any]:
    """What platform admins read of both clients' balances, credit lines and histories."""

    def balances(client):
        return [
            (b["currency"], b["available"], b["reserved"], b["credit_line"], b["credit_used"])
            for b in api.get(f"/balance?client_id={client}", cast.admin).body
        ]

    def history(client, currency):
        path = f"/balance/history?currency={currency}&client_id={client}"
        return [(m["id"], m["kind"], m["change"]) for m in api.get(path, cast.admin).body]

    return {
        name: (balances(ids[name]), [history(ids[name], c) for c in ("CNY", "USD", "JPY")])
        for name in ("horizon", "acme")
    }


def test_a_bad_balance_read_top_up_or_credit_line_changes_nothing(
    subtests, app, api, cast, invoiced
):
    before = balance_view(api, cast, invoiced)
    assert [line[3] for line in before["horizon"][0]], before  # the cast's credit lines
    run(
        subtests,
        app,
        api,
        cast,
        invoiced,
        BALANCE_READ_CASES + TOP_UP_CASES + CREDIT_LINE_CASES,
    )
    assert balance_view(api, cast, invoiced) == before


# A body's ids are JSON integers (`strict=True`): a fraction or a string is refused, not
# read as an id (1.5 would be the platform's party 1, "4" Acme).
LENIENT_CLIENT_CASES = [
    top_up(f"client_id {value!r}", 422, INVALID, field="client_id", client_id=value)
    for value in (1.5, "4")
]


def test_a_top_up_naming_its_client_by_a_fraction_or_a_string_is_invalid(app, api, cast, invoiced):
    for bad in LENIENT_CLIENT_CASES:
        bad.check(app, api, cast, invoiced)


# -- refund requests ----------------------------------------------------------------------


def made(answer) -> dict:
    assert answer.status in (200, 201), answer.text[:500]
    return answer.body


@pytest.fixture
def refunds(api, cast, invoiced) -> dict[str, int]:
    """The invoiced story, and Acme's money: it sent 5.00 CNY by bank transfer (`acme_payment`)
    and asked for parts of it back: 0.50, which the admin sent (`paid_refund`), 1.00, which
    the admin refused (`refused_refund`), and 3.00, open (`open_refund`). Acme's balance is
    4.50, of which 1.50 is left to ask for; Horizon has no money."""
    acme = invoiced["acme"]
    transfer = {"client_id": acme, "currency": "CNY", "amount": "5.00"}
    transfer |= {"reference": "ICBC-ACME-1", "received_on": "2026-03-02"}
    payment = made(api.post("/payments", cast.admin, transfer))

    def asked_for(amount: str) -> int:
        asked = made(
            api.post("/balance/refunds", cast.rival_client, GOOD_REFUND | {"amount": amount})
        )
        return asked["id"]

    paid = asked_for("0.50")
    made(api.post(f"/balance/refunds/{paid}/paid", cast.admin, {"reference": "ICBC-OUT-1"}))
    refused_ = asked_for("1.00")
    made(api.post(f"/balance/refunds/{refused_}/refused", cast.admin, {"reason": "Not now."}))
    ids = {
        **invoiced,
        "acme_payment": payment["id"],
        "paid_refund": paid,
        "refused_refund": refused_,
        "open_refund": asked_for("3.00"),
    }
    assert refund_view(api, cast) == [
        (ids["paid_refund"], acme, "0.50", "refunded"),
        (ids["refused_refund"], acme, "1.00", "refused"),
        (ids["open_refund"], acme, "3.00", "requested"),
    ]
    [cny] = [
        b for b in api.get(f"/balance?client_id={acme}", cast.admin).body if b["currency"] == "CNY"
    ]
    assert cny["available"] == "4.50", cny
    return ids


def refund_view(api, cast) -> list[tuple]:
    """Every refund request, as platform admins read them."""
    return [
        (r["id"], r["client_id"], r["amount"], r["status"])
        for r in api.get("/balance/refunds", cast.admin).body
    ]


REFUNDS = "POST /balance/refunds"
ASK = f"rival_client {REFUNDS}"
GOOD_REFUND = {"amount": "1.00", "currency": "CNY"}
TOO_MUCH = "refund_exceeds_balance"


def ask(
    case_id, status, code, who="rival_client", field=None, client=None, details=None, **changes
):
    """Acme's request for 1.00 CNY back, fields changed (to `...`: left out), naming the
    `client` (a label of the story's ids) if given."""
    body = {key: value for key, value in (GOOD_REFUND | changes).items() if value is not ...}
    named = (lambda ids: body | {"client_id": ids[client]}) if client else body
    return case(case_id, f"{who} {REFUNDS}", status, code, named, field=field, details=details)


REFUND_REQUEST_CASES = [
    # The balance less the open requests: Acme has 1.50 of its 4.50 left to ask for,
    # Horizon (whose invoice is unpaid) nothing, nobody anything in a currency it never sent.
    ask("more than is left", 409, TOO_MUCH, amount="1.51", details={"refundable": "1.50"}),
    ask("all of the balance", 409, TOO_MUCH, amount="4.50", details={"refundable": "1.50"}),
    ask("in USD", 409, TOO_MUCH, currency="USD", amount="0.01", details={"refundable": "0.00"}),
    ask("in JPY", 409, TOO_MUCH, currency="JPY", amount="1", details={"refundable": "0"}),
    ask("Horizon asks", 409, TOO_MUCH, who="client", details={"refundable": "0.00"}),
    ask(
        "Horizon asks naming itself",
        409,
        TOO_MUCH,
        who="client",
        client="horizon",
        amount="0.01",
        details={"refundable": "0.00"},
    ),
    *(
        ask(f"amount {amount!r}", 422, BAD_AMOUNT, amount=amount)
        for amount in NOT_POSITIVE_OR_TOO_FINE
    ),
    ask("amount 1.5 JPY", 422, BAD_AMOUNT, amount="1.5", currency="JPY"),
    ask("amount 0.5 JPY", 422, BAD_AMOUNT, amount="0.5", currency="JPY"),
    *(
        ask(f"amount {amount!r}", 422, INVALID, field="amount", amount=amount)
        for amount in (*NOT_DECIMALS, *NOT_DECIMAL_VALUES, ...)
    ),
    case("amount float 0.001", ASK, 422, BAD_AMOUNT, text='{"amount": 0.001, "currency": "CNY"}'),
    *(
        ask(f"currency {currency!r}", 422, INVALID, field="currency", currency=currency)
        for currency in (*UNKNOWN_CURRENCIES, ...)
    ),
    *(
        ask(f"client_id {value!r}", 422, INVALID, field="client_id", client_id=value)
        for value in (0, -1, HUGE_ID, SIGNED_OVERFLOW, "abc", "", True, [4], {"id": 4}, 1.5, "4")
    ),
    ask("client_id of another client", *NOT_THE_CLIENT, client="horizon"),
    ask("client_id of a team", *NOT_THE_CLIENT, client="lotus"),
    ask("client_id of nobody", *NOT_THE_CLIENT, client_id=999_999),
    ask("refund unknown field", 422, INVALID, field="reference", reference="ICBC-OUT-9"),
    case("refund a list", ASK, 422, INVALID, text="[]"),
    case("refund a string", ASK, 422, INVALID, text='"1.00"'),
    case("refund null", ASK, 422, INVALID, text="null"),
    case("refund truncated", ASK, 400, "malformed_json", text='{"amount": "1.00", '),
    case("refund as text", ASK, 415, "unsupported_media_type", text="1.00", content_type=TEXT),
    case(
        "refund form-encoded",
        ASK,
        415,
        "unsupported_media_type",
        text="amount=1.00&currency=CNY",
        content_type=FORM,
    ),
    case("refund without a body", ASK, 422, INVALID),
    # Client admins ask; platform admins decide, the rest hold no client. The role is
    # checked before the amount.
    ask("admin asks", 403, "forbidden", who="admin"),
    ask("admin asks for Acme", 403, "forbidden", who="admin", client="acme"),
    *(ask(f"{who} asks", 403, "forbidden", who=who) for who in NON_CLIENT_ADMINS),
    ask("owner asks for 0.001", 403, "forbidden", who="owner", amount="0.001"),
    ask("anonymous asks", 401, "missing_token", who="anonymous"),
    ask("stranger asks", 401, "invalid_token", who="stranger"),
]

LIST = "GET /balance/refunds"
REFUND_LIST_CASES = [
    *(
        query_case(f"refunds {query}", f"rival_client {LIST}", query, field)
        for query, field in (
            ("limit=0", "limit"),
            ("limit=-1", "limit"),
            ("limit=1001", "limit"),
            ("limit=ten", "limit"),
            ("limit=1.5", "limit"),
            ("limit=", "limit"),
            ("after=-1", "after"),
            ("after=abc", "after"),
            (f"after={HUGE_ID}", "after"),
            (f"after={SIGNED_OVERFLOW}", "after"),
        )
    ),
    query_case("admin's refunds limit=0", f"admin {LIST}", "limit=0", "limit"),
    case("refunds as anonymous", f"anonymous {LIST}", 401, "missing_token"),
    case("refunds as a stranger", f"stranger {LIST}", 401, "invalid_token"),
]

REFUND = "/balance/refunds/{open_refund}"
UNKNOWN_REFUNDS = (0, 999_999, HUGE_ID, SIGNED_OVERFLOW)
NOT_THE_REFUND = (404, "refund_not_found")
NOT_A_ROUTE = (404, "not_found")


def decide(case_id, status, code, decision, body, who="admin", path=REFUND, field=None):
    return case(case_id, f"{who} POST {path}/{decision}", status, code, body, field=field)


def decision_cases(decision: str, name: str, longest: int, good: dict) -> list:
    """What recording the transfer (`paid`, its `reference`) or refusing (`refused`, its
    `reason`) refuses: bad bodies, unknown or decided refunds, callers other than platform
    admins."""
    action = f"{decision} {name}"
    route = f"admin POST {REFUND}/{decision}"
    return [
        *(
            decide(f"{action} {label}", 422, INVALID, decision, body, field=name)
            for label, body in (
                ("missing", {}),
                ("null", {name: None}),
                ("empty", {name: ""}),
                ("blank", {name: " \t\n "}),
                (f"of {longest + 1}", {name: "r" * (longest + 1)}),
                ("a number", {name: 42}),
                ("a list", {name: ["ICBC-OUT-2"]}),
                ("an object", {name: {"text": "ICBC-OUT-2"}}),
                ("with NUL", {name: "ICBC\x00OUT"}),
            )
        ),
        decide(
            f"{decision} unknown field",
            422,
            INVALID,
            decision,
            good | {"amount": "3.00"},
            field="amount",
        ),
        case(f"{decision} a list", route, 422, INVALID, text="[]"),
        case(f"{decision} a string", route, 422, INVALID, text='"ICBC-OUT-2"'),
        case(f"{decision} truncated", route, 400, "malformed_json", text=f'{{"{name}": "x", '),
        case(
            f"{decision} as text", route, 415, "unsupported_media_type", text="x", content_type=TEXT
        ),
        case(
            f"{decision} form-encoded",
            route,
            415,
            "unsupported_media_type",
            text=f"{name}=ICBC-OUT-2",
            content_type=FORM,
        ),
        case(f"{decision} without a body", route, 422, INVALID),
        # Refunds that are not, or are no more, to decide.
        *(
            decide(
                f"{decision} refund {n}",
                *NOT_THE_REFUND,
                decision,
                good,
                path=f"/balance/refunds/{n}",
            )
            for n in UNKNOWN_REFUNDS
        ),
        *(
            decide(
                f"{decision} refund {n}", *NOT_A_ROUTE, decision, good, path=f"/balance/refunds/{n}"
            )
            for n in ("-1", "abc", "1.5", "%20")
        ),
        decide(
            f"{decision} a paid refund",
            409,
            "refund_decided",
            decision,
            good,
            path="/balance/refunds/{paid_refund}",
        ),
        decide(
            f"{decision} a refused refund",
            409,
            "refund_decided",
            decision,
            good,
            path="/balance/refunds/{refused_refund}",
        ),
        # Platform admins alone: Acme's client admins see the request, anyone else does not.
        # The body is read first, whoever asks.
        decide(
            f"{decision} by Acme, {name} blank",
            422,
            INVALID,
            decision,
            {name: " "},
            who="rival_client",
            field=name,
        ),
        decide(f"{decision} by Acme", 403, "forbidden", decision, good, who="rival_client"),
        decide(
            f"{decision} by Acme, refused already",
            403,
            "forbidden",
            decision,
            good,
            who="rival_client",
            path="/balance/refunds/{refused_refund}",
        ),
        *(
            decide(f"{decision} by {who}", *NOT_THE_REFUND, decision, good, who=who)
            for who in ("client", *NON_CLIENT_ADMINS)
        ),
        decide(f"{decision} by anonymous", 401, "missing_token", decision, good, who="anonymous"),
        decide(f"{decision} by a stranger", 401, "invalid_token", decision, good, who="stranger"),
    ]


REFUND_PAID_CASES = decision_cases("paid", "reference", 200, {"reference": "ICBC-OUT-2"})
REFUND_REFUSED_CASES = decision_cases("refused", "reason", 500, {"reason": "It funds an order."})


def test_a_bad_refund_request_or_decision_changes_nothing(subtests, app, api, cast, refunds):
    before = balance_view(api, cast, refunds), refund_view(api, cast)
    run(
        subtests,
        app,
        api,
        cast,
        refunds,
        REFUND_REQUEST_CASES + REFUND_LIST_CASES + REFUND_PAID_CASES + REFUND_REFUSED_CASES,
    )
    assert (balance_view(api, cast, refunds), refund_view(api, cast)) == before


def test_a_request_the_balance_no_longer_holds_is_not_sent(app, api, cast, refunds):
    """The admin sends 2.00 of Acme's transfer back by hand: its 2.50 no longer covers the
    3.00 it asked for, and recording that transfer is refused (the other requests decided,
    2.50 of it could be asked for)."""
    back = {"kind": "refund", "amount": "2.00", "reference": "RF-ACME-1", "reason": "By hand."}
    made(api.post(f"/payments/{refunds['acme_payment']}/reversals", cast.admin, back))
    before = refund_view(api, cast)
    answer = refused(
        app,
        api,
        "POST",
        f"/balance/refunds/{refunds['open_refund']}/paid",
        cast.admin,
        409,
        TOO_MUCH,
        json={"reference": "ICBC-OUT-2"},
    )
    assert answer.body["error"]["details"]["refundable"] == "2.50"
    assert refund_view(api, cast) == before


def test_a_request_of_card_money_is_refunded_in_stripe_not_by_transfer(app, api, cast, refunds):
    """Acme's 2.00 USD came by card (Stripe's event recorded it): the admin may not record
    a bank transfer sending it back."""
    with app.app_context(), unit_of_work() as session:
        receive_payment(
            session,
            Arrival(
                client_party_id=refunds["acme"],
                currency="USD",
                gateway=STRIPE,
                reference="pi_acme_top_up",
                amount_minor=200,
                received_on=date(2026, 3, 2),
            ),
        )
    asked = made(
        api.post("/balance/refunds", cast.rival_client, {"amount": "2.00", "currency": "USD"})
    )
    before = refund_view(api, cast)
    refused(
        app,
        api,
        "POST",
        f"/balance/refunds/{asked['id']}/paid",
        cast.admin,
        409,
        "refund_at_gateway",
        json={"reference": "ICBC-OUT-2"},
    )
    assert refund_view(api, cast) == before
