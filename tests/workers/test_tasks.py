"""An annotator's tasks: the daily quota in her team's day, a task's own lease, skipping,
and concurrent takers on PostgreSQL."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from marketplace.db import db, unit_of_work
from marketplace.identity import service as identity
from marketplace.identity.models import Party, Role
from marketplace.scheduler import release_pass
from marketplace.workers.models import Task, TaskSkip
from tests.flows import BOXES
from tests.support import all_at_once, row_counts
from tests.workers import add_level, move, ready_work, take


def submit_all(api, token, tasks) -> None:
    for task in tasks:
        answer = api.post(f"/tasks/{task['id']}/submit", token, {"result": BOXES})
        assert answer.status == 201, answer.body


def refused_take(app, api, token):
    """A take that must be refused: the answer, after checking nothing was written."""
    before = row_counts(app)
    answer = api.post("/tasks/next", token, {"count": 1})
    assert row_counts(app) == before
    return answer


def set_zone(api, cast, zone: str):
    return api.call(
        "PATCH", f"/teams/{cast.party_ids['lotus']}", cast.owner, json={"timezone": zone}
    )


@pytest.fixture
def quota_of_three(api, cast):
    """Li and Wang are trainees of Lotus: 0.03 a box, 3 boxes a day; 20 boxes wait."""
    ready_work(api, cast, items=20, rate=None)
    trainee = add_level(api, cast, "trainee", 0, daily_quota=3, rates=[("bbox_2d", "0.03")])
    for who in ("li", "wang"):
        assert move(api, cast, who, trainee).status == 201
    return trainee


def test_the_daily_quota_resets_at_midnight_in_shanghai(
    app, api, cast, frozen_clock, quota_of_three
):
    frozen_clock.stand_at("2026-03-02T22:00:00+08:00")
    held = take(api, cast.li, 2)
    # The tasks in her hands count against the quota too: 5 asked, 1 more given.
    held += take(api, cast.li, 5)
    assert len(held) == 3
    submit_all(api, cast.li, held)

    frozen_clock.stand_at("2026-03-02T15:59:59+00:00")  # 23:59:59 in Shanghai
    refused = refused_take(app, api, cast.li)
    assert (refused.status, refused.error_code) == (409, "daily_quota_reached")
    assert refused.body["error"]["details"] == {
        "team_id": cast.party_ids["lotus"],
        "resets_at": "2026-03-03T00:00:00+08:00",
    }
    assert len(take(api, cast.wang, 1)) == 1  # her quota is her own
    members = api.get(f"/teams/{cast.party_ids['lotus']}/members", cast.owner).body
    today = {m["user_id"]: m["submitted_today"] for m in members}
    assert today[cast.user_ids["li"]] == 3

    frozen_clock.step(seconds=1)  # midnight in Shanghai: a new day
    assert len(take(api, cast.li, 5)) == 3


def test_a_team_in_berlin_counts_its_day_to_berlins_midnight(
    app, api, cast, frozen_clock, quota_of_three
):
    changed = set_zone(api, cast, "Europe/Berlin")
    assert changed.status == 200, changed.body
    assert changed.body == {
        "id": cast.party_ids["lotus"],
        "name": "Lotus",
        "timezone": "Europe/Berlin",
    }

    frozen_clock.stand_at("2026-03-02T15:30:00+00:00")  # 16:30 in Berlin, 23:30 in Shanghai
    submit_all(api, cast.li, take(api, cast.li, 3))
    for moment in ("2026-03-02T16:00:00+00:00", "2026-03-02T22:59:59+00:00"):
        frozen_clock.stand_at(moment)  # past Shanghai's midnight, not Berlin's
        refused = refused_take(app, api, cast.li)
        assert (refused.status, refused.error_code) == (409, "daily_quota_reached")
        assert refused.body["error"]["details"]["resets_at"] == "2026-03-03T00:00:00+01:00"

    frozen_clock.stand_at("2026-03-02T23:00:00+00:00")  # midnight in Berlin
    assert len(take(api, cast.li, 3)) == 3
    with app.app_context():
        lotus = db.session.get(Party, cast.party_ids["lotus"])
        assert lotus.timezone == "Europe/Berlin"


def test_only_the_owner_sets_a_known_time_zone(app, api, cast):
    before = row_counts(app)
    bad = set_zone(api, cast, "Mars/Olympus_Mons")
    assert (bad.status, bad.error_code) == (422, "invalid_timezone")
    team = cast.party_ids["lotus"]
    by_annotator = api.call("PATCH", f"/teams/{team}", cast.li, json={"timezone": "UTC"})
    assert by_annotator.status == 403
    by_rival = api.call("PATCH", f"/teams/{team}", cast.rival_owner, json={"timezone": "UTC"})
    assert by_rival.status == 404
    assert row_counts(app) == before
    with app.app_context():
        assert db.session.get(Party, team).timezone == "Asia/Shanghai"


def test_a_result_after_the_tasks_lease_is_refused_and_the_task_goes_to_another(
    app, api, cast, frozen_clock
):
    """Tasks are held 30 minutes. Li submits one at 10:29:59 and the other at 10:30."""
    ready_work(api, cast, items=2, task_lease_minutes=30)
    first, second = take(api, cast.li, 2)
    assert first["lease_expires_at"] == "2026-03-02T10:30:00+00:00"

    frozen_clock.stand_at("2026-03-02T10:29:59+00:00")
    submit_all(api, cast.li, [first])
    frozen_clock.step(seconds=1)
    before = row_counts(app)
    late = api.post(f"/tasks/{second['id']}/submit", cast.li, {"result": BOXES})
    assert (late.status, late.error_code) == (409, "task_lease_expired")
    assert late.body["error"]["details"] == {"expired_at": "2026-03-02T10:30:00+00:00"}
    assert row_counts(app) == before
    assert take(api, cast.wang, 1) == []  # not back yet: the release pass gives it back

    with app.app_context():
        release_pass()
    assert api.get("/tasks", cast.li).body == []
    [again] = take(api, cast.wang, 1)
    assert (again["id"], again["lease_expires_at"]) == (second["id"], "2026-03-02T11:00:00+00:00")
    submit_all(api, cast.wang, [again])
    gone = api.post(f"/tasks/{second['id']}/submit", cast.li, {"result": BOXES})
    assert (gone.status, gone.error_code) == (404, "task_not_found")
    by = {s["task_id"]: s["annotator_id"] for s in api.get("/submissions", cast.reviewer).body}
    assert by == {first["id"]: cast.user_ids["li"], second["id"]: cast.user_ids["wang"]}


def test_a_skipped_task_goes_back_to_the_team_but_not_to_her(app, api, cast, frozen_clock):
    ready_work(api, cast, items=2)
    [blurred] = take(api, cast.li, 1)
    skipped = api.post(f"/tasks/{blurred['id']}/skip", cast.li, {"reason": "The image is blurred."})
    assert skipped.status == 200, skipped.body
    assert (skipped.body["status"], skipped.body["lease_expires_at"]) == ("open", None)

    [other] = take(api, cast.li, 5)
    assert other["id"] != blurred["id"]
    assert take(api, cast.li, 5) == []
    assert [t["id"] for t in take(api, cast.wang, 5)] == [blurred["id"]]
    with app.app_context():
        skips = db.session.execute(
            select(TaskSkip.task_id, TaskSkip.user_id, TaskSkip.reason, TaskSkip.skipped_at)
        ).all()
        assert [tuple(s) for s in skips] == [
            (
                blurred["id"],
                cast.user_ids["li"],
                "The image is blurred.",
                datetime(2026, 3, 2, 10, tzinfo=UTC),
            )
        ]


def test_a_skip_needs_a_reason_and_a_task_in_her_hands(app, api, cast):
    ready_work(api, cast, items=2)
    [mine] = take(api, cast.li, 1)
    [wangs] = take(api, cast.wang, 1)
    before = row_counts(app)
    for reason in ("", "   "):
        blank = api.post(f"/tasks/{mine['id']}/skip", cast.li, {"reason": reason})
        assert blank.status == 422
    not_hers = api.post(f"/tasks/{wangs['id']}/skip", cast.li, {"reason": "too hard"})
    assert (not_hers.status, not_hers.error_code) == (404, "task_not_found")
    assert row_counts(app) == before
    submit_all(api, cast.li, [mine])
    done = api.post(f"/tasks/{mine['id']}/skip", cast.li, {"reason": "changed my mind"})
    assert (done.status, done.error_code) == (409, "task_not_open")


def more_annotators(app, cast, count: int) -> list[tuple[str, int]]:
    """`count` more annotators of Lotus besides Li, Wang and Zhang: (token, user id)."""
    people = []
    with app.app_context(), unit_of_work() as session:
        lotus = session.get(Party, cast.party_ids["lotus"])
        for n in range(count):
            user = identity.create_user(
                session, email=f"annotator{n}@example.com", name=f"Annotator {n}", password="x" * 12
            )
            identity.add_membership(session, user=user, party=lotus, role=Role.ANNOTATOR)
            people.append((identity.issue_token(session, user, token=f"token-ann-{n}"), user.id))
    return people


@pytest.mark.only_engine("postgresql")
def test_eight_annotators_at_once_never_get_the_same_task(app, api, cast):
    ready_work(api, cast, items=40, batch_size=40)
    story = [(getattr(cast, who), cast.user_ids[who]) for who in ("li", "wang", "zhang")]
    takers = story + more_annotators(app, cast, 5)

    def take_until_none_left(client, token):
        got = []
        while answer := client.post("/tasks/next", token, {"count": 2}).body:
            got += [task["id"] for task in answer]
        return got

    got = all_at_once(app, [lambda c, t=t: take_until_none_left(c, t) for t, _ in takers])
    handed_out = [task for tasks in got for task in tasks]
    assert len(handed_out) == len(set(handed_out)) == 40
    # Every task is held by the annotator it was handed to, and by nobody else.
    expected = {task: user for (_, user), tasks in zip(takers, got, strict=True) for task in tasks}
    with app.app_context():
        held = dict(db.session.execute(select(Task.id, Task.annotator_user_id)).all())
    assert held == expected


@pytest.mark.only_engine("postgresql")
def test_one_annotator_taking_from_many_tabs_at_once_stays_within_her_quota(
    app, api, cast, quota_of_three
):
    """Li opens eight tabs and takes 3 tasks in each at the same moment: she holds 3."""
    answers = all_at_once(app, [lambda c: c.post("/tasks/next", cast.li, {"count": 3})] * 8)
    given = [task["id"] for a in answers if a.status == 200 for task in a.body]
    assert len(given) == 3, [a.status for a in answers]
    assert {a.error_code for a in answers if a.status != 200} <= {"daily_quota_reached"}
    assert len(api.get("/tasks", cast.li).body) == 3
