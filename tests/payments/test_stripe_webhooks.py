"""Stripe's webhooks: payments, refunds and chargebacks recorded once, whatever the delivery.

What the user relies on: only events signed by Stripe with our secret, and fresh (within the
SDK's 300 s), are acted on; anything else is 400 `invalid_signature` and writes nothing.
Stripe sends events at least once, late and out of order: each event is acted on once by
its id; a refund that arrives before its payment's own event has the payment fetched from
Stripe first; refunds are recorded from the charge's cumulative refunded total, so late or
repeated ones never refund twice; a chargeback makes the invoice owed again and puts every
share back to pending, and a won dispute pays it again. Every figure is exact to the fen and
the ledger sums to zero throughout. The events come from our stand-in, delivered straight to
the app's endpoint.
"""

import time

import pytest

from tests.flows import ledger_totals
from tests.payments.test_settlement import invoice_state, issue, lotus_order, money
from tests.support import row_counts

# Real Stripe-speaking servers on loopback: end-to-end, so `make check` leaves them out.
pytestmark = pytest.mark.slow


def seven_boxes(api, cast) -> dict:
    """7 boxes at 0.10 CNY done by Lotus at 0.06, invoiced: Li 4 -> 0.24, Wang 3 -> 0.18,
    Lotus keeps 0.70 - 0.42 = 0.28, the 5 % fee 3.5 -> 0.04 (half-up); total 0.74."""
    invoice = issue(api, cast, lotus_order(api, cast, 7, li=4, wang=3))
    assert (invoice["total"], invoice["status"]) == ("0.74", "open")
    return invoice


def holders(cast) -> dict[str, tuple[str, str]]:
    return {
        "li": (cast.li, "annotator"),
        "wang": (cast.wang, "annotator"),
        "lotus": (cast.owner, "team"),
        "platform": (cast.admin, "platform"),
    }


# (available, pending) of each holder.
UNPAID = {
    "li": ("0.00", "0.24"),
    "wang": ("0.00", "0.18"),
    "lotus": ("0.00", "0.28"),
    "platform": ("0.00", "0.04"),
}
SETTLED = {
    "li": ("0.24", "0.00"),
    "wang": ("0.18", "0.00"),
    "lotus": ("0.28", "0.00"),
    "platform": ("0.04", "0.00"),
}


def paid_at_stripe(standin, cast, invoice, amount=74):
    """A succeeded PaymentIntent for the invoice made at Stripe itself (the app has not heard of
    it: only its events will tell)."""
    return standin.client().v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "cny",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "metadata": {
                "invoice_id": str(invoice["id"]),
                "client_id": str(cast.party_ids["horizon"]),
            },
        }
    )


def refund(standin, intent_id, amount):
    return standin.client().v1.refunds.create(
        params={"payment_intent": intent_id, "amount": amount}
    )


def pay_by_card(api, cast, invoice):
    answer = api.post(
        f"/invoices/{invoice['id']}/card-payments", cast.client, {"payment_method": "pm_card_visa"}
    )
    assert answer.status == 201 and answer.body["status"] == "succeeded", answer.body
    return answer.body


def payments(api, cast) -> list[tuple[str, str, str, str]]:
    """Each payment's (reference, amount, applied, returned), as the client reads them."""
    return [
        (p["reference"], p["amount"], p["applied"], p["returned"])
        for p in api.get("/payments", cast.client).body
    ]


def reversals(api, cast, payment_id) -> list[tuple[str, str, str]]:
    listed = api.get(f"/payments/{payment_id}/reversals", cast.client).body
    return [(r["kind"], r["reference"], r["amount"]) for r in listed]


def test_unsigned_forged_altered_or_stale_events_are_refused_and_write_nothing(
    app, api, cast, frozen_clock, standin, webhook
):
    invoice = seven_boxes(api, cast)
    intent = paid_at_stripe(standin, cast, invoice)
    [event] = standin.events_of("payment_intent.succeeded")
    body = standin.payload(event)
    now = int(time.time())
    before = row_counts(app)

    assert standin.deliver(event, secret="whsec_someone_else") == [400]
    assert standin.deliver(event, timestamp=now - 301) == [400]  # older than 300 s
    altered = body.replace(b'"amount_received": 74', b'"amount_received": 7400')
    assert altered != body
    json = {"Content-Type": "application/json"}
    signed_for_body = json | {"Stripe-Signature": standin.sign(body, timestamp=now)}
    assert webhook.post(altered, signed_for_body) == 400
    assert webhook.post(body, json) == 400  # no header
    assert webhook.post(body, json | {"Stripe-Signature": "t=1,v1=00"}) == 400
    assert [a["error"]["code"] for a in webhook.answers] == ["invalid_signature"] * 5
    assert row_counts(app) == before
    assert invoice_state(api, cast, invoice["id"]) == ("open", "0.00", "0.74")

    # The same event, signed as Stripe signs it, is acted on.
    assert standin.deliver(event) == [200]
    assert webhook.answers[-1]["outcome"].startswith("payment ")
    assert payments(api, cast) == [(intent.id, "0.74", "0.74", "0.00")]
    assert money(api, holders(cast)) == SETTLED


def test_an_event_delivered_twice_is_acted_on_once(app, api, cast, frozen_clock, standin, webhook):
    invoice = seven_boxes(api, cast)
    intent = paid_at_stripe(standin, cast, invoice)
    [event] = standin.events_of("payment_intent.succeeded")

    assert standin.deliver(event) == [200]
    first = webhook.answers[-1]
    after_first = row_counts(app)
    assert standin.deliver(event, times=2) == [200, 200]
    assert webhook.answers[-2:] == [first, first]
    assert row_counts(app) == after_first
    assert payments(api, cast) == [(intent.id, "0.74", "0.74", "0.00")]
    assert invoice_state(api, cast, invoice["id"]) == ("paid", "0.74", "0.00")
    assert money(api, holders(cast)) == SETTLED
    assert ledger_totals(api, cast.admin) == {"CNY": 0}


def test_a_refund_whose_event_comes_before_the_payments_is_recorded_after_it(
    app, api, cast, frozen_clock, standin, webhook
):
    invoice = seven_boxes(api, cast)
    intent = paid_at_stripe(standin, cast, invoice)
    refund(standin, intent.id, 20)

    delivered = standin.deliver_pending(order="reverse")
    assert [(d.type, d.status) for d in delivered] == [
        ("charge.refunded", 200),
        ("refund.created", 200),
        ("payment_intent.succeeded", 200),
        ("charge.succeeded", 200),
        ("payment_intent.created", 200),
    ]
    [payment] = api.get("/payments", cast.client).body
    outcomes = [a["outcome"] for a in webhook.answers]
    listed = api.get(f"/payments/{payment['id']}/reversals", cast.admin).body
    [refund_id] = [r["id"] for r in listed]
    assert outcomes[0] == f"refund {refund_id}"
    assert outcomes[2] == f"payment {payment['id']}"  # found, not recorded again
    assert [o.split(":")[0] for o in (outcomes[1], outcomes[3], outcomes[4])] == ["ignored"] * 3
    # The payment was fetched from Stripe to record the refund against it.
    assert any(r.path == f"/v1/payment_intents/{intent.id}" for r in standin.requests)
    assert (payment["reference"], payment["amount"], payment["applied"]) == (
        intent.id,
        "0.74",
        "0.54",
    )
    assert payment["returned"] == "0.20"
    charge = standin.object(intent.id)["latest_charge"]
    assert reversals(api, cast, payment["id"]) == [("refund", f"{charge}:refunded:20", "0.20")]
    assert invoice_state(api, cast, invoice["id"]) == ("open", "0.54", "0.20")
    # 0.20 back over the lines (70, 4)/74: 18.92, 1.08 -> 18 + 1, 1; the items line's 19
    # over Li 24, Wang 18, Lotus 28 (/70): 6.51, 4.89, 7.60 -> 6, 4 + 1, 7 + 1.
    assert money(api, holders(cast), invoice["id"]) == {
        "li": ("0.18", "0.06", "0.06"),
        "wang": ("0.13", "0.05", "0.05"),
        "lotus": ("0.20", "0.08", "0.08"),
        "platform": ("0.03", "0.01", "0.01"),
    }
    assert ledger_totals(api, cast.admin) == {"CNY": 0}

    # Stripe sending it all again, in any order, changes nothing.
    before = row_counts(app)
    for event in standin.events + list(reversed(standin.events)):
        assert standin.deliver(event) == [200]
    assert row_counts(app) == before
    assert payments(api, cast) == [(intent.id, "0.74", "0.54", "0.20")]


def test_two_partial_refunds_arriving_reversed_refund_their_total_once(
    app, api, cast, frozen_clock, standin, webhook
):
    invoice = seven_boxes(api, cast)
    paid = pay_by_card(api, cast, invoice)
    intent_id, payment_id = paid["payment_intent"], paid["payment"]["id"]
    refund(standin, intent_id, 20)
    refund(standin, intent_id, 10)
    first, second = standin.events_of("charge.refunded")
    assert [e["data"]["object"]["amount_refunded"] for e in (first, second)] == [20, 30]

    assert standin.deliver(second) == [200]  # the later total first: 0.30 at once
    assert standin.deliver(first) == [200]  # the earlier total: already covered
    assert webhook.answers[-1]["outcome"] == "refund already recorded"
    charge = second["data"]["object"]["id"]
    assert reversals(api, cast, payment_id) == [("refund", f"{charge}:refunded:30", "0.30")]
    assert payments(api, cast) == [(intent_id, "0.74", "0.44", "0.30")]
    assert invoice_state(api, cast, invoice["id"]) == ("open", "0.44", "0.30")
    # 0.30 over the lines (70, 4)/74: 28.38, 1.62 -> 28, 1 + 1; the items line's 28 over
    # (24, 18, 28)/70: 9.6, 7.2, 11.2 -> 9 + 1, 7, 11.
    assert money(api, holders(cast)) == {
        "li": ("0.14", "0.10"),
        "wang": ("0.11", "0.07"),
        "lotus": ("0.17", "0.11"),
        "platform": ("0.02", "0.02"),
    }
    before = row_counts(app)
    # The rest (the intent's and the refunds' own events), then both totals again.
    assert [d.status for d in standin.deliver_pending(order="random", seed=7)] == [200] * 5
    for event in (first, second):
        assert standin.deliver(event, times=2) == [200, 200]
    assert row_counts(app) == before | {"gateway_events": before["gateway_events"] + 5}
    assert payments(api, cast) == [(intent_id, "0.74", "0.44", "0.30")]

    # A third refund, in order: its event says 0.35 in all, so 0.05 more is recorded.
    refund(standin, intent_id, 5)
    [*_, third] = standin.events_of("charge.refunded")
    assert standin.deliver(third) == [200]
    assert reversals(api, cast, payment_id) == [
        ("refund", f"{charge}:refunded:30", "0.30"),
        ("refund", f"{charge}:refunded:35", "0.05"),
    ]
    assert payments(api, cast) == [(intent_id, "0.74", "0.39", "0.35")]
    # 0.05 over what is left settled, the lines (42, 2)/44: 4.77, 0.23 -> 4 + 1, 0; the
    # items line's 5 over (14, 11, 17)/42: 1.67, 1.31, 2.02 -> 1 + 1, 1, 2.
    assert money(api, holders(cast)) == {
        "li": ("0.12", "0.12"),
        "wang": ("0.10", "0.08"),
        "lotus": ("0.15", "0.13"),
        "platform": ("0.02", "0.02"),
    }
    assert ledger_totals(api, cast.admin) == {"CNY": 0}


def test_a_chargeback_makes_the_invoice_owed_again_and_a_won_dispute_pays_it(
    app, api, cast, frozen_clock, standin, webhook
):
    invoice = seven_boxes(api, cast)
    paid = pay_by_card(api, cast, invoice)
    intent_id, payment_id = paid["payment_intent"], paid["payment"]["id"]
    assert money(api, holders(cast)) == SETTLED
    charge = standin.object(intent_id)["latest_charge"]
    standin.deliver_pending()  # the payment's own events: already recorded

    dispute = standin.open_dispute(charge, reason="fraudulent")
    assert [(d.type, d.status) for d in standin.deliver_pending()] == [
        ("charge.dispute.created", 200),
        ("charge.dispute.funds_withdrawn", 200),
    ]
    assert reversals(api, cast, payment_id) == [("chargeback", dispute["id"], "0.74")]
    assert invoice_state(api, cast, invoice["id"]) == ("open", "0.00", "0.74")
    assert money(api, holders(cast), invoice["id"]) == {
        name: (*figures, figures[1]) for name, figures in UNPAID.items()
    }
    assert payments(api, cast) == [(intent_id, "0.74", "0.00", "0.74")]
    assert ledger_totals(api, cast.admin) == {"CNY": 0}
    before = row_counts(app)
    assert standin.deliver(standin.events_of("charge.dispute.funds_withdrawn")[0]) == [200]
    assert row_counts(app) == before

    standin.close_dispute(dispute["id"], won=True)
    assert [(d.type, d.status) for d in standin.deliver_pending()] == [
        ("charge.dispute.funds_reinstated", 200),
        ("charge.dispute.closed", 200),
    ]
    assert invoice_state(api, cast, invoice["id"]) == ("paid", "0.74", "0.00")
    assert money(api, holders(cast)) == SETTLED
    assert payments(api, cast) == [
        (intent_id, "0.74", "0.00", "0.74"),
        (f"{dispute['id']}:reinstated", "0.74", "0.74", "0.00"),
    ]
    assert ledger_totals(api, cast.admin) == {"CNY": 0}
    before = row_counts(app)
    for event in standin.events_of("charge.dispute.funds_reinstated") * 2:
        assert standin.deliver(event) == [200]
    assert row_counts(app) == before


def test_a_won_dispute_whose_events_arrive_reversed_leaves_the_invoice_paid(
    app, api, cast, frozen_clock, standin, webhook
):
    invoice = seven_boxes(api, cast)
    paid = pay_by_card(api, cast, invoice)
    standin.deliver_pending()
    dispute = standin.open_dispute(standin.object(paid["payment_intent"])["latest_charge"])
    standin.close_dispute(dispute["id"], won=True)
    delivered = standin.deliver_pending(order="reverse")
    assert [d.status for d in delivered] == [200] * 4
    assert ledger_totals(api, cast.admin) == {"CNY": 0}
    # Reinstated first: the money waits as the client's credit; withdrawn next: the credit
    # pays what the chargeback reopened. On balance the client has paid the invoice once.
    assert invoice_state(api, cast, invoice["id"]) == ("paid", "0.74", "0.00")
    assert money(api, holders(cast)) == SETTLED
    assert payments(api, cast) == [
        (paid["payment_intent"], "0.74", "0.00", "0.74"),
        (f"{dispute['id']}:reinstated", "0.74", "0.74", "0.00"),
    ]


def test_an_event_we_do_not_act_on_is_recorded_once_as_ignored(
    app, api, cast, frozen_clock, standin, webhook
):
    standin.client().v1.customers.create(params={"email": "client@example.com"})
    [event] = standin.events_of("customer.created")
    before = row_counts(app)
    assert standin.deliver(event, times=2) == [200, 200]
    answer = webhook.answers[0]
    assert (answer["id"], answer["type"], answer["outcome"]) == (
        event["id"],
        "customer.created",
        "ignored: not acted on",
    )
    assert webhook.answers[1] == answer
    assert row_counts(app) == before | {"gateway_events": before["gateway_events"] + 1}


def test_webhooks_need_the_secret_configured(
    app, api, cast, frozen_clock, standin, webhook, stripe_config
):

    stripe_config(standin.url, None)
    invoice = seven_boxes(api, cast)
    paid_at_stripe(standin, cast, invoice)
    before = row_counts(app)
    statuses = [d.status for d in standin.deliver_pending()]
    assert statuses == [409] * 3
    assert {a["error"]["code"] for a in webhook.answers} == {"stripe_not_configured"}
    assert row_counts(app) == before
    assert invoice_state(api, cast, invoice["id"]) == ("open", "0.00", "0.74")
