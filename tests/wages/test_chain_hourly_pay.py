"""What an hour pays down the README's chain (Horizon -> Apex 0.10 -> Bridge 0.08 ->
Crane 0.055, Crane's annotator 0.04, 18 s a box): each link reads its own hourly figure,
the client hers and the pass-through's, and nobody a figure above or below their link."""

import json

import pytest

from tests.flows import post_order, review, set_rate
from tests.subcontract.chain_kit import award, pass_down, seed_teams
from tests.wages import set_wage, work

pytestmark = pytest.mark.slow

BOXES = 30


def test_each_link_reads_an_hours_pay_at_its_own_price(app, api, cast, frozen_clock):
    set_wage(api, cast.admin)
    t = seed_teams(app, ("apex", "bridge", "crane"))
    apex, bridge, crane = t["apex"], t["bridge"], t["crane"]
    order = post_order(
        api,
        cast.client,
        items=BOXES,
        price="0.10",
        batch_size=BOXES,
        sourcing="bids",
        estimated_seconds_per_item=20,
    )
    contract = award(api, cast.client, order, apex, "0.10", BOXES)
    contract = pass_down(api, apex, contract, bridge, "0.08", BOXES)
    pass_down(api, bridge, contract, crane, "0.055", BOXES)
    [batch] = [b for b in api.get("/batches", crane.owner).body if b["order_id"] == order]
    assert api.post(f"/batches/{batch['id']}/claim", crane.owner).status == 200
    set_rate(api, crane.owner, order, "0.04")
    review(api, crane.reviewer, accept=work(api, frozen_clock, crane.annotator, [18] * BOXES))

    client_view = api.get(f"/orders/{order}/hourly-pay", cast.client)
    assert client_view.status == 200, client_view.body
    body = client_view.body
    assert body["pace"] == {"basis": "measured", "seconds": "18", "measured_items": 30}
    # Her price: 0.10 x 3600 / 18 = 20.00. What reaches Crane by contract, 55 % of her
    # line: 0.055 x 3600 / 18 = 11.00, below Shanghai's 24.00 either way.
    assert (body["at_your_price"]["hourly_pay"], body["pass_through"]) == ("20.00", "0.5500")
    assert body["reaching_performers"]["hourly_pay"] == "11.00"
    assert body["reaching_performers"]["below_reference_wage"] is True
    # Not Bridge's 0.08 (16.00 an hour), not Crane's piece rate 0.04 (8.00 an hour).
    text = json.dumps(body)
    for hidden in ("16.00", "0.08", "8.00", "0.04"):
        assert hidden not in text, hidden

    # Crane's owner and annotator read the piece rate's hour: 0.04 x 3600 / 18 = 8.00.
    [row] = api.get(f"/teams/{crane.id}/hourly-pay", crane.owner).body["orders"]
    assert (row["pay"]["hourly_pay"], row["rate_card_below_reference_wage"]) == ("8.00", True)
    [mine] = api.get("/me/earnings/hourly", crane.annotator).body["task_types"]
    assert (mine["items"], mine["pay"]["hourly_pay"]) == (30, "8.00")
    # The middlemen do no work themselves and read neither the client's view nor Crane's.
    for middleman in (apex, bridge):
        assert api.get(f"/orders/{order}/hourly-pay", middleman.owner).error_code == "forbidden"
        assert api.get(f"/teams/{middleman.id}/hourly-pay", middleman.owner).body["orders"] == []
        answer = api.get(f"/teams/{crane.id}/hourly-pay", middleman.owner)
        assert answer.error_code == "team_not_found"
