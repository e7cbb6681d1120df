"""Reconciliation: what the gateways say arrived, against our records and the ledger; every
disagreement is listed, and a clean book lists none."""

from sqlalchemy import update

from marketplace.db import db
from marketplace.payments.models import Invoice
from tests.flows import invoiced

PERIOD = "currency=CNY&from=2026-03-01&to=2026-03-31"


def pay(api, cast, invoice, amount, reference):
    answer = api.post(
        f"/invoices/{invoice['id']}/payments",
        cast.admin,
        {"amount": amount, "reference": reference, "received_on": "2026-03-02"},
    )
    assert answer.status == 201, answer.text
    return answer.body


def test_a_clean_book_reconciles_and_a_broken_one_names_each_mismatch(app, api, cast, frozen_clock):
    invoice = invoiced(api, cast)  # 1.05
    first = pay(api, cast, invoice, "0.50", "ICBC-1")
    pay(api, cast, invoice, "0.80", "ICBC-2")  # 0.55 pays the rest, 0.25 is credit
    refund = api.post(
        f"/payments/{first['id']}/reversals",
        cast.admin,
        {"kind": "refund", "amount": "0.10", "reference": "ICBC-R1", "reason": "goodwill"},
    )
    assert refund.status == 201, refund.text
    # The refund reopened 0.10 of the invoice, and ICBC-2's credit paid it again at once:
    # 0.50 + 0.55 + 0.10 settled in all, 0.15 still credit.
    report = api.get(f"/reconciliation?{PERIOD}", cast.admin).body
    assert report["mismatches"] == []
    assert (report["payments"], report["gateways"], report["ledger"]) == (
        2,
        {"manual": {"arrived": "1.30", "returned": "0.10"}},
        {"received": "1.30", "settled": "1.15"},
    )
    assert report["stripe_checked"] is False

    # A bug (simulated here by hand) that forgot part of a payment on the invoice shows up.
    with app.app_context():
        db.session.execute(update(Invoice).where(Invoice.id == invoice["id"]).values(paid_minor=90))
        db.session.commit()
    [mismatch] = api.get(f"/reconciliation?{PERIOD}", cast.admin).body["mismatches"]
    assert mismatch == {
        "kind": "invoice_paid_differs",
        "expected": "1.05",
        "found": "0.90",
        "invoice_id": invoice["id"],
    }


def test_reconciliation_asks_stripe_and_lists_what_it_holds_that_we_do_not(
    api, cast, frozen_clock, standin
):
    invoice = invoiced(api, cast)
    paid = api.post(
        f"/invoices/{invoice['id']}/card-payments", cast.client, {"payment_method": "pm_card_visa"}
    )
    assert paid.status == 201, paid.text
    # A refund made on Stripe's dashboard whose event never reached us.
    standin.client().v1.refunds.create(
        params={"payment_intent": paid.body["payment_intent"], "amount": 30}
    )
    received_on = paid.body["payment"]["received_on"]
    report = api.get(
        f"/reconciliation?currency=CNY&from={received_on}&to={received_on}", cast.admin
    ).body
    assert report["stripe_checked"] is True
    assert [(m["kind"], m["expected"], m["found"]) for m in report["mismatches"]] == [
        ("refunds_differ_at_stripe", "0.30", "0.00")
    ]
    # Once the event arrives, the books agree again.
    standin.deliver_pending()
    report = api.get(
        f"/reconciliation?currency=CNY&from={received_on}&to={received_on}", cast.admin
    ).body
    assert report["mismatches"] == []


def test_only_admins_reconcile_and_a_period_must_make_sense(api, cast):
    assert api.get(f"/reconciliation?{PERIOD}", cast.client).status == 403
    backwards = api.get("/reconciliation?currency=CNY&from=2026-03-31&to=2026-03-01", cast.admin)
    assert (backwards.status, backwards.error_code) == (422, "validation_failed")
    too_long = api.get("/reconciliation?currency=CNY&from=2025-01-01&to=2026-03-01", cast.admin)
    assert too_long.status == 422
