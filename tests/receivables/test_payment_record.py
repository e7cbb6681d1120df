"""Each client's payment record, which any signed-in user may read before taking its work.

A paid invoice is late by the days from its due date to the day it was paid, an unpaid
one past due by the days to today (Asia/Shanghai); the average has one decimal.
"""

import pytest

from marketplace.receivables.record import overdue_band
from tests.flows import claim, post_order, review, set_rate, submit
from tests.support import row_counts

# End to end through the API: `make test` runs them, `make check` stays under a minute.
pytestmark = pytest.mark.slow


def invoice_for(api, cast, *, client="client", items=1, terms=30, currency="CNY") -> dict:
    """An order of `items` at 0.10 posted by `client` (a cast label) with `terms` days to
    pay, done by Li at 0.06 and accepted, invoiced now."""
    order_id = post_order(
        api,
        cast.tokens[client],
        items=items,
        batch_size=items,
        currency=currency,
        payment_terms_days=terms,
    )
    claim(api, cast.owner, order_id)
    set_rate(api, cast.owner, order_id, "0.06")
    review(api, cast.reviewer, accept=submit(api, cast.li, items))
    answer = api.post(f"/orders/{order_id}/invoices", cast.admin)
    assert answer.status == 201, answer.body
    return answer.body


def pay(api, cast, invoice: dict, amount: str, received_on: str, reference: str) -> None:
    answer = api.post(
        f"/invoices/{invoice['id']}/payments",
        cast.admin,
        {"amount": amount, "reference": reference, "received_on": received_on},
    )
    assert answer.status == 201, answer.body


def record(api, cast, party="horizon", token=None) -> dict:
    answer = api.get(f"/clients/{cast.party_ids[party]}/payment-record", token or cast.li)
    assert answer.status == 200, answer.body
    return answer.body


def horizon_paying_one_on_time_one_late_and_one_not(api, cast, frozen_clock) -> list[dict]:
    """Three Horizon invoices issued 2026-03-02 (Shanghai): 1.05 due 03-12 and paid on
    03-10; 0.32 due 03-07 and paid on 03-12; 0.21 due 03-02 and never paid. The clock
    is left at 03-12 noon in Shanghai, the third invoice 10 days past due."""
    on_time = invoice_for(api, cast, items=10, terms=10)
    late = invoice_for(api, cast, items=3, terms=5)
    unpaid = invoice_for(api, cast, items=2, terms=0)
    assert [(i["total"], i["due_on"]) for i in (on_time, late, unpaid)] == [
        ("1.05", "2026-03-12"),
        ("0.32", "2026-03-07"),
        ("0.21", "2026-03-02"),
    ]
    frozen_clock.stand_at("2026-03-10T09:00:00+08:00")
    pay(api, cast, on_time, "1.05", "2026-03-10", "ICBC-1")
    frozen_clock.stand_at("2026-03-12T12:00:00+08:00")
    pay(api, cast, late, "0.32", "2026-03-12", "ICBC-2")
    return [on_time, late, unpaid]


def test_a_record_counts_on_time_late_and_unpaid_invoices_exactly(api, cast, frozen_clock):
    on_time, late, unpaid = horizon_paying_one_on_time_one_late_and_one_not(api, cast, frozen_clock)
    assert [
        api.get(f"/invoices/{i['id']}", cast.client).body["status"] for i in (on_time, late, unpaid)
    ] == [
        "paid",
        "paid",
        "open",
    ]

    assert record(api, cast) == {
        "client_id": cast.party_ids["horizon"],
        "client_name": "Horizon",
        "invoices_issued": 3,
        "invoices_paid": 2,
        "paid_on_time": 1,
        "average_days_late": "5.0",  # (0 + 5 + 10) / 3
        "worst_days_late": 10,
        "overdue_invoices": 1,
        # A team reads the band of what is overdue, never the sum (it would give away the
        # client's price); the client itself and the admins read the sum too.
        "overdue_now": [{"currency": "CNY", "at_least": "0.00", "below": "100.00", "amount": None}],
        "oldest_unpaid_days": 10,  # issued 03-02, today 03-12
        "credit_hold": None,
    }
    for who in ("client", "admin"):
        assert record(api, cast, token=cast.tokens[who])["overdue_now"] == [
            {"currency": "CNY", "at_least": "0.00", "below": "100.00", "amount": "0.21"}
        ], who

    # Part of the unpaid invoice arrives: what is overdue drops; it is still late.
    pay(api, cast, unpaid, "0.08", "2026-03-12", "ICBC-3")
    # An invoice issued today and not yet due is issued, but neither late nor overdue.
    invoice_for(api, cast, items=1, terms=30)
    now = record(api, cast)
    assert (now["invoices_issued"], now["invoices_paid"], now["paid_on_time"]) == (4, 2, 1)
    assert (now["average_days_late"], now["worst_days_late"]) == ("5.0", 10)
    assert record(api, cast, token=cast.client)["overdue_now"][0]["amount"] == "0.13"
    assert now["oldest_unpaid_days"] == 10

    # A day later: (0 + 5 + 11) / 3 = 5.33 -> 5.3; two days later (0 + 5 + 12) / 3 = 5.67 -> 5.7.
    frozen_clock.stand_at("2026-03-13T12:00:00+08:00")
    assert [record(api, cast)[k] for k in ("average_days_late", "worst_days_late")] == ["5.3", 11]
    assert record(api, cast)["oldest_unpaid_days"] == 11
    frozen_clock.stand_at("2026-03-14T00:30:00+08:00")  # 03-13 16:30 UTC: 03-14 in Shanghai
    assert [record(api, cast)[k] for k in ("average_days_late", "worst_days_late")] == ["5.7", 12]

    # Paid at last: the transfer arrived 03-13, recorded on 03-14. It counts from the day the
    # money arrived, 11 days late: nothing overdue or unpaid but the one not yet due.
    pay(api, cast, unpaid, "0.13", "2026-03-13", "ICBC-4")
    paid_up = record(api, cast)
    assert {k: paid_up[k] for k in paid_up if k not in ("client_id", "client_name")} == {
        "invoices_issued": 4,
        "invoices_paid": 3,
        "paid_on_time": 1,
        "average_days_late": "5.3",  # (0 + 5 + 11) / 3, fixed now it is paid
        "worst_days_late": 11,
        "overdue_invoices": 0,
        "overdue_now": [],
        "oldest_unpaid_days": 2,  # the 0.11 issued 03-12
        "credit_hold": None,
    }
    frozen_clock.stand_at("2026-03-20T12:00:00+08:00")
    assert record(api, cast)["average_days_late"] == "5.3"


def test_a_client_that_was_never_invoiced_has_an_empty_record(api, cast, frozen_clock):
    assert record(api, cast, "acme") == {
        "client_id": cast.party_ids["acme"],
        "client_name": "Acme",
        "invoices_issued": 0,
        "invoices_paid": 0,
        "paid_on_time": 0,
        "average_days_late": None,
        "worst_days_late": None,
        "overdue_invoices": 0,
        "overdue_now": [],
        "oldest_unpaid_days": None,
        "credit_hold": None,
    }


def test_overdue_amounts_are_kept_apart_by_currency(api, cast, frozen_clock):
    invoice_for(api, cast, items=10, terms=0)  # 1.05 CNY due 03-02
    invoice_for(api, cast, items=3, terms=1, currency="USD")  # 0.32 USD due 03-03
    invoice_for(api, cast, items=2, terms=3, currency="USD")  # 0.21 USD due 03-05
    frozen_clock.stand_at("2026-03-05T12:00:00+08:00")

    now = record(api, cast, token=cast.client)

    # The USD invoice due today is not overdue yet: (3 + 2) / 2 = 2.5 days late.
    assert now["overdue_invoices"] == 2
    assert now["overdue_now"] == [
        {"currency": "CNY", "at_least": "0.00", "below": "100.00", "amount": "1.05"},
        {"currency": "USD", "at_least": "0.00", "below": "100.00", "amount": "0.32"},
    ]
    assert (now["average_days_late"], now["worst_days_late"]) == ("2.5", 3)
    assert (now["invoices_issued"], now["invoices_paid"], now["oldest_unpaid_days"]) == (3, 0, 3)


def test_the_record_shows_a_credit_hold_in_force(api, cast, frozen_clock):
    horizon = cast.party_ids["horizon"]
    placed = api.post(
        f"/clients/{horizon}/credit-holds", cast.admin, {"reason": "INV-2026-000003 is late"}
    )
    assert placed.status == 201, placed.body

    # An admin's own words may name amounts: teams read that an admin placed it.
    assert record(api, cast)["credit_hold"] == {
        "since": "2026-03-02T10:00:00+00:00",
        "reason": "placed by a platform admin",
    }
    for who in ("client", "admin"):
        assert record(api, cast, token=cast.tokens[who])["credit_hold"] == {
            "since": "2026-03-02T10:00:00+00:00",
            "reason": "INV-2026-000003 is late",
        }, who
    assert record(api, cast, "acme")["credit_hold"] is None

    frozen_clock.step(hours=1)
    lifted = api.post(f"/clients/{horizon}/credit-holds/lift", cast.admin, {"reason": "paid"})
    assert lifted.status == 200, lifted.body
    assert record(api, cast)["credit_hold"] is None


def test_every_client_with_published_orders_is_listed_for_anyone_signed_in(
    app, api, cast, frozen_clock
):
    horizon_paying_one_on_time_one_late_and_one_not(api, cast, frozen_clock)
    # Acme has a draft only: not in the market yet.
    post_order(api, cast.rival_client, publish=False, items=1)

    for who in ("li", "owner", "rival_owner", "rival_client", "client", "admin"):
        answer = api.get("/payment-records", cast.tokens[who])
        assert answer.status == 200, who
        assert answer.body == [record(api, cast, token=cast.tokens[who])], who
    # Only the client itself and the admins read the overdue sum to the fen.
    assert [
        api.get("/payment-records", cast.tokens[who]).body[0]["overdue_now"][0]["amount"]
        for who in ("li", "owner", "rival_owner", "rival_client", "client", "admin")
    ] == [None, None, None, None, "0.21", "0.21"]
    assert answer.body[0]["average_days_late"] == "5.0"

    post_order(api, cast.rival_client, items=1)
    listed = api.get("/payment-records", cast.rival_owner).body
    assert [(r["client_name"], r["invoices_issued"]) for r in listed] == [
        ("Horizon", 3),
        ("Acme", 0),
    ]
    assert api.get("/payment-records").status == 401


def test_a_record_is_for_clients_only(app, api, cast):
    counts = row_counts(app)
    for party_id in (
        cast.party_ids["lotus"],
        cast.party_ids["platform"],
        999_999,
        0,
        2**63,
        2**64,
    ):
        answer = api.get(f"/clients/{party_id}/payment-record", cast.li)
        assert (answer.status, answer.error_code) == (404, "client_not_found"), party_id
    assert api.get(f"/clients/{cast.party_ids['horizon']}/payment-record").status == 401
    assert row_counts(app) == counts


@pytest.mark.parametrize("who", ["rival_client", "rival_annotator", "reviewer", "owner"])
def test_any_signed_in_user_reads_any_client_record_with_the_overdue_sum_banded(
    api, cast, frozen_clock, who
):
    invoice_for(api, cast, items=10, terms=0)
    frozen_clock.stand_at("2026-03-04T12:00:00+08:00")
    answer = api.get(f"/clients/{cast.party_ids['horizon']}/payment-record", cast.tokens[who])
    assert answer.status == 200
    assert (answer.body["overdue_now"], answer.body["worst_days_late"]) == (
        [{"currency": "CNY", "at_least": "0.00", "below": "100.00", "amount": None}],
        2,
    )
    assert "1.05" not in answer.text


@pytest.mark.parametrize(
    ("minor", "currency", "band"),
    [
        (0, "CNY", ("0.00", "100.00")),
        (9999, "CNY", ("0.00", "100.00")),
        (10000, "CNY", ("100.00", "1000.00")),
        (20580, "CNY", ("100.00", "1000.00")),
        (99999, "CNY", ("100.00", "1000.00")),
        (100000, "CNY", ("1000.00", "10000.00")),
        (123456789, "USD", ("1000000.00", "10000000.00")),
        (99, "JPY", ("0", "100")),
        (100, "JPY", ("100", "1000")),
        (50000, "JPY", ("10000", "100000")),
    ],
)
def test_an_overdue_sum_falls_in_a_band_of_a_power_of_ten(minor, currency, band):
    found = overdue_band(minor, currency)
    assert (found["at_least"], found["below"]) == band
