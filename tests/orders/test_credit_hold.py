"""Credit holds: a held client posts and publishes nothing, and its drops are held, not
released, until the hold is lifted; then the next drop releases as planned."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from marketplace.db import db, unit_of_work
from marketplace.identity import standing
from marketplace.identity.models import CreditHold
from marketplace.identity.standing import active_hold, lift_hold, place_hold
from marketplace.orders.models import Batch, Drop, Order
from tests.flows import order_body, post_order, release_drops
from tests.support import row_counts

SHANGHAI_3AM = {"cron": "0 3 * * *", "timezone": "Asia/Shanghai", "batches_per_drop": 2}
REASON = "invoice INV-0007 is 40 days overdue"
HELD_REASON = f"the client is on credit hold: {REASON}"


def hold(app, cast, *, party="horizon", reason=REASON, lifts_when_paid=True) -> int | None:
    """An admin puts `party` on credit hold; the hold's id, or None if it already was."""
    with app.app_context(), unit_of_work() as session:
        placed = place_hold(
            session,
            cast.party_ids[party],
            reason=reason,
            by_user_id=cast.user_ids["admin"],
            lifts_when_paid=lifts_when_paid,
        )
        session.flush()
        return placed and placed.id


def lift(app, cast, *, party="horizon") -> int:
    """An admin lifts the hold in force on `party`; the hold's id."""
    with app.app_context(), unit_of_work() as session:
        held = active_hold(session, cast.party_ids[party])
        assert held is not None
        lift_hold(session, held, reason="paid in full", by_user_id=cast.user_ids["admin"])
        return held.id


def holds_of(app, cast, *, party="horizon") -> list[tuple[int, bool]]:
    """Every hold ever placed on `party`, oldest first: (id, still in force)."""
    with app.app_context():
        rows = db.session.execute(
            select(CreditHold.id, CreditHold.lifted_at.is_(None))
            .where(CreditHold.party_id == cast.party_ids[party])
            .order_by(CreditHold.id)
        ).all()
        return [(hold_id, bool(active)) for hold_id, active in rows]


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def release(app):
    return [(d.status, d.batch_count, d.lateness_seconds, d.reason) for d in release_drops(app)]


def statuses(api, cast, order):
    return [b["status"] for b in api.get(f"/orders/{order}/batches", cast.client).body]


def held(entry: dict) -> tuple[datetime, str] | None:
    """An upcoming drop's credit hold: the moment it began (whatever the offset shown) and
    its reason; None if the client is not held."""
    found = entry["credit_hold"]
    return found and (datetime.fromisoformat(found["since"]), found["reason"])


def upcoming(api, cast, order):
    drops = api.get(f"/orders/{order}/drops", cast.client).body["upcoming"]
    return [(d["scheduled_at"], d["batch_count"], held(d)) for d in drops]


def board(api, token):
    """GET /drops/upcoming as a team member sees it, in Shanghai time."""
    drops = api.get("/drops/upcoming?tz=Asia/Shanghai", token).body
    return [(d["order_id"], d["scheduled_at"], d["batch_count"], held(d)) for d in drops]


# 1. A held client posts and publishes nothing.


def test_a_held_client_cannot_post_an_order(app, api, cast, frozen_clock):
    hold(app, cast)  # at 2026-03-02 10:00 UTC, where the frozen clock stands
    before = row_counts(app)

    refused = api.post("/orders", cast.client, order_body(items=3, batch_size=1))

    assert (refused.status, refused.error_code) == (409, "client_on_credit_hold")
    assert refused.body["error"]["details"] == {
        "reason": REASON,
        "since": "2026-03-02T10:00:00+00:00",
    }
    assert row_counts(app) == before
    assert count(app, Order) == 0
    assert api.get("/orders", cast.client).body == []
    # The hold is the client's own: another client posts as before.
    assert api.post("/orders", cast.rival_client, order_body(items=1)).status == 201
    assert count(app, Order) == 1


def test_a_held_client_cannot_publish_a_draft(app, api, cast, frozen_clock):
    order = post_order(api, cast.client, publish=False, items=10, batch_size=5)
    hold(app, cast)

    refused = api.post(f"/orders/{order}/publish", cast.client)

    assert (refused.status, refused.error_code) == (409, "client_on_credit_hold")
    assert refused.body["error"]["details"]["reason"] == REASON
    assert api.get(f"/orders/{order}", cast.client).body["status"] == "draft"
    assert api.get(f"/orders/{order}/batches", cast.client).body == []
    assert count(app, Batch) == 0
    assert api.get("/batches", cast.owner).body == []

    lift(app, cast)
    assert api.post(f"/orders/{order}/publish", cast.client).status == 200
    assert api.get(f"/orders/{order}", cast.client).body["status"] == "published"
    assert statuses(api, cast, order) == ["released", "released"]


# 2. and 3. A held client's drops are held; once lifted, the next drop releases.


def test_a_drop_while_held_is_recorded_held_and_the_next_after_the_lift_releases(
    app, api, cast, frozen_clock
):
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    order = post_order(api, cast.client, items=30, batch_size=5, release_plan=SHANGHAI_3AM)
    assert [hold for *_, hold in upcoming(api, cast, order)] == [None, None, None]

    frozen_clock.stand_at("2026-03-03T02:59:59+08:00")
    hold(app, cast)
    credit_hold = (datetime(2026, 3, 2, 18, 59, 59, tzinfo=UTC), REASON)
    assert release(app) == []

    frozen_clock.step(seconds=1)  # 03:00 in Shanghai: the drop is due, the client held
    assert release(app) == [("held", 0, 0, HELD_REASON)]
    assert release(app) == []  # the same moment again takes nothing
    assert count(app, Drop) == 1
    assert statuses(api, cast, order) == ["scheduled"] * 6
    assert api.get("/batches", cast.owner).body == []
    first = api.get(f"/orders/{order}/batches", cast.client).body[0]
    refused = api.post(f"/batches/{first['id']}/claim", cast.owner)
    assert (refused.status, refused.error_code) == (409, "batch_not_released")

    drops = api.get(f"/orders/{order}/drops", cast.client).body
    assert drops["timezone"] == "Asia/Shanghai"
    assert [
        (d["scheduled_at"], d["status"], d["batch_count"], d["lateness_seconds"], d["reason"])
        for d in drops["past"]
    ] == [("2026-03-03T03:00:00+08:00", "held", 0, 0, HELD_REASON)]
    assert upcoming(api, cast, order) == [
        ("2026-03-04T03:00:00+08:00", 2, credit_hold),
        ("2026-03-05T03:00:00+08:00", 2, credit_hold),
        ("2026-03-06T03:00:00+08:00", 2, credit_hold),
    ]
    for member in (cast.owner, cast.li, cast.rival_annotator):
        assert board(api, member) == [(order, "2026-03-04T03:00:00+08:00", 2, credit_hold)]

    # The admin lifts the hold in the morning; nothing is released until the next drop.
    frozen_clock.stand_at("2026-03-03T09:00:00+08:00")
    lift(app, cast)
    assert release(app) == []
    assert api.get("/batches", cast.owner).body == []
    assert upcoming(api, cast, order) == [
        ("2026-03-04T03:00:00+08:00", 2, None),
        ("2026-03-05T03:00:00+08:00", 2, None),
        ("2026-03-06T03:00:00+08:00", 2, None),
    ]
    assert board(api, cast.li) == [(order, "2026-03-04T03:00:00+08:00", 2, None)]

    frozen_clock.stand_at("2026-03-04T02:59:59+08:00")
    assert release(app) == []
    frozen_clock.step(seconds=1)
    assert release(app) == [("released", 2, 0, None)]
    assert release(app) == []  # the same moment again takes nothing
    assert count(app, Drop) == 2
    assert [b["seq"] for b in api.get("/batches", cast.owner).body] == [1, 2]
    assert statuses(api, cast, order) == ["released"] * 2 + ["scheduled"] * 4

    drops = api.get(f"/orders/{order}/drops", cast.client).body
    assert [
        (d["scheduled_at"], d["status"], d["batch_count"], d["reason"]) for d in drops["past"]
    ] == [
        ("2026-03-03T03:00:00+08:00", "held", 0, HELD_REASON),
        ("2026-03-04T03:00:00+08:00", "released", 2, None),
    ]
    assert upcoming(api, cast, order) == [
        ("2026-03-05T03:00:00+08:00", 2, None),
        ("2026-03-06T03:00:00+08:00", 2, None),
    ]


def test_every_drop_is_held_while_the_hold_lasts(app, api, cast, frozen_clock):
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    order = post_order(api, cast.client, items=30, batch_size=5, release_plan=SHANGHAI_3AM)
    rival = post_order(api, cast.rival_client, items=10, batch_size=5, release_plan=SHANGHAI_3AM)
    hold(app, cast)

    frozen_clock.stand_at("2026-03-03T03:00:00+08:00")
    # Only the held client's drop is held; the other client's releases (all it has).
    assert release(app) == [("held", 0, 0, HELD_REASON), ("released", 2, 0, None)]
    frozen_clock.stand_at("2026-03-04T03:00:00+08:00")
    assert release(app) == [("held", 0, 0, HELD_REASON)]
    assert [b["order_id"] for b in api.get("/batches", cast.owner).body] == [rival, rival]
    assert statuses(api, cast, order) == ["scheduled"] * 6

    frozen_clock.stand_at("2026-03-04T12:00:00+08:00")
    lift(app, cast)
    frozen_clock.stand_at("2026-03-05T03:00:00+08:00")
    assert release(app) == [("released", 2, 0, None)]
    past = api.get(f"/orders/{order}/drops", cast.client).body["past"]
    assert [(d["scheduled_at"][:10], d["status"], d["batch_count"]) for d in past] == [
        ("2026-03-03", "held", 0),
        ("2026-03-04", "held", 0),
        ("2026-03-05", "released", 2),
    ]


# 4. One hold in force per client.


def test_a_second_hold_is_refused_and_a_new_one_may_follow_a_lift(app, cast, frozen_clock):
    first = hold(app, cast)
    assert first is not None
    assert hold(app, cast, reason="placed twice", lifts_when_paid=False) is None
    assert holds_of(app, cast) == [(first, True)]
    with app.app_context():
        kept = db.session.get(CreditHold, first)
        assert (kept.reason, kept.lifts_when_paid, kept.placed_by_user_id) == (
            REASON,
            True,
            cast.user_ids["admin"],
        )

    frozen_clock.step(hours=1)
    assert lift(app, cast) == first
    with app.app_context():
        lifted = db.session.get(CreditHold, first)
        assert lifted.lifted_at == frozen_clock.moment
        assert (lifted.lift_reason, lifted.lifted_by_user_id) == (
            "paid in full",
            cast.user_ids["admin"],
        )
        assert standing.active_hold(db.session, cast.party_ids["horizon"]) is None

    second = hold(app, cast, reason="overdue again")
    assert second is not None and second != first
    assert holds_of(app, cast) == [(first, False), (second, True)]
    with app.app_context():
        assert set(standing.held_parties(db.session, set(cast.party_ids.values()))) == {
            cast.party_ids["horizon"]
        }


def test_a_hold_lost_to_another_process_returns_none_and_leaves_one(app, cast, monkeypatch):
    first = hold(app, cast)
    # Another process placed its hold between this one's look and its insert.
    monkeypatch.setattr(standing, "active_hold", lambda session, party_id: None)
    assert hold(app, cast, reason="the loser") is None
    monkeypatch.undo()
    assert holds_of(app, cast) == [(first, True)]


def test_the_database_admits_one_hold_in_force_per_client(app, cast):
    hold(app, cast)
    with app.app_context(), pytest.raises(IntegrityError), unit_of_work() as session:
        session.add(
            CreditHold(
                party_id=cast.party_ids["horizon"],
                reason="bypassing place_hold",
                placed_by_user_id=None,
                lifts_when_paid=False,
            )
        )
        session.flush()
    assert len(holds_of(app, cast)) == 1


def test_a_holds_since_is_shown_in_the_asked_time_zone(app, api, cast, frozen_clock):
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    order = post_order(api, cast.client, items=10, batch_size=5, release_plan=SHANGHAI_3AM)
    frozen_clock.stand_at("2026-03-03T02:59:59+08:00")
    hold(app, cast)

    [entry] = api.get("/drops/upcoming?tz=Asia/Shanghai", cast.owner).body
    assert entry["scheduled_at"] == "2026-03-03T03:00:00+08:00"
    assert entry["credit_hold"]["since"] == "2026-03-03T02:59:59+08:00"
    berlin = api.get(f"/orders/{order}/drops?tz=Europe/Berlin", cast.client).body
    assert berlin["upcoming"][0]["scheduled_at"] == "2026-03-02T20:00:00+01:00"
    assert berlin["upcoming"][0]["credit_hold"]["since"] == "2026-03-02T19:59:59+01:00"


def test_a_held_clients_lottery_takes_no_interest_until_the_hold_lifts(
    app, api, cast, frozen_clock
):
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    order = post_order(
        api, cast.client, items=10, batch_size=5, release_plan=SHANGHAI_3AM, claim_mode="lottery"
    )
    hold(app, cast)
    counts = row_counts(app)
    asked = api.put(f"/orders/{order}/interest", cast.owner, {"batches": 1})
    assert (asked.status, asked.error_code) == (409, "client_on_credit_hold")
    assert asked.body["error"]["details"]["reason"] == REASON
    assert row_counts(app) == counts

    lift(app, cast)
    assert api.put(f"/orders/{order}/interest", cast.owner, {"batches": 1}).status == 200
