"""Chains of one to five links through the API: every link's line rounded once, margins that
add up to the client's line to the fen, all of it pending, then available at once."""

from decimal import Decimal

import pytest

from marketplace.money import line_minor
from tests.flows import holding, ledger_totals, post_order
from tests.subcontract.chain_kit import TEAMS, award, pass_down, seed_teams, work

pytestmark = pytest.mark.slow

# Sub-fen prices, and a quantity that makes every line round: 333 x 0.0973 = 32.4009.
PRICES = ["0.0973", "0.0871", "0.0765", "0.0599", "0.0555"]
RATE = "0.0333"
BOXES = 333


def minor(amount: str) -> int:
    return int(Decimal(amount) * 100)


@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5])
def test_a_chain_of_any_depth_adds_up_to_the_clients_line(app, api, cast, depth):
    teams = seed_teams(app)
    chain = [teams[name] for name in TEAMS[:depth]]
    order_id = post_order(
        api, cast.client, items=BOXES, price="0.10", batch_size=111, sourcing="bids"
    )
    contract = award(api, cast.client, order_id, chain[0], PRICES[0], BOXES)
    contracts = [contract]
    for upper, lower, price in zip(chain, chain[1:], PRICES[1:], strict=False):
        contract = pass_down(api, upper, contract, lower, price, BOXES)
        contracts.append(contract)
    assert [c["depth"] for c in contracts] == list(range(1, depth + 1))

    performer = chain[-1]
    work(api, performer, order_id, RATE, BOXES)
    invoice = api.post(f"/orders/{order_id}/invoices", cast.admin).body
    client_line = line_minor(BOXES, 97_300, "CNY")  # 32.4009 -> 32.40
    assert minor(invoice["items_amount"]) == client_line == 3240

    lines = [line_minor(BOXES, int(Decimal(p) * 1_000_000), "CNY") for p in PRICES[:depth]]
    annotators = line_minor(BOXES, 33_300, "CNY")  # 11.0889 -> 11.09
    expected = [upper - lower for upper, lower in zip(lines, [*lines[1:], annotators], strict=True)]
    reports = [api.get(f"/orders/{order_id}/margins", team.owner).body for team in chain]
    margins = [minor(report["totals"]["margin"]) for report in reports]
    assert [minor(report["totals"]["invoiced_margin"]) for report in reports] == margins
    pending = [minor(holding(api, team.owner, "team")["pending"]) for team in chain]
    earned = minor(holding(api, performer.annotator, "annotator")["pending"])
    assert margins == pending == expected
    assert earned == annotators == 1109
    assert sum(pending) + earned == client_line

    paid = api.post(
        f"/invoices/{invoice['id']}/payments",
        cast.admin,
        {"amount": invoice["total"], "reference": f"DEPTH-{depth}", "received_on": "2026-03-02"},
    )
    assert paid.status == 201, paid.body
    assert [minor(holding(api, team.owner, "team")["available"]) for team in chain] == expected
    assert [minor(holding(api, team.owner, "team")["pending"]) for team in chain] == [0] * depth
    assert ledger_totals(api, cast.admin) == {"CNY": 0}

    view = api.get(f"/contracts/{contracts[-1]['id']}/chain", cast.client).body
    assert view["depth"] == depth
    assert Decimal(view["pass_through"]) == (
        Decimal(PRICES[depth - 1]) / Decimal(PRICES[0])
    ).quantize(Decimal("0.0001"))


def test_each_invoice_rounds_its_own_lines_and_the_report_shows_both(app, api, cast):
    teams = seed_teams(app, ("apex", "bridge"))
    apex, bridge = teams["apex"], teams["bridge"]
    order_id = post_order(api, cast.client, items=2, price="0.10", batch_size=2, sourcing="bids")
    a = award(api, cast.client, order_id, apex, "0.10", 2)
    pass_down(api, apex, a, bridge, "0.055", 2)
    for _ in range(2):  # a box a night, invoiced each night
        work(api, bridge, order_id, "0.04", 1)
        assert api.post(f"/orders/{order_id}/invoices", cast.admin).status == 201
    # Each invoice: Bridge's line 1 x 0.055 -> 0.06, so Apex keeps 0.04 and Bridge 0.02.
    # Over both boxes at once: 2 x 0.055 = 0.11, so 0.09 and 0.03.
    totals = {
        name: api.get(f"/orders/{order_id}/margins", team.owner).body["totals"]
        for name, team in teams.items()
    }
    assert {n: (t["margin"], t["invoiced_margin"]) for n, t in totals.items()} == {
        "apex": ("0.09", "0.08"),
        "bridge": ("0.03", "0.04"),
    }
    assert holding(api, apex.owner, "team")["pending"] == "0.08"  # the ledger's, invoiced
