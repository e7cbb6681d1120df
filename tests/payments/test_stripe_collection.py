"""Card payments of invoices through Stripe: a client pays what it owes, once, and the money
is settled down the chain at once.

What the user relies on: a client pays its own invoice by card (POST
/invoices/{id}/card-payments); a payment that succeeds is recorded once, by its
PaymentIntent, and settled at once, so every holder's share is available to the fen;
Stripe's own signed event about that payment, arriving later, changes nothing; a declined
card, an invoice already paid, someone else's invoice, a role that does not pay invoices,
or a platform without Stripe is refused and writes nothing. The collection path runs
against localstripe (a real fake Stripe) and the refusals against our stand-in.
"""

import time

import pytest
import stripe

from tests.flows import holding, ledger_totals
from tests.payments.conftest import WEBHOOK_PATH
from tests.payments.test_settlement import invoice_state, issue, lotus_order, money
from tests.stripe_servers import WebhookReceiver, configure_localstripe_webhook
from tests.support import row_counts

# Real Stripe-speaking servers on loopback: end-to-end, so `make check` leaves them out.
pytestmark = pytest.mark.slow

LOCAL_WEBHOOK_SECRET = "whsec_localstripe_collection"


def seven_boxes(api, cast) -> dict:
    """7 boxes at 0.10 CNY done by Lotus, invoiced: Li 4 x 0.07 = 0.28, Wang 3 x 0.07 = 0.21,
    Lotus keeps 0.70 - 0.49 = 0.21, the 5 % fee 3.5 -> 0.04 (half-up); total 0.74."""
    invoice = issue(api, cast, lotus_order(api, cast, 7, rate="0.07", li=4, wang=3))
    assert (invoice["total"], invoice["status"]) == ("0.74", "open")
    return invoice


def lotus_holders(cast) -> dict[str, tuple[str, str]]:
    return {
        "li": (cast.li, "annotator"),
        "wang": (cast.wang, "annotator"),
        "lotus": (cast.owner, "team"),
        "platform": (cast.admin, "platform"),
    }


SETTLED = {
    "li": ("0.28", "0.00"),
    "wang": ("0.21", "0.00"),
    "lotus": ("0.21", "0.00"),
    "platform": ("0.04", "0.00"),
}
UNPAID = {
    "li": ("0.00", "0.28"),
    "wang": ("0.00", "0.21"),
    "lotus": ("0.00", "0.21"),
    "platform": ("0.00", "0.04"),
}


def pay_by_card(api, token, invoice_id, method="pm_card_visa"):
    return api.post(f"/invoices/{invoice_id}/card-payments", token, {"payment_method": method})


def wait_for_event(receiver: WebhookReceiver, event_type: str, object_id: str, seconds=15):
    """The first (body, signature) localstripe sends of this event about this object."""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"localstripe sent no {event_type} for {object_id} in {seconds} s"
        body, signature = receiver.received.get(timeout=left)
        event = stripe.Webhook.construct_event(body, signature, LOCAL_WEBHOOK_SECRET)
        if event.type == event_type and event.data.object.id == object_id:
            return body, signature


def test_a_client_pays_by_card_on_localstripe_and_its_late_event_changes_nothing(
    app, api, cast, frozen_clock, localstripe_url, stripe_config
):

    stripe_config(localstripe_url, LOCAL_WEBHOOK_SECRET)
    invoice = seven_boxes(api, cast)
    holders = lotus_holders(cast)
    assert money(api, holders) == UNPAID

    with WebhookReceiver() as receiver:
        configure_localstripe_webhook(
            localstripe_url, "piecework-collection", receiver.url, LOCAL_WEBHOOK_SECRET
        )
        answer = pay_by_card(api, cast.client, invoice["id"])
        assert answer.status == 201, answer.body
        intent_id = answer.body["payment_intent"]
        assert intent_id.startswith("pi_") and answer.body["status"] == "succeeded"
        payment = answer.body["payment"]
        assert (payment["gateway"], payment["reference"], payment["amount"]) == (
            "stripe",
            intent_id,
            "0.74",
        )
        assert (payment["applied"], payment["unapplied"], payment["returned"]) == (
            "0.74",
            "0.00",
            "0.00",
        )
        assert (payment["currency"], payment["invoice_id"]) == ("CNY", invoice["id"])
        assert invoice_state(api, cast, invoice["id"]) == ("paid", "0.74", "0.00")
        assert money(api, holders) == SETTLED
        assert ledger_totals(api, cast.admin) == {"CNY": 0}

        # localstripe's own signed event about the same PaymentIntent, about a second later.
        body, signature = wait_for_event(receiver, "payment_intent.succeeded", intent_id)

    before = row_counts(app)
    event = app.test_client().post(
        WEBHOOK_PATH,
        data=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )
    assert event.status_code == 200, event.get_json()
    assert event.get_json()["type"] == "payment_intent.succeeded"
    assert event.get_json()["outcome"] == f"payment {payment['id']}"
    # Only the event itself is recorded: the same payment, no new money.
    assert row_counts(app) == before | {"gateway_events": before["gateway_events"] + 1}
    listed = api.get("/payments", cast.client).body
    assert [(p["id"], p["reference"], p["amount"]) for p in listed] == [
        (payment["id"], intent_id, "0.74")
    ]
    assert money(api, holders) == SETTLED
    assert ledger_totals(api, cast.admin) == {"CNY": 0}


def test_a_declined_card_is_refused_and_writes_nothing(app, api, cast, frozen_clock, standin):
    invoice = seven_boxes(api, cast)
    before = row_counts(app)
    answer = pay_by_card(api, cast.client, invoice["id"], "pm_card_chargeDeclined")
    assert (answer.status, answer.error_code) == (409, "card_refused"), answer.body
    assert answer.body["error"]["details"]["gateway_code"] == "card_declined"
    assert row_counts(app) == before
    assert invoice_state(api, cast, invoice["id"]) == ("open", "0.00", "0.74")
    assert money(api, lotus_holders(cast)) == UNPAID
    # Stripe saw one confirmed PaymentIntent for the whole outstanding amount.
    [call] = [r for r in standin.requests if r.path == "/v1/payment_intents"]
    assert (call.status, call.params["amount"], call.params["currency"]) == (402, "74", "cny")
    assert call.params["metadata"] == {
        "invoice_id": str(invoice["id"]),
        "client_id": str(cast.party_ids["horizon"]),
    }


def test_after_a_declined_card_another_card_pays_the_invoice(app, api, cast, frozen_clock, standin):
    invoice = seven_boxes(api, cast)
    declined = pay_by_card(api, cast.client, invoice["id"], "pm_card_chargeDeclined")
    assert (declined.status, declined.error_code) == (409, "card_refused")
    paid = pay_by_card(api, cast.client, invoice["id"])
    assert paid.status == 201, paid.body
    assert (paid.body["status"], paid.body["payment"]["amount"]) == ("succeeded", "0.74")
    assert invoice_state(api, cast, invoice["id"]) == ("paid", "0.74", "0.00")
    assert money(api, lotus_holders(cast)) == SETTLED


def test_a_paid_invoice_cannot_be_paid_again(app, api, cast, frozen_clock, standin):
    invoice = seven_boxes(api, cast)
    first = pay_by_card(api, cast.client, invoice["id"])
    assert first.status == 201, first.body
    before = row_counts(app)
    again = pay_by_card(api, cast.client, invoice["id"])
    assert (again.status, again.error_code) == (409, "invoice_paid"), again.body
    assert row_counts(app) == before
    # Stripe was asked once: the second click never reached it.
    assert [r.path for r in standin.requests if r.method == "POST"] == ["/v1/payment_intents"]
    assert money(api, lotus_holders(cast)) == SETTLED
    assert ledger_totals(api, cast.admin) == {"CNY": 0}


def test_only_the_invoices_client_pays_it_by_card(app, api, cast, frozen_clock, standin):
    invoice = seven_boxes(api, cast)
    before = row_counts(app)
    # Someone else's invoice, or one a team never sees, does not exist for them.
    for token in (cast.rival_client, cast.owner, cast.li, cast.rival_owner):
        answer = pay_by_card(api, token, invoice["id"])
        assert (answer.status, answer.error_code) == (404, "invoice_not_found"), answer.body
    # The platform admin sees the invoice but does not pay it with a client's card.
    answer = pay_by_card(api, cast.admin, invoice["id"])
    assert (answer.status, answer.error_code) == (403, "forbidden"), answer.body
    assert pay_by_card(api, None, invoice["id"]).status == 401
    assert row_counts(app) == before
    assert standin.requests == []
    assert invoice_state(api, cast, invoice["id"]) == ("open", "0.00", "0.74")


def test_card_payments_need_stripe_configured(app, api, cast, frozen_clock, stripe_config):
    stripe_config(None)
    invoice = seven_boxes(api, cast)
    before = row_counts(app)
    answer = pay_by_card(api, cast.client, invoice["id"])
    assert (answer.status, answer.error_code) == (409, "stripe_not_configured"), answer.body
    assert row_counts(app) == before
    assert holding(api, cast.li, "annotator")["pending"] == "0.28"
