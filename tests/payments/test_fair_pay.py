"""Fair-pay top-ups: once an order's pace is measured, the client tops up the items that
paid their annotators below the reference wage, on the statement that bills them, and the
top-up reaches those annotators whole (FAIR_PAY_TOP_UPS=on).

The world: Shanghai's reference wage of 24.00 CNY an hour; 40 boxes at 0.10, Lotus pays
Li 0.06 a box, and each box takes her 36 s. At the median of 36 s an hour's wage is 0.24
a box: each box is topped up by 0.18, 7.20 for the 40.
"""

import pytest

from marketplace.db import unit_of_work
from marketplace.payments.invoices import Terms, settle_funded_work
from tests import flows
from tests.flows import claim, holding, ledger_totals, order_body, review, set_rate
from tests.wages import set_wage, work

# Forty boxes worked one by one, each timed: end to end, so `make check` leaves them out.
pytestmark = pytest.mark.slow


@pytest.fixture
def top_ups(app, monkeypatch):
    monkeypatch.setitem(app.config, "FAIR_PAY_TOP_UPS", True)


def forty_boxes(api, cast, frozen_clock, items=40, **terms) -> int:
    answer = api.post("/orders", cast.client, order_body(items=items, batch_size=items, **terms))
    assert answer.status == 201, answer.body
    order = answer.body["id"]
    assert api.post(f"/orders/{order}/publish", cast.client).status == 200
    claim(api, cast.owner, order)
    set_rate(api, cast.owner, order, "0.06")
    review(api, cast.reviewer, accept=work(api, frozen_clock, cast.li, [36] * items))
    return order


def test_an_invoice_tops_up_the_items_paid_below_the_wage(app, api, cast, frozen_clock, top_ups):
    set_wage(api, cast.admin)
    order = forty_boxes(api, cast, frozen_clock)
    invoice = api.post(f"/orders/{order}/invoices", cast.admin).body
    assert [(line["kind"], line["quantity"], line["amount"]) for line in invoice["lines"]] == [
        ("items", 40, "4.00"),
        ("fee", None, "0.20"),
        ("top_up", 40, "7.20"),
    ]
    assert "at the order's median of 36 s an item" in invoice["lines"][2]["description"]
    assert (invoice["items_amount"], invoice["fee"], invoice["total"]) == ("4.00", "0.20", "11.40")
    # Li waits for 2.40 of pay and 7.20 of top-up; Lotus's margin is untouched, no fee on it.
    assert holding(api, cast.li, "annotator")["pending"] == "9.60"
    assert holding(api, cast.owner, "team")["pending"] == "1.60"
    assert holding(api, cast.admin, "platform")["pending"] == "0.20"
    paid = api.post(
        f"/invoices/{invoice['id']}/payments",
        cast.admin,
        {"amount": "11.40", "reference": "ICBC-FAIR-1", "received_on": "2026-03-02"},
    )
    assert paid.status == 201, paid.body
    assert holding(api, cast.li, "annotator")["available"] == "9.60"
    assert ledger_totals(api, cast.admin) == {"CNY": 0}


def test_no_top_up_when_the_setting_is_off(app, api, cast, frozen_clock):
    set_wage(api, cast.admin)
    order = forty_boxes(api, cast, frozen_clock)
    invoice = api.post(f"/orders/{order}/invoices", cast.admin).body
    assert [line["kind"] for line in invoice["lines"]] == ["items", "fee"]
    assert invoice["total"] == "4.20"


def test_no_top_up_before_30_items_are_measured(app, api, cast, frozen_clock, top_ups):
    # 29 boxes: the pace is still the client's estimate (none), and pay is never judged on it.
    set_wage(api, cast.admin)
    order = forty_boxes(api, cast, frozen_clock, items=29)
    invoice = api.post(f"/orders/{order}/invoices", cast.admin).body
    assert [line["kind"] for line in invoice["lines"]] == ["items", "fee"]


def test_a_funded_statement_takes_the_top_up_from_the_balance(
    app, api, cast, frozen_clock, top_ups
):
    set_wage(api, cast.admin)
    flows.top_up(api, cast.admin, cast.party_ids["horizon"], "20.00", "ICBC-FAIR-2")
    forty_boxes(api, cast, frozen_clock, funding="prefunded")
    with app.app_context(), unit_of_work() as session:
        [statement] = settle_funded_work(session, Terms.from_config(app.config))
        assert (statement.total_minor, statement.status) == (1140, "paid")
    assert holding(api, cast.li, "annotator")["available"] == "9.60"
    [cny] = [b for b in api.get("/balance", cast.client).body if b["currency"] == "CNY"]
    # 20.00 - 4.20 reserved and posted - 7.20 of top-up; nothing left reserved.
    assert (cny["available"], cny["reserved"]) == ("8.60", "0.00")
    assert ledger_totals(api, cast.admin) == {"CNY": 0}


def test_a_top_up_the_balance_cannot_pay_waits_alone(app, api, cast, frozen_clock, top_ups):
    # 5.00 in: the reservation pays the 4.20 of work, 0.80 of the 7.20 top-up is there.
    set_wage(api, cast.admin)
    flows.top_up(api, cast.admin, cast.party_ids["horizon"], "5.00", "ICBC-FAIR-3")
    forty_boxes(api, cast, frozen_clock, funding="prefunded")
    with app.app_context(), unit_of_work() as session:
        [statement] = settle_funded_work(session, Terms.from_config(app.config))
        assert (statement.total_minor, statement.paid_minor) == (1140, 500)
    # The funded work is settled whole: Li's 2.40, Lotus's 1.60, the platform's 0.20.
    # Of her 7.20 top-up, the 0.80 paid is hers; 6.40 waits for the client.
    li = holding(api, cast.li, "annotator")
    assert (li["available"], li["pending"]) == ("3.20", "6.40")
    lotus = holding(api, cast.owner, "team")
    assert (lotus["available"], lotus["pending"]) == ("1.60", "0.00")
    assert holding(api, cast.admin, "platform")["available"] == "0.20"
    assert ledger_totals(api, cast.admin) == {"CNY": 0}
