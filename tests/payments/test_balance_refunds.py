"""A client asks for its unreserved balance back; an admin pays it, or refuses, saying why.
Card money goes back to its card through Stripe (the latest card payment first), the rest
by the bank transfer the admin sends and records. What a funded order holds is never
refunded; every figure is exact to the fen and the ledger sums to zero throughout."""

from datetime import date

import pytest
from sqlalchemy import select

from marketplace.db import db, unit_of_work
from marketplace.identity.models import AuditEntry
from marketplace.payments.collection import Arrival, receive_payment
from marketplace.payments.models import BalanceRefundPart
from marketplace.payments.stripe_collection import STRIPE
from tests import flows
from tests.bad_input.cases import Tables, refused
from tests.flows import ledger_totals, order_body
from tests.support import row_counts


def cny(api, cast):
    [found] = [b for b in api.get("/balance", cast.client).body if b["currency"] == "CNY"]
    return found["available"], found["reserved"]


def ask(api, cast, amount):
    return api.post("/balance/refunds", cast.client, {"amount": amount, "currency": "CNY"})


def test_the_client_asks_for_its_balance_back_and_the_admin_sends_it(app, api, cast, frozen_clock):
    horizon = cast.party_ids["horizon"]
    flows.top_up(api, cast.admin, horizon, "3.00", "ICBC-IN-1")
    flows.top_up(api, cast.admin, horizon, "2.00", "ICBC-IN-2")
    order = api.post(
        "/orders", cast.client, order_body(items=10, batch_size=10, funding="prefunded")
    )
    assert api.post(f"/orders/{order.body['id']}/publish", cast.client).status == 200
    assert cny(api, cast) == ("3.95", "1.05")

    before = row_counts(app)
    too_much = ask(api, cast, "3.96")
    assert (too_much.status, too_much.error_code) == (409, "refund_exceeds_balance")
    assert too_much.body["error"]["details"]["refundable"] == "3.95"
    assert row_counts(app) == before
    asked = ask(api, cast, "2.50")
    assert asked.status == 201, asked.body
    assert (asked.body["status"], asked.body["amount"]) == ("requested", "2.50")
    # An open request counts: a second may ask only for what is left.
    over = ask(api, cast, "1.46")
    assert (over.status, over.body["error"]["details"]["refundable"]) == (409, "1.45")
    assert api.get("/balance/refunds", cast.rival_client).body == []

    refund = asked.body["id"]
    mine = api.post(f"/balance/refunds/{refund}/paid", cast.client, {"reference": "X"})
    assert mine.status == 403
    paid = api.post(f"/balance/refunds/{refund}/paid", cast.admin, {"reference": "ICBC-OUT-7"})
    assert paid.status == 200, paid.body
    assert (paid.body["status"], paid.body["reference"]) == ("refunded", "ICBC-OUT-7")
    # The latest transfer first: all 2.00 of the second, 0.50 of the first.
    payments = {p["reference"]: p for p in api.get("/payments", cast.client).body}
    assert (payments["ICBC-IN-2"]["returned"], payments["ICBC-IN-1"]["returned"]) == (
        "2.00",
        "0.50",
    )
    assert [part[:4] for part in parts_of(app, refund)] == [
        (payments["ICBC-IN-2"]["id"], "bank_transfer", 200, "sent"),
        (payments["ICBC-IN-1"]["id"], "bank_transfer", 50, "sent"),
    ]
    assert (paid.body["sent_by_card"], paid.body["sent_by_bank_transfer"]) == ("0.00", "2.50")
    assert cny(api, cast) == ("1.45", "1.05")
    assert ledger_totals(api, cast.admin) == {"CNY": 0}
    again = api.post(f"/balance/refunds/{refund}/paid", cast.admin, {"reference": "ICBC-OUT-8"})
    assert (again.status, again.error_code) == (409, "refund_decided")

    refused = ask(api, cast, "1.00").body["id"]
    answer = api.post(
        f"/balance/refunds/{refused}/refused", cast.admin, {"reason": "pays the next drop"}
    )
    assert (answer.body["status"], answer.body["note"]) == ("refused", "pays the next drop")
    assert cny(api, cast) == ("1.45", "1.05")
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions[-2:] == ["balance_refund.refunded", "balance_refund.refused"]


# -- money that came by card goes back to its card, through Stripe --------------------------
#
# Against the Stripe stand-in (tests/stripe_standin): the app's card top-ups, its refunds
# and the events Stripe sends about them, delivered to the app's webhook endpoint when the
# test says. Real servers on loopback, and the SDK's own retries: `make check` leaves them
# out.

REFUNDS_PATH = "/v1/refunds"


def card_top_up(api, cast, amount: str, attempt: str) -> dict:
    """The client tops up by card; (payment, charge id) as the app recorded it."""
    body = {"amount": amount, "currency": "CNY", "payment_method": "pm_card_visa"}
    answer = api.post("/balance/top-ups", cast.client, body | {"attempt": attempt})
    assert answer.status == 201 and answer.body["status"] == "succeeded", answer.body
    return answer.body["payment"]


def charge_of(standin, payment: dict) -> dict:
    """The card payment's charge, as Stripe holds it now."""
    return standin.object(standin.object(payment["reference"])["latest_charge"])


def pay(api, cast, refund_id: int, reference: str | None = None):
    body = {} if reference is None else {"reference": reference}
    return api.post(f"/balance/refunds/{refund_id}/paid", cast.admin, body)


def refund_state(api, cast, refund_id: int) -> tuple:
    [found] = [r for r in api.get("/balance/refunds", cast.client).body if r["id"] == refund_id]
    return (
        found["status"],
        found["reference"],
        found["sent_by_card"],
        found["sent_by_bank_transfer"],
    )


def payments_now(api, cast) -> dict[str, tuple[str, str, str]]:
    """Each payment's (amount, returned, unapplied), by reference."""
    return {
        p["reference"]: (p["amount"], p["returned"], p["unapplied"])
        for p in api.get("/payments", cast.client).body
    }


def reversals_of(api, cast, payment_id: int) -> list[tuple[str, str, str]]:
    listed = api.get(f"/payments/{payment_id}/reversals", cast.client).body
    return [(r["kind"], r["reference"], r["amount"]) for r in listed]


def parts_of(app, refund_id: int) -> list[tuple]:
    """The request's parts as kept: (payment, way, amount, status, Stripe refund, reversal)."""
    with app.app_context():
        parts = db.session.scalars(
            select(BalanceRefundPart)
            .where(BalanceRefundPart.refund_id == refund_id)
            .order_by(BalanceRefundPart.id)
        )
        return [
            (p.payment_id, p.way, p.amount_minor, p.status, p.stripe_refund, p.reversal_id)
            for p in parts
        ]


def refund_calls(standin) -> list:
    return [r for r in standin.requests if (r.method, r.path) == ("POST", REFUNDS_PATH)]


def refunds_at_stripe(standin) -> list[tuple[str, int, dict]]:
    """Every refund Stripe made: (PaymentIntent, amount, metadata), oldest first."""
    made = [e["data"]["object"] for e in standin.events_of("refund.created")]
    return [(r["payment_intent"], r["amount"], r["metadata"]) for r in made]


@pytest.mark.slow
def test_a_card_top_up_goes_back_to_its_card_and_stripes_events_change_nothing(
    app, api, cast, frozen_clock, standin, webhook
):
    card = card_top_up(api, cast, "5.00", "top-up-1")
    assert cny(api, cast) == ("5.00", "0.00")
    asked = ask(api, cast, "2.30").body["id"]

    paid = pay(api, cast, asked)  # no reference: the cards take it all
    assert paid.status == 200, paid.body
    assert (paid.body["status"], paid.body["reference"]) == ("refunded", None)
    assert (paid.body["sent_by_card"], paid.body["sent_by_bank_transfer"]) == ("2.30", "0.00")
    assert refund_state(api, cast, asked) == ("refunded", None, "2.30", "0.00")

    # Stripe refunded 2.30 of the 5.00 charge, once, under a key of the request and payment.
    charge = charge_of(standin, card)
    assert (charge["amount"], charge["amount_refunded"], charge["refunded"]) == (500, 230, False)
    [call] = refund_calls(standin)
    assert call.idempotency_key == f"piecework-balance-refund-{asked}-payment-{card['id']}"
    assert refunds_at_stripe(standin) == [
        (
            card["reference"],
            230,
            {
                "piecework_refund": f"{asked}:{card['id']}",
                "balance_refund_id": str(asked),
                "payment_id": str(card["id"]),
            },
        )
    ]
    # Recorded as the charge.refunded event would record it, to the fen.
    assert reversals_of(api, cast, card["id"]) == [
        ("refund", f"{charge['id']}:refunded:230", "2.30")
    ]
    assert payments_now(api, cast)[card["reference"]] == ("5.00", "2.30", "2.70")
    assert cny(api, cast) == ("2.70", "0.00")
    assert ledger_totals(api, cast.admin) == {"CNY": 0}

    # Stripe's event about the refund comes afterwards, then again: nothing moves.
    before = row_counts(app), cny(api, cast), payments_now(api, cast)
    [refunded] = standin.events_of("charge.refunded")
    assert standin.deliver(refunded) == [200]
    assert webhook.answers[-1]["outcome"] == "refund already recorded"
    assert standin.deliver(refunded, times=2) == [200, 200]
    counts, balance, payments = before
    assert row_counts(app) == counts | {"gateway_events": counts["gateway_events"] + 1}
    assert (cny(api, cast), payments_now(api, cast)) == (balance, payments)
    # The rest of what Stripe said (the top-up's own events, refund.created) changes nothing.
    standin.deliver_pending()
    assert (cny(api, cast), payments_now(api, cast)) == (balance, payments)
    assert reversals_of(api, cast, card["id"]) == [
        ("refund", f"{charge['id']}:refunded:230", "2.30")
    ]
    assert ledger_totals(api, cast.admin) == {"CNY": 0}

    again = pay(api, cast, asked)
    assert (again.status, again.error_code) == (409, "refund_decided")
    assert len(refund_calls(standin)) == 1
    # What it sent is kept as the request's part; the audit log holds only the decision.
    [made] = [e["data"]["object"]["id"] for e in standin.events_of("refund.created")]
    [recorded] = api.get(f"/payments/{card['id']}/reversals", cast.client).body
    assert parts_of(app, asked) == [(card["id"], "card", 230, "sent", made, recorded["id"])]
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions[-1] == "balance_refund.refunded"


@pytest.mark.slow
def test_a_mixed_balance_goes_back_to_the_card_first_and_the_rest_by_bank_transfer(
    app, api, cast, frozen_clock, standin
):
    horizon = cast.party_ids["horizon"]
    bank = flows.top_up(api, cast.admin, horizon, "3.00", "ICBC-IN-1")
    card = card_top_up(api, cast, "2.00", "top-up-1")
    asked = ask(api, cast, "4.50").body["id"]

    # Without a reference the admin learns what the bank transfer must carry; nothing moves.
    before = row_counts(app)
    bare = pay(api, cast, asked)
    assert (bare.status, bare.error_code) == (422, "validation_failed"), bare.body
    details = bare.body["error"]["details"]
    assert "reference" in details["fields"]["json"]
    assert (details["by_card"], details["by_bank_transfer"]) == ("2.00", "2.50")
    assert row_counts(app) == before and refund_calls(standin) == []

    paid = pay(api, cast, asked, "ICBC-OUT-7")
    assert paid.status == 200, paid.body
    assert refund_state(api, cast, asked) == ("refunded", "ICBC-OUT-7", "2.00", "2.50")
    assert [part[:4] for part in parts_of(app, asked)] == [
        (card["id"], "card", 200, "sent"),
        (bank["id"], "bank_transfer", 250, "sent"),
    ]
    assert charge_of(standin, card)["amount_refunded"] == 200
    assert [(pi, amount) for pi, amount, _ in refunds_at_stripe(standin)] == [
        (card["reference"], 200)
    ]
    assert payments_now(api, cast) == {
        "ICBC-IN-1": ("3.00", "2.50", "0.50"),
        card["reference"]: ("2.00", "2.00", "0.00"),
    }
    assert reversals_of(api, cast, bank["id"]) == [("refund", "ICBC-OUT-7", "2.50")]
    assert cny(api, cast) == ("0.50", "0.00")
    assert ledger_totals(api, cast.admin) == {"CNY": 0}

    # Stripe's events afterwards move nothing.
    standin.deliver_pending()
    assert cny(api, cast) == ("0.50", "0.00")
    assert payments_now(api, cast)[card["reference"]] == ("2.00", "2.00", "0.00")
    assert ledger_totals(api, cast.admin) == {"CNY": 0}


LOST_ANSWER = "lost answer"  # Stripe makes the refund, its answer never comes back
EVENT_FIRST = "event first"  # ... and its charge.refunded event arrives before the retry
KEYS_FORGOTTEN = "keys forgotten"  # ... and the retry comes two days later


@pytest.mark.slow
@pytest.mark.parametrize("how", [LOST_ANSWER, EVENT_FIRST, KEYS_FORGOTTEN])
def test_a_retry_after_stripe_failed_finishes_the_refund_and_sends_nothing_twice(
    app, api, cast, frozen_clock, standin, webhook, how
):
    """Two card top-ups, 1.00 then 2.00, and 2.50 asked back: all 2.00 of the latest, then
    0.50 of the first. Stripe makes the first refund but no answer reaches the app, nor its
    SDK's two retries: 503, and the request stays open with nothing recorded as sent."""
    first = card_top_up(api, cast, "1.00", "top-up-1")
    latest = card_top_up(api, cast, "2.00", "top-up-2")
    asked = ask(api, cast, "2.50").body["id"]
    standin.fail_next(REFUNDS_PATH, drop=True, processed=True)
    standin.fail_next(REFUNDS_PATH, drop=True)
    standin.fail_next(REFUNDS_PATH, drop=True)

    outage = pay(api, cast, asked)
    assert (outage.status, outage.error_code) == (503, "gateway_unavailable"), outage.body
    assert refund_state(api, cast, asked) == ("requested", None, "0.00", "0.00")
    assert charge_of(standin, latest)["amount_refunded"] == 200  # made at Stripe
    assert [part[:4] for part in parts_of(app, asked)] == [
        (latest["id"], "card", 200, "planned"),
        (first["id"], "card", 50, "planned"),
    ]
    assert payments_now(api, cast)[latest["reference"]] == ("2.00", "0.00", "2.00")
    assert cny(api, cast) == ("3.00", "0.00")
    assert ledger_totals(api, cast.admin) == {"CNY": 0}

    if how == EVENT_FIRST:
        # The event records the refund on its own, as Stripe's refund of the latest payment.
        [refunded] = standin.events_of("charge.refunded")
        assert standin.deliver(refunded) == [200]
        assert webhook.answers[-1]["outcome"].startswith("refund ")
        assert cny(api, cast) == ("1.00", "0.00")
    if how == KEYS_FORGOTTEN:
        frozen_clock.step(days=2)
        standin.forget_idempotency_keys()  # as Stripe has by then (it keeps them 24 hours)

    paid = pay(api, cast, asked)
    assert paid.status == 200, paid.body
    assert refund_state(api, cast, asked) == ("refunded", None, "2.50", "0.00")
    # Stripe refunded each payment once, to the fen.
    assert [(pi, amount) for pi, amount, _ in refunds_at_stripe(standin)] == [
        (latest["reference"], 200),
        (first["reference"], 50),
    ]
    assert charge_of(standin, latest)["amount_refunded"] == 200
    assert charge_of(standin, first)["amount_refunded"] == 50
    assert payments_now(api, cast) == {
        latest["reference"]: ("2.00", "2.00", "0.00"),
        first["reference"]: ("1.00", "0.50", "0.50"),
    }
    latest_charge = charge_of(standin, latest)["id"]
    assert reversals_of(api, cast, latest["id"]) == [
        ("refund", f"{latest_charge}:refunded:200", "2.00")
    ]
    # Each part sent, recorded by the refund of its payment (the event's, if it came first).
    [latest_refund] = api.get(f"/payments/{latest['id']}/reversals", cast.client).body
    [first_refund] = api.get(f"/payments/{first['id']}/reversals", cast.client).body
    assert [(part[3], part[5]) for part in parts_of(app, asked)] == [
        ("sent", latest_refund["id"]),
        ("sent", first_refund["id"]),
    ]
    assert cny(api, cast) == ("0.50", "0.00")
    assert ledger_totals(api, cast.admin) == {"CNY": 0}

    # Every event Stripe sent, delivered now (again, for the one delivered before): nothing.
    before = row_counts(app)
    standin.deliver_pending()
    for event in standin.events_of("charge.refunded"):
        standin.deliver(event)
    assert cny(api, cast) == ("0.50", "0.00")
    assert row_counts(app)["payment_reversals"] == before["payment_reversals"]
    assert ledger_totals(api, cast.admin) == {"CNY": 0}


@pytest.mark.slow
def test_stripe_refusing_halfway_keeps_what_it_refunded_and_the_request_open(
    app, api, cast, frozen_clock, standin, webhook
):
    """The first card payment's charge is disputed at Stripe (its events not here yet), so
    Stripe refuses to refund it after the latest one was refunded: the latest's refund
    stays recorded, the request stays open, and the admin refuses the rest."""
    first = card_top_up(api, cast, "1.00", "top-up-1")
    latest = card_top_up(api, cast, "2.00", "top-up-2")
    asked = ask(api, cast, "2.50").body["id"]
    standin.open_dispute(charge_of(standin, first)["id"])

    stopped = pay(api, cast, asked)
    assert (stopped.status, stopped.error_code) == (409, "card_refund_refused"), stopped.body
    details = stopped.body["error"]["details"]
    assert (details["gateway_code"], details["payment_id"]) == ("charge_disputed", first["id"])
    assert refund_state(api, cast, asked) == ("requested", None, "2.00", "0.00")
    assert [part[:4] for part in parts_of(app, asked)] == [
        (latest["id"], "card", 200, "sent"),
        (first["id"], "card", 50, "planned"),
    ]
    assert payments_now(api, cast) == {
        latest["reference"]: ("2.00", "2.00", "0.00"),
        first["reference"]: ("1.00", "0.00", "1.00"),
    }
    assert cny(api, cast) == ("1.00", "0.00")
    assert ledger_totals(api, cast.admin) == {"CNY": 0}
    # What is open asks only for the rest: the 1.00 left may not be asked for again.
    over = ask(api, cast, "0.51")
    assert (over.status, over.body["error"]["details"]["refundable"]) == (409, "0.50")

    # Stripe's events: the chargeback takes the first payment's 1.00; the refund, nothing.
    standin.deliver_pending()
    assert payments_now(api, cast)[first["reference"]] == ("1.00", "1.00", "0.00")
    assert cny(api, cast) == ("0.00", "0.00")
    refused = api.post(
        f"/balance/refunds/{asked}/refused", cast.admin, {"reason": "Charged back instead."}
    )
    assert refused.status == 200, refused.body
    assert refund_state(api, cast, asked) == ("refused", None, "2.00", "0.00")
    assert [part[3] for part in parts_of(app, asked)] == ["sent", "planned"]  # never sent
    assert [(pi, amount) for pi, amount, _ in refunds_at_stripe(standin)] == [
        (latest["reference"], 200)
    ]
    assert ledger_totals(api, cast.admin) == {"CNY": 0}


@pytest.mark.slow
def test_a_card_refund_beyond_the_balance_or_with_a_needless_transfer_moves_nothing(
    app, api, cast, frozen_clock, standin
):
    card_top_up(api, cast, "2.00", "top-up-1")
    asked = ask(api, cast, "2.00").body["id"]
    over = ask(api, cast, "0.01")
    assert (over.status, over.error_code) == (409, "refund_exceeds_balance")

    # A card-only refund needs no bank transfer: naming one is refused (it would pay twice).
    tables = Tables(app)
    needless = refused(
        app,
        api,
        "POST",
        f"/balance/refunds/{asked}/paid",
        cast.admin,
        409,
        "no_bank_transfer_needed",
        tables,
        json={"reference": "ICBC-OUT-1"},
    )
    assert needless.body["error"]["details"]["by_card"] == "2.00"

    # A prefunded order reserves 1.05 of it: the 2.00 asked no longer fits the balance.
    order = api.post(
        "/orders", cast.client, order_body(items=10, batch_size=10, funding="prefunded")
    )
    assert api.post(f"/orders/{order.body['id']}/publish", cast.client).status == 200
    assert cny(api, cast) == ("0.95", "1.05")
    tables = Tables(app)
    beyond = refused(
        app,
        api,
        "POST",
        f"/balance/refunds/{asked}/paid",
        cast.admin,
        409,
        "refund_exceeds_balance",
        tables,
        json={},
    )
    assert beyond.body["error"]["details"]["refundable"] == "0.95"
    assert refund_calls(standin) == []
    assert refund_state(api, cast, asked) == ("requested", None, "0.00", "0.00")
    assert ledger_totals(api, cast.admin) == {"CNY": 0}


def test_without_stripe_card_money_is_not_sent_by_bank_transfer(app, api, cast, frozen_clock):
    """Stripe not configured: a balance that came by card is refunded in Stripe, whose event
    records it (409 `refund_at_gateway`), and nothing is written."""
    with app.app_context(), unit_of_work() as session:
        receive_payment(
            session,
            Arrival(
                client_party_id=cast.party_ids["horizon"],
                currency="CNY",
                gateway=STRIPE,
                reference="pi_horizon_top_up",
                amount_minor=200,
                received_on=date(2026, 3, 2),
            ),
        )
    asked = ask(api, cast, "1.00").body["id"]
    for body in ({}, {"reference": "ICBC-OUT-1"}):
        refused(
            app,
            api,
            "POST",
            f"/balance/refunds/{asked}/paid",
            cast.admin,
            409,
            "refund_at_gateway",
            json=body,
        )
