"""Scheduled drops: on time, exactly once, after downtime, across daylight-saving changes."""

import threading
from datetime import datetime

import pytest
from sqlalchemy import func, select

from marketplace.db import db
from marketplace.orders.drops import occurrences
from marketplace.orders.models import Drop, ReleasePlan
from tests.flows import order_body, post_order, release_drops

SHANGHAI_3AM = {"cron": "0 3 * * *", "timezone": "Asia/Shanghai", "batches_per_drop": 2}


def post_planned_order(api, cast, plan, *, batches=6):
    return post_order(api, cast.client, items=5 * batches, batch_size=5, release_plan=plan)


def release(app):
    return [(d.status, d.batch_count, d.lateness_seconds) for d in release_drops(app)]


def test_a_3am_drop_releases_at_3am_shanghai_and_only_once(app, api, cast, frozen_clock):
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    order = post_planned_order(api, cast, SHANGHAI_3AM)
    batches = api.get(f"/orders/{order}/batches", cast.client).body
    assert {b["status"] for b in batches} == {"scheduled"}
    refused = api.post(f"/batches/{batches[0]['id']}/claim", cast.owner)
    assert (refused.status, refused.error_code) == (409, "batch_not_released")

    frozen_clock.stand_at("2026-03-03T02:59:59+08:00")
    assert release(app) == []
    assert api.get("/batches", cast.owner).body == []
    frozen_clock.step(seconds=1)
    assert release(app) == [("released", 2, 0)]
    assert release(app) == []  # the same moment again takes nothing
    assert [b["seq"] for b in api.get("/batches", cast.owner).body] == [1, 2]

    drops = api.get(f"/orders/{order}/drops?tz=Europe/Berlin", cast.client).body
    assert drops["timezone"] == "Europe/Berlin"
    assert [(d["scheduled_at"], d["status"]) for d in drops["past"]] == [
        ("2026-03-02T20:00:00+01:00", "released")
    ]
    assert [(d["scheduled_at"], d["batch_count"]) for d in drops["upcoming"]] == [
        ("2026-03-03T20:00:00+01:00", 2),
        ("2026-03-04T20:00:00+01:00", 2),
    ]
    board = api.get("/drops/upcoming?tz=Asia/Shanghai", cast.owner).body
    assert [(d["order_id"], d["scheduled_at"], d["batch_count"]) for d in board] == [
        (order, "2026-03-04T03:00:00+08:00", 2)
    ]


def test_a_missed_drop_is_released_late_within_grace_and_skipped_beyond(
    app, api, cast, frozen_clock
):
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    order = post_planned_order(api, cast, {**SHANGHAI_3AM, "grace_minutes": 60})
    frozen_clock.stand_at("2026-03-03T03:30:00+08:00")  # the scheduler was down at 03:00
    assert release(app) == [("released", 2, 1800)]
    frozen_clock.stand_at("2026-03-05T05:00:00+08:00")  # down across two drops, two hours late
    # 03-04 03:00 is 26 hours late, 03-05 03:00 two hours: both beyond the hour of grace.
    assert release(app) == [("skipped", 0, 86400 + 7200), ("skipped", 0, 7200)]
    frozen_clock.stand_at("2026-03-06T03:00:00+08:00")
    assert release(app) == [("released", 2, 0)]

    past = api.get(f"/orders/{order}/drops", cast.client).body["past"]
    assert [(d["scheduled_at"][:10], d["status"], d["batch_count"]) for d in past] == [
        ("2026-03-03", "released", 2),
        ("2026-03-04", "skipped", 0),
        ("2026-03-05", "skipped", 0),
        ("2026-03-06", "released", 2),
    ]
    assert "missed by 93600 s" in past[1]["reason"] and "grace is 3600 s" in past[1]["reason"]
    assert [
        d["batch_count"] for d in api.get(f"/orders/{order}/drops", cast.client).body["upcoming"]
    ] == [2]


def plan(cron, zone="America/New_York"):
    return ReleasePlan(cron=cron, timezone=zone, batches_per_drop=1, grace_seconds=3600)


def moments(cron, after, count):
    it = occurrences(plan(cron), datetime.fromisoformat(after))
    return [next(it).isoformat() for _ in range(count)]


def test_a_time_skipped_by_daylight_saving_drops_right_after_the_gap():
    # 2026-03-08, New York: 02:00 EST jumps to 03:00 EDT, so 02:30 does not exist.
    assert moments("30 2 * * *", "2026-03-07T12:00:00-05:00", 3) == [
        "2026-03-08T07:00:00+00:00",  # 03:00 EDT, the first moment after the gap
        "2026-03-09T06:30:00+00:00",  # 02:30 EDT again
        "2026-03-10T06:30:00+00:00",
    ]


def test_a_time_repeated_by_daylight_saving_drops_once():
    # 2026-11-01, New York: 02:00 EDT falls back to 01:00 EST, so 01:00-02:00 happens twice.
    assert moments("30 1 * * *", "2026-10-31T12:00:00-04:00", 2) == [
        "2026-11-01T05:30:00+00:00",  # 01:30 EDT, the first of the two; not again at 06:30
        "2026-11-02T06:30:00+00:00",
    ]
    assert moments("30 2 * * *", "2026-10-31T12:00:00-04:00", 2) == [
        "2026-11-01T07:30:00+00:00",  # 02:30 EST happens once anyway
        "2026-11-02T07:30:00+00:00",
    ]


def test_drops_across_the_spring_gap_through_the_api(app, api, cast, frozen_clock):
    frozen_clock.stand_at("2026-03-07T12:00:00-05:00")
    post_planned_order(
        api, cast, {"cron": "30 2 * * *", "timezone": "America/New_York", "batches_per_drop": 1}
    )
    frozen_clock.stand_at("2026-03-08T01:59:59-05:00")
    assert release(app) == []
    frozen_clock.stand_at("2026-03-08T03:00:00-04:00")  # one second later on the wall clock
    assert release(app) == [("released", 1, 0)]


@pytest.mark.parametrize(
    ("plan_changes", "code"),
    [
        ({"cron": "61 3 * * *"}, "invalid_cron"),
        ({"cron": "every day"}, "invalid_cron"),
        ({"timezone": "Mars/Olympus_Mons"}, "invalid_timezone"),
        (
            {"starts_at": "2026-04-01T00:00:00+08:00", "ends_at": "2026-03-01T00:00:00+08:00"},
            "invalid_window",
        ),
    ],
)
def test_an_impossible_plan_is_refused(app, api, cast, plan_changes, code):
    body = order_body(items=1, batch_size=5, release_plan={**SHANGHAI_3AM, **plan_changes})
    answer = api.post("/orders", cast.client, body)
    assert (answer.status, answer.error_code) == (422, code)
    assert api.get("/orders", cast.client).body == []


@pytest.mark.slow
@pytest.mark.only_engine("postgresql")
def test_schedulers_racing_take_each_drop_once(app, api, cast, frozen_clock):
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    order = post_planned_order(api, cast, {**SHANGHAI_3AM, "batches_per_drop": 1}, batches=10)
    frozen_clock.stand_at("2026-03-03T03:00:00+08:00")
    barrier = threading.Barrier(8)
    errors = []

    def run_scheduler():
        try:
            barrier.wait()
            release(app)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run_scheduler) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Drop)) == 1
    assert len(api.get("/batches", cast.owner).body) == 1
    assert [
        d["batch_count"] for d in api.get(f"/orders/{order}/drops", cast.client).body["past"]
    ] == [1]
