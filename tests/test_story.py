"""The README's story, end to end through the HTTP API, on SQLite and PostgreSQL.

2,000 boxes at 0.10 CNY, net 30. Lotus claims them and pays its annotators 0.06
per accepted box. Li, Wang and Zhang get 700, 613 and 650 boxes accepted.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tests.flows import (
    claim,
    holding,
    ledger_totals,
    post_order,
    review,
    set_rate,
    submit,
)

pytestmark = pytest.mark.slow

SUBMITTED = {"li": 710, "wang": 630, "zhang": 660}  # 2,000 boxes in all
ACCEPTED = {"li": 700, "wang": 613, "zhang": 650}  # 1,963 accepted
EXPECTED_EARNINGS = {"li": "42.00", "wang": "36.78", "zhang": "39.00"}  # x 0.06
TEAM_MARGIN = "78.52"  # 196.30 - 42.00 - 36.78 - 39.00


def ledger_is_balanced(api, cast):
    assert all(total == 0 for total in ledger_totals(api, cast.admin).values())


def work_the_order(api, cast, order_id):
    """Lotus claims every batch at 0.06 a box; each annotator submits her share and the
    reviewer accepts the story's numbers, rejecting the rest with a reason."""
    claim(api, cast.owner, order_id)
    set_rate(api, cast.owner, order_id, "0.06")
    for annotator, count in SUBMITTED.items():
        ids = submit(api, cast.tokens[annotator], count)
        review(
            api, cast.reviewer, accept=ids[: ACCEPTED[annotator]], reject=ids[ACCEPTED[annotator] :]
        )


def test_one_order_from_posting_to_payout(api, cast, frozen_clock):
    order_id = post_order(api, cast.client, items=2000, price="0.10", batch_size=500)
    order = api.get(f"/orders/{order_id}", cast.client).body
    assert (order["quantity"], order["status"], order["unit_price"]) == (2000, "published", "0.1")
    assert len(api.get(f"/orders/{order_id}/batches", cast.client).body) == 4

    work_the_order(api, cast, order_id)
    rejected = api.get("/submissions?status=rejected&limit=1000", cast.reviewer).body
    assert len(rejected) == 37 and {s["reason"] for s in rejected} == {"box misses the wheel"}
    ledger_is_balanced(api, cast)

    # The invoice: 1,963 x 0.10 = 196.30, a 5 % fee of 9.815 -> 9.82, 206.12 due in 30 days.
    invoice = api.post(f"/orders/{order_id}/invoices", cast.admin).body
    assert [(line["kind"], line["quantity"], line["amount"]) for line in invoice["lines"]] == [
        ("items", 1963, "196.30"),
        ("fee", None, "9.82"),
    ]
    assert (invoice["items_amount"], invoice["fee"], invoice["total"]) == (
        "196.30",
        "9.82",
        "206.12",
    )
    assert invoice["due_on"] == "2026-04-01" and invoice["status"] == "open"
    assert api.get(f"/invoices/{invoice['id']}", cast.client).body["total"] == "206.12"
    ledger_is_balanced(api, cast)

    # Until the client pays, everything is pending, and says which invoice it waits on.
    for label, amount in EXPECTED_EARNINGS.items():
        mine = holding(api, cast.tokens[label], "annotator")
        assert (mine["pending"], mine["available"], mine["paid"]) == (amount, "0.00", "0.00")
        assert [(w["invoice_number"], w["due_on"], w["amount"]) for w in mine["waiting_on"]] == [
            (invoice["number"], "2026-04-01", amount)
        ]
    team = holding(api, cast.owner, "team")
    assert (team["pending"], team["available"]) == (TEAM_MARGIN, "0.00")
    assert holding(api, cast.admin, "platform")["pending"] == "9.82"
    nothing = api.post("/payout-runs", cast.admin, {"currency": "CNY"})
    assert (
        nothing.status == 201 and nothing.body["payouts"] == [] and nothing.body["total"] == "0.00"
    )

    # On 20 April the client's bank transfer arrives; settlement makes every share available.
    frozen_clock.moment = datetime(2026, 4, 20, 2, 0, tzinfo=UTC)
    paid = api.post(
        f"/invoices/{invoice['id']}/payments",
        cast.admin,
        {"amount": "206.12", "reference": "ICBC-20260420-0001", "received_on": "2026-04-20"},
    )
    assert paid.status == 201, paid.body
    assert api.get(f"/invoices/{invoice['id']}", cast.client).body["status"] == "paid"
    for label, amount in EXPECTED_EARNINGS.items():
        mine = holding(api, cast.tokens[label], "annotator")
        assert (mine["pending"], mine["available"], mine["waiting_on"]) == ("0.00", amount, [])
    assert holding(api, cast.owner, "team")["available"] == TEAM_MARGIN
    ledger_is_balanced(api, cast)

    # The payout run pays each annotator and the team what is available, in a bank file.
    run = api.post("/payout-runs", cast.admin, {"currency": "CNY"}).body
    paid_out = {(p["payee_name"], p["amount"]) for p in run["payouts"]}
    assert paid_out == {("Li", "42.00"), ("Wang", "36.78"), ("Zhang", "39.00"), ("Lotus", "78.52")}
    assert run["total"] == "196.30"
    bank_file = api.get(f"/payout-runs/{run['id']}/bank-file", cast.admin).text.splitlines()
    assert bank_file[0] == "payout_id,payee,bank_account,currency,amount,reference"
    assert sorted(row.split(",")[4] for row in bank_file[1:]) == [
        "36.78",
        "39.00",
        "42.00",
        "78.52",
    ]
    for label, amount in EXPECTED_EARNINGS.items():
        mine = holding(api, cast.tokens[label], "annotator")
        assert (mine["pending"], mine["available"], mine["paid"]) == ("0.00", "0.00", amount)
    assert holding(api, cast.owner, "team")["paid"] == TEAM_MARGIN
    assert api.post("/payout-runs", cast.admin, {"currency": "CNY"}).body["payouts"] == []
    ledger_is_balanced(api, cast)
    assert sum(Decimal(a) for a in EXPECTED_EARNINGS.values()) + Decimal(TEAM_MARGIN) == Decimal(
        "196.30"
    )
    assert date.fromisoformat(invoice["due_on"]) == date(2026, 4, 1)
