"""Reads of money that arrived and went back: payments, their refunds and chargebacks, an
invoice's credit notes, invoices as CSV, and the reconciliation; on the paid story (see
the `paid` fixture). Each is refused without a word about what the caller may not see."""

import pytest

from tests.bad_input.cases import HUGE_ID, SIGNED_OVERFLOW, case, query_case, run

pytestmark = pytest.mark.slow

NOT_PAYMENT = (404, "payment_not_found")
NOT_INVOICE = (404, "invoice_not_found")
OUTSIDERS = ("owner", "reviewer", "li", "rival_client", "rival_owner", "rival_annotator")
UNKNOWN_IDS = (999_999, 0, HUGE_ID, SIGNED_OVERFLOW)


def unseen(path: str, missing: tuple[int, str], name: str) -> list:
    """`path` (of the paid story's objects) as each caller who may not see it, and as the
    admin on ids that are nobody's."""
    return [
        *(case(f"{name} as {who}", f"{who} GET {path}", *missing) for who in OUTSIDERS),
        case(f"{name} as anonymous", f"anonymous GET {path}", 401, "missing_token"),
        case(f"{name} as a stranger", f"stranger GET {path}", 401, "invalid_token"),
    ]


def nobodys(template: str, missing: tuple[int, str], name: str) -> list:
    return [
        *(case(f"{name} {n}", f"admin GET {template.format(n)}", *missing) for n in UNKNOWN_IDS),
        case(f"{name} abc", f"admin GET {template.format('abc')}", 404, "not_found"),
    ]


RECONCILE = "admin GET /reconciliation"
PERIOD = "currency=CNY&from=2026-03-01&to=2026-03-02"

COLLECTION_READ_CASES = [
    # Payments: the client's admins and platform admins read them.
    *(
        query_case(f"payments {query}", "admin GET /payments", query, field)
        for query, field in (
            ("limit=0", "limit"),
            ("limit=1001", "limit"),
            ("limit=ten", "limit"),
            ("after=-1", "after"),
            (f"after={HUGE_ID}", "after"),
            (f"after={SIGNED_OVERFLOW}", "after"),
        )
    ),
    case("payments as anonymous", "anonymous GET /payments", 401, "missing_token"),
    *unseen("/payments/{payment}", NOT_PAYMENT, "the payment"),
    *nobodys("/payments/{}", NOT_PAYMENT, "payment"),
    *unseen("/payments/{payment}/reversals", NOT_PAYMENT, "its reversals"),
    *nobodys("/payments/{}/reversals", NOT_PAYMENT, "reversals of payment"),
    # Credit notes: read through their invoice.
    *unseen("/invoices/{invoice}/credit-notes", NOT_INVOICE, "credit notes"),
    *nobodys("/invoices/{}/credit-notes", NOT_INVOICE, "credit notes of invoice"),
    # Invoices as CSV: a known format, and nothing more disclosed in CSV than in JSON.
    *(
        query_case(f"{name} format={value}", route, f"format={value}", "format")
        for name, route in (
            ("invoices", "client GET /invoices"),
            ("invoice", "client GET /invoices/{invoice}"),
            ("invoice of another client", "rival_client GET /invoices/{invoice}"),
        )
        for value in ("xml", "CSV", "", "json,csv", "pdf")
    ),
    *unseen("/invoices/{invoice}?format=csv", NOT_INVOICE, "the invoice as CSV"),
    *nobodys("/invoices/{}?format=csv", NOT_INVOICE, "CSV of invoice"),
    # The reconciliation: platform admins, a period of at most 366 days running forward.
    *(
        case(f"reconciliation as {who}", f"{who} GET /reconciliation?{PERIOD}", 403, "forbidden")
        for who in ("client", "owner", "reviewer", "li", "rival_client", "rival_owner")
    ),
    case(
        "reconciliation as anonymous",
        f"anonymous GET /reconciliation?{PERIOD}",
        401,
        "missing_token",
    ),
    *(
        query_case(f"reconciliation {query}", RECONCILE, query, field)
        for query, field in (
            ("from=2026-03-01&to=2026-03-02", "currency"),
            ("currency=XXX&from=2026-03-01&to=2026-03-02", "currency"),
            ("currency=cny&from=2026-03-01&to=2026-03-02", "currency"),
            ("currency=&from=2026-03-01&to=2026-03-02", "currency"),
            ("currency=RMB&from=2026-03-01&to=2026-03-02", "currency"),
            ("currency=CNY&to=2026-03-02", "from"),
            ("currency=CNY&from=2026-03-01", "to"),
            ("currency=CNY&from=2026-03-02&to=2026-03-01", "to"),
            ("currency=CNY&from=2025-02-28&to=2026-03-02", "to"),  # 367 days
            ("currency=CNY&from=0001-01-01&to=9999-12-31", "to"),
            ("currency=CNY&from=2026-02-30&to=2026-03-02", "from"),
            ("currency=CNY&from=03/01/2026&to=2026-03-02", "from"),
            ("currency=CNY&from=2026-03-01T00:00:00&to=2026-03-02", "from"),
            ("currency=CNY&from=2026-03-01&to=today", "to"),
            ("currency=CNY&from=2026-03-01&to=", "to"),
        )
    ),
    # A client asking for a backwards period is told what is wrong with it: the query is
    # read before the caller's role is looked at, as everywhere.
    query_case(
        "client's backwards reconciliation",
        "client GET /reconciliation",
        "currency=CNY&from=2026-03-02&to=2026-03-01",
        "to",
    ),
]


def test_a_bad_read_of_payments_credit_notes_or_reconciliation_is_refused(
    subtests, app, api, cast, paid
):
    run(subtests, app, api, cast, paid, COLLECTION_READ_CASES)


def test_a_reconciliation_of_a_year_or_the_calendars_ends_is_answered(app, api, cast, paid):
    """366 days, and the first and last days of the calendar, are periods: answered (the
    payment of the paid story in its period, nothing at the calendar's ends), never a 500."""
    for period, payments in (
        ("from=2025-03-01&to=2026-03-02", 1),  # 366 days, today included
        ("from=2026-03-02&to=2026-03-02", 1),
        ("from=0001-01-01&to=0001-01-01", 0),
        ("from=9999-12-31&to=9999-12-31", 0),
        ("from=9998-12-31&to=9999-12-31", 0),
    ):
        answer = api.get(f"/reconciliation?currency=CNY&{period}", cast.admin)
        assert answer.status == 200, (period, answer.text[:500])
        assert (answer.body["payments"], answer.body["mismatches"]) == (payments, []), period
