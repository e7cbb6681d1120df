"""The money stories again, on funded orders (issue 19): every amount to the fen, the
ledger summing to zero after every step, on SQLite and PostgreSQL.

The 206.12 story (tests/test_story.py: 2,000 boxes at 0.10, 1,963 accepted; Li 42.00,
Wang 36.78, Zhang 39.00, Lotus 78.52, the platform 9.82) on a prefunded order and on a
milestones order dropping a 500-box batch a day; the three-link chain
(tests/subcontract/test_chain_story.py: Apex 39.20, Bridge 49.00, Crane 29.40, the
annotators 78.40) on a prefunded bids order. Nobody waits on an invoice: what an item
earns is available as soon as the statements run after it was accepted.
"""

import pytest

from tests.flows import claim, holding, ledger_totals, release_drops, review, set_rate, submit
from tests.payments.test_funded_orders import DAILY_3AM, balance, funded_order, settle, top_up
from tests.subcontract.chain_kit import award, pass_down, seed_teams, work
from tests.test_story import ACCEPTED, EXPECTED_EARNINGS, TEAM_MARGIN, work_the_order

pytestmark = pytest.mark.slow

ANNOTATORS = ("li", "wang", "zhang")
PAYEES = {"li": "Li", "wang": "Wang", "zhang": "Zhang"}
ACCEPTED_TOTAL = sum(ACCEPTED.values())  # 1,963


def ledger_is_balanced(api, cast):
    totals = ledger_totals(api, cast.admin)
    assert totals and all(total == 0 for total in totals.values()), totals


def money(api, cast):
    """The client's CNY balance: (available, reserved)."""
    cny = balance(api, cast)
    return cny["available"], cny["reserved"]


def pot(api, cast, order_id):
    """The order's reservation: (held now, ever reserved, posted, voided, items posted)."""
    [mine] = [o for o in balance(api, cast)["orders"] if o["order_id"] == order_id]
    return mine["held"], mine["reserved"], mine["posted"], mine["voided"], mine["items_posted"]


def held_by(api, token, holder):
    """(pending, available, paid) of one holder; zeros before it earned anything."""
    earnings = api.get("/me/earnings", token).body["holdings"]
    found = [(h["pending"], h["available"], h["paid"]) for h in earnings if h["holder"] == holder]
    assert len(found) <= 1, found
    return found[0] if found else ("0.00", "0.00", "0.00")


def earnings(api, cast):
    """Each annotator's, Lotus's and the platform's (pending, available, paid)."""
    held = {label: held_by(api, cast.tokens[label], "annotator") for label in ANNOTATORS}
    held["lotus"] = held_by(api, cast.owner, "team")
    held["platform"] = held_by(api, cast.admin, "platform")
    return held


def nothing_waits(api, cast):
    """No annotator waits on an invoice, nor has work funded and still in review."""
    for label in ANNOTATORS:
        earnings = api.get("/me/earnings", cast.tokens[label]).body["holdings"]
        for mine in (h for h in earnings if h["holder"] == "annotator"):
            assert (mine["waiting_on"], mine["funded_in_review"]) == ([], []), label


def statement(api, cast, number):
    invoices = api.get("/invoices?limit=1000", cast.client).body
    [found] = [i for i in invoices if i["number"] == number]
    return found["items_amount"], found["fee"], found["total"], found["status"], found["due_on"]


def payout_run(api, cast):
    run = api.post("/payout-runs", cast.admin, {"currency": "CNY"})
    assert run.status == 201, run.body
    return {(p["payee_name"], p["amount"]) for p in run.body["payouts"]}, run.body["total"]


def test_the_206_12_story_on_a_prefunded_order(app, api, cast, frozen_clock):
    top_up(api, cast, "250.00", "ICBC-STORY-TOPUP")
    assert money(api, cast) == ("250.00", "0.00")
    ledger_is_balanced(api, cast)

    order = funded_order(api, cast, "prefunded", items=2000, price="0.10", batch_size=500)
    assert api.post(f"/orders/{order}/publish", cast.client).status == 200
    # The whole order at its publication: 2,000 x 0.10 = 200.00 and its 10.00 fee.
    assert money(api, cast) == ("40.00", "210.00")
    assert pot(api, cast, order) == ("210.00", "210.00", "0.00", "0.00", 0)
    assert len(api.get(f"/orders/{order}/batches", cast.client).body) == 4
    ledger_is_balanced(api, cast)

    # Lotus works it as in the invoiced story: 2,000 submitted, 1,963 accepted, 37 rejected.
    work_the_order(api, cast, order)
    ledger_is_balanced(api, cast)
    # Accepted is not yet paid: the statements have not run; nothing is pending either.
    assert earnings(api, cast)["li"] == ("0.00", "0.00", "0.00")
    assert money(api, cast) == ("40.00", "210.00")

    # The statements run: one statement, 196.30 + 9.82 = 206.12, paid from the reservation.
    [(number, total, status)] = settle(app)
    assert (total, status) == (20612, "paid")
    assert statement(api, cast, number) == ("196.30", "9.82", "206.12", "paid", "2026-03-02")
    assert settle(app) == []  # nothing billed twice
    # Every share is available at once, to the fen, waiting on nothing.
    assert earnings(api, cast) == {
        "li": ("0.00", "42.00", "0.00"),
        "wang": ("0.00", "36.78", "0.00"),
        "zhang": ("0.00", "39.00", "0.00"),
        "lotus": ("0.00", TEAM_MARGIN, "0.00"),
        "platform": ("0.00", "9.82", "0.00"),
    }
    nothing_waits(api, cast)
    # The 37 rejected boxes' 3.88 (210.00 reserved - 206.12 billed) is the client's again;
    # nothing is left reserved.
    assert money(api, cast) == ("43.88", "0.00")
    assert pot(api, cast, order) == ("0.00", "210.00", "206.12", "3.88", ACCEPTED_TOTAL)
    ledger_is_balanced(api, cast)

    # The payout run pays each annotator and Lotus what the statement made available.
    paid_out, total = payout_run(api, cast)
    assert paid_out == {(PAYEES[a], EXPECTED_EARNINGS[a]) for a in ANNOTATORS} | {
        ("Lotus", TEAM_MARGIN)
    }
    assert total == "196.30"
    assert earnings(api, cast) == {
        "li": ("0.00", "0.00", "42.00"),
        "wang": ("0.00", "0.00", "36.78"),
        "zhang": ("0.00", "0.00", "39.00"),
        "lotus": ("0.00", "0.00", TEAM_MARGIN),
        "platform": ("0.00", "9.82", "0.00"),
    }
    assert payout_run(api, cast) == (set(), "0.00")
    assert money(api, cast) == ("43.88", "0.00")
    ledger_is_balanced(api, cast)


# The same 2,000 boxes worked over four days, a 500-box batch dropping each day at 03:00:
# each annotator's submitted and accepted boxes per day add up to the story's
# (Li 710/700, Wang 630/613, Zhang 660/650).
DAYS = [
    {"li": (500, 495)},
    {"li": (210, 205), "wang": (290, 280)},
    {"wang": (340, 333), "zhang": (160, 158)},
    {"zhang": (500, 492)},
]


def work_the_day(api, cast, order, day):
    """Lotus claims what dropped; each annotator submits her boxes of the day, the reviewer
    accepts the first of them and rejects the rest."""
    claim(api, cast.owner, order)
    for annotator, (count, accepted) in DAYS[day].items():
        ids = submit(api, cast.tokens[annotator], count)
        review(api, cast.reviewer, accept=ids[:accepted], reject=ids[accepted:])


def drops(api, cast, order):
    past = api.get(f"/orders/{order}/drops", cast.client).body["past"]
    return [(d["scheduled_at"][:10], d["status"], d["batch_count"]) for d in past]


def test_the_206_12_story_on_a_milestones_order_dropping_a_batch_a_day(
    app, api, cast, frozen_clock
):
    assert sum(c for day in DAYS for c, _ in day.values()) == 2000
    for annotator in ANNOTATORS:
        assert sum(day[annotator][1] for day in DAYS if annotator in day) == ACCEPTED[annotator]

    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    # Enough for two drops: each 500 x 0.10 = 50.00 and its 2.50 fee.
    top_up(api, cast, "105.00", "ICBC-MILESTONES-1")
    order = funded_order(
        api,
        cast,
        "milestones",
        items=2000,
        price="0.10",
        batch_size=500,
        release_plan=DAILY_3AM,
    )
    assert api.post(f"/orders/{order}/publish", cast.client).status == 200
    assert money(api, cast) == ("105.00", "0.00")  # nothing released, nothing reserved
    ledger_is_balanced(api, cast)

    # Day 1: the first batch drops, its 52.50 reserved. Li does 500, 495 accepted.
    frozen_clock.stand_at("2026-03-03T03:00:00+08:00")
    assert [(d.status, d.batch_count) for d in release_drops(app)] == [("released", 1)]
    assert money(api, cast) == ("52.50", "52.50")
    ledger_is_balanced(api, cast)
    frozen_clock.stand_at("2026-03-03T10:00:00+08:00")
    claim(api, cast.owner, order)
    set_rate(api, cast.owner, order, "0.06")
    work_the_day(api, cast, order, 0)
    ledger_is_balanced(api, cast)
    frozen_clock.stand_at("2026-03-03T20:00:00+08:00")
    [(first, _, _)] = settle(app)
    # 495 x 0.10 = 49.50; the fee on the whole bill so far, 2.475 -> 2.48.
    assert statement(api, cast, first) == ("49.50", "2.48", "51.98", "paid", "2026-03-03")
    # The 5 rejected boxes' 0.52 (52.50 - 51.98) goes back.
    assert money(api, cast) == ("53.02", "0.00")
    assert pot(api, cast, order) == ("0.00", "52.50", "51.98", "0.52", 495)
    assert earnings(api, cast)["li"] == ("0.00", "29.70", "0.00")  # 495 x 0.06
    assert earnings(api, cast)["lotus"] == ("0.00", "19.80", "0.00")  # 495 x 0.04
    nothing_waits(api, cast)
    ledger_is_balanced(api, cast)

    # Day 2: the second batch drops; Li does 210 (205 accepted), Wang 290 (280).
    frozen_clock.stand_at("2026-03-04T03:00:00+08:00")
    assert [(d.status, d.batch_count) for d in release_drops(app)] == [("released", 1)]
    assert money(api, cast) == ("0.52", "52.50")
    ledger_is_balanced(api, cast)
    frozen_clock.stand_at("2026-03-04T10:00:00+08:00")
    work_the_day(api, cast, order, 1)
    ledger_is_balanced(api, cast)
    frozen_clock.stand_at("2026-03-04T20:00:00+08:00")
    [(second, _, _)] = settle(app)
    # 485 x 0.10 = 48.50; the fee on 98.00 is 4.90, less the 2.48 billed: 2.42.
    assert statement(api, cast, second) == ("48.50", "2.42", "50.92", "paid", "2026-03-04")
    assert money(api, cast) == ("2.10", "0.00")  # 0.52 + the 15 rejected boxes' 1.58
    assert pot(api, cast, order) == ("0.00", "105.00", "102.90", "2.10", 980)
    assert earnings(api, cast) == {
        "li": ("0.00", "42.00", "0.00"),  # all her 700 boxes
        "wang": ("0.00", "16.80", "0.00"),
        "zhang": ("0.00", "0.00", "0.00"),
        "lotus": ("0.00", "39.20", "0.00"),  # 980 x 0.04
        "platform": ("0.00", "4.90", "0.00"),
    }
    nothing_waits(api, cast)
    ledger_is_balanced(api, cast)
    # Nobody waits for the order to finish: a payout run pays what the two days made.
    paid_out, total = payout_run(api, cast)
    assert paid_out == {("Li", "42.00"), ("Wang", "16.80"), ("Lotus", "39.20")}
    assert total == "98.00"
    ledger_is_balanced(api, cast)

    # Day 3: 2.10 cannot pay for the third batch's 52.50: the drop waits, saying why.
    frozen_clock.stand_at("2026-03-05T03:00:00+08:00")
    [held] = release_drops(app)
    assert (held.status, held.batch_count) == ("held", 0)
    assert held.reason == "waiting for funds: the client's balance does not cover this work yet"
    assert money(api, cast) == ("2.10", "0.00")
    assert [b for b in api.get("/batches", cast.owner).body if b["order_id"] == order] == []
    ledger_is_balanced(api, cast)
    # The second top-up lands at 09:00: the batch drops at once, six hours late.
    frozen_clock.stand_at("2026-03-05T09:00:00+08:00")
    top_up(api, cast, "60.00", "ICBC-MILESTONES-2")
    assert money(api, cast) == ("9.60", "52.50")
    past = api.get(f"/orders/{order}/drops", cast.client).body["past"]
    assert [(d["status"], d["batch_count"], d["lateness_seconds"]) for d in past][-1] == (
        "released",
        1,
        6 * 3600,
    )
    ledger_is_balanced(api, cast)
    frozen_clock.stand_at("2026-03-05T10:00:00+08:00")
    work_the_day(api, cast, order, 2)
    ledger_is_balanced(api, cast)
    frozen_clock.stand_at("2026-03-05T20:00:00+08:00")
    [(third, _, _)] = settle(app)
    # 491 x 0.10 = 49.10; the fee on 147.10 is 7.355 -> 7.36, less 4.90 billed: 2.46.
    assert statement(api, cast, third) == ("49.10", "2.46", "51.56", "paid", "2026-03-05")
    assert money(api, cast) == ("10.54", "0.00")  # 9.60 + the 9 rejected boxes' 0.94
    assert pot(api, cast, order) == ("0.00", "157.50", "154.46", "3.04", 1471)
    nothing_waits(api, cast)
    ledger_is_balanced(api, cast)

    # Day 4: 10.54 is short again. A top-up a fen short leaves it waiting; the last fen
    # releases it.
    frozen_clock.stand_at("2026-03-06T03:00:00+08:00")
    [held] = release_drops(app)
    assert held.status == "held"
    frozen_clock.stand_at("2026-03-06T08:00:00+08:00")
    top_up(api, cast, "41.95", "ICBC-MILESTONES-3")
    assert money(api, cast) == ("52.49", "0.00")
    assert drops(api, cast, order)[-1] == ("2026-03-06", "held", 0)
    top_up(api, cast, "0.01", "ICBC-MILESTONES-4")
    assert money(api, cast) == ("0.00", "52.50")
    assert drops(api, cast, order) == [
        ("2026-03-03", "released", 1),
        ("2026-03-04", "released", 1),
        ("2026-03-05", "released", 1),
        ("2026-03-06", "released", 1),
    ]
    ledger_is_balanced(api, cast)
    frozen_clock.stand_at("2026-03-06T10:00:00+08:00")
    work_the_day(api, cast, order, 3)
    ledger_is_balanced(api, cast)
    frozen_clock.stand_at("2026-03-06T20:00:00+08:00")
    [(fourth, _, _)] = settle(app)
    # 492 x 0.10 = 49.20; the fee on 196.30 is 9.815 -> 9.82, less 7.36 billed: 2.46.
    assert statement(api, cast, fourth) == ("49.20", "2.46", "51.66", "paid", "2026-03-06")
    assert settle(app) == []
    # Four statements, 206.12 in all, as the one invoice of the invoiced story; the 37
    # rejected boxes' 3.88 back, as on the prefunded order; 0.84 of it is the balance left.
    assert money(api, cast) == ("0.84", "0.00")
    assert pot(api, cast, order) == ("0.00", "210.00", "206.12", "3.88", ACCEPTED_TOTAL)
    assert earnings(api, cast) == {
        "li": ("0.00", "0.00", "42.00"),
        "wang": ("0.00", "19.98", "16.80"),  # 333 x 0.06 since the payout
        "zhang": ("0.00", "39.00", "0.00"),
        "lotus": ("0.00", "39.32", "39.20"),  # 983 x 0.04 since the payout
        "platform": ("0.00", "9.82", "0.00"),
    }
    nothing_waits(api, cast)
    ledger_is_balanced(api, cast)

    paid_out, total = payout_run(api, cast)
    assert paid_out == {("Wang", "19.98"), ("Zhang", "39.00"), ("Lotus", "39.32")}
    assert total == "98.30"  # 98.00 + 98.30 = 196.30, the items of the story
    earned = earnings(api, cast)
    assert {a: earned[a] for a in ANNOTATORS} == {
        a: ("0.00", "0.00", EXPECTED_EARNINGS[a]) for a in ANNOTATORS
    }
    assert earned["lotus"] == ("0.00", "0.00", TEAM_MARGIN)
    ledger_is_balanced(api, cast)


BOXES = 1960


def test_the_three_link_chain_on_a_prefunded_bids_order(app, api, cast, frozen_clock):
    t = seed_teams(app, ("apex", "bridge", "crane"))
    apex, bridge, crane = t["apex"], t["bridge"], t["crane"]
    top_up(api, cast, "205.80", "HSBC-CHAIN-TOPUP")
    order = funded_order(
        api, cast, "prefunded", items=BOXES, price="0.10", batch_size=490, sourcing="bids"
    )
    assert api.post(f"/orders/{order}/publish", cast.client).status == 200
    # 1,960 x 0.10 = 196.00 and its 9.80 fee: the whole of the top-up.
    assert money(api, cast) == ("0.00", "205.80")
    ledger_is_balanced(api, cast)

    a_contract = award(api, cast.client, order, apex, "0.10", BOXES)
    b_contract = pass_down(api, apex, a_contract, bridge, "0.08", BOXES)
    offer = api.post(
        f"/contracts/{b_contract['id']}/offers",
        bridge.owner,
        {"unit_price": "0.055", "quantity": BOXES, "note": "open to all"},
    ).body
    bid = api.post(
        f"/offers/{offer['id']}/bids", crane.owner, {"unit_price": "0.055", "quantity": BOXES}
    ).body
    awarded = api.post(f"/bids/{bid['id']}/award", bridge.owner, {})
    assert awarded.status == 200, awarded.body
    ledger_is_balanced(api, cast)

    work(api, crane, order, "0.04", BOXES)
    ledger_is_balanced(api, cast)
    assert money(api, cast) == ("0.00", "205.80")

    [(number, total, status)] = settle(app)
    assert (total, status) == (20580, "paid")
    assert statement(api, cast, number) == ("196.00", "9.80", "205.80", "paid", "2026-03-02")
    assert settle(app) == []
    # Every link's margin and the annotators' pay, available at once: what the invoiced
    # chain shows once its client paid.
    held = {name: holding(api, team.owner, "team") for name, team in t.items()}
    held["annotators"] = holding(api, crane.annotator, "annotator")
    held["platform"] = holding(api, cast.admin, "platform")
    assert {name: (h["pending"], h["available"]) for name, h in held.items()} == {
        "apex": ("0.00", "39.20"),
        "bridge": ("0.00", "49.00"),
        "crane": ("0.00", "29.40"),
        "annotators": ("0.00", "78.40"),
        "platform": ("0.00", "9.80"),
    }
    assert held["annotators"]["waiting_on"] == []
    assert held["annotators"]["funded_in_review"] == []
    margins = {
        name: api.get(f"/orders/{order}/margins", team.owner).body["totals"]
        for name, team in t.items()
    }
    assert {
        name: (m["items"], m["upstream_line"], m["downstream_lines"], m["margin"])
        for name, m in margins.items()
    } == {
        "apex": (BOXES, "196.00", "156.80", "39.20"),
        "bridge": (BOXES, "156.80", "107.80", "49.00"),
        "crane": (BOXES, "107.80", "78.40", "29.40"),
    }
    assert money(api, cast) == ("0.00", "0.00")
    assert pot(api, cast, order) == ("0.00", "205.80", "205.80", "0.00", BOXES)
    ledger_is_balanced(api, cast)

    paid_out, total = payout_run(api, cast)
    assert total == "196.00"  # 39.20 + 49.00 + 29.40 + 78.40
    assert sorted(amount for _, amount in paid_out) == ["29.40", "39.20", "49.00", "78.40"]
    ledger_is_balanced(api, cast)
