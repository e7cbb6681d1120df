"""The fake Stripes themselves, driven by the real `stripe` SDK: the stand-in keeps Stripe's
rules (idempotency, balances, reversal and refund limits, signed events), and localstripe
runs and sends signed webhooks. No database is needed."""

import json
import time
import urllib.error
import urllib.request

import flask
import pytest
import stripe

from tests.stripe_servers import WebhookReceiver, configure_localstripe_webhook

# The fixtures, bound here so pytest finds them (imported by name they would trip ruff's F811).

SECRET = "whsec_standin_test"


@pytest.fixture
def client(stripe_standin):
    return stripe_standin.client()


@pytest.fixture
def account(client):
    return client.v1.accounts.create(params={"type": "express", "country": "US"})


def paid_intent(client, amount=1000, currency="usd", **params):
    return client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": currency,
            "payment_method": "pm_card_visa",
            "confirm": True,
            **params,
        }
    )


def transfer(client, account, amount, key=None, **params):
    params = {"amount": amount, "currency": "usd", "destination": account.id, **params}
    options = {"idempotency_key": key} if key else {}
    return client.v1.transfers.create(params=params, options=options)


# -- wire format and auth -------------------------------------------------------------------


def test_requests_without_a_secret_key_answer_401(stripe_standin):
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{stripe_standin.url}/v1/balance")
    assert caught.value.code == 401
    assert json.load(caught.value)["error"]["type"] == "invalid_request_error"
    with pytest.raises(stripe.AuthenticationError):
        stripe_standin.client(api_key="pk_test_public").v1.balance.retrieve()


def test_bracket_encoded_metadata_round_trips_and_unknown_parameters_are_refused(client):
    intent = paid_intent(client, metadata={"invoice_id": 5, "note": "a b&c"}, description="INV-5")
    assert intent.metadata.to_dict() == {"invoice_id": "5", "note": "a b&c"}
    assert intent.status == "succeeded"
    assert intent.latest_charge.startswith("ch_")
    expanded = client.v1.payment_intents.retrieve(intent.id, params={"expand": ["latest_charge"]})
    assert expanded.latest_charge.amount == 1000
    assert expanded.latest_charge.metadata["invoice_id"] == "5"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.transfers.create(
            params={"amount": 1, "currency": "usd", "destination": "acct_x", "colour": "red"}
        )
    assert (caught.value.code, caught.value.param) == ("parameter_unknown", "colour")


# -- Idempotency-Key ------------------------------------------------------------------------


def test_same_key_and_parameters_replay_the_first_answer(stripe_standin, client, account):
    stripe_standin.set_balance("usd", 5000)
    first = transfer(client, account, 1200, key="payout-1")
    again = transfer(client, account, 1200, key="payout-1")
    assert again.id == first.id
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"
    assert first.last_response.headers.get("Idempotent-Replayed") is None
    assert stripe_standin.balance("usd") == 3800
    assert [r.replayed for r in stripe_standin.requests if r.path == "/v1/transfers"] == [
        False,
        True,
    ]
    (created,) = stripe_standin.events_of("transfer.created")
    assert created["request"]["idempotency_key"] == "payout-1"


def test_same_key_with_other_parameters_is_an_idempotency_error(stripe_standin, client, account):
    stripe_standin.set_balance("usd", 5000)
    transfer(client, account, 1200, key="payout-1")
    with pytest.raises(stripe.IdempotencyError) as caught:
        transfer(client, account, 1300, key="payout-1")
    assert caught.value.http_status == 400
    assert caught.value.user_message.startswith(
        "Keys for idempotent requests can only be used with the same parameters they were"
        " first used with."
    )
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create(options={"idempotency_key": "payout-1"})
    # Keys belong to one API key: another account's key of the same name is a new request.
    other = stripe_standin.client(api_key="sk_test_other")
    transfer(other, account, 1300, key="payout-1")
    assert stripe_standin.balance("usd") == 5000 - 1200 - 1300


def test_errors_are_replayed_but_refused_parameters_are_not_kept(stripe_standin, client, account):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        transfer(client, account, 500, key="k")
    assert caught.value.code == "balance_insufficient"
    stripe_standin.set_balance("usd", 500)
    with pytest.raises(stripe.InvalidRequestError):  # the first answer, kept under the key
        transfer(client, account, 500, key="k")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.transfers.create(
            params={"currency": "usd", "destination": account.id},
            options={"idempotency_key": "k2"},
        )
    assert caught.value.code == "parameter_missing"
    assert transfer(client, account, 500, key="k2").amount == 500  # corrected, same key


# -- transfers and reversals ----------------------------------------------------------------


def test_a_transfer_beyond_the_available_balance_fails(stripe_standin, client, account):
    stripe_standin.set_balance("usd", 1000)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        transfer(client, account, 1001)
    assert (caught.value.http_status, caught.value.code) == (400, "balance_insufficient")
    assert stripe_standin.balance("usd") == 1000
    done = transfer(client, account, 1000, transfer_group="invoice-7", metadata={"payout": "3"})
    assert (done.destination, done.transfer_group, done.metadata["payout"]) == (
        account.id,
        "invoice-7",
        "3",
    )
    assert stripe_standin.balance("usd") == 0


def test_a_transfer_with_source_transaction_is_accepted_up_to_its_charge(stripe_standin, client):
    account = client.v1.accounts.create(params={"type": "express"})
    charge_id = paid_intent(client, amount=1000).latest_charge
    stripe_standin.set_balance("usd", 0)  # the charge's money not available yet
    assert transfer(client, account, 600, source_transaction=charge_id).source_transaction == (
        charge_id
    )
    transfer(client, account, 400, source_transaction=charge_id)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        transfer(client, account, 1, source_transaction=charge_id)
    assert caught.value.param == "amount"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        transfer(client, account, 1, source_transaction="ch_unknown")
    assert (caught.value.code, caught.value.param) == ("resource_missing", "source_transaction")
    eur_charge = paid_intent(client, amount=500, currency="eur").latest_charge
    with pytest.raises(stripe.InvalidRequestError) as caught:
        transfer(client, account, 100, source_transaction=eur_charge)
    assert caught.value.param == "currency"


def test_unknown_and_failing_destinations(stripe_standin, client, account):
    stripe_standin.set_balance("usd", 1000)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.transfers.create(
            params={"amount": 100, "currency": "usd", "destination": "acct_nobody"}
        )
    assert (caught.value.code, caught.value.param) == ("resource_missing", "destination")
    stripe_standin.fail_transfers_to(account.id, code="account_closed")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        transfer(client, account, 100)
    assert caught.value.code == "account_closed"
    assert stripe_standin.balance("usd") == 1000


def test_reversals_never_exceed_what_is_left(stripe_standin, client, account):
    stripe_standin.set_balance("usd", 1000)
    done = transfer(client, account, 1000)
    part = client.v1.transfers.reversals.create(done.id, params={"amount": 300})
    assert (part.object, part.amount, part.transfer) == ("transfer_reversal", 300, done.id)
    assert part.id.startswith("trr_")
    assert stripe_standin.balance("usd") == 300
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.transfers.reversals.create(done.id, params={"amount": 701})
    assert (caught.value.http_status, caught.value.param) == (400, "amount")
    rest = client.v1.transfers.reversals.create(done.id)  # no amount: all that is left
    assert rest.amount == 700
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.transfers.reversals.create(done.id)
    after = client.v1.transfers.retrieve(done.id)
    assert (after.amount_reversed, after.reversed) == (1000, True)
    listed = client.v1.transfers.reversals.list(done.id)
    assert [r.id for r in listed.data] == [rest.id, part.id]
    reversed_events = stripe_standin.events_of("transfer.reversed")
    assert [e["data"]["object"]["amount_reversed"] for e in reversed_events] == [300, 1000]
    assert stripe_standin.balance("usd") == 1000


# -- collection, refunds, chargebacks -------------------------------------------------------


def test_payment_intents_succeed_decline_or_wait_for_confirmation(stripe_standin, client):
    customer = client.v1.customers.create(params={"email": "client@example.com"})
    intent = paid_intent(client, amount=2500, customer=customer.id)
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.amount, charge.payment_intent, charge.status) == (2500, intent.id, "succeeded")
    assert stripe_standin.balance("usd") == 2500
    with pytest.raises(stripe.CardError) as caught:
        paid_intent(client, payment_method="pm_card_chargeDeclined")
    assert (caught.value.http_status, caught.value.code) == (402, "card_declined")
    waiting = client.v1.payment_intents.create(params={"amount": 700, "currency": "usd"})
    assert waiting.status == "requires_payment_method"
    confirmed = client.v1.payment_intents.confirm(
        waiting.id, params={"payment_method": "pm_card_visa"}
    )
    assert confirmed.status == "succeeded"
    assert [e["type"] for e in stripe_standin.events if e["type"].startswith("payment_")] == [
        "payment_intent.created",
        "payment_intent.succeeded",
        "payment_intent.created",
        "payment_intent.payment_failed",
        "payment_intent.created",
        "payment_intent.succeeded",
    ]


def test_refunds_never_exceed_what_is_left(stripe_standin, client):
    intent = paid_intent(client, amount=1000)
    first = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 400})
    assert (first.object, first.amount, first.charge) == ("refund", 400, intent.latest_charge)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"charge": intent.latest_charge, "amount": 601})
    assert (caught.value.code, caught.value.param) == ("amount_too_large", "amount")
    assert client.v1.refunds.create(params={"payment_intent": intent.id}).amount == 600
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": intent.id})
    assert caught.value.code == "charge_already_refunded"
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (1000, True)
    refunded = [e["data"]["object"] for e in stripe_standin.events_of("charge.refunded")]
    assert [(c["amount_refunded"], c["refunded"]) for c in refunded] == [(400, False), (1000, True)]
    assert stripe_standin.balance("usd") == 0


def test_a_chargeback_withdraws_the_funds_and_blocks_refunds(stripe_standin, client):
    intent = paid_intent(client, amount=1000)
    dispute = stripe_standin.open_dispute(intent.latest_charge, reason="fraudulent")
    assert dispute["id"].startswith("dp_")
    assert stripe_standin.balance("usd") == 0
    created, withdrawn = stripe_standin.events[-2:]
    assert (created["type"], withdrawn["type"]) == (
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
    )
    shown = withdrawn["data"]["object"]
    assert {k: shown[k] for k in ("object", "charge", "payment_intent", "amount", "currency")} == {
        "object": "dispute",
        "charge": intent.latest_charge,
        "payment_intent": intent.id,
        "amount": 1000,
        "currency": "usd",
    }
    assert (shown["status"], shown["reason"]) == ("needs_response", "fraudulent")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": intent.id})
    assert caught.value.code == "charge_disputed"
    stripe_standin.close_dispute(dispute["id"], won=True)
    assert stripe_standin.balance("usd") == 1000


# -- injected failures ----------------------------------------------------------------------


def test_an_injected_500_is_retried_by_the_sdk_with_the_same_key(
    stripe_standin, account, monkeypatch
):
    monkeypatch.setattr(stripe.HTTPClient, "INITIAL_DELAY", 0.01)  # the SDK's backoff
    client = stripe_standin.client(max_network_retries=1)
    stripe_standin.set_balance("usd", 1000)
    stripe_standin.fail_next("/v1/transfers", 500)
    done = transfer(client, account, 400)
    attempts = [r for r in stripe_standin.requests if r.path == "/v1/transfers"]
    assert [r.status for r in attempts] == [500, 200]
    assert attempts[0].idempotency_key == attempts[1].idempotency_key
    assert stripe_standin.balance("usd") == 600
    assert done.amount == 400


def test_a_lost_answer_is_recovered_by_retrying_with_the_same_key(stripe_standin, client, account):
    stripe_standin.set_balance("usd", 1000)
    stripe_standin.fail_next("/v1/transfers", drop=True, processed=True)
    with pytest.raises(stripe.APIConnectionError):
        transfer(client, account, 400, key="payout-9")
    assert stripe_standin.balance("usd") == 600  # done, though the caller never heard
    again = transfer(client, account, 400, key="payout-9")
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"
    assert stripe_standin.balance("usd") == 600
    assert len(stripe_standin.events_of("transfer.created")) == 1


# -- events and webhooks --------------------------------------------------------------------


class Receiver:
    """A webhook endpoint as a callable `post(body, headers) -> status`, like a test client."""

    def __init__(self, status=200):
        self.status = status
        self.received: list[tuple[bytes, dict]] = []

    def __call__(self, body, headers):
        self.received.append((body, headers))
        return self.status

    def events(self, secret=SECRET, tolerance=300):
        return [
            stripe.Webhook.construct_event(body, h["Stripe-Signature"], secret, tolerance)
            for body, h in self.received
        ]


def test_events_look_like_stripes_and_their_signatures_verify(stripe_standin, client):
    intent = paid_intent(client, amount=1000, metadata={"invoice_id": "5"})
    receiver = Receiver()
    stripe_standin.webhook_endpoint(receiver, SECRET)
    succeeded = stripe_standin.events_of("payment_intent.succeeded")[0]
    assert stripe_standin.deliver(succeeded) == [200]
    (event,) = receiver.events()
    assert event.id.startswith("evt_") and event.object == "event"
    assert (event.type, event.livemode) == ("payment_intent.succeeded", False)
    assert event.api_version.startswith("20") and isinstance(event.created, int)
    shown = event.data.object
    assert (shown.id, shown.status, shown.latest_charge) == (
        intent.id,
        "succeeded",
        intent.latest_charge,
    )
    assert shown.metadata["invoice_id"] == "5"
    body, headers = receiver.received[0]
    assert body == stripe_standin.payload(succeeded)
    assert headers["Stripe-Signature"].startswith("t=")


def test_forged_and_stale_events_fail_verification(stripe_standin, client):
    paid_intent(client)
    receiver = Receiver()
    stripe_standin.webhook_endpoint(receiver, SECRET)
    event = stripe_standin.events_of("charge.succeeded")[0]
    stripe_standin.deliver(event, secret="whsec_forged")
    with pytest.raises(stripe.SignatureVerificationError):
        receiver.events()
    receiver.received.clear()
    stripe_standin.deliver(event, timestamp=int(time.time()) - 600)
    with pytest.raises(stripe.SignatureVerificationError):
        receiver.events()
    assert receiver.events(tolerance=3600)[0].id == event["id"]  # only its age was wrong
    body = stripe_standin.payload(event)
    header = stripe_standin.sign(body, timestamp=int(time.time()))
    assert stripe.Webhook.construct_event(body, header, SECRET).id == event["id"]


def test_delivery_twice_in_reverse_and_again_until_acknowledged(stripe_standin, client):
    paid_intent(client)
    receiver = Receiver(status=500)
    stripe_standin.webhook_endpoint(receiver, SECRET)
    types = [e["type"] for e in stripe_standin.events]
    assert types == ["payment_intent.created", "charge.succeeded", "payment_intent.succeeded"]
    failed = stripe_standin.deliver_pending(order="reverse")
    assert [(d.type, d.status) for d in failed] == [(t, 500) for t in reversed(types)]
    receiver.status = 200
    assert [d.type for d in stripe_standin.deliver_pending()] == types  # still waiting
    assert stripe_standin.deliver_pending() == []
    stripe_standin.deliver(stripe_standin.events[1]["id"], times=2)
    ids = [e.id for e in receiver.events()]
    assert ids[-1] == ids[-2] == stripe_standin.events[1]["id"]


def test_delivery_to_a_real_url(stripe_standin, client):
    paid_intent(client)
    with WebhookReceiver() as server:
        stripe_standin.webhook_endpoint(server.url, SECRET)
        assert [d.status for d in stripe_standin.deliver_pending()] == [200, 200, 200]
        body, signature = server.received.get(timeout=5)
    assert stripe.Webhook.construct_event(body, signature, SECRET).type == "payment_intent.created"


def test_delivery_to_a_flask_test_client(stripe_standin, client):
    app = flask.Flask(__name__)
    seen = []

    @app.post("/webhook")
    def webhook():
        signature = flask.request.headers["Stripe-Signature"]
        seen.append(stripe.Webhook.construct_event(flask.request.get_data(), signature, SECRET))
        return "", 204

    web = app.test_client()
    stripe_standin.webhook_endpoint(
        lambda body, headers: web.post("/webhook", data=body, headers=headers).status_code, SECRET
    )
    intent = paid_intent(client)
    assert [d.status for d in stripe_standin.deliver_pending()] == [204, 204, 204]
    assert [(e.type, e.data.object.id) for e in seen][-1] == ("payment_intent.succeeded", intent.id)


# -- localstripe ----------------------------------------------------------------------------


def test_localstripe_collects_a_payment_and_sends_a_signed_webhook(localstripe_url):
    client = stripe.StripeClient("sk_test_local", base_addresses={"api": localstripe_url})
    with WebhookReceiver() as server:
        configure_localstripe_webhook(localstripe_url, "piecework", server.url, SECRET)
        customer = client.v1.customers.create(params={"email": "client@example.com"})
        intent = client.v1.payment_intents.create(
            params={
                "amount": 1234,
                "currency": "usd",
                "customer": customer.id,
                "payment_method": "pm_card_visa",
                "confirm": True,
                "metadata": {"invoice_id": "5"},
            }
        )
        assert intent.status == "succeeded"
        deadline = time.monotonic() + 10  # localstripe waits about a second before sending
        while True:
            body, signature = server.received.get(timeout=max(0.1, deadline - time.monotonic()))
            event = stripe.Webhook.construct_event(body, signature, SECRET)
            if event.type == "payment_intent.succeeded" and event.data.object.id == intent.id:
                break
    assert event.data.object.metadata["invoice_id"] == "5"
    assert event.data.object.amount == 1234
