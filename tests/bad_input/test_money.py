"""Money: invoices, payout runs, payments, and the annotators' earnings."""

import pytest

from tests.bad_input.cases import (
    FORM,
    HUGE_ID,
    SIGNED_OVERFLOW,
    TEXT,
    TOO_BIG,
    Case,
    Tables,
    case,
    query_case,
    raw,
    refused,
    run,
    run_work,
    story_view,
    table_rows,
)
from tests.flows import review
from tests.support import row_counts

pytestmark = pytest.mark.slow


# -- invoicing and payout runs -------------------------------------------------------------

INVOICE = "POST /orders/{order}/invoices"
PAYOUT = "admin POST /payout-runs"

BILLING_CASES = [
    case("invoice the draft", "admin POST /orders/{draft}/invoices", 409, "nothing_to_invoice"),
    case("invoice no order", "admin POST /orders/999999/invoices", 404, "order_not_found"),
    case("client invoices", f"client {INVOICE}", 403, "forbidden"),
    case("team invoices", f"owner {INVOICE}", 403, "forbidden"),
    case("rival invoices", f"rival_client {INVOICE}", 404, "order_not_found"),
    case(
        "invoice with a text body",
        f"admin {INVOICE}",
        415,
        "unsupported_media_type",
        text="bill it",
        content_type=TEXT,
    ),
    # Payout runs (nothing is available: the accepted box is not even invoiced).
    *(
        case(f"payout currency {c!r}", PAYOUT, 422, "validation_failed", {"currency": c})
        for c in ("ZZZ", "cny", "", None, 156)
    ),
    case("payout currency XXX", PAYOUT, 422, "validation_failed", {"currency": "XXX"}),
    case("payout no currency", PAYOUT, 422, "validation_failed", {"minimum": "1.00"}),
    *(
        case(
            f"payout minimum {currency} {minimum}",
            PAYOUT,
            422,
            "invalid_amount",
            {"currency": currency, "minimum": minimum},
        )
        for currency, minimum in [
            ("CNY", "0.001"),
            ("CNY", "0"),
            ("CNY", "-1"),
            ("JPY", "1.5"),
            ("CNY", "1e400"),
        ]
    ),
    case(
        "payout minimum 1e999999",
        PAYOUT,
        422,
        "invalid_amount",
        {"currency": "CNY", "minimum": TOO_BIG},
    ),
    case(
        "payout minimum float 0.001",
        PAYOUT,
        422,
        "invalid_amount",
        text='{"currency": "CNY", "minimum": 0.001}',
    ),
    case(
        "payout minimum in words",
        PAYOUT,
        422,
        "validation_failed",
        {"currency": "CNY", "minimum": "one"},
    ),
    case(
        "payout minimum NaN",
        PAYOUT,
        422,
        "validation_failed",
        {"currency": "CNY", "minimum": "NaN"},
    ),
    case("client pays out", "client POST /payout-runs", 403, "forbidden", {"currency": "CNY"}),
    case("owner pays out", "owner POST /payout-runs", 403, "forbidden", {"currency": "CNY"}),
]


def test_invoicing_and_payout_runs(subtests, app, api, cast, story):
    run(subtests, app, api, cast, story, BILLING_CASES)


# -- payments ------------------------------------------------------------------------------

PAY_INVOICE = "POST /invoices/{invoice}/payments"
PAY = f"admin {PAY_INVOICE}"
GOOD_PAYMENT = {"amount": "0.11", "reference": "ICBC-1", "received_on": "2026-03-02"}


def payment_case(case_id, status, code, **changes) -> Case:
    """The right transfer for the open invoice, with fields changed (to `...`: left out)."""
    body = {key: value for key, value in (GOOD_PAYMENT | changes).items() if value is not ...}
    return case(case_id, PAY, status, code, body)


PAYMENT_CASES = [
    payment_case("amount 206.125", 422, "invalid_amount", amount="206.125"),
    payment_case("amount 0.105", 422, "invalid_amount", amount="0.105"),
    payment_case("amount -5", 422, "invalid_amount", amount="-5"),
    payment_case("amount -0.11", 422, "invalid_amount", amount="-0.11"),
    payment_case("amount 0", 422, "invalid_amount", amount="0"),
    payment_case("amount 1e400", 422, "invalid_amount", amount="1e400"),
    payment_case("amount 1e999999", 422, "invalid_amount", amount=TOO_BIG),
    payment_case("amount NaN", 422, "validation_failed", amount="NaN"),
    payment_case("amount in words", 422, "validation_failed", amount="eleven fen"),
    payment_case("amount a bool", 422, "validation_failed", amount=True),
    payment_case("amount a list", 422, "validation_failed", amount=["0.11"]),
    payment_case("amount null", 422, "validation_failed", amount=None),
    payment_case("amount missing", 422, "validation_failed", amount=...),
    case(
        "amount float 0.105",
        PAY,
        422,
        "invalid_amount",
        text='{"amount": 0.105, "reference": "ICBC-1", "received_on": "2026-03-02"}',
    ),
    case(
        "amount NaN literal",
        PAY,
        400,
        "malformed_json",
        text='{"amount": NaN, "reference": "ICBC-1", "received_on": "2026-03-02"}',
    ),
    payment_case("reference missing", 422, "validation_failed", reference=...),
    payment_case("reference empty", 422, "validation_failed", reference=""),
    payment_case("reference of 201", 422, "validation_failed", reference="R" * 201),
    payment_case("reference a number", 422, "validation_failed", reference=12345),
    payment_case("reference blank", 422, "validation_failed", reference="  "),
    payment_case("reference with NUL", 422, "validation_failed", reference="IC\x00BC"),
    payment_case("received_on missing", 422, "validation_failed", received_on=...),
    payment_case("received_on 2026-13-45", 422, "validation_failed", received_on="2026-13-45"),
    payment_case("received_on 2026-02-30", 422, "validation_failed", received_on="2026-02-30"),
    payment_case("received_on 03/03/2026", 422, "validation_failed", received_on="03/03/2026"),
    payment_case(
        "received_on a datetime", 422, "validation_failed", received_on="2026-03-03T10:00"
    ),
    payment_case("received_on a number", 422, "validation_failed", received_on=20260303),
    # The story's clock says 2026-03-02 10:00 UTC: nowhere is it later than 2026-03-03.
    payment_case("received_on 2026-03-04", 422, "validation_failed", received_on="2026-03-04"),
    payment_case("received_on 9999-12-31", 422, "validation_failed", received_on="9999-12-31"),
    payment_case("payment unknown field", 422, "validation_failed", currency="CNY"),
    case("payment truncated", PAY, 400, "malformed_json", text='{"amount": "0.11", '),
    case("payment a list", PAY, 422, "validation_failed", text="[]"),
    case(
        "payment form-encoded",
        PAY,
        415,
        "unsupported_media_type",
        text="amount=0.11",
        content_type=FORM,
    ),
    case(
        "pay no invoice",
        "admin POST /invoices/999999/payments",
        404,
        "invoice_not_found",
        GOOD_PAYMENT,
    ),
    case("client records", f"client {PAY_INVOICE}", 403, "forbidden", GOOD_PAYMENT),
    case("team records", f"owner {PAY_INVOICE}", 404, "invoice_not_found", GOOD_PAYMENT),
    case("rival records", f"rival_client {PAY_INVOICE}", 404, "invoice_not_found", GOOD_PAYMENT),
]


CLIENT_PAY = "admin POST /payments"


def client_payment_case(case_id, status, code, who="admin", **changes) -> Case:
    """A right transfer from Horizon, in CNY, naming its open invoice, with fields changed
    (to `...`: left out; to a name of the story's ids: that id)."""

    def body(ids):
        good = GOOD_PAYMENT | {
            "client_id": ids["horizon"],
            "currency": "CNY",
            "invoice_id": ids["invoice"],
        }
        return {
            key: ids.get(value, value) if isinstance(value, str) else value
            for key, value in (good | changes).items()
            if value is not ...
        }

    return case(case_id, f"{who} POST /payments", status, code, body)


CLIENT_PAYMENT_CASES = [
    client_payment_case("client missing", 422, "validation_failed", client_id=...),
    client_payment_case("client 0", 422, "validation_failed", client_id=0),
    client_payment_case("client past 64 bits", 422, "validation_failed", client_id=HUGE_ID),
    client_payment_case("client a string", 422, "validation_failed", client_id="horizon "),
    client_payment_case("a team pays", 404, "client_not_found", client_id="lotus", invoice_id=...),
    client_payment_case(
        "no such client", 404, "client_not_found", client_id=999999, invoice_id=...
    ),
    client_payment_case("invoice of another client", 422, "invoice_mismatch", client_id="acme"),
    client_payment_case("invoice in another currency", 422, "invoice_mismatch", currency="USD"),
    client_payment_case("no such invoice", 404, "invoice_not_found", invoice_id=999999),
    client_payment_case("invoice 0", 422, "validation_failed", invoice_id=0),
    client_payment_case("currency missing", 422, "validation_failed", currency=..., invoice_id=...),
    client_payment_case("currency XXX", 422, "validation_failed", currency="XXX"),
    client_payment_case("currency lower case", 422, "validation_failed", currency="cny"),
    client_payment_case("amount finer than CNY", 422, "invalid_amount", amount="0.001"),
    client_payment_case("amount 0", 422, "invalid_amount", amount="0"),
    client_payment_case(
        "JPY amount in sen", 422, "invalid_amount", currency="JPY", amount="1.5", invoice_id=...
    ),
    client_payment_case("reference blank", 422, "validation_failed", reference=" "),
    client_payment_case("received tomorrow", 422, "validation_failed", received_on="2026-03-04"),
    client_payment_case("client records", 403, "forbidden", who="client"),
    client_payment_case(
        "client records, naming none", 403, "forbidden", who="client", invoice_id=...
    ),
    client_payment_case("team records", 403, "forbidden", who="owner", invoice_id=...),
    client_payment_case("rival names the invoice", 404, "invoice_not_found", who="rival_client"),
    client_payment_case("anonymous", 401, "missing_token", who="anonymous"),
]


def test_a_bad_payment_leaves_the_invoice_open(subtests, app, api, cast, invoiced):
    run(subtests, app, api, cast, invoiced, PAYMENT_CASES + CLIENT_PAYMENT_CASES)


def test_a_transfer_is_recorded_once_and_what_a_paid_invoice_cannot_take_is_credit(
    app, api, cast, invoiced
):
    pay = f"/invoices/{invoiced['invoice']}/payments"
    # A JSON number is read exactly: 0.11, the invoice's total.
    first = api.post(
        pay,
        cast.admin,
        **raw('{"amount": 0.11, "reference": "ICBC-1", "received_on": "2026-03-02"}'),
    )
    assert (first.status, first.body["amount"]) == (201, "0.11"), first.text[:500]
    paid = story_view(api, cast, invoiced)
    [(_, status, _, paid_at, payments)] = paid["invoices"]
    assert (status, payments) == ("paid", [("ICBC-1", "0.11", "2026-03-02")]) and paid_at

    # The same transfer again: the first payment back, and nothing written.
    counts, rows = row_counts(app), table_rows(app)
    again = api.post(pay, cast.admin, GOOD_PAYMENT)
    assert (again.status, again.body["id"]) == (200, first.body["id"])
    assert row_counts(app) == counts and table_rows(app) == rows

    def refuse(path, status, code, **body):
        refused(app, api, "POST", path, cast.admin, status, code, json=GOOD_PAYMENT | body)

    refuse(pay, 409, "reference_reused", amount="0.12")
    refuse(pay, 422, "invalid_amount", amount="0.111", reference="ICBC-2")
    invoice_again = f"/orders/{invoiced['order']}/invoices"
    refused(app, api, "POST", invoice_again, cast.admin, 409, "nothing_to_invoice")
    assert story_view(api, cast, invoiced) == paid

    # Money that arrives for a paid invoice is not refused (it did arrive): it is credit.
    extra = api.post(pay, cast.admin, GOOD_PAYMENT | {"reference": "ICBC-2"})
    assert extra.status == 201, extra.text[:500]
    assert (extra.body["applied"], extra.body["unapplied"], extra.body["applications"]) == (
        "0.00",
        "0.11",
        [],
    )

    # A second invoice may not reuse the first one's bank reference, even for the same amount;
    # the credit pays it the moment it is issued.
    review(api, cast.reviewer, accept=[invoiced["waiting"]])
    second = api.post(invoice_again, cast.admin).body
    assert (second["total"], second["status"], second["outstanding"]) == ("0.11", "paid", "0.00")
    refuse(f"/invoices/{second['id']}/payments", 409, "reference_reused")
    assert [i[1] for i in story_view(api, cast, invoiced)["invoices"]] == ["paid", "paid"]


# Earnings: periods of at most 366 days running forward, a known format and locale.
DAYS = "li GET /me/earnings/days"
STATEMENT = "li GET /me/earnings/statement"


EARNINGS_CASES = [
    *(
        case(f"{name} {query}", f"{route}?{also}{query}", 422, "invalid_period", details=expected)
        for name, route, also in (
            ("days", DAYS, ""),
            ("statement", STATEMENT, ""),
            ("csv statement", STATEMENT, "format=csv&"),
        )
        for query, expected in (
            ("from=2026-03-10&to=2026-03-01", {"from": "2026-03-10", "to": "2026-03-01"}),
            ("from=2025-03-01&to=2026-03-02", {"from": "2025-03-01", "to": "2026-03-02"}),
            ("from=2000-01-01&to=2026-03-02", {"from": "2000-01-01"}),
            ("from=2026-03-10", {"from": "2026-03-10", "to": "2026-03-02"}),
            ("to=2026-02-28", {"from": "2026-03-01", "to": "2026-02-28"}),
        )
    ),
    *(
        query_case(f"{name} {query}", route, query, field)
        for name, route in (("days", DAYS), ("statement", STATEMENT))
        for query, field in (
            ("from=2026-02-30", "from"),
            ("from=03/01/2026", "from"),
            ("from=2026-03-01T00:00:00", "from"),
            ("to=today", "to"),
            ("to=", "to"),
            ("team_id=lotus", "team_id"),
            ("team_id=1.5", "team_id"),
        )
    ),
    *(
        query_case(f"statement {query}", STATEMENT, query, field)
        for query, field in (
            ("format=xml", "format"),
            ("format=CSV", "format"),
            ("format=", "format"),
            ("format=json,csv", "format"),
            ("format=csv&locale=x", "locale"),
            (f"format=csv&locale={'x' * 36}", "locale"),
        )
    ),
    *(
        case(
            f"statement in {locale!r}",
            f"{STATEMENT}?format=csv&locale={locale}",
            422,
            "invalid_locale",
            details={"locale": locale},
        )
        for locale in ("xx_YY", "klingon", "de_XX_YY_ZZ", "de--DE")
    ),
    *(
        case(f"{name} for tiger", f"{route}?team_id={{tiger}}", 404, "team_not_found")
        for name, route in (("days", DAYS), ("statement", STATEMENT))
    ),
    *(
        case(f"{name} for team {n}", f"{route}?team_id={n}", 404, "team_not_found")
        for name, route in (("days", DAYS), ("statement", STATEMENT))
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    # Who: an annotator reads her own; someone who annotates nowhere has nothing to read.
    *(
        case(f"{name} of the {who}", f"{who} GET /me/earnings/{name}", 403, "forbidden")
        for name in ("days", "statement")
        for who in ("client", "owner")
    ),
    *(
        case(
            f"anonymous {name}",
            f"anonymous GET /me/earnings/{name}?format=xml",
            401,
            "missing_token",
        )
        for name in ("days", "statement")
    ),
    # A team's earnings: its owner's.
    case("tiger's earnings", "owner GET /teams/{tiger}/earnings", 404, "team_not_found"),
    case(
        "lotus's earnings by tiger",
        "rival_owner GET /teams/{lotus}/earnings",
        404,
        "team_not_found",
    ),
    case("lotus's earnings by Li", "li GET /teams/{lotus}/earnings", 403, "forbidden"),
    case(
        "lotus's earnings by its reviewer", "reviewer GET /teams/{lotus}/earnings", 403, "forbidden"
    ),
    case(
        "lotus's earnings by the client",
        "client GET /teams/{lotus}/earnings",
        404,
        "team_not_found",
    ),
    *(
        case(f"earnings of team {n}", f"owner GET /teams/{n}/earnings", 404, "team_not_found")
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("earnings of team abc", "owner GET /teams/abc/earnings", 404, "not_found"),
    case("POST earnings", "li POST /me/earnings/days", 405, "method_not_allowed", {}),
    case("anonymous earnings", "anonymous GET /me/earnings", 401, "missing_token"),
]


def test_an_earnings_query_is_a_period_in_a_known_format(subtests, app, api, cast, work_world):
    run_work(subtests, app, api, cast, work_world, EARNINGS_CASES)


def test_the_ends_of_the_calendar_and_of_64_bits_are_answered_not_crashed(
    subtests, app, api, cast, work_world
):
    """A statement of the calendar's first or last day, a member or a page past 64 bits:
    nothing there, or a 422 naming what is wrong; never an error 500 (which the test client
    raises), and nothing written."""
    ids, tables = work_world, Tables(app)

    def nothing_or_refused(answer, empty, code, field=None):
        if answer.status == 422:
            assert answer.error_code == code, answer.text[:500]
            if field:
                assert field in answer.body["error"]["details"]["fields"]["query"]
        else:
            assert (answer.status, empty(answer)) == (200, True), answer.text[:500]

    for period in ("from=9999-12-31&to=9999-12-31", "from=0001-01-01&to=0001-01-01"):
        for also, empty in (
            ("", lambda answer: answer.body["rows"] == []),
            ("&format=csv", lambda answer: answer.text.count("\n") == 1),
        ):
            with subtests.test(f"statement {period}{also}"):
                answer = api.get(f"/me/earnings/statement?{period}{also}", cast.li)
                nothing_or_refused(answer, empty, "invalid_period")
        with subtests.test(f"days {period}"):
            answer = api.get(f"/me/earnings/days?{period}", cast.li)
            nothing_or_refused(answer, lambda answer: answer.body["days"] == [], "invalid_period")
    for n in (HUGE_ID, SIGNED_OVERFLOW):
        with subtests.test(f"history of member {n}"):
            history = f"/teams/{ids['lotus']}/members/{{}}/levels"
            unknown = api.get(history.format(999_999), cast.owner)
            answer = api.get(history.format(n), cast.owner)
            assert (answer.status, answer.error_code) == (unknown.status, unknown.error_code)
            assert (answer.status, answer.error_code) == (404, "member_not_found")
        for who, path in (
            ("rival_owner", "/disputes"),
            ("li", "/tasks"),
            ("rival_owner", "/submissions"),
            ("admin", "/invoices"),
        ):
            with subtests.test(f"{path} after {n}"):
                answer = api.get(f"{path}?after={n}", cast.tokens[who])
                nothing_or_refused(
                    answer, lambda answer: answer.body == [], "validation_failed", "after"
                )
    assert tables.look() == tables.seen
