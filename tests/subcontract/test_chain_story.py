"""The README's chain, end to end through the API, exact to the fen on SQLite and PostgreSQL.

Horizon posts 1,960 boxes for bids. Apex wins them at 0.10 and passes them to
Bridge at 0.08; Bridge offers them to all at 0.055 and Crane's bid wins; Crane's
annotators earn 0.04 a box. Then Apex keeps 39.20, Bridge 49.00, Crane's line is
107.80 of which its annotators earn 78.40 and Crane keeps 29.40; 55 % of the
client's line reaches the team that does the work.
"""

from datetime import date

import pytest
from sqlalchemy import select

from marketplace.db import db
from marketplace.ledger import LedgerTransaction
from tests.flows import holding, ledger_totals, post_order
from tests.subcontract.chain_kit import award, pass_down, seed_teams, work

pytestmark = pytest.mark.slow

BOXES = 1960


def test_a_three_link_chain_is_paid_exactly_and_at_once(app, api, cast, frozen_clock):
    t = seed_teams(app, ("apex", "bridge", "crane"))
    apex, bridge, crane = t["apex"], t["bridge"], t["crane"]
    order_id = post_order(
        api, cast.client, items=BOXES, price="0.10", batch_size=490, sourcing="bids"
    )

    a_contract = award(api, cast.client, order_id, apex, "0.10", BOXES)
    b_contract = pass_down(api, apex, a_contract, bridge, "0.08", BOXES)
    offer = api.post(
        f"/contracts/{b_contract['id']}/offers",
        bridge.owner,
        {"unit_price": "0.055", "quantity": BOXES, "note": "open to all"},
    ).body
    assert [o["id"] for o in api.get("/offers?status=open", crane.owner).body] == [offer["id"]]
    bid = api.post(
        f"/offers/{offer['id']}/bids", crane.owner, {"unit_price": "0.055", "quantity": BOXES}
    ).body
    awarded = api.post(f"/bids/{bid['id']}/award", bridge.owner, {})
    assert awarded.status == 200, awarded.body
    c_contract_id = awarded.body["contract_id"]

    work(api, crane, order_id, "0.04", BOXES)

    # Accepted, not invoiced yet: every link sees what its margin will be.
    unbilled = {name: holding(api, team.owner, "team")["unbilled"] for name, team in t.items()}
    assert unbilled == {
        "apex": {"items": BOXES, "amount": "39.20"},
        "bridge": {"items": BOXES, "amount": "49.00"},
        "crane": {"items": BOXES, "amount": "29.40"},
    }

    invoice = api.post(f"/orders/{order_id}/invoices", cast.admin).body
    assert [(line["kind"], line["quantity"], line["amount"]) for line in invoice["lines"]] == [
        ("items", BOXES, "196.00"),
        ("fee", None, "9.80"),
    ]
    assert invoice["total"] == "205.80"

    pending = {
        "apex": holding(api, apex.owner, "team")["pending"],
        "bridge": holding(api, bridge.owner, "team")["pending"],
        "crane": holding(api, crane.owner, "team")["pending"],
        "annotators": holding(api, crane.annotator, "annotator")["pending"],
    }
    assert pending == {"apex": "39.20", "bridge": "49.00", "crane": "29.40", "annotators": "78.40"}

    margins = {
        name: api.get(f"/orders/{order_id}/margins", team.owner).body["totals"]
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
    crane_link = api.get(f"/orders/{order_id}/margins", crane.owner).body["links"][0]
    assert crane_link["annotators"] == {"items": BOXES, "line": "78.40"}
    sheet = api.get(f"/orders/{order_id}/margins?format=csv", bridge.owner).text.splitlines()
    assert sheet == [
        "order_id,contract_id,depth,upstream,unit_price,currency,items,upstream_line,"
        "subcontract_lines,annotator_lines,downstream_lines,margin,invoiced_items,invoiced_margin",
        f"{order_id},{b_contract['id']},2,Apex,0.08,CNY,1960,156.80,107.80,0.00,107.80,49.00,"
        "1960,49.00",
        f"{order_id},total,,,,CNY,1960,156.80,,,107.80,49.00,1960,49.00",
    ]

    chain = api.get(f"/contracts/{c_contract_id}/chain", cast.client).body
    assert (chain["depth"], chain["pass_through"]) == (3, "0.5500")
    assert [link["unit_price"] for link in chain["links"]] == ["0.1", None, None]

    paid = api.post(
        f"/invoices/{invoice['id']}/payments",
        cast.admin,
        {"amount": "205.80", "reference": "HSBC-0042", "received_on": date(2026, 3, 2).isoformat()},
    )
    assert paid.status == 201, paid.body
    available = {
        "apex": holding(api, apex.owner, "team"),
        "bridge": holding(api, bridge.owner, "team"),
        "crane": holding(api, crane.owner, "team"),
        "annotators": holding(api, crane.annotator, "annotator"),
    }
    assert {name: (h["pending"], h["available"]) for name, h in available.items()} == {
        "apex": ("0.00", "39.20"),
        "bridge": ("0.00", "49.00"),
        "crane": ("0.00", "29.40"),
        "annotators": ("0.00", "78.40"),
    }
    assert all(total == 0 for total in ledger_totals(api, cast.admin).values())
    with app.app_context():
        settlements = db.session.scalars(
            select(LedgerTransaction).where(LedgerTransaction.kind == "settlement")
        ).all()
        assert len(settlements) == 1
        # The client's credit pays its receivable, and every earner of the chain moves in
        # it: 4 holders (and the fee), pending -> available.
        assert len(settlements[0].entries) == 2 + 2 * 5
