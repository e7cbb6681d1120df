"""Auto-acceptance: what nobody reviewed within its order's review window is accepted, once."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.db import db, unit_of_work
from marketplace.workers.models import ReviewDecision
from marketplace.workers.review import accept_overdue_work
from tests.flows import review, submit
from tests.review import REASON, REASON_CODE, day, history, submissions, work, worked_order
from tests.support import all_at_once


def run_job(app) -> int:
    """One pass of the hourly job: how many items it accepted."""
    with app.app_context(), unit_of_work() as session:
        return accept_overdue_work(session)


def statuses(api, token) -> dict[int, str]:
    return {
        s["id"]: s["status"]
        for status in ("submitted", "accepted", "rejected")
        for s in submissions(api, token, status)
    }


def decisions_recorded(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ReviewDecision))


def test_boxes_nobody_reviewed_are_accepted_when_the_two_day_window_closes(
    app, api, cast, frozen_clock
):
    """Li submits 3 boxes at 0.055 on Monday 2 March, 18:00 in Shanghai. A second before
    Wednesday 18:00 they still wait; at 18:00 the command accepts them (source auto, by
    nobody): 3 x 0.055 = 0.165 earned today, 0.17 once invoiced. A second pass accepts
    nothing and counts nothing twice."""
    worked_order(api, cast, items=3, rate="0.055", window_days=2)
    submitted_at = frozen_clock.moment
    ids = submit(api, cast.li, 3)

    frozen_clock.step(days=2, seconds=-1)
    assert run_job(app) == 0
    assert statuses(api, cast.reviewer) == dict.fromkeys(ids, "submitted")
    assert decisions_recorded(app) == 0

    frozen_clock.step(seconds=1)
    ran = app.test_cli_runner().invoke(args=["accept-unreviewed"])
    assert ran.exit_code == 0, ran.output
    assert ran.output.strip() == "3 items accepted past their review window"
    accepted = submissions(api, cast.reviewer, "accepted")
    assert sorted(s["id"] for s in accepted) == ids
    assert {(s["rate"], s["reviewer_id"]) for s in accepted} == {("0.055", None)}
    accepted_at = submitted_at + timedelta(days=2)
    for item in ids:
        assert history(app, item) == [("accepted", "auto", None, None, None, accepted_at)]
    earnings = work(api, cast.li)
    # Accepted on Wednesday (her team's day): today counts the acceptance, the month both.
    assert earnings["today"] == day(0, 3, 0, "0.165")
    assert earnings["this_month"] == day(3, 3, 0, "0.165")
    assert earnings["unbilled"] == {"items": 3, "amount": "0.17"}

    frozen_clock.step(hours=1)
    assert run_job(app) == 0
    assert decisions_recorded(app) == 3
    assert work(api, cast.li) == earnings


def test_a_rejected_box_stays_rejected_and_each_box_waits_from_its_own_submission(
    app, api, cast, frozen_clock
):
    """Of three boxes, two come in at T and one an hour later, when the reviewer rejects one
    of the first two. At T + 2 days only the other first box is accepted; the late one an
    hour after; the rejection stands, with no other decision on it."""
    worked_order(api, cast, items=3, window_days=2)
    early = submit(api, cast.li, 2)
    frozen_clock.step(hours=1)
    [late] = submit(api, cast.li, 1)
    review(api, cast.reviewer, accept=[], reject=early[1:])
    rejected_at = frozen_clock.moment

    frozen_clock.step(days=2, hours=-1)
    assert run_job(app) == 1
    assert statuses(api, cast.reviewer) == {
        early[0]: "accepted",
        early[1]: "rejected",
        late: "submitted",
    }
    frozen_clock.step(hours=1)
    assert run_job(app) == 1
    assert statuses(api, cast.reviewer)[late] == "accepted"
    assert statuses(api, cast.reviewer)[early[1]] == "rejected"
    reviewer = cast.user_ids["reviewer"]
    assert history(app, early[1]) == [
        ("rejected", "review", REASON_CODE, REASON, reviewer, rejected_at)
    ]
    assert work(api, cast.li)["this_month"] == day(3, 2, 1, "0.12")


def test_orders_with_different_windows_each_keep_their_own_in_one_pass(
    app, api, cast, frozen_clock
):
    """Three orders with windows of 1, 2 and 21 days (1, 2 and 3 boxes), all submitted at
    once: each pass of the job accepts exactly the orders whose window has closed."""
    windows = {1: 1, 2: 2, 21: 3}  # window in days -> boxes
    orders = {worked_order(api, cast, items=n, window_days=w): w for w, n in windows.items()}
    ids = submit(api, cast.li, 6)
    window_of = {
        s["id"]: orders[s["order_id"]] for s in submissions(api, cast.reviewer, "submitted")
    }
    assert sorted(window_of) == sorted(ids)

    def accepted_windows() -> list[int]:
        return sorted(window_of[s["id"]] for s in submissions(api, cast.reviewer, "accepted"))

    frozen_clock.step(days=1)
    assert run_job(app) == 1
    assert accepted_windows() == [1]
    frozen_clock.step(days=1)
    assert run_job(app) == 2
    assert accepted_windows() == [1, 2, 2]
    frozen_clock.step(days=19, seconds=-1)
    assert run_job(app) == 0
    frozen_clock.step(seconds=1)
    assert run_job(app) == 3
    assert accepted_windows() == [1, 2, 2, 21, 21, 21]
    assert work(api, cast.li)["this_month"] == day(6, 6, 0, "0.36")


@pytest.mark.only_engine("postgresql")
def test_two_passes_at_once_accept_each_box_once(app, api, cast, frozen_clock):
    """The scheduler and an admin's command run together: between them every overdue box is
    accepted exactly once, and Li is paid for 20 boxes, not more."""
    worked_order(api, cast, items=20, window_days=1)
    submit(api, cast.li, 20)
    frozen_clock.step(days=1)

    counts = all_at_once(app, [lambda _client: run_job(app)] * 4)
    assert sum(counts) == 20
    assert decisions_recorded(app) == 20
    assert work(api, cast.li)["today"]["accepted"] == 20
    assert work(api, cast.li)["today"]["earned"] == "1.2"
