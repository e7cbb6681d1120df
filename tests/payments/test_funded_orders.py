"""Funded orders: the client's money is reserved before its work drops, accepted work is
settled from the reservation at once, and what is not needed goes back to its balance.

Amounts to the fen, the ledger summing to zero after every step, on SQLite and
PostgreSQL. At the default 5 % fee, n boxes at 0.10 cost n x 0.10 plus the fee.
"""

import pytest
from sqlalchemy import func, select

from marketplace.db import db, unit_of_work
from marketplace.notices.models import OutboxMessage
from marketplace.orders.models import Drop, Reservation
from marketplace.payments.invoices import Terms, settle_funded_work
from marketplace.workers.leases import return_expired_batches
from tests import flows
from tests.flows import claim, holding, ledger_totals, order_body, release_drops, review, submit
from tests.flows import set_rate as set_piece_rate
from tests.orders.test_credit_hold import hold
from tests.orders.test_item_imports import boxes_csv, upload
from tests.support import all_at_once, row_counts

DAILY_3AM = {"cron": "0 3 * * *", "timezone": "Asia/Shanghai", "batches_per_drop": 1}


def top_up(api, cast, amount, reference):
    """The admin records Horizon's bank transfer to its balance."""
    flows.top_up(api, cast.admin, cast.party_ids["horizon"], amount, reference)


def balance(api, cast):
    [cny] = [b for b in api.get("/balance", cast.client).body if b["currency"] == "CNY"]
    return cny


def funded_order(api, cast, funding, **order):
    answer = api.post("/orders", cast.client, order_body(funding=funding, **order))
    assert answer.status == 201, answer.body
    assert answer.body["funding"] == funding
    return answer.body["id"]


def settle(app):
    """What the scheduler does every ten minutes."""
    with app.app_context(), unit_of_work() as session:
        return [
            (i.number, i.total_minor, i.status)
            for i in settle_funded_work(session, Terms.from_config(app.config))
        ]


def ledger_is_balanced(api, cast):
    assert all(total == 0 for total in ledger_totals(api, cast.admin).values())


@pytest.mark.slow
def test_a_prefunded_order_is_reserved_whole_and_its_accepted_work_settled_at_once(
    app, api, cast, frozen_clock
):
    order = funded_order(api, cast, "prefunded", items=20, batch_size=10)
    before = row_counts(app)
    short = api.post(f"/orders/{order}/publish", cast.client)
    assert (short.status, short.error_code) == (409, "funds_short")
    assert (
        "the work needs 2.10 CNY more reserved, the client's balance is 0.00 CNY"
        in (short.body["error"]["message"])
    )
    assert row_counts(app) == before
    assert api.get(f"/orders/{order}", cast.client).body["status"] == "draft"

    top_up(api, cast, "2.50", "ICBC-TOPUP-1")
    assert (balance(api, cast)["available"], balance(api, cast)["reserved"]) == ("2.50", "0.00")
    assert api.post(f"/orders/{order}/publish", cast.client).status == 200
    money = balance(api, cast)
    assert (money["available"], money["reserved"]) == ("0.40", "2.10")
    assert [(o["order_id"], o["held"], o["posted"]) for o in money["orders"]] == [
        (order, "2.10", "0.00")
    ]
    ledger_is_balanced(api, cast)

    # The board says the batch is funded; Lotus works it, Li's 13 accepted, 2 rejected.
    board = [b for b in api.get("/batches", cast.owner).body if b["order_id"] == order]
    assert {b["funding"] for b in board} == {"prefunded"}
    # 10 boxes at 0.10 each, held for them (the fee is the client's, not shown).
    assert [b["reserved"] for b in board] == ["1.00", "1.00"]
    record = board[0]["client_payment_record"]
    assert (record["client_id"], record["client_name"], record["credit_hold"]) == (
        cast.party_ids["horizon"],
        board[0]["client_name"],
        None,
    )
    claim(api, cast.owner, order)
    set_piece_rate(api, cast.owner, order, "0.06")
    done = submit(api, cast.li, 15)
    # Her money is reserved: it waits for the review alone (3 days at most), no invoice.
    li = holding(api, cast.li, "annotator")
    assert [
        (w["order_id"], w["items"], w["amount"], w["review_until"]) for w in li["funded_in_review"]
    ] == [(order, 15, "0.90", "2026-03-05")]
    assert li["waiting_on"] == []
    review(api, cast.reviewer, accept=done[:13], reject=done[13:])
    assert holding(api, cast.li, "annotator")["funded_in_review"] == []

    # The statement: 13 x 0.10 = 1.30 and its 0.07 fee (0.065, half up), paid as issued.
    [(number, total, status)] = settle(app)
    assert (total, status) == (137, "paid")
    statement = next(i for i in api.get("/invoices", cast.client).body if i["number"] == number)
    assert (statement["items_amount"], statement["fee"], statement["due_on"]) == (
        "1.30",
        "0.07",
        "2026-03-02",
    )
    assert settle(app) == []  # nothing billed twice
    li = holding(api, cast.li, "annotator")
    assert (li["pending"], li["available"]) == ("0.00", "0.78")  # 13 x 0.06, no invoice waited
    assert holding(api, cast.owner, "team")["available"] == "0.52"
    money = balance(api, cast)
    # The 2 rejected boxes will never be billed: their 0.21 is the client's again. The
    # 5 boxes left hold 0.50 and the fee that completes the order's: 0.09 - 0.07.
    assert (money["available"], money["reserved"]) == ("0.61", "0.52")
    assert [(o["held"], o["posted"], o["voided"], o["items_posted"]) for o in money["orders"]] == [
        ("0.52", "1.37", "0.21", 13)
    ]
    ledger_is_balanced(api, cast)

    # The rest is done; the last statement takes exactly what was left reserved.
    review(api, cast.reviewer, accept=submit(api, cast.wang, 5))
    [(_, total, status)] = settle(app)
    assert (total, status) == (52, "paid")
    money = balance(api, cast)
    assert (money["available"], money["reserved"], money["orders"][0]["held"]) == (
        "0.61",
        "0.00",
        "0.00",
    )
    assert holding(api, cast.wang, "annotator")["available"] == "0.30"
    ledger_is_balanced(api, cast)
    history = api.get("/balance/history?currency=CNY", cast.client).body
    assert [(m["kind"], m["account"], m["change"]) for m in history][:3] == [
        ("payment_received", "balance", "2.50"),
        ("reservation_reserve", "balance", "-2.10"),
        ("reservation_reserve", "reserved", "2.10"),
    ]


def test_a_milestones_drop_waits_for_its_money_and_drops_when_the_top_up_lands(
    app, api, cast, frozen_clock
):
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    order = funded_order(api, cast, "milestones", items=4, batch_size=2, release_plan=DAILY_3AM)
    assert api.post(f"/orders/{order}/publish", cast.client).status == 200
    assert balance_or_none(api, cast) is None  # publishing released nothing, reserved nothing

    frozen_clock.stand_at("2026-03-03T03:00:00+08:00")
    [held] = release_drops(app)
    assert (held.status, held.batch_count) == ("held", 0)
    # Teams read the drop list too: the reason names no amount of the client's.
    assert held.reason == "waiting for funds: the client's balance does not cover this work yet"
    past = api.get(f"/orders/{order}/drops", cast.client).body["past"]
    assert [(d["status"], d["reason"][:17]) for d in past] == [("held", "waiting for funds")]
    assert [b for b in api.get("/batches", cast.owner).body if b["order_id"] == order] == []
    # The client's admin hears at once, by e-mail, as the platform's admins do.
    with app.app_context():
        told = db.session.scalars(select(OutboxMessage.to_address).order_by(OutboxMessage.id))
        assert {"client@example.com", "admin@example.com"} <= set(told.all())

    # 0.10 lands at 08:00, short of the 0.21: the drop still waits, as first taken.
    frozen_clock.stand_at("2026-03-03T08:00:00+08:00")
    top_up(api, cast, "0.10", "ICBC-TOPUP-1")
    past = api.get(f"/orders/{order}/drops", cast.client).body["past"]
    assert [(d["status"], d["lateness_seconds"]) for d in past] == [("held", 0)]
    assert past[0]["reason"].startswith("waiting for funds")

    # The rest lands at 09:00: the held drop goes out at once, six hours late.
    frozen_clock.stand_at("2026-03-03T09:00:00+08:00")
    top_up(api, cast, "0.20", "ICBC-TOPUP-2")
    past = api.get(f"/orders/{order}/drops", cast.client).body["past"]
    assert [(d["status"], d["batch_count"], d["lateness_seconds"]) for d in past] == [
        ("released", 1, 6 * 3600)
    ]
    assert len([b for b in api.get("/batches", cast.owner).body if b["order_id"] == order]) == 1
    money = balance(api, cast)
    assert (money["available"], money["reserved"]) == ("0.09", "0.21")

    # The next drop finds 0.09 where 0.21 is needed: it waits too, and takes nothing.
    frozen_clock.stand_at("2026-03-04T03:00:00+08:00")
    [waiting] = release_drops(app)
    assert waiting.status == "held"
    assert (balance(api, cast)["available"], balance(api, cast)["reserved"]) == ("0.09", "0.21")
    ledger_is_balanced(api, cast)


def balance_or_none(api, cast):
    cny = balance(api, cast)
    return cny if cny["reserved"] != "0.00" else None


def test_an_expired_lease_gives_its_reservation_back_until_the_items_drop_again(
    app, api, cast, frozen_clock
):
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    top_up(api, cast, "1.00", "ICBC-TOPUP-3")
    order = funded_order(
        api, cast, "milestones", items=4, batch_size=2, release_plan=DAILY_3AM, lease_hours=1
    )
    api.post(f"/orders/{order}/publish", cast.client)
    frozen_clock.stand_at("2026-03-03T03:00:00+08:00")
    release_drops(app)
    claim(api, cast.owner, order)
    assert (balance(api, cast)["available"], balance(api, cast)["reserved"]) == ("0.79", "0.21")

    frozen_clock.step(hours=1)
    with app.app_context(), unit_of_work() as session:
        assert len(return_expired_batches(session)) == 1
    # Both boxes went back to wait for the next drop: their 0.21 is the client's again.
    assert (balance(api, cast)["available"], balance(api, cast)["reserved"]) == ("1.00", "0.00")
    frozen_clock.stand_at("2026-03-04T03:00:00+08:00")
    [drop] = release_drops(app)
    assert (drop.status, drop.batch_count) == ("released", 1)
    assert (balance(api, cast)["available"], balance(api, cast)["reserved"]) == ("0.79", "0.21")
    ledger_is_balanced(api, cast)


def test_invoiced_orders_need_a_credit_line_and_stay_within_it(app, api, cast, frozen_clock):
    # Acme has lines in CNY, USD and JPY; not in EUR.
    body = order_body(items=20, batch_size=10, currency="EUR", funding="invoiced")
    refused = api.post("/orders", cast.rival_client, body)
    assert (refused.status, refused.error_code) == (409, "no_credit_line")
    # Without a line, an order is prefunded by default.
    unfunded = api.post("/orders", cast.rival_client, order_body(currency="EUR"))
    assert unfunded.body["funding"] == "prefunded"

    line = {"limit": "1.50", "reason": "first month, small orders"}
    acme = cast.party_ids["acme"]
    assert api.put(f"/clients/{acme}/credit-lines/CNY", cast.admin, line).status == 200
    big = api.post("/orders", cast.rival_client, order_body(items=20, batch_size=10))
    assert big.body["funding"] == "invoiced"
    over = api.post(f"/orders/{big.body['id']}/publish", cast.rival_client)
    assert (over.status, over.error_code) == (409, "beyond_credit_line")
    assert "this needs 2.10 CNY more, the line is 1.50 CNY" in over.body["error"]["message"]
    small = api.post("/orders", cast.rival_client, order_body(items=10, batch_size=10))
    assert api.post(f"/orders/{small.body['id']}/publish", cast.rival_client).status == 200
    # On the board: on credit, nothing reserved; how Acme pays is beside it.
    [on_credit] = [
        b for b in api.get("/batches", cast.owner).body if b["order_id"] == small.body["id"]
    ]
    assert (on_credit["funding"], on_credit["reserved"]) == ("invoiced", None)
    assert on_credit["client_payment_record"]["client_id"] == acme
    [cny] = [b for b in api.get("/balance", cast.rival_client).body if b["currency"] == "CNY"]
    assert (cny["credit_line"], cny["credit_used"]) == ("1.50", "1.05")


@pytest.mark.slow
def test_a_credit_line_counts_what_is_owed_and_what_is_out_not_funded_statements(
    app, api, cast, frozen_clock
):
    horizon = cast.party_ids["horizon"]
    line = {"limit": "1.50", "reason": "first month, small orders"}
    assert api.put(f"/clients/{horizon}/credit-lines/CNY", cast.admin, line).status == 200

    def used():
        return balance(api, cast)["credit_used"]

    # A prefunded order's statement, paid from its reservation, owes the line nothing.
    top_up(api, cast, "1.05", "ICBC-TOPUP-9")
    funded = funded_order(api, cast, "prefunded", items=10, batch_size=10)
    assert api.post(f"/orders/{funded}/publish", cast.client).status == 200
    claim(api, cast.owner, funded)
    set_piece_rate(api, cast.owner, funded, "0.06")
    review(api, cast.reviewer, accept=submit(api, cast.li, 10))
    assert settle(app)[0][1:] == (105, "paid")
    assert used() == "0.00"

    # Ten boxes on credit are out: 1.05 used, however much the funded order paid.
    invoiced = flows.post_order(api, cast.client, items=10, batch_size=10, funding="invoiced")
    assert used() == "1.05"
    more = funded_order(api, cast, "invoiced", items=5, batch_size=5)
    over = api.post(f"/orders/{more}/publish", cast.client)
    assert (over.status, over.error_code) == (409, "beyond_credit_line")
    assert (
        "it owes or has work out for 1.05 CNY, this needs 0.53 CNY more"
        in (over.body["error"]["message"])
    )

    # Billed, the same boxes are owed instead of out: counted once.
    claim(api, cast.owner, invoiced)
    set_piece_rate(api, cast.owner, invoiced, "0.06")
    review(api, cast.reviewer, accept=submit(api, cast.li, 10))
    bill = api.post(f"/orders/{invoiced}/invoices", cast.admin)
    assert (bill.status, bill.body["total"]) == (201, "1.05")
    assert used() == "1.05"
    top_up(api, cast, "1.05", "ICBC-PAYS-BILL")
    assert used() == "0.00"
    assert api.post(f"/orders/{more}/publish", cast.client).status == 200
    assert used() == "0.53"
    ledger_is_balanced(api, cast)


def test_bad_money_input_is_refused_and_writes_nothing(app, api, cast):
    acme = cast.party_ids["acme"]
    before = row_counts(app)
    for limit in ("0", "-5.00", "0.001", "lots"):
        answer = api.put(
            f"/clients/{acme}/credit-lines/CNY", cast.admin, {"limit": limit, "reason": "x"}
        )
        assert answer.status == 422, (limit, answer.body)
    no_reason = api.put(
        f"/clients/{acme}/credit-lines/CNY", cast.admin, {"limit": "5.00", "reason": " "}
    )
    assert no_reason.status == 422
    assert (
        api.put(
            f"/clients/{acme}/credit-lines/XYZ", cast.admin, {"limit": "5.00", "reason": "x"}
        ).status
        == 422
    )
    # Only admins give credit; a client cannot give itself any.
    mine = api.put(
        f"/clients/{acme}/credit-lines/CNY", cast.rival_client, {"limit": "5.00", "reason": "x"}
    )
    assert mine.status == 403
    for amount in ("0", "-1.00", "0.001"):
        top = {
            "amount": amount,
            "currency": "CNY",
            "payment_method": "pm_card_visa",
            "attempt": "a1",
        }
        assert api.post("/balance/top-ups", cast.client, top).status == 422, amount
    # Another client's balance is not there for anyone else to read.
    other = api.get(f"/balance?client_id={acme}", cast.client)
    assert (other.status, other.error_code) == (404, "client_not_found")
    assert api.get("/balance", cast.owner).status == 403
    assert row_counts(app) == before
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Reservation)) == 0


def test_a_chargeback_after_work_was_posted_takes_nothing_from_the_workers(
    app, api, cast, frozen_clock
):
    top_up(api, cast, "1.05", "ICBC-TOPUP-4")
    [payment] = [
        p for p in api.get("/payments", cast.admin).body if p["reference"] == "ICBC-TOPUP-4"
    ]
    order = funded_order(api, cast, "prefunded", items=10, batch_size=10)
    assert api.post(f"/orders/{order}/publish", cast.client).status == 200
    claim(api, cast.owner, order)
    set_piece_rate(api, cast.owner, order, "0.06")
    done = submit(api, cast.li, 10)
    review(api, cast.reviewer, accept=done[:6])
    [(_, total, _)] = settle(app)
    assert total == 63  # 0.60 and its 0.03 fee; 0.42 stays reserved for the 4 in review

    chargeback = {"kind": "chargeback", "amount": "1.05", "reference": "CB-1", "reason": "card"}
    answer = api.post(f"/payments/{payment['id']}/reversals", cast.admin, chargeback)
    assert answer.status == 201, answer.body
    # Its balance had nothing left, the reservation's 0.42 goes back, and the 0.63 Li and
    # Lotus were paid stays theirs: the client owes it, on credit hold.
    assert holding(api, cast.li, "annotator")["available"] == "0.36"
    money = balance(api, cast)
    assert (money["available"], money["reserved"]) == ("-0.63", "0.00")
    record = api.get(f"/clients/{cast.party_ids['horizon']}/payment-record", cast.admin).body
    assert record["credit_hold"]["reason"].startswith("a chargeback took its CNY balance below")
    ledger_is_balanced(api, cast)

    # The 4 boxes in review are now pay-when-paid: their statement waits for the client.
    review(api, cast.reviewer, accept=done[6:])
    [(_, total, status)] = settle(app)
    assert (total, status) == (42, "open")
    li = holding(api, cast.li, "annotator")
    assert (li["available"], li["pending"]) == ("0.36", "0.24")
    ledger_is_balanced(api, cast)


@pytest.mark.only_engine("postgresql")
def test_two_drops_racing_for_the_last_of_a_balance_reserve_it_once(app, api, cast, frozen_clock):
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    top_up(api, cast, "0.21", "ICBC-TOPUP-5")  # enough for one drop of 2 boxes, not two
    orders = [
        funded_order(api, cast, "milestones", items=2, batch_size=2, release_plan=DAILY_3AM)
        for _ in range(2)
    ]
    for order in orders:
        assert api.post(f"/orders/{order}/publish", cast.client).status == 200
    frozen_clock.stand_at("2026-03-03T03:00:00+08:00")

    # Two schedulers' passes at once: each may take either order's drop first.
    all_at_once(app, [lambda _client: release_drops(app)] * 2)
    with app.app_context():
        statuses = sorted(db.session.scalars(select(Drop.status)).all())
        assert statuses == ["held", "released"]
        assert db.session.scalar(select(func.sum(Reservation.amount_minor))) == 21
    money = balance(api, cast)
    assert (money["available"], money["reserved"]) == ("0.00", "0.21")
    ledger_is_balanced(api, cast)


def test_a_team_can_claim_funded_work_only(app, api, cast, frozen_clock):
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    top_up(api, cast, "1.00", "ICBC-TOPUP-6")
    rule = api.post("/claim-rules", cast.owner, {"batches_per_drop": 1, "funded_only": True})
    assert (rule.status, rule.body["funded_only"]) == (201, True)
    on_credit = funded_order(api, cast, "invoiced", items=2, batch_size=2, release_plan=DAILY_3AM)
    funded = funded_order(api, cast, "milestones", items=2, batch_size=2, release_plan=DAILY_3AM)
    for order in (on_credit, funded):
        assert api.post(f"/orders/{order}/publish", cast.client).status == 200
    frozen_clock.stand_at("2026-03-03T03:00:00+08:00")
    assert [d.status for d in release_drops(app)] == ["released", "released"]
    # Lotus's rule took the funded order's batch at the drop, and left the other one.
    held = {
        b["order_id"]: (b["status"], b["claimed_by"], b["funding"])
        for order in (on_credit, funded)
        for b in api.get(f"/orders/{order}/batches", cast.client).body
    }
    lotus = cast.party_ids["lotus"]
    assert held == {
        on_credit: ("released", None, "invoiced"),
        funded: ("claimed", lotus, "milestones"),
    }


@pytest.mark.slow
def test_a_card_top_up_on_localstripe_funds_the_drop_that_waited(
    app, api, cast, frozen_clock, localstripe_url, stripe_config
):
    stripe_config(localstripe_url)
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    order = funded_order(api, cast, "milestones", items=2, batch_size=2, release_plan=DAILY_3AM)
    assert api.post(f"/orders/{order}/publish", cast.client).status == 200
    frozen_clock.stand_at("2026-03-03T03:00:00+08:00")
    assert [d.status for d in release_drops(app)] == ["held"]

    card = {"amount": "0.50", "currency": "CNY", "payment_method": "pm_card_visa"}
    answer = api.post("/balance/top-ups", cast.client, card | {"attempt": "top-up-1"})
    assert answer.status == 201, answer.body
    assert answer.body["status"] == "succeeded"
    payment = answer.body["payment"]
    assert (payment["gateway"], payment["amount"], payment["invoice_id"]) == (
        "stripe",
        "0.50",
        None,
    )
    assert (balance(api, cast)["available"], balance(api, cast)["reserved"]) == ("0.29", "0.21")
    past = api.get(f"/orders/{order}/drops", cast.client).body["past"]
    assert [(d["status"], d["batch_count"]) for d in past] == [("released", 1)]
    ledger_is_balanced(api, cast)


def test_a_refund_gives_back_the_unreserved_balance_and_no_more(app, api, cast, frozen_clock):
    payment = flows.top_up(api, cast.admin, cast.party_ids["horizon"], "1.00", "ICBC-TOPUP-7")
    order = funded_order(api, cast, "prefunded", items=4, batch_size=4)
    assert api.post(f"/orders/{order}/publish", cast.client).status == 200  # 0.42 reserved
    before = row_counts(app)
    refund = {"kind": "refund", "reference": "REFUND-1", "reason": "the client asked"}
    over = api.post(f"/payments/{payment['id']}/reversals", cast.admin, refund | {"amount": "0.59"})
    assert (over.status, over.error_code) == (409, "refund_exceeds_balance")
    assert over.body["error"]["details"]["refundable"] == "0.58"
    assert row_counts(app) == before
    done = api.post(f"/payments/{payment['id']}/reversals", cast.admin, refund | {"amount": "0.58"})
    assert done.status == 201, done.body
    assert (balance(api, cast)["available"], balance(api, cast)["reserved"]) == ("0.00", "0.42")
    ledger_is_balanced(api, cast)


def test_items_added_to_a_published_funded_order_are_reserved_or_refused(
    app, api, cast, frozen_clock
):
    top_up(api, cast, "1.10", "ICBC-TOPUP-8")
    order = funded_order(api, cast, "prefunded", items=2, batch_size=2)
    assert api.post(f"/orders/{order}/publish", cast.client).status == 200  # 0.21 reserved
    before = row_counts(app)
    # 10 boxes more, released at once (no plan), would need 1.05: the balance has 0.89.
    refused = upload(api, cast.client, order, boxes_csv([f"s3://more/{n}" for n in range(10)]))
    assert (refused.status, refused.error_code) == (409, "funds_short")
    assert "the work needs 1.05 CNY more reserved" in refused.body["error"]["message"]
    assert row_counts(app) == before
    added = upload(api, cast.client, order, boxes_csv([f"s3://more/{n}" for n in range(8)]))
    assert added.status == 201, added.body
    # 2 + 8 boxes: 1.00 and the 0.05 fee, all reserved.
    assert (balance(api, cast)["available"], balance(api, cast)["reserved"]) == ("0.05", "1.05")


def test_a_refund_takes_the_unreserved_balance_then_invoices_never_a_reservation(
    app, api, cast, frozen_clock
):
    invoice = flows.invoiced(api, cast)  # 1.05, open
    payment = flows.top_up(api, cast.admin, cast.party_ids["horizon"], "3.00", "ICBC-TOPUP-9")
    assert api.get(f"/invoices/{invoice['id']}", cast.client).body["status"] == "paid"
    order = funded_order(api, cast, "prefunded", items=4, batch_size=4)
    assert api.post(f"/orders/{order}/publish", cast.client).status == 200
    assert (balance(api, cast)["available"], balance(api, cast)["reserved"]) == ("1.53", "0.42")
    refund = {"kind": "refund", "amount": "2.58", "reference": "REFUND-2", "reason": "asked"}
    done = api.post(f"/payments/{payment['id']}/reversals", cast.admin, refund)
    assert done.status == 201, done.body
    # The balance's 1.53 and the invoice's 1.05 (owed again); the reservation untouched.
    assert (balance(api, cast)["available"], balance(api, cast)["reserved"]) == ("0.00", "0.42")
    again = api.get(f"/invoices/{invoice['id']}", cast.client).body
    assert (again["status"], again["outstanding"]) == ("open", "1.05")
    ledger_is_balanced(api, cast)


def test_a_top_up_releases_no_drop_while_the_client_is_on_credit_hold(app, api, cast, frozen_clock):
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    order = funded_order(api, cast, "milestones", items=2, batch_size=2, release_plan=DAILY_3AM)
    assert api.post(f"/orders/{order}/publish", cast.client).status == 200
    frozen_clock.stand_at("2026-03-03T03:00:00+08:00")
    assert [d.status for d in release_drops(app)] == ["held"]
    hold(app, cast, lifts_when_paid=False)
    top_up(api, cast, "1.00", "ICBC-TOPUP-10")
    past = api.get(f"/orders/{order}/drops", cast.client).body["past"]
    assert [(d["status"], d["batch_count"]) for d in past] == [("held", 0)]
    assert (balance(api, cast)["available"], balance(api, cast)["reserved"]) == ("1.00", "0.00")
