"""Deals made at the same moment never pass down more than there is (PostgreSQL)."""

import threading

import pytest
from sqlalchemy import func, select

from marketplace.db import db, unit_of_work
from marketplace.subcontract import offers
from marketplace.subcontract.models import Contract, Offer
from marketplace.workers import service as workers
from marketplace.workers.leases import return_expired_batches
from marketplace.workers.models import Task
from tests.flows import post_order, set_rate
from tests.subcontract.chain_kit import award, seed_teams
from tests.support import ApiClient, all_at_once

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


def claim_one(api, team, order_id):
    [batch] = [b for b in api.get("/batches", team.owner).body if b["order_id"] == order_id]
    assert api.post(f"/batches/{batch['id']}/claim", team.owner).status == 200
    [contract] = api.get("/contracts", team.owner).body
    return batch["id"], contract


def test_a_task_taken_while_its_batch_goes_down_stops_the_hand_over(app, api, cast, monkeypatch):
    t = seed_teams(app, ("apex", "bridge"))
    apex, bridge = t["apex"], t["bridge"]
    order_id = post_order(api, cast.client, items=10, batch_size=10)
    batch, contract = claim_one(api, apex, order_id)
    set_rate(api, apex.owner, order_id, "0.05")
    offer = api.post(
        f"/contracts/{contract['id']}/offers",
        apex.owner,
        {"to_team_id": bridge.id, "unit_price": "0.07", "batch_ids": [batch]},
    ).body
    # Apex's annotator takes a task after the accept checked the batch, before its tasks move.
    taken = []
    move_tasks = workers.update

    def annotator_takes_a_task_first(*args, **kwargs):
        if not taken:  # once: the annotator's own take runs this code too
            taken.append("taking")
            take = [lambda c: c.post("/tasks/next", apex.annotator, {"count": 1})]
            taken[0] = all_at_once(app, take)[0]
        return move_tasks(*args, **kwargs)

    monkeypatch.setattr(workers, "update", annotator_takes_a_task_first)
    refused = api.post(f"/offers/{offer['id']}/accept", bridge.owner, {})
    assert len(taken[0].body) == 1
    assert (refused.status, refused.error_code) == (409, "batch_not_passable")
    with app.app_context():
        assert set(db.session.scalars(select(Task.team_party_id))) == {apex.id}


def test_the_lease_pass_and_a_deal_on_the_same_batch_never_deadlock(app, api, cast, frozen_clock):
    t = seed_teams(app, ("apex", "bridge"))
    apex, bridge = t["apex"], t["bridge"]
    order_id = post_order(api, cast.client, items=10, batch_size=10, lease_hours=24)
    batch, contract = claim_one(api, apex, order_id)
    offer = api.post(
        f"/contracts/{contract['id']}/offers",
        apex.owner,
        {"to_team_id": bridge.id, "unit_price": "0.07", "batch_ids": [batch]},
    ).body
    frozen_clock.step(hours=24)
    dealing, passed = threading.Event(), threading.Event()
    outcome = {}

    def deal():  # holds the batch and the contract, as an accept does, until the pass ran
        with app.app_context(), unit_of_work() as session:
            offers.lock_open_offer(session, session.get(Offer, offer["id"]))
            dealing.set()
            outcome["pass finished while the deal held its locks"] = passed.wait(timeout=30)

    def lease_pass():
        dealing.wait()
        with app.app_context(), unit_of_work() as session:
            outcome["closed"] = [b.id for b in return_expired_batches(session)]
        passed.set()

    threads = [threading.Thread(target=deal), threading.Thread(target=lease_pass)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The pass skips a batch a deal holds (SKIP LOCKED) and closes it on its next run.
    assert outcome == {"pass finished while the deal held its locks": True, "closed": []}
    with app.app_context(), unit_of_work() as session:
        assert [b.id for b in return_expired_batches(session)] == [batch]


def test_a_piece_rate_raised_while_a_cheaper_contract_is_taken_never_lands_above_it(
    app, api, cast, monkeypatch
):
    t = seed_teams(app, ("apex", "bridge"))
    apex, bridge = t["apex"], t["bridge"]
    order_id = bids_order(api, cast.client, items=100, batch_size=10)
    award(api, cast.client, order_id, bridge, "0.10", 50)
    a = award(api, cast.client, order_id, apex, "0.10", 50)
    set_rate(api, bridge.owner, order_id, "0.05")
    cheap = api.post(
        f"/contracts/{a['id']}/offers",
        apex.owner,
        {"to_team_id": bridge.id, "unit_price": "0.06", "quantity": 10},
    ).body
    # The owner raises the rate to 0.09 after the accept checked the old rate and made
    # the 0.06 contract, before it commits.
    raised = {}
    deal_made = offers.take_from

    def owner_raises_the_rate_meanwhile(offer, quantity):
        def raise_rate():
            client = ApiClient(app.test_client())
            raised["answer"] = client.put(
                f"/orders/{order_id}/piece-rate", bridge.owner, {"unit_price": "0.09"}
            )

        raised["thread"] = threading.Thread(target=raise_rate)
        raised["thread"].start()
        raised["thread"].join(timeout=2)  # it waits on the deal's lock, or lands at once
        deal_made(offer, quantity)

    monkeypatch.setattr(offers, "take_from", owner_raises_the_rate_meanwhile)
    accepted = api.post(f"/offers/{cheap['id']}/accept", bridge.owner, {})
    raised["thread"].join()
    assert accepted.status == 201
    assert (raised["answer"].status, raised["answer"].error_code) == (
        409,
        "rate_above_contract_price",
    )
