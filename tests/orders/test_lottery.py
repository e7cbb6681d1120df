"""Fair drops: interest before the drop, a published seeded lottery, standing claim rules."""

import hashlib

import pytest
from sqlalchemy import func, select

from marketplace.db import db, unit_of_work
from marketplace.identity import service as identity
from marketplace.identity.models import PartyKind, Role
from marketplace.orders.models import Allotment
from marketplace.workers.models import Task
from tests.flows import post_order, release_drops, set_rate, submit
from tests.support import all_at_once

PLAN = {"cron": "0 3 * * *", "timezone": "Asia/Shanghai", "batches_per_drop": 6}


def release(app):
    return [drop.id for drop in release_drops(app)]


@pytest.fixture
def lily(app):
    """The owner of a third team, Lily Pad, and her team's id."""
    with app.app_context(), unit_of_work() as session:
        team = identity.create_party(session, kind=PartyKind.TEAM, name="Lily Pad")
        owner = identity.create_user(
            session, email="lily@example.com", name="Lily", password="x" * 12
        )
        identity.add_membership(session, user=owner, party=team, role=Role.TEAM_OWNER)
        return identity.issue_token(session, owner, token="token-lily"), team.id


def rerun(seed: str, allowed: dict[int, int], batch_ids: list[int]) -> dict[int, list[int]]:
    """The published algorithm, written again from its description, as a team would."""
    ranking = sorted(allowed, key=lambda t: hashlib.sha256(f"{seed}:{t}".encode()).hexdigest())
    got = {team: [] for team in allowed}
    batches = list(batch_ids)
    while batches and any(len(got[t]) < allowed[t] for t in ranking):
        for team in ranking:
            if batches and len(got[team]) < allowed[team]:
                got[team].append(batches.pop(0))
    return got


def test_a_lottery_drop_allots_by_a_published_seed_and_leaves_the_rest_first_come(
    app, api, cast, frozen_clock, lily
):
    lily_token, lily_team = lily
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    order = post_order(
        api,
        cast.client,
        items=60,
        batch_size=5,
        release_plan=PLAN,
        claim_mode="lottery",
        limits={"batches_per_drop": 3},
    )
    asked = api.put(f"/orders/{order}/interest", cast.owner, {"batches": 3})
    assert asked.status == 200
    assert asked.body["scheduled_at"] == "2026-03-02T19:00:00+00:00"  # 03:00 in Shanghai
    assert api.put(f"/orders/{order}/interest", cast.rival_owner, {"batches": 1}).status == 200
    assert api.put(f"/orders/{order}/interest", cast.rival_owner, {"batches": 2}).status == 200
    too_many = api.put(f"/orders/{order}/interest", lily_token, {"batches": 4})
    assert (too_many.status, too_many.error_code) == (409, "claim_limit_reached")
    assert too_many.body["error"]["details"]["max"] == 3
    # Lily asks through a standing rule instead, asleep at 03:00.
    rule = api.post("/claim-rules", lily_token, {"batches_per_drop": 1, "task_type": "bbox_2d"})
    assert rule.status == 201
    assert [i["batches"] for i in api.get("/interests", cast.rival_owner).body] == [2]

    frozen_clock.stand_at("2026-03-03T03:00:00+08:00")
    [drop] = release(app)
    published = api.get(f"/drops/{drop}/allotment", cast.rival_owner).body
    assert published["algorithm"] == "sha256-rank-round-robin/1"
    lotus, tiger = cast.party_ids["lotus"], cast.party_ids["tiger"]
    lines = {line["team_id"]: line for line in published["lines"]}
    assert {t: (line["source"], line["wanted"], line["allowed"]) for t, line in lines.items()} == {
        lotus: ("interest", 3, 3),
        tiger: ("interest", 2, 2),
        lily_team: ("rule", 1, 1),
    }
    dropped = published["batch_ids"]
    assert dropped == [b["id"] for b in api.get(f"/orders/{order}/batches", cast.client).body[:6]]
    expected = rerun(published["seed"], {t: line["allowed"] for t, line in lines.items()}, dropped)
    assert {t: line["batch_ids"] for t, line in lines.items()} == expected
    assert sorted(len(ids) for ids in expected.values()) == [1, 2, 3]  # 6 batches, 6 wanted

    held = {b["id"]: b["claimed_by"] for b in api.get(f"/orders/{order}/batches", cast.client).body}
    assert all(held[b] == team for team, ids in expected.items() for b in ids)
    set_rate(api, cast.owner, order, "0.06")
    assert len(submit(api, cast.li, 15)) == 15  # Lotus's three batches became its tasks

    # After the drop, interest is for the next one; nothing is left for first-come.
    assert api.get("/batches", cast.owner).body == []
    later = api.put(f"/orders/{order}/interest", cast.owner, {"batches": 1})
    assert later.body["scheduled_at"] == "2026-03-03T19:00:00+00:00"


def test_what_nobody_asked_for_goes_first_come(app, api, cast, frozen_clock):
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    order = post_order(
        api, cast.client, items=30, batch_size=5, release_plan=PLAN, claim_mode="lottery"
    )
    api.put(f"/orders/{order}/interest", cast.owner, {"batches": 2})
    withdrawn = api.delete(f"/orders/{order}/interest", cast.owner)
    assert withdrawn.status == 204
    api.put(f"/orders/{order}/interest", cast.rival_owner, {"batches": 4})
    frozen_clock.stand_at("2026-03-03T03:00:00+08:00")
    [drop] = release(app)
    [line] = api.get(f"/drops/{drop}/allotment", cast.client).body["lines"]
    assert (line["team_id"], len(line["batch_ids"])) == (cast.party_ids["tiger"], 4)
    left = api.get("/batches", cast.owner).body
    assert len(left) == 2
    assert all(api.post(f"/batches/{b['id']}/claim", cast.owner).status == 200 for b in left)


def test_a_team_whose_trial_did_not_pass_gets_nothing_from_the_lottery(
    app, api, cast, frozen_clock
):
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    order = post_order(
        api,
        cast.client,
        items=32,
        batch_size=5,
        release_plan=PLAN,
        trial={"batches": 1, "batch_size": 2, "pass_score": 60},
    )
    refused = api.put(f"/orders/{order}/interest", cast.owner, {"batches": 1})
    assert (refused.status, refused.error_code) == (409, "not_a_lottery")
    # A standing rule of a team with no trial: it takes part and is allowed nothing.
    api.post("/claim-rules", cast.owner, {"batches_per_drop": 2, "order_id": order})
    frozen_clock.stand_at("2026-03-03T03:00:00+08:00")
    [drop] = release(app)
    [line] = api.get(f"/drops/{drop}/allotment", cast.owner).body["lines"]
    assert (line["allowed"], line["batch_ids"]) == (0, [])
    assert "trial" in line["note"]
    assert len(api.get("/batches", cast.owner).body) == 7  # the trial and 6 regular ones
    # Taking part gave the team no standing: it still holds nothing of the order to read.
    assert api.get(f"/orders/{order}", cast.owner).error_code == "order_not_found"


def test_interest_needs_a_lottery_order_with_a_plan(api, cast):
    no_plan = api.post(
        "/orders",
        cast.client,
        {
            "title": "Boxes",
            "task_type": "bbox_2d",
            "unit_price": "0.10",
            "currency": "CNY",
            "payment_terms_days": 30,
            "batch_size": 5,
            "items": [{"ref": "s3://a", "payload": {"width": 640, "height": 480}}],
            "claim_mode": "lottery",
        },
    )
    assert (no_plan.status, no_plan.error_code) == (422, "lottery_needs_release_plan")


@pytest.mark.slow
@pytest.mark.only_engine("postgresql")
def test_schedulers_racing_on_a_lottery_drop_allot_it_once(app, api, cast, frozen_clock):
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    order = post_order(
        api, cast.client, items=30, batch_size=5, release_plan=PLAN, claim_mode="lottery"
    )
    api.put(f"/orders/{order}/interest", cast.owner, {"batches": 4})
    api.put(f"/orders/{order}/interest", cast.rival_owner, {"batches": 4})
    frozen_clock.stand_at("2026-03-03T03:00:00+08:00")
    taken = all_at_once(app, [lambda client: release(app) for _ in range(8)])
    [drop] = [d for run in taken for d in run]
    lines = api.get(f"/drops/{drop}/allotment", cast.client).body["lines"]
    assert sorted(len(line["batch_ids"]) for line in lines) == [3, 3]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Allotment)) == 2
        assert db.session.scalar(select(func.count(func.distinct(Task.item_id)))) == 30
        assert db.session.scalar(select(func.count()).select_from(Task)) == 30
