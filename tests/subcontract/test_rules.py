"""The rules a chain keeps: the client's caps, prices, quantities and who may claim,
each refused with its code and details and with nothing written; cost floors flagged."""

import pytest

from tests.flows import order_body, post_order, set_rate
from tests.subcontract.chain_kit import award, pass_down, seed_teams
from tests.support import row_counts


@pytest.fixture
def teams(app):
    return seed_teams(app)


def bids_order(api, client, *, items=100, batch_size=100, **terms):
    return post_order(
        api, client, items=items, batch_size=batch_size, price="0.10", sourcing="bids", **terms
    )


def refused(app, call, status, code):
    """`call` is refused with `status` and `code`, and writes nothing; its error details."""
    before = row_counts(app)
    answer = call()
    assert (answer.status, answer.error_code) == (status, code), answer.body
    assert row_counts(app) == before
    return answer.body["error"]["details"]


def offer(api, holder, contract, to, price, quantity):
    body = {"unit_price": price, "quantity": quantity}
    if to is not None:
        body["to_team_id"] = to.id
    return api.post(f"/contracts/{contract['id']}/offers", holder.owner, body)


def test_the_clients_depth_cap_refuses_a_link_too_deep(app, api, cast, teams):
    apex, bridge, crane = teams["apex"], teams["bridge"], teams["crane"]
    order_id = bids_order(api, cast.client, chain_caps={"max_depth": 2})
    a = award(api, cast.client, order_id, apex, "0.10", 100)
    b = pass_down(api, apex, a, bridge, "0.08", 100)
    details = refused(app, lambda: offer(api, bridge, b, crane, "0.06", 100), 409, "chain_too_deep")
    assert details == {"max_depth": 2, "depth": 3}
    # Open to all is refused too: whoever took it would be the third link.
    refused(app, lambda: offer(api, bridge, b, None, "0.06", 100), 409, "chain_too_deep")


def test_the_clients_pass_through_floor_refuses_a_link_too_cheap(app, api, cast, teams):
    apex, bridge, crane = teams["apex"], teams["bridge"], teams["crane"]
    order_id = bids_order(api, cast.client, chain_caps={"min_pass_through": "0.6"})
    assert api.get(f"/orders/{order_id}", cast.client).body["chain_caps"] == {
        "max_depth": None,
        "min_pass_through": "0.6000",
    }
    a = award(api, cast.client, order_id, apex, "0.10", 100)
    b = pass_down(api, apex, a, bridge, "0.06", 100)  # exactly 60 %: allowed
    details = refused(
        app, lambda: offer(api, bridge, b, crane, "0.055", 100), 409, "pass_through_too_low"
    )
    assert details == {"min_pass_through": "0.6000"}  # the cap, never the client's price

    # A bid below the floor on an open offer is refused when it is awarded.
    open_offer = offer(api, bridge, b, None, "0.06", 100).body
    bid = api.post(
        f"/offers/{open_offer['id']}/bids", crane.owner, {"unit_price": "0.059", "quantity": 100}
    ).body
    refused(
        app,
        lambda: api.post(f"/bids/{bid['id']}/award", bridge.owner, {}),
        409,
        "pass_through_too_low",
    )


def test_a_link_never_pays_more_than_it_gets_nor_loops_back(app, api, cast, teams):
    apex, bridge = teams["apex"], teams["bridge"]
    order_id = bids_order(api, cast.client)
    a = award(api, cast.client, order_id, apex, "0.10", 100)
    details = refused(
        app, lambda: offer(api, apex, a, bridge, "0.11", 10), 409, "price_above_contract"
    )
    assert details == {"contract_price": "0.1"}
    b = pass_down(api, apex, a, bridge, "0.08", 50)
    refused(app, lambda: offer(api, bridge, b, apex, "0.07", 10), 409, "party_in_chain")


def test_offers_and_awards_never_pass_down_more_than_there_is(app, api, cast, teams):
    apex, bridge, crane, delta = (teams[n] for n in ("apex", "bridge", "crane", "delta"))
    order_id = bids_order(api, cast.client)
    bids = [
        api.post(f"/orders/{order_id}/bids", team.owner, {"unit_price": "0.09", "quantity": q})
        for team, q in ((apex, 70), (delta, 50))
    ]
    assert [t["id"] for t in api.get("/tenders", apex.owner).body] == [order_id]
    assert api.post(f"/bids/{bids[0].body['id']}/award", cast.client, {}).status == 200
    details = refused(
        app,
        lambda: api.post(f"/bids/{bids[1].body['id']}/award", cast.client, {}),
        409,
        "quantity_exceeded",
    )
    assert details == {"order_quantity": 100, "awarded": 70, "available": 30}
    part = api.post(f"/bids/{bids[1].body['id']}/award", cast.client, {"quantity": 30})
    assert (part.status, part.body["awarded_quantity"]) == (200, 30)
    assert api.get("/tenders", apex.owner).body == []  # all 100 awarded

    a = api.get("/contracts", apex.owner).body[0]
    assert offer(api, apex, a, bridge, "0.08", 40).status == 201  # open, reserving 40
    details = refused(
        app, lambda: offer(api, apex, a, crane, "0.08", 31), 409, "quantity_exceeds_room"
    )
    assert details == {"room": 30}


def test_only_contract_holders_claim_a_bids_orders_batches_within_their_room(app, api, cast, teams):
    apex, bridge = teams["apex"], teams["bridge"]
    order_id = bids_order(api, cast.client, items=100, batch_size=60)
    board = [b for b in api.get("/batches", apex.owner).body if b["order_id"] == order_id]
    assert [(b["item_count"], b["unit_price"], b["sourcing"]) for b in board] == [
        (60, None, "bids"),
        (40, None, "bids"),
    ]
    refused(
        app,
        lambda: api.post(f"/batches/{board[0]['id']}/claim", cast.rival_owner),
        409,
        "no_contract_room",
    )
    a = award(api, cast.client, order_id, apex, "0.10", 100)
    pass_down(api, apex, a, bridge, "0.08", 50)
    details = refused(
        app,
        lambda: api.post(f"/batches/{board[0]['id']}/claim", apex.owner),
        409,
        "no_contract_room",
    )
    assert details == {"batch_items": 60, "room": {str(a["id"]): 50}}
    claimed = api.post(f"/batches/{board[1]['id']}/claim", bridge.owner)
    assert claimed.status == 200 and claimed.body["contract_id"] != a["id"]


def test_a_bids_order_takes_no_lottery_and_no_trial(app, api, cast):
    for terms in (
        {"claim_mode": "lottery"},
        {"trial": {"batches": 1, "batch_size": 1, "pass_score": 80}},
    ):
        body = order_body(items=10, sourcing="bids", **terms)
        if "claim_mode" in terms:
            body["release_plan"] = {
                "cron": "0 3 * * *",
                "timezone": "Asia/Shanghai",
                "batches_per_drop": 1,
            }
        refused(
            app,
            lambda b=body: api.post("/orders", cast.client, b),
            422,
            "bids_order_claims_first_come",
        )


def test_prices_below_a_teams_cost_floor_are_flagged_to_it(app, api, cast, teams):
    apex, bridge, crane = teams["apex"], teams["bridge"], teams["crane"]
    floor = api.put(
        "/cost-floors",
        crane.owner,
        {"task_type": "bbox_2d", "currency": "CNY", "unit_price": "0.06"},
    )
    assert floor.status == 200 and floor.body["unit_price"] == "0.06"
    order_id = bids_order(api, cast.client)
    a = award(api, cast.client, order_id, apex, "0.10", 100)
    b = pass_down(api, apex, a, bridge, "0.08", 100)
    cheap = offer(api, bridge, b, None, "0.055", 50).body
    fair = offer(api, bridge, b, None, "0.065", 50).body
    seen = {o["id"]: o for o in api.get("/offers?status=open", crane.owner).body}
    assert (seen[cheap["id"]]["below_cost_floor"], seen[cheap["id"]]["cost_floor"]) == (
        True,
        "0.06",
    )
    assert seen[fair["id"]]["below_cost_floor"] is False
    # An admin reads the offers as any team sees them.
    as_crane = api.get(f"/offers?status=open&team_id={crane.id}", cast.admin).body
    assert {o["id"]: o["below_cost_floor"] for o in as_crane} == {
        cheap["id"]: True,
        fair["id"]: False,
    }
    # The maker has no floor for this work: nothing is flagged to it.
    assert {o["below_cost_floor"] for o in api.get("/offers", bridge.owner).body} == {False}

    taken = api.post(f"/offers/{cheap['id']}/accept", crane.owner, {})
    assert taken.status == 201
    assert (taken.body["contract"]["below_cost_floor"], taken.body["contract"]["unit_price"]) == (
        True,
        "0.055",
    )
    assert taken.body["offer"]["status"] == "taken"
    # A contract holder reads its order (the client's price sealed), batches or not.
    seen_by_crane = api.get(f"/orders/{order_id}", crane.owner).body
    assert (seen_by_crane["id"], seen_by_crane["unit_price"]) == (order_id, None)
    assert [o["id"] for o in api.get("/orders", apex.owner).body] == [order_id]
    [mine] = api.get("/contracts", crane.owner).body
    assert mine["below_cost_floor"] is True
    assert mine["instructions"] == api.get(f"/orders/{order_id}", cast.client).body["instructions"]
    assert api.get(f"/contracts/{mine['id']}", bridge.owner).body["below_cost_floor"] is False


def test_an_open_offer_stays_hidden_from_the_links_above_its_maker(app, api, cast, teams):
    apex, bridge, crane = teams["apex"], teams["bridge"], teams["crane"]
    order_id = bids_order(api, cast.client)
    a = award(api, cast.client, order_id, apex, "0.10", 100)
    b = pass_down(api, apex, a, bridge, "0.08", 100)
    below = offer(api, bridge, b, None, "0.055", 100).body
    assert below["id"] not in {o["id"] for o in api.get("/offers", apex.owner).body}
    assert api.get(f"/offers/{below['id']}", apex.owner).error_code == "offer_not_found"
    assert below["id"] in {o["id"] for o in api.get("/offers", crane.owner).body}


def test_a_new_contract_never_pays_less_than_the_team_pays_its_annotators(app, api, cast, teams):
    apex, bridge = teams["apex"], teams["bridge"]
    order_id = bids_order(api, cast.client, items=20, batch_size=10)
    award(api, cast.client, order_id, bridge, "0.10", 10)
    a = award(api, cast.client, order_id, apex, "0.10", 10)
    set_rate(api, bridge.owner, order_id, "0.09")
    cheap = offer(api, apex, a, bridge, "0.02", 10).body
    details = refused(
        app,
        lambda: api.post(f"/offers/{cheap['id']}/accept", bridge.owner, {}),
        409,
        "rate_above_contract_price",
    )
    # The rate is the team's own: the answer may go to the link above (a bid it awards).
    assert details == {}


def test_team_ids_beyond_64_bits_are_not_found(api, cast):
    for path, code in (
        ("/offers", "team_not_found"),
        ("/orders/1/margins", "order_not_found"),
    ):
        answer = api.get(f"{path}?team_id={2**63}", cast.admin)
        assert (answer.status, answer.error_code) == (404, code), path
