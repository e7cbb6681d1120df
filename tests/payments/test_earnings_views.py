"""What an annotator sees of her earnings, and what her team's owner sees of each member.

Lotus counts its days in Shanghai (UTC+8). Li earns 0.055 CNY an accepted box on an
order the client pays 0.10 for; 7 of them are 0.385 of exact pay, billed as 0.39.
"""

import pytest

from marketplace.db import unit_of_work
from marketplace.identity.models import Party, Role, User
from marketplace.identity.service import add_membership
from tests.flows import claim, holding, post_order, review, set_rate, submit

# End to end through the API: `make test` runs them, `make check` stays under a minute.
pytestmark = pytest.mark.slow


def team_order(api, cast, items, *, rate="0.055", price="0.10", currency="CNY", owner=None):
    """An order of `items` boxes, all claimed by the owner's team (Lotus by default), whose
    annotators earn `rate` an accepted box."""
    owner = owner or cast.owner
    order_id = post_order(
        api, cast.client, items=items, price=price, currency=currency, batch_size=items
    )
    claim(api, owner, order_id)
    set_rate(api, owner, order_id, rate)
    return order_id


def work(api, annotator, reviewer, *, accept=0, reject=0, unreviewed=0) -> list[int]:
    """The annotator submits that many boxes now; the reviewer accepts and rejects some now."""
    ids = submit(api, annotator, accept + reject + unreviewed)
    if accept + reject:
        review(api, reviewer, accept=ids[:accept], reject=ids[accept : accept + reject])
    return ids


def invoice(api, cast, order_id) -> dict:
    answer = api.post(f"/orders/{order_id}/invoices", cast.admin)
    assert answer.status == 201, answer.body
    return answer.body


def pay(api, cast, bill: dict, received_on: str) -> None:
    """The client's bank transfer of the invoice's total, recorded by the platform admin."""
    answer = api.post(
        f"/invoices/{bill['id']}/payments",
        cast.admin,
        {
            "amount": bill["total"],
            "reference": f"ICBC-{bill['number']}",
            "received_on": received_on,
        },
    )
    assert answer.status == 201, answer.body


def payout_run(api, cast, currency="CNY") -> dict:
    answer = api.post("/payout-runs", cast.admin, {"currency": currency})
    assert answer.status == 201, answer.body
    return answer.body


def tally(submitted=0, accepted=0, rejected=0, earned="0") -> dict:
    return {"submitted": submitted, "accepted": accepted, "rejected": rejected, "earned": earned}


def money(row: dict) -> tuple[str, str, str]:
    return row["pending"], row["available"], row["paid"]


def join_team(app, cast, label: str, team: str) -> None:
    """`label` also annotates for `team`."""
    with app.app_context(), unit_of_work() as session:
        add_membership(
            session,
            user=session.get(User, cast.user_ids[label]),
            party=session.get(Party, cast.party_ids[team]),
            role=Role.ANNOTATOR,
        )


# --- GET /me/earnings ---------------------------------------------------------------


def test_an_annotator_sees_today_and_this_month_in_her_teams_local_day(api, cast, frozen_clock):
    """31 March 23:59:59 in Shanghai is 15:59:59 UTC; a second later it is April in
    Shanghai but still March in UTC. Lotus's day decides: what Li submits and what is
    accepted at 23:59:59 is March's, what happens at 00:00:00 is April's."""
    team_order(api, cast, 12)
    work(api, cast.li, cast.reviewer, accept=7, reject=2)  # 2 March, 18:00 in Shanghai
    today = tally(9, 7, 2, "0.385")
    mine = holding(api, cast.li, "annotator")
    assert (mine["party_id"], mine["currency"]) == (cast.party_ids["lotus"], "CNY")
    assert (mine["today"], mine["this_month"]) == (today, today)

    frozen_clock.stand_at("2026-03-31T23:59:59+08:00")
    _, second = work(api, cast.li, cast.reviewer, accept=1, unreviewed=1)
    mine = holding(api, cast.li, "annotator")
    assert mine["today"] == tally(2, 1, 0, "0.055")
    assert mine["this_month"] == tally(11, 8, 2, "0.44")

    frozen_clock.step(seconds=1)  # 00:00:00 on 1 April in Shanghai
    submit(api, cast.li, 1)
    review(api, cast.reviewer, accept=[second])
    mine = holding(api, cast.li, "annotator")
    assert mine["today"] == mine["this_month"] == tally(1, 1, 0, "0.055")
    days = api.get("/me/earnings/days?from=2026-03-31&to=2026-04-01", cast.li).body["days"]
    assert [(d["day"], d["submitted"], d["accepted"], d["earned"]) for d in days] == [
        ("2026-03-31", 2, 1, "0.055"),
        ("2026-04-01", 1, 1, "0.055"),
    ]


def test_a_first_submission_shows_in_today_before_anything_is_accepted(api, cast, frozen_clock):
    """Li's first day: she submits 3 boxes that nobody has reviewed yet. Her earnings
    view already counts them today, though no money of hers exists in any state."""
    team_order(api, cast, 3)
    work(api, cast.li, cast.reviewer, unreviewed=3)
    holdings = api.get("/me/earnings", cast.li).body["holdings"]
    assert [(h["holder"], h["currency"], h["today"], h["this_month"]) for h in holdings] == [
        ("annotator", "CNY", tally(submitted=3), tally(submitted=3))
    ]
    assert money(holdings[0]) == ("0.00", "0.00", "0.00") and holdings[0]["unbilled"] is None


def test_pay_waits_on_its_invoice_then_becomes_available_then_paid(api, cast, frozen_clock):
    """7 accepted boxes at 0.055 are 0.385 of exact pay; the invoice of 2 March bills
    them as 0.39, due on 1 April (30 days). Li's 0.39 is pending and says which invoice
    it waits on and how late that is; the client pays on 13 April, 12 days late; the
    payout run pays her. Her money moves pending -> available -> paid, whole."""
    order_id = team_order(api, cast, 9)
    work(api, cast.li, cast.reviewer, accept=7, reject=2)
    mine = holding(api, cast.li, "annotator")
    assert mine["unbilled"] == {"items": 7, "amount": "0.39"}
    assert money(mine) == ("0.00", "0.00", "0.00") and mine["waiting_on"] == []

    bill = invoice(api, cast, order_id)
    # 7 x 0.10 = 0.70, a 5 % fee of 0.035 -> 0.04.
    assert (bill["due_on"], bill["total"]) == ("2026-04-01", "0.74")
    waiting = {
        "invoice_id": bill["id"],
        "invoice_number": bill["number"],
        "client_name": "Horizon",
        "due_on": "2026-04-01",
        "items": 7,
        "amount": "0.39",
        "late": False,
        "days_late": 0,
        "client_on_credit_hold": False,
    }
    mine = holding(api, cast.li, "annotator")
    assert money(mine) == ("0.39", "0.00", "0.00") and mine["unbilled"] is None
    assert mine["waiting_on"] == [waiting]

    frozen_clock.stand_at("2026-04-01T23:59:59+08:00")  # the due date's last second
    assert holding(api, cast.li, "annotator")["waiting_on"] == [waiting]
    frozen_clock.step(seconds=1)
    assert holding(api, cast.li, "annotator")["waiting_on"] == [
        waiting | {"late": True, "days_late": 1}
    ]
    frozen_clock.stand_at("2026-04-13T10:00:00+08:00")
    mine = holding(api, cast.li, "annotator")
    assert mine["waiting_on"] == [waiting | {"late": True, "days_late": 12}]
    assert money(mine) == ("0.39", "0.00", "0.00")
    # The platform stops Horizon's new work until it pays; Li sees it beside her late pay.
    horizon = cast.party_ids["horizon"]
    held = api.post(f"/clients/{horizon}/credit-holds", cast.admin, {"reason": "12 days late"})
    assert held.status == 201, held.text
    late_and_held = waiting | {"late": True, "days_late": 12, "client_on_credit_hold": True}
    assert holding(api, cast.li, "annotator")["waiting_on"] == [late_and_held]
    # Nothing is paid out of pending money.
    assert all(p["user_id"] != cast.user_ids["li"] for p in payout_run(api, cast)["payouts"])

    pay(api, cast, bill, received_on="2026-04-13")
    mine = holding(api, cast.li, "annotator")
    assert money(mine) == ("0.00", "0.39", "0.00") and mine["waiting_on"] == []
    # April has no work of hers yet; the money stays on the view.
    assert mine["today"] == mine["this_month"] == tally()

    run = payout_run(api, cast)
    assert [p["amount"] for p in run["payouts"] if p["user_id"] == cast.user_ids["li"]] == ["0.39"]
    mine = holding(api, cast.li, "annotator")
    assert money(mine) == ("0.00", "0.00", "0.39") and mine["waiting_on"] == []


# --- GET /me/earnings/days ----------------------------------------------------------


def test_the_days_chart_has_a_row_per_day_with_work_from_the_1st_to_today(api, cast, frozen_clock):
    """Li works on 27 February, 2 and 5 March; Wang on 3 March. On 9 March her chart
    shows by default 1 to 9 March: 2 and 5 March only (no empty days, none of Wang's)."""
    team_order(api, cast, 20)
    frozen_clock.stand_at("2026-02-27T12:00:00+08:00")
    work(api, cast.li, cast.reviewer, accept=1)
    frozen_clock.stand_at("2026-03-02T12:00:00+08:00")
    work(api, cast.li, cast.reviewer, accept=2, reject=1)
    frozen_clock.stand_at("2026-03-03T12:00:00+08:00")
    work(api, cast.wang, cast.reviewer, accept=4)
    frozen_clock.stand_at("2026-03-05T12:00:00+08:00")
    work(api, cast.li, cast.reviewer, unreviewed=2)
    frozen_clock.stand_at("2026-03-09T12:00:00+08:00")

    answer = api.get("/me/earnings/days", cast.li)
    assert answer.status == 200, answer.body
    day = {"currency": "CNY"}
    assert answer.body == {
        "team_id": cast.party_ids["lotus"],
        "from": "2026-03-01",
        "to": "2026-03-09",
        "days": [
            day | {"day": "2026-03-02"} | tally(3, 2, 1, "0.11"),
            day | {"day": "2026-03-05"} | tally(submitted=2),
        ],
    }
    february = api.get("/me/earnings/days?from=2026-02-01&to=2026-02-28", cast.li).body
    assert february["days"] == [day | {"day": "2026-02-27"} | tally(1, 1, 0, "0.055")]
    wang = api.get("/me/earnings/days", cast.wang).body["days"]
    assert wang == [day | {"day": "2026-03-03"} | tally(4, 4, 0, "0.22")]


def test_a_period_runs_forward_and_spans_at_most_366_days(api, cast, frozen_clock):
    """Today is 2 March 2026 in Shanghai."""
    team_order(api, cast, 1)
    work(api, cast.li, cast.reviewer, accept=1)
    for query, period in [
        ("from=2026-03-02&to=2026-03-01", ("2026-03-02", "2026-03-01")),
        ("to=2026-02-28", ("2026-03-01", "2026-02-28")),  # before the default start
        ("from=2025-03-01&to=2026-03-02", ("2025-03-01", "2026-03-02")),  # 367 days
    ]:
        answer = api.get(f"/me/earnings/days?{query}", cast.li)
        assert (answer.status, answer.error_code) == (422, "invalid_period"), query
        details = answer.body["error"]["details"]
        assert (details["from"], details["to"]) == period
    longest = api.get("/me/earnings/days?from=2025-03-02&to=2026-03-02", cast.li)  # 366 days
    assert longest.status == 200, longest.body
    assert [d["day"] for d in longest.body["days"]] == ["2026-03-02"]
    one_day = api.get("/me/earnings/days?from=2026-03-02&to=2026-03-02", cast.li).body
    assert [d["day"] for d in one_day["days"]] == ["2026-03-02"]


def test_an_annotator_of_two_teams_names_the_team_of_her_chart(app, api, cast, frozen_clock):
    """Li also annotates for Tiger: her chart is of one team, the one she names."""
    join_team(app, cast, "li", "tiger")
    lotus, tiger = cast.party_ids["lotus"], cast.party_ids["tiger"]
    team_order(api, cast, 3)
    work(api, cast.li, cast.reviewer, accept=3)
    team_order(api, cast, 2, rate="0.07", owner=cast.rival_owner)
    work(api, cast.li, cast.rival_reviewer, accept=1, reject=1)

    unnamed = api.get("/me/earnings/days", cast.li)
    assert (unnamed.status, unnamed.error_code) == (422, "team_required")
    assert unnamed.body["error"]["details"]["choices"] == sorted([lotus, tiger])
    mine = api.get(f"/me/earnings/days?team_id={tiger}", cast.li).body
    assert mine["team_id"] == tiger
    assert mine["days"] == [{"day": "2026-03-02", "currency": "CNY"} | tally(2, 1, 1, "0.07")]
    mine = api.get(f"/me/earnings/days?team_id={lotus}", cast.li).body
    assert [(d["day"], d["accepted"], d["earned"]) for d in mine["days"]] == [
        ("2026-03-02", 3, "0.165")
    ]
    for other in (cast.party_ids["horizon"], 10**6):
        answer = api.get(f"/me/earnings/days?team_id={other}", cast.li)
        assert (answer.status, answer.error_code) == (404, "team_not_found")
    # Her earnings view holds one entry per team.
    holdings = api.get("/me/earnings", cast.li).body["holdings"]
    assert sorted((h["party_id"], h["this_month"]["earned"]) for h in holdings) == sorted(
        [(lotus, "0.165"), (tiger, "0.07")]
    )


def test_only_annotators_have_a_chart_and_a_statement_of_their_own(api, cast, frozen_clock):
    """The owner, the reviewer, the client and the admin earn no pay per box: their role
    does not allow these views (403), rather than asking them to name a team they could
    not name."""
    for token in (cast.owner, cast.reviewer, cast.client, cast.admin):
        for path in ("/me/earnings/days", "/me/earnings/statement"):
            answer = api.get(path, token)
            assert (answer.status, answer.error_code) == (403, "forbidden"), (token, path)


# --- GET /teams/{id}/earnings -------------------------------------------------------


def test_the_owner_sees_each_members_work_and_money_per_currency(api, cast, frozen_clock):
    """February: Li 3 boxes and Wang 2 at 0.055, invoiced, paid and paid out (0.17 and
    0.11). 2 March: Li 7 at 0.055, invoiced and paid, not paid out yet (0.39 available).
    4 March: Li 2 at 0.06, invoiced (0.12 pending). Today, 5 March: Li 1 USD box at 0.25
    accepted and 1 waiting. Zhang never worked."""
    frozen_clock.stand_at("2026-02-27T10:00:00+08:00")
    february = team_order(api, cast, 6)
    work(api, cast.li, cast.reviewer, accept=3, reject=1)
    work(api, cast.wang, cast.reviewer, accept=2)
    pay(api, cast, invoice(api, cast, february), received_on="2026-02-27")
    payout_run(api, cast)
    frozen_clock.stand_at("2026-03-02T10:00:00+08:00")
    settled = team_order(api, cast, 9)
    work(api, cast.li, cast.reviewer, accept=7, reject=2)
    pay(api, cast, invoice(api, cast, settled), received_on="2026-03-02")
    frozen_clock.stand_at("2026-03-04T10:00:00+08:00")
    pending = team_order(api, cast, 2, rate="0.06")
    work(api, cast.li, cast.reviewer, accept=2)
    invoice(api, cast, pending)
    frozen_clock.stand_at("2026-03-05T10:00:00+08:00")
    team_order(api, cast, 2, price="0.50", rate="0.25", currency="USD")
    work(api, cast.li, cast.reviewer, accept=1, unreviewed=1)

    answer = api.get(f"/teams/{cast.party_ids['lotus']}/earnings", cast.owner)
    assert answer.status == 200, answer.body
    li, wang = cast.user_ids["li"], cast.user_ids["wang"]
    assert [(r["user_id"], r["name"], r["currency"]) for r in answer.body] == [
        (li, "Li", "CNY"),
        (li, "Li", "USD"),
        (wang, "Wang", "CNY"),
    ]
    li_cny, li_usd, wang_cny = answer.body
    assert li_cny["today"] == tally()
    assert li_cny["this_month"] == tally(11, 9, 2, "0.505")  # 0.385 + 0.12
    assert money(li_cny) == ("0.12", "0.39", "0.17")
    assert li_usd["today"] == li_usd["this_month"] == tally(2, 1, 0, "0.25")
    assert money(li_usd) == ("0.00", "0.00", "0.00")
    assert wang_cny["today"] == wang_cny["this_month"] == tally()
    assert money(wang_cny) == ("0.00", "0.00", "0.11")
    # What Li sees of herself is what her owner sees of her.
    mine = {h["currency"]: h for h in api.get("/me/earnings", cast.li).body["holdings"]}
    for row in (li_cny, li_usd):
        assert (mine[row["currency"]]["this_month"], money(mine[row["currency"]])) == (
            row["this_month"],
            money(row),
        )


def test_only_the_teams_owner_sees_its_members_earnings(api, cast, frozen_clock):
    """Another team's owner is not told the team exists; its members and reviewer may
    not see their colleagues' pay."""
    team_order(api, cast, 1)
    work(api, cast.li, cast.reviewer, accept=1)
    lotus = cast.party_ids["lotus"]
    for token in (cast.rival_owner, cast.client, cast.rival_annotator):
        answer = api.get(f"/teams/{lotus}/earnings", token)
        assert (answer.status, answer.error_code) == (404, "team_not_found")
    for token in (cast.li, cast.reviewer):
        answer = api.get(f"/teams/{lotus}/earnings", token)
        assert (answer.status, answer.error_code) == (403, "forbidden")
    for team in (cast.party_ids["horizon"], 10**6):
        answer = api.get(f"/teams/{team}/earnings", cast.owner)
        assert (answer.status, answer.error_code) == (404, "team_not_found")
    assert api.get(f"/teams/{cast.party_ids['tiger']}/earnings", cast.rival_owner).body == []


def test_her_shares_of_one_invoice_wait_on_it_together(api, cast, frozen_clock):
    """Li boxes 3 at 0.06 on Friday 6 March and 2 more on Monday 9 March: the invoice has
    a line, and a share of hers, for each week's work (0.18 and 0.12); her money waits on
    it once, 5 boxes, 0.30."""
    frozen_clock.stand_at("2026-03-06T18:00:00+08:00")
    order_id = team_order(api, cast, 5, rate="0.06")
    work(api, cast.li, cast.reviewer, accept=3)
    frozen_clock.stand_at("2026-03-09T18:00:00+08:00")
    work(api, cast.li, cast.reviewer, accept=2)
    bill = invoice(api, cast, order_id)
    assert len([line for line in bill["lines"] if line["kind"] == "items"]) == 2
    li = holding(api, cast.li, "annotator")
    assert li["pending"] == "0.30"
    assert [(w["invoice_number"], w["items"], w["amount"]) for w in li["waiting_on"]] == [
        (bill["number"], 5, "0.30")
    ]
