"""On a claims order the team that wins the 03:00 claim passes its batches down the chain:
the tasks go with them, the money follows the links, and a lease that runs out takes the
unfinished items off every link that grew by the claim."""

from sqlalchemy import select

from marketplace.db import db, unit_of_work
from marketplace.subcontract.models import Contract
from marketplace.workers.leases import return_expired_batches
from tests.flows import holding, post_order, review, set_rate, submit
from tests.subcontract.chain_kit import seed_teams
from tests.support import row_counts


def claim_all(api, team, order_id):
    board = [b for b in api.get("/batches", team.owner).body if b["order_id"] == order_id]
    for batch in board:
        assert api.post(f"/batches/{batch['id']}/claim", team.owner).status == 200
    return [b["id"] for b in board]


def pass_batches(api, holder, to, batch_ids, price):
    [contract] = api.get("/contracts", holder.owner).body
    offer = api.post(
        f"/contracts/{contract['id']}/offers",
        holder.owner,
        {"to_team_id": to.id, "unit_price": price, "batch_ids": batch_ids},
    )
    assert offer.status == 201, offer.body
    return offer.body


def quantities(app):
    with app.app_context():
        return sorted(
            (c.depth, c.downstream.name, c.quantity) for c in db.session.scalars(select(Contract))
        )


def test_claimed_batches_go_down_with_their_tasks_and_the_money_follows(app, api, cast):
    t = seed_teams(app, ("apex", "bridge"))
    apex, bridge = t["apex"], t["bridge"]
    order_id = post_order(api, cast.client, items=20, batch_size=10, price="0.10")
    _, second = claim_all(api, apex, order_id)
    offer = pass_batches(api, apex, bridge, [second], "0.07")
    assert (offer["quantity"], offer["batch_ids"]) == (10, [second])
    accepted = api.post(f"/offers/{offer['id']}/accept", bridge.owner, {})
    assert accepted.status == 201, accepted.body
    assert quantities(app) == [(1, "Apex", 20), (2, "Bridge", 10)]

    set_rate(api, apex.owner, order_id, "0.05")
    set_rate(api, bridge.owner, order_id, "0.04")
    apex_work = submit(api, apex.annotator, 10)
    bridge_work = submit(api, bridge.annotator, 10)
    assert api.post("/tasks/next", apex.annotator, {"count": 1}).body == []  # none left
    review(api, apex.reviewer, accept=apex_work)
    review(api, bridge.reviewer, accept=bridge_work)

    invoice = api.post(f"/orders/{order_id}/invoices", cast.admin).body
    assert [(line["quantity"], line["amount"]) for line in invoice["lines"]] == [
        (20, "2.00"),
        (None, "0.10"),
    ]
    # Apex: 2.00 - 0.70 to Bridge - 0.50 to its annotator; Bridge: 0.70 - 0.40.
    assert holding(api, apex.owner, "team")["pending"] == "0.80"
    assert holding(api, apex.annotator, "annotator")["pending"] == "0.50"
    assert holding(api, bridge.owner, "team")["pending"] == "0.30"
    assert holding(api, bridge.annotator, "annotator")["pending"] == "0.40"
    report = api.get(f"/orders/{order_id}/margins", apex.owner).body["links"][0]
    assert [(s["items"], s["line"]) for s in report["subcontracts"]] == [(10, "0.70")]
    assert report["annotators"] == {"items": 10, "line": "0.50"}


def test_a_started_batch_does_not_go_down(app, api, cast):
    t = seed_teams(app, ("apex", "bridge"))
    apex, bridge = t["apex"], t["bridge"]
    order_id = post_order(api, cast.client, items=10, batch_size=10)
    [batch] = claim_all(api, apex, order_id)
    offer = pass_batches(api, apex, bridge, [batch], "0.07")
    set_rate(api, apex.owner, order_id, "0.05")
    assert len(api.post("/tasks/next", apex.annotator, {"count": 1}).body) == 1
    before = row_counts(app)
    refused = api.post(f"/offers/{offer['id']}/accept", bridge.owner, {})
    assert (refused.status, refused.error_code) == (409, "batch_not_passable")
    assert refused.body["error"]["details"] == {"batch_id": batch}
    assert row_counts(app) == before


def test_an_expired_lease_shrinks_every_link_that_grew_by_the_claim(app, api, cast, frozen_clock):
    t = seed_teams(app, ("apex", "bridge"))
    apex, bridge = t["apex"], t["bridge"]
    order_id = post_order(api, cast.client, items=10, batch_size=10, lease_hours=24)
    [batch] = claim_all(api, apex, order_id)
    offer = pass_batches(api, apex, bridge, [batch], "0.07")
    assert api.post(f"/offers/{offer['id']}/accept", bridge.owner, {}).status == 201
    set_rate(api, bridge.owner, order_id, "0.04")
    review(api, bridge.reviewer, accept=submit(api, bridge.annotator, 4))
    # Apex passed its only batch down and still reads its order.
    assert api.get(f"/orders/{order_id}", apex.owner).status == 200

    frozen_clock.step(hours=24)
    with app.app_context(), unit_of_work() as session:
        assert [b.id for b in return_expired_batches(session)] == [batch]
    assert quantities(app) == [(1, "Apex", 4), (2, "Bridge", 4)]
    api.post(f"/orders/{order_id}/invoices", cast.admin)
    assert holding(api, apex.owner, "team")["pending"] == "0.12"  # 0.40 - 0.28
    assert holding(api, bridge.owner, "team")["pending"] == "0.12"  # 0.28 - 0.16


def test_a_batch_whose_lease_ran_out_does_not_go_down(app, api, cast, frozen_clock):
    t = seed_teams(app, ("apex", "bridge"))
    apex, bridge = t["apex"], t["bridge"]
    order_id = post_order(api, cast.client, items=10, batch_size=10, lease_hours=24)
    [batch] = claim_all(api, apex, order_id)
    offer = pass_batches(api, apex, bridge, [batch], "0.07")
    frozen_clock.step(hours=24)
    with app.app_context(), unit_of_work() as session:
        assert [b.id for b in return_expired_batches(session)] == [batch]
    refused = api.post(f"/offers/{offer['id']}/accept", bridge.owner, {})
    assert (refused.status, refused.error_code) == (409, "batch_not_passable")
    assert quantities(app) == [(1, "Apex", 0)]
