"""Money never moves twice, even when admins act at the same moment (PostgreSQL)."""

import threading

import pytest

from marketplace.db import db, unit_of_work
from marketplace.identity.standing import hold_client
from marketplace.orders.claims import lock_order
from marketplace.workers.leases import return_expired_batches
from tests.flows import (
    claim,
    holding,
    ledger_totals,
    post_order,
    release_drops,
    review,
    set_rate,
    submit,
    top_up,
)
from tests.support import all_at_once, wait_until_a_session_waits_for_a_lock

# SQLite serializes writers; the races are real only on PostgreSQL.
pytestmark = [pytest.mark.slow, pytest.mark.only_engine("postgresql")]


@pytest.fixture
def invoice(api, cast):
    order_id = post_order(api, cast.client, items=10, batch_size=10)
    claim(api, cast.owner, order_id)
    set_rate(api, cast.owner, order_id, "0.06")
    review(api, cast.reviewer, accept=submit(api, cast.li, 10))
    return api.post(f"/orders/{order_id}/invoices", cast.admin).body  # 1.00 + 0.05 fee


def test_partial_transfers_racing_to_pay_one_invoice_settle_it_exactly_once(
    app, api, cast, invoice
):
    """Six transfers of 0.35 at once: three pay the 1.05 invoice, three become credit."""
    answers = all_at_once(
        app,
        [
            lambda c, n=n: c.post(
                f"/invoices/{invoice['id']}/payments",
                cast.admin,
                {"amount": "0.35", "reference": f"T-{n}", "received_on": "2026-03-03"},
            )
            for n in range(6)
        ],
    )
    assert [a.status for a in answers] == [201] * 6
    applied = sorted((a.body["applied"], a.body["unapplied"]) for a in answers)
    assert applied == [("0.00", "0.35")] * 3 + [("0.35", "0.00")] * 3
    paid = api.get(f"/invoices/{invoice['id']}", cast.admin).body
    assert (paid["status"], paid["paid"], paid["outstanding"]) == ("paid", "1.05", "0.00")
    assert holding(api, cast.li, "annotator")["available"] == "0.60"
    assert holding(api, cast.owner, "team")["available"] == "0.40"
    assert ledger_totals(api, cast.admin) == {"CNY": 0}


def test_the_same_bank_reference_recorded_at_once_is_one_payment(app, api, cast, invoice):
    answers = all_at_once(
        app,
        [
            lambda c: c.post(
                f"/invoices/{invoice['id']}/payments",
                cast.admin,
                {"amount": "1.05", "reference": "T-1", "received_on": "2026-03-03"},
            )
            for _ in range(6)
        ],
    )
    assert sorted(a.status for a in answers) == [200] * 5 + [201]
    assert len({a.body["id"] for a in answers}) == 1
    assert len(api.get(f"/invoices/{invoice['id']}/payments", cast.admin).body) == 1
    assert holding(api, cast.li, "annotator")["available"] == "0.60"


def test_payout_runs_started_at_once_pay_each_earner_once(app, api, cast, invoice):
    api.post(
        f"/invoices/{invoice['id']}/payments",
        cast.admin,
        {"amount": "1.05", "reference": "T-1", "received_on": "2026-03-03"},
    )
    runs = all_at_once(
        app, [lambda c: c.post("/payout-runs", cast.admin, {"currency": "CNY"}) for _ in range(6)]
    )
    assert all(run.status == 201 for run in runs)
    paid = sorted((p["payee_name"], p["amount"]) for run in runs for p in run.body["payouts"])
    assert paid == [("Li", "0.60"), ("Lotus", "0.40")]
    assert holding(api, cast.li, "annotator")["paid"] == "0.60"
    assert ledger_totals(api, cast.admin) == {"CNY": 0}


def test_a_refund_racing_payout_runs_never_lets_anyone_be_paid_money_taken_back(
    app, api, cast, invoice
):
    """A refund and payout runs at the same moment: whichever order they take, what was paid
    out stays paid, what the refund takes back from an annotator is never more than she
    still held (her team absorbs the rest), and every fen is accounted for."""
    paid = api.post(
        f"/invoices/{invoice['id']}/payments",
        cast.admin,
        {"amount": "1.05", "reference": "T-1", "received_on": "2026-03-03"},
    ).body
    answers = all_at_once(
        app,
        [
            lambda c: c.post(
                f"/payments/{paid['id']}/reversals",
                cast.admin,
                {"kind": "refund", "amount": "1.05", "reference": "R-1", "reason": "race"},
            ),
            *(lambda c: c.post("/payout-runs", cast.admin, {"currency": "CNY"}) for _ in range(3)),
        ],
    )
    assert [a.status for a in answers] == [201] * 4, [a.text[:200] for a in answers]
    refund, runs = answers[0].body, answers[1:]
    li, lotus = holding(api, cast.li, "annotator"), holding(api, cast.owner, "team")
    paid_out = sorted((p["payee_name"], p["amount"]) for r in runs for p in r.body["payouts"])
    assert paid_out in ([], [("Li", "0.60"), ("Lotus", "0.40")])
    assert li["available"] == "0.00"
    if paid_out:  # the runs went first: Li keeps her 0.60, and Lotus absorbed it
        assert (li["paid"], li["pending"], refund["absorbed"]) == ("0.60", "0.00", "0.60")
        assert (lotus["available"], lotus["pending"]) == ("-1.00", "1.00")
    else:  # the refund went first: nothing was available to pay
        assert (li["paid"], li["pending"], refund["absorbed"]) == ("0.00", "0.60", "0.00")
        assert (lotus["available"], lotus["pending"]) == ("0.00", "0.40")
    assert ledger_totals(api, cast.admin) == {"CNY": 0}


def test_a_lease_expiring_while_a_drop_holds_its_client_queues_behind_it(
    app, api, cast, frozen_clock
):
    """A drop locks the client (to reserve), then the order (a lottery's allotment). An
    expired lease on a funded order gives back its reservation: it must take the client
    before the order too, or the two wait on each other until PostgreSQL kills one."""
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    top_up(api, cast.admin, cast.party_ids["horizon"], "1.00", "ICBC-TOPUP-7")
    daily = {"cron": "0 3 * * *", "timezone": "Asia/Shanghai", "batches_per_drop": 1}
    order = post_order(
        api,
        cast.client,
        items=4,
        batch_size=2,
        funding="milestones",
        release_plan=daily,
        lease_hours=1,
    )
    frozen_clock.stand_at("2026-03-03T03:00:00+08:00")
    release_drops(app)
    claim(api, cast.owner, order)
    frozen_clock.step(hours=1)

    with app.app_context():
        engine = db.engine
    failures = []

    def expire_leases() -> None:
        try:
            with app.app_context(), unit_of_work() as session:
                assert len(return_expired_batches(session)) == 1
        except Exception as error:  # a deadlock, reported below
            failures.append(error)

    with app.app_context(), unit_of_work() as drop:
        hold_client(drop, cast.party_ids["horizon"])  # as a drop reserving for this client
        expiring = threading.Thread(target=expire_leases)
        expiring.start()
        wait_until_a_session_waits_for_a_lock(engine)
        lock_order(drop, order)  # as the drop's lottery then locks the order
    expiring.join()
    assert failures == []
    [cny] = [b for b in api.get("/balance", cast.client).body if b["currency"] == "CNY"]
    assert (cny["available"], cny["reserved"]) == ("1.00", "0.00")
    assert all(total == 0 for total in ledger_totals(api, cast.admin).values())
