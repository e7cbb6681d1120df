"""Leases: unfinished items of an expired batch go back to the board; done work stays."""

from sqlalchemy import select

from marketplace.db import db, unit_of_work
from marketplace.subcontract.models import Contract
from marketplace.workers.leases import return_expired_batches
from tests.flows import post_order, release_drops, review, set_rate, submit

DAILY_3AM = {"cron": "0 3 * * *", "timezone": "Asia/Shanghai", "batches_per_drop": 1}


def expire(app):
    with app.app_context(), unit_of_work() as session:
        return [b.id for b in return_expired_batches(session)]


def contract_quantities(app):
    with app.app_context():
        return {c.downstream_party_id: c.quantity for c in db.session.scalars(select(Contract))}


def test_an_expired_lease_returns_unfinished_items_and_keeps_done_work_billable(
    app, api, cast, frozen_clock
):
    order = post_order(api, cast.client, items=10, batch_size=5, lease_hours=24)
    first = api.get(f"/orders/{order}/batches", cast.client).body[0]
    claimed = api.post(f"/batches/{first['id']}/claim", cast.owner).body
    assert claimed["lease_expires_at"] == "2026-03-03T10:00:00+00:00"
    set_rate(api, cast.owner, order, "0.06")
    accepted, waiting = submit(api, cast.li, 2)
    review(api, cast.reviewer, accept=[accepted])
    [held] = api.post("/tasks/next", cast.wang, {"count": 1}).body  # taken, never submitted

    frozen_clock.step(hours=23, minutes=59)
    assert expire(app) == []
    frozen_clock.step(minutes=1)
    assert expire(app) == [first["id"]]
    assert expire(app) == []  # closed once

    old, _, returned = api.get(f"/orders/{order}/batches", cast.client).body
    assert (old["status"], old["item_count"], old["returned_items"]) == ("expired", 2, 3)
    assert (returned["status"], returned["item_count"], returned["returned_from_batch_id"]) == (
        "released",
        3,
        first["id"],
    )
    assert contract_quantities(app) == {cast.party_ids["lotus"]: 2}
    gone = api.post(f"/tasks/{held['id']}/submit", cast.wang, {"result": {"boxes": []}})
    assert (gone.status, gone.error_code) == (404, "task_not_found")

    # The waiting submission is still reviewed and paid; Tiger works the returned items.
    review(api, cast.reviewer, accept=[waiting])
    assert api.post(f"/batches/{returned['id']}/claim", cast.rival_owner).status == 200
    set_rate(api, cast.rival_owner, order, "0.05")
    review(api, cast.rival_reviewer, accept=submit(api, cast.rival_annotator, 3))
    assert contract_quantities(app) == {cast.party_ids["lotus"]: 2, cast.party_ids["tiger"]: 3}
    invoice = api.post(f"/orders/{order}/invoices", cast.admin).body
    assert [(line["kind"], line["quantity"]) for line in invoice["lines"]] == [
        ("items", 2),
        ("items", 3),
        ("fee", None),
    ]


def claim_the_first_drop(app, api, cast, clock, *, items, plan=DAILY_3AM, **terms) -> int:
    """A daily 03:00 order of 3-item batches, posted the evening before; Lotus claims
    the one batch of the first drop (03-03 03:00 Shanghai). Returns the order's id."""
    clock.stand_at("2026-03-02T18:00:00+08:00")
    order = post_order(api, cast.client, items=items, batch_size=3, release_plan=plan, **terms)
    clock.stand_at("2026-03-03T03:00:00+08:00")
    release_drops(app)
    [batch] = api.get("/batches", cast.owner).body
    assert api.post(f"/batches/{batch['id']}/claim", cast.owner).status == 200
    return order


def test_returned_items_go_out_first_in_the_next_drop(app, api, cast, frozen_clock):
    order = claim_the_first_drop(app, api, cast, frozen_clock, items=9, lease_hours=1)

    frozen_clock.step(hours=1)
    expire(app)
    returned = api.get(f"/orders/{order}/batches", cast.client).body[-1]
    assert (returned["status"], returned["item_count"]) == ("scheduled", 3)
    assert api.get("/batches", cast.owner).body == []  # not before the next drop

    frozen_clock.stand_at("2026-03-04T03:00:00+08:00")
    release_drops(app)
    assert [b["id"] for b in api.get("/batches", cast.owner).body] == [returned["id"]]


def test_a_returned_trial_is_open_at_once_and_never_part_of_a_lottery(app, api, cast, frozen_clock):
    """Found by the bad-input battery: a returned trial once went into the next drop, where
    the lottery handed it to a team that had passed its trial, losing that team's score."""
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    plan = {**DAILY_3AM, "batches_per_drop": 2}
    order = post_order(
        api,
        cast.client,
        items=6,
        batch_size=1,
        release_plan=plan,
        claim_mode="lottery",
        lease_hours=1,
        trial={"batches": 2, "batch_size": 2, "pass_score": 50},
    )
    tigers, lotuses = [b["id"] for b in api.get(f"/orders/{order}/batches", cast.client).body][:2]
    api.post(f"/batches/{tigers}/claim", cast.rival_owner)
    set_rate(api, cast.rival_owner, order, "0.05")
    submit(api, cast.rival_annotator, 2)
    assert api.post(f"/batches/{tigers}/trial-score", cast.client, {"score": 90}).status == 200
    api.post(f"/batches/{lotuses}/claim", cast.owner)
    frozen_clock.step(hours=2)
    expire(app)
    returned = api.get(f"/orders/{order}/batches", cast.client).body[-1]
    assert (returned["kind"], returned["status"]) == ("trial", "released")

    api.put(f"/orders/{order}/interest", cast.rival_owner, {"batches": 2})
    frozen_clock.stand_at("2026-03-03T03:00:00+08:00")
    release_drops(app)
    batches = {b["id"]: b for b in api.get(f"/orders/{order}/batches", cast.client).body}
    assert batches[returned["id"]]["status"] == "released"
    tiger = cast.party_ids["tiger"]
    assert [b["kind"] for b in batches.values() if b["claimed_by"] == tiger] == [
        "trial",
        "regular",
        "regular",
    ]
    trials = api.get(f"/orders/{order}/trials", cast.client).body
    assert [(t["team_id"], t["batch_id"], t["score"]) for t in trials] == [
        (tiger, tigers, 90),
        (cast.party_ids["lotus"], lotuses, None),
    ]
    again = api.post(f"/batches/{tigers}/trial-score", cast.client, {"score": 10})
    assert (again.status, again.error_code) == (409, "trial_already_scored")
    second = api.post(f"/batches/{returned['id']}/claim", cast.rival_owner)
    assert (second.status, second.error_code) == (409, "trial_already_taken")


def test_items_returned_after_the_last_drop_go_out_next_drop_without_phantom_skips(
    app, api, cast, frozen_clock
):
    """Found in review: the days between the last drop and the expiry, when nothing
    waited, were once recorded as drops skipped because the scheduler was down."""
    order = claim_the_first_drop(app, api, cast, frozen_clock, items=3, lease_hours=96)
    frozen_clock.step(days=4)  # 03-07 03:00: the lease ran out, four drops after the last
    expire(app)
    release_drops(app)
    past = api.get(f"/orders/{order}/drops", cast.client).body["past"]
    assert [(d["scheduled_at"][:10], d["status"]) for d in past] == [
        ("2026-03-03", "released"),
        ("2026-03-07", "released"),
    ]


def test_items_returned_after_the_plans_window_closed_are_released_at_once(
    app, api, cast, frozen_clock
):
    """Found in review: they once waited, scheduled, for a drop that would never come."""
    closing = {**DAILY_3AM, "ends_at": "2026-03-03T12:00:00+08:00"}
    order = claim_the_first_drop(
        app, api, cast, frozen_clock, items=3, plan=closing, lease_hours=48
    )
    frozen_clock.step(days=2)
    expire(app)
    returned = api.get(f"/orders/{order}/batches", cast.client).body[-1]
    assert (returned["status"], returned["item_count"]) == ("released", 3)
