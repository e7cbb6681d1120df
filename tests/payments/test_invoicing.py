"""Invoicing rules beyond the story: sub-cent prices, several teams, rate changes, once only."""

from datetime import UTC, datetime

from marketplace.db import unit_of_work
from marketplace.payments.invoices import Terms, invoice_all_accepted_work
from tests.flows import claim, holding, ledger_totals, post_order, review, set_rate, submit

TERMS = Terms(fee_bps=500, timezone="Asia/Shanghai")


def test_each_team_is_a_line_and_each_rate_is_rounded_once(api, cast, frozen_clock):
    # 0.055 CNY a box: Lotus does 3 boxes, Tiger 1. Lines: 3 x 0.055 = 0.165 -> 0.17 and
    # 1 x 0.055 = 0.055 -> 0.06, so the client owes 0.23, fee 5 % of 0.23 = 0.0115 -> 0.01.
    order_id = post_order(api, cast.client, items=4, price="0.055", batch_size=1)
    claim(api, cast.owner, order_id, batches=3)
    claim(api, cast.rival_owner, order_id, batches=1)
    set_rate(api, cast.owner, order_id, "0.03")
    first = submit(api, cast.li, 2)
    review(api, cast.reviewer, accept=first)  # 2 x 0.03 = 0.06
    set_rate(api, cast.owner, order_id, "0.035")
    review(api, cast.reviewer, accept=submit(api, cast.li, 1))  # 1 x 0.035 = 0.035 -> 0.04
    set_rate(api, cast.rival_owner, order_id, "0.05")
    review(api, cast.rival_reviewer, accept=submit(api, cast.rival_annotator, 1))  # 0.05

    invoice = api.post(f"/orders/{order_id}/invoices", cast.admin).body
    lines = sorted(
        (line["quantity"], line["amount"]) for line in invoice["lines"] if line["kind"] == "items"
    )
    assert lines == [(1, "0.06"), (3, "0.17")]
    assert (invoice["items_amount"], invoice["fee"], invoice["total"]) == ("0.23", "0.01", "0.24")
    # Li: 0.06 at the first rate + 0.04 at the second; Lotus keeps 0.17 - 0.10 = 0.07.
    assert holding(api, cast.li, "annotator")["pending"] == "0.10"
    assert holding(api, cast.owner, "team")["pending"] == "0.07"
    assert holding(api, cast.rival_annotator, "annotator")["pending"] == "0.05"
    assert holding(api, cast.rival_owner, "team")["pending"] == "0.01"
    assert ledger_totals(api, cast.admin) == {"CNY": 0}


def test_accepted_work_waits_as_unbilled_until_it_is_invoiced_once(api, cast, frozen_clock):
    order_id = post_order(api, cast.client, items=10, batch_size=10)
    claim(api, cast.owner, order_id)
    set_rate(api, cast.owner, order_id, "0.06")
    ids = submit(api, cast.li, 5)
    review(api, cast.reviewer, accept=ids[:4], reject=ids[4:])
    mine = holding(api, cast.li, "annotator")
    assert mine["unbilled"] == {"items": 4, "amount": "0.24"} and mine["pending"] == "0.00"

    assert api.post(f"/orders/{order_id}/invoices", cast.admin).status == 201
    again = api.post(f"/orders/{order_id}/invoices", cast.admin)
    assert (again.status, again.error_code) == (409, "nothing_to_invoice")
    mine = holding(api, cast.li, "annotator")
    assert mine["unbilled"] is None and mine["pending"] == "0.24"


def test_the_nightly_job_invoices_every_order_with_accepted_work_once(app, api, cast, frozen_clock):
    frozen_clock.stand_at("2026-12-31T12:00:00+08:00")
    worked, idle = (
        post_order(api, cast.client, items=3, batch_size=3, billing_period="monthly")
        for _ in range(2)
    )
    claim(api, cast.owner, worked)
    set_rate(api, cast.owner, worked, "0.06")
    review(api, cast.reviewer, accept=submit(api, cast.li, 3))
    frozen_clock.moment = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)  # 00:30 Jan 1st in Shanghai

    with app.app_context(), unit_of_work() as session:
        [invoice] = invoice_all_accepted_work(session, TERMS)
        assert (invoice.order_id, invoice.total_minor) == (worked, 30 + 2)  # 0.30 + 0.015 -> 0.02
        # Numbered in the business zone's year, which has already turned.
        assert invoice.number == "INV-2027-000001"
        assert str(invoice.due_on) == "2027-01-31"
        [line, _fee] = invoice.lines
        assert (str(line.period_start), str(line.period_end)) == ("2026-12-01", "2026-12-31")
    with app.app_context(), unit_of_work() as session:
        assert invoice_all_accepted_work(session, TERMS) == []
    assert idle not in {i["order_id"] for i in api.get("/invoices", cast.admin).body}


def test_invoice_numbers_run_without_gaps(api, cast, frozen_clock):
    numbers = []
    for _ in range(3):
        order_id = post_order(api, cast.client, items=1, batch_size=1)
        claim(api, cast.owner, order_id)
        set_rate(api, cast.owner, order_id, "0.06")
        review(api, cast.reviewer, accept=submit(api, cast.li, 1))
        numbers.append(api.post(f"/orders/{order_id}/invoices", cast.admin).body["number"])
        # An order with nothing accepted is refused and uses no number.
        empty = post_order(api, cast.client, items=1, batch_size=1)
        assert api.post(f"/orders/{empty}/invoices", cast.admin).status == 409
    assert numbers == ["INV-2026-000001", "INV-2026-000002", "INV-2026-000003"]
