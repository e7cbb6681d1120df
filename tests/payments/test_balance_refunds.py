"""A client asks for its unreserved balance back; an admin sends it by bank transfer and
records it, or refuses, saying why. What a funded order holds is never refunded."""

from sqlalchemy import select

from marketplace.db import db
from marketplace.identity.models import AuditEntry
from tests import flows
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
