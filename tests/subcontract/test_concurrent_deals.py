"""Deals made at the same moment never pass down more than there is (PostgreSQL)."""

import pytest
from sqlalchemy import func, select

from marketplace.db import db
from marketplace.subcontract.models import Contract
from tests.flows import post_order
from tests.subcontract.chain_kit import award, seed_teams
from tests.support import all_at_once

# SQLite serializes writers; the races are real only on PostgreSQL.
pytestmark = [pytest.mark.slow, pytest.mark.only_engine("postgresql")]


def bids_order(api, client, items=100, batch_size=100):
    return post_order(
        api, client, items=items, batch_size=batch_size, price="0.10", sourcing="bids"
    )


def test_awards_at_once_never_exceed_the_orders_quantity(app, api, cast):
    teams = seed_teams(app)
    order_id = bids_order(api, cast.client)
    bids = [
        api.post(f"/orders/{order_id}/bids", t.owner, {"unit_price": "0.09", "quantity": 40}).body
        for t in teams.values()
    ]
    answers = all_at_once(
        app, [lambda c, b=b: c.post(f"/bids/{b['id']}/award", cast.client, {}) for b in bids]
    )
    assert sorted(a.status for a in answers) == [200, 200, 409, 409, 409]
    assert {a.error_code for a in answers if a.status == 409} == {"quantity_exceeded"}
    with app.app_context():
        assert db.session.scalar(select(func.sum(Contract.quantity))) == 80


def test_teams_taking_one_open_offer_at_once_make_one_subcontract(app, api, cast):
    teams = seed_teams(app)
    apex, takers = teams["apex"], [t for name, t in teams.items() if name != "apex"]
    order_id = bids_order(api, cast.client)
    contract = award(api, cast.client, order_id, apex, "0.10", 100)
    offer = api.post(
        f"/contracts/{contract['id']}/offers", apex.owner, {"unit_price": "0.08", "quantity": 60}
    ).body
    answers = all_at_once(
        app,
        [lambda c, t=t: c.post(f"/offers/{offer['id']}/accept", t.owner, {}) for t in takers],
    )
    assert sorted(a.status for a in answers) == [201, 409, 409, 409]
    assert {a.error_code for a in answers if a.status == 409} == {"offer_closed"}
    with app.app_context():
        assert db.session.scalars(select(Contract.quantity).where(Contract.depth == 2)).all() == [
            60
        ]


def test_one_teams_claims_at_once_stay_within_its_contracts_room(app, api, cast):
    apex = seed_teams(app, ("apex",))["apex"]
    order_id = bids_order(api, cast.client, items=100, batch_size=10)
    award(api, cast.client, order_id, apex, "0.10", 30)
    board = [b for b in api.get("/batches", apex.owner).body if b["order_id"] == order_id]
    answers = all_at_once(
        app, [lambda c, b=b: c.post(f"/batches/{b['id']}/claim", apex.owner) for b in board]
    )
    assert sorted(a.status for a in answers) == [200] * 3 + [409] * 7
    assert {a.error_code for a in answers if a.status == 409} == {"no_contract_room"}
