"""The aging report: who owed what on a day, by days past due, exact to the cent.

Days count in the business time zone (Asia/Shanghai). "As of" a past day counts the
invoices issued by the end of that day, for what was outstanding then.
"""

import csv
import io

import pytest

from tests.flows import claim, post_order, review, set_rate, submit
from tests.support import row_counts

# End-to-end walks through the money's life: `make test` runs them, `make check`
# leaves them out.
pytestmark = pytest.mark.slow

BUCKETS = ["current", "1_30", "31_60", "61_90", "91_180", "over_180"]
NOTHING = dict.fromkeys(BUCKETS, "0.00")


def invoice_for(
    api, cast, *, client="client", items=1, price="0.10", rate="0.06", terms=30, currency="CNY"
) -> dict:
    """An order of `items` posted by `client` (a cast label) with `terms` days to pay, all
    done by Li and accepted, invoiced now; the invoice as the API shows it."""
    token = cast.tokens[client]
    order_id = post_order(
        api,
        token,
        items=items,
        batch_size=items,
        price=price,
        currency=currency,
        payment_terms_days=terms,
    )
    claim(api, cast.owner, order_id)
    set_rate(api, cast.owner, order_id, rate)
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


def aging(api, cast, query: str = "") -> dict:
    answer = api.get(f"/receivables/aging{query}", cast.admin)
    assert answer.status == 200, answer.body
    return answer.body


def buckets(**amounts: str) -> dict[str, str]:
    """Bucket amounts by name (`b1_30` for "1_30"); the rest 0.00."""
    return NOTHING | {name.removeprefix("b"): amount for name, amount in amounts.items()}


def test_each_bucket_ends_on_its_last_day(api, cast, frozen_clock):
    # Eleven Horizon invoices issued on 2026-03-02 (18:00 in Shanghai), each given the terms
    # that leave it `late` days past due on 2026-08-30, 181 days later. n items at 0.10
    # cost n x 0.10 plus the 5% fee rounded half up: 1 -> 0.11, 3 -> 0.32, 11 -> 1.16.
    lateness = {-1: 1, 0: 2, 1: 3, 30: 4, 31: 5, 60: 6, 61: 7, 90: 8, 91: 9, 180: 10, 181: 11}
    totals = {}
    for late, items in lateness.items():
        invoice = invoice_for(api, cast, items=items, terms=181 - late)
        totals[late] = invoice["total"]
    assert totals == {
        -1: "0.11",
        0: "0.21",
        1: "0.32",
        30: "0.42",
        31: "0.53",
        60: "0.63",
        61: "0.74",
        90: "0.84",
        91: "0.95",
        180: "1.05",
        181: "1.16",
    }
    frozen_clock.stand_at("2026-08-30T12:00:00+08:00")

    report = aging(api, cast, "?as_of=2026-08-30")

    assert report["as_of"] == "2026-08-30"
    assert report["buckets"] == BUCKETS
    horizon = buckets(
        current="0.32",  # 0.11 (not due for a day) + 0.21 (due today)
        b1_30="0.74",  # 0.32 (1 day) + 0.42 (30 days)
        b31_60="1.16",  # 0.53 + 0.63
        b61_90="1.58",  # 0.74 + 0.84
        b91_180="2.00",  # 0.95 + 1.05
        over_180="1.16",  # 181 days
    )
    assert report["clients"] == [
        {
            "client_id": cast.party_ids["horizon"],
            "client_name": "Horizon",
            "currency": "CNY",
            "invoices": 11,
            "buckets": horizon,
            "total": "6.96",
        }
    ]
    assert report["totals"] == [{"currency": "CNY", "buckets": horizon, "total": "6.96"}]
    # Without as_of the report is as of today, in Shanghai.
    assert aging(api, cast) == report

    # A day earlier every invoice is a day younger, and each edge falls back a bucket.
    earlier = aging(api, cast, "?as_of=2026-08-29")
    assert earlier["clients"][0]["buckets"] == buckets(
        current="0.64",  # -2, -1, 0 days: 0.11 + 0.21 + 0.32
        b1_30="0.95",  # 29, 30: 0.42 + 0.53
        b31_60="1.37",  # 59, 60: 0.63 + 0.74
        b61_90="1.79",  # 89, 90: 0.84 + 0.95
        b91_180="2.21",  # 179, 180: 1.05 + 1.16
    )
    assert earlier["clients"][0]["total"] == "6.96"


def test_two_clients_a_partial_payment_and_days_past_and_present(api, cast, frozen_clock):
    # 2026-03-02 18:00 in Shanghai: Horizon's 1.05 due 04-01, Acme's 0.32 due today,
    # Horizon's 0.21 USD due 03-12.
    horizon_cny = invoice_for(api, cast, items=10, terms=30)
    acme = invoice_for(api, cast, client="rival_client", items=3, terms=0)
    horizon_usd = invoice_for(api, cast, items=2, terms=10, currency="USD")
    assert [(i["total"], i["due_on"]) for i in (horizon_cny, acme, horizon_usd)] == [
        ("1.05", "2026-04-01"),
        ("0.32", "2026-03-02"),
        ("0.21", "2026-03-12"),
    ]
    # 2026-04-11 10:00 in Shanghai: Horizon pays 0.50 of its CNY invoice.
    frozen_clock.stand_at("2026-04-11T10:00:00+08:00")
    pay(api, cast, horizon_cny, "0.50", "2026-04-11", "ICBC-1")
    # 00:30 on 04-12 in Shanghai (still 04-11 in UTC): another Horizon invoice, 0.11 due 05-12.
    frozen_clock.stand_at("2026-04-12T00:30:00+08:00")
    late_night = invoice_for(api, cast, items=1, terms=30)
    assert (late_night["total"], late_night["due_on"]) == ("0.11", "2026-05-12")
    frozen_clock.stand_at("2026-04-20T12:00:00+08:00")
    horizon, acme_id = cast.party_ids["horizon"], cast.party_ids["acme"]

    # Before anything was issued, nothing was owed.
    assert aging(api, cast, "?as_of=2026-03-01") == {
        "as_of": "2026-03-01",
        "buckets": BUCKETS,
        "clients": [],
        "totals": [],
    }

    # The day before the payment: Horizon's CNY invoice in full, 9 days past due; Acme's
    # 39 days; the USD invoice 29 days. The late-night invoice was not issued yet.
    before = aging(api, cast, "?as_of=2026-04-10")
    assert before["clients"] == [
        {
            "client_id": acme_id,
            "client_name": "Acme",
            "currency": "CNY",
            "invoices": 1,
            "buckets": buckets(b31_60="0.32"),
            "total": "0.32",
        },
        {
            "client_id": horizon,
            "client_name": "Horizon",
            "currency": "CNY",
            "invoices": 1,
            "buckets": buckets(b1_30="1.05"),
            "total": "1.05",
        },
        {
            "client_id": horizon,
            "client_name": "Horizon",
            "currency": "USD",
            "invoices": 1,
            "buckets": buckets(b1_30="0.21"),
            "total": "0.21",
        },
    ]
    assert before["totals"] == [
        {"currency": "CNY", "buckets": buckets(b1_30="1.05", b31_60="0.32"), "total": "1.37"},
        {"currency": "USD", "buckets": buckets(b1_30="0.21"), "total": "0.21"},
    ]

    # The day of the payment: 0.55 left. The invoice issued at 16:30 UTC that day was
    # issued on 04-12 in Shanghai, so it is not counted yet.
    on_the_day = aging(api, cast, "?as_of=2026-04-11&currency=CNY")
    assert [
        (r["client_name"], r["invoices"], r["buckets"], r["total"]) for r in on_the_day["clients"]
    ] == [
        ("Acme", 1, buckets(b31_60="0.32"), "0.32"),
        ("Horizon", 1, buckets(b1_30="0.55"), "0.55"),
    ]
    assert on_the_day["totals"] == [
        {"currency": "CNY", "buckets": buckets(b1_30="0.55", b31_60="0.32"), "total": "0.87"}
    ]

    # The next day the late-night invoice is counted, not yet due.
    after = aging(api, cast, "?as_of=2026-04-12&currency=CNY")
    assert [
        (r["client_name"], r["invoices"], r["buckets"], r["total"]) for r in after["clients"]
    ] == [
        ("Acme", 1, buckets(b31_60="0.32"), "0.32"),
        ("Horizon", 2, buckets(current="0.11", b1_30="0.55"), "0.66"),
    ]
    assert after["totals"] == [
        {
            "currency": "CNY",
            "buckets": buckets(current="0.11", b1_30="0.55", b31_60="0.32"),
            "total": "0.98",
        }
    ]

    # One currency only.
    usd = aging(api, cast, "?as_of=2026-04-12&currency=USD")
    assert usd["clients"] == [
        {
            "client_id": horizon,
            "client_name": "Horizon",
            "currency": "USD",
            "invoices": 1,
            "buckets": buckets(b31_60="0.21"),
            "total": "0.21",
        }
    ]
    assert usd["totals"] == [
        {"currency": "USD", "buckets": buckets(b31_60="0.21"), "total": "0.21"}
    ]
    assert aging(api, cast, "?as_of=2026-04-12&currency=EUR")["clients"] == []

    # Paid in full: gone from the report from that day on, still there the day before.
    frozen_clock.stand_at("2026-04-21T09:00:00+08:00")
    pay(api, cast, horizon_cny, "0.55", "2026-04-21", "ICBC-2")
    assert [r["total"] for r in aging(api, cast, "?as_of=2026-04-20&currency=CNY")["clients"]] == [
        "0.32",
        "0.66",
    ]
    assert [
        (r["client_name"], r["buckets"])
        for r in aging(api, cast, "?as_of=2026-04-21&currency=CNY")["clients"]
    ] == [("Acme", buckets(b31_60="0.32")), ("Horizon", buckets(current="0.11"))]


def test_the_csv_has_a_row_per_client_and_currency_then_a_total_per_currency(
    api, cast, frozen_clock
):
    invoice_for(api, cast, items=10, terms=30)  # Horizon 1.05 due 2026-04-01
    invoice_for(api, cast, client="rival_client", items=3, terms=0)  # Acme 0.32 due 03-02
    invoice_for(api, cast, items=2, terms=10, currency="USD")  # Horizon 0.21 USD due 03-12
    frozen_clock.stand_at("2026-04-10T12:00:00+08:00")

    answer = api.get("/receivables/aging?as_of=2026-04-10&format=csv", cast.admin)

    assert answer.status == 200
    acme, horizon = str(cast.party_ids["acme"]), str(cast.party_ids["horizon"])
    zero = "0.00"
    assert list(csv.reader(io.StringIO(answer.text))) == [
        ["as_of", "client_id", "client", "currency", "invoices", *BUCKETS, "total"],
        ["2026-04-10", acme, "Acme", "CNY", "1", zero, zero, "0.32", zero, zero, zero, "0.32"],
        [
            "2026-04-10",
            horizon,
            "Horizon",
            "CNY",
            "1",
            zero,
            "1.05",
            zero,
            zero,
            zero,
            zero,
            "1.05",
        ],
        [
            "2026-04-10",
            horizon,
            "Horizon",
            "USD",
            "1",
            zero,
            "0.21",
            zero,
            zero,
            zero,
            zero,
            "0.21",
        ],
        ["2026-04-10", "", "TOTAL", "CNY", "", zero, "1.05", "0.32", zero, zero, zero, "1.37"],
        ["2026-04-10", "", "TOTAL", "USD", "", zero, "0.21", zero, zero, zero, zero, "0.21"],
    ]
    one_currency = api.get(
        "/receivables/aging?as_of=2026-04-10&format=csv&currency=USD", cast.admin
    )
    assert [row[2:4] for row in csv.reader(io.StringIO(one_currency.text))] == [
        ["client", "currency"],
        ["Horizon", "USD"],
        ["TOTAL", "USD"],
    ]
    empty = api.get("/receivables/aging?as_of=2026-03-01&format=csv", cast.admin)
    assert (
        empty.text == "as_of,client_id,client,currency,invoices," + ",".join(BUCKETS) + ",total\n"
    )


@pytest.mark.parametrize("who", ["client", "rival_client", "owner", "li"])
def test_only_platform_admins_read_the_aging_report(app, api, cast, frozen_clock, who):
    invoice_for(api, cast)
    counts = row_counts(app)
    for query in ("", "?as_of=2026-03-02", "?format=csv"):
        refused = api.get(f"/receivables/aging{query}", cast.tokens[who])
        assert refused.status == 403, (who, query)
        assert "Horizon" not in refused.text
    assert api.get("/receivables/aging").status == 401
    assert row_counts(app) == counts


@pytest.mark.parametrize(
    "query",
    [
        "as_of=2026-13-01",
        "as_of=2026-02-30",
        "as_of=yesterday",
        "as_of=",
        "as_of=2026-03-02T10:00:00",
        "currency=XYZ",
        "currency=cny1",
        "format=pdf",
    ],
)
def test_a_bad_query_is_refused(api, cast, query):
    answer = api.get(f"/receivables/aging?{query}", cast.admin)
    assert answer.status == 422, (query, answer.text)


def test_a_refund_makes_the_invoice_owed_again_from_its_day(api, cast, frozen_clock):
    invoice = invoice_for(api, cast, items=10, terms=0)  # 1.05 due 2026-03-02
    frozen_clock.stand_at("2026-03-05T10:00:00+08:00")
    paid = api.post(
        f"/invoices/{invoice['id']}/payments",
        cast.admin,
        {"amount": "1.05", "reference": "ICBC-1", "received_on": "2026-03-05"},
    )
    assert paid.status == 201, paid.body
    frozen_clock.stand_at("2026-03-09T10:00:00+08:00")
    refund = api.post(
        f"/payments/{paid.body['id']}/reversals",
        cast.admin,
        {"kind": "refund", "amount": "0.40", "reference": "REFUND-1", "reason": "overpaid"},
    )
    assert refund.status == 201, refund.body

    def owed(day: str) -> list[tuple[str, str]]:
        rows = aging(api, cast, f"?as_of={day}")["clients"]
        return [(r["client_name"], r["buckets"]["1_30"]) for r in rows]

    assert owed("2026-03-04") == [("Horizon", "1.05")]  # 2 days past due, unpaid
    assert owed("2026-03-05") == []  # paid that day
    assert owed("2026-03-08") == []
    assert owed("2026-03-09") == [("Horizon", "0.40")]  # refunded: owed again


def test_the_last_day_there_is_is_refused_not_a_crash(app, api, cast):
    counts = row_counts(app)
    answer = api.get("/receivables/aging?as_of=9999-12-31", cast.admin)
    assert answer.status == 422
    assert api.get("/receivables/aging?as_of=9999-12-30", cast.admin).status == 200
    assert row_counts(app) == counts
