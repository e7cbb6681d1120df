"""The time an annotator spends on a task: taken to submitted, capped at the idle limit,
kept on the submission once, when it is submitted."""

from tests.flows import BOXES, review
from tests.workers import ready_work, take


def submitted(api, token, task) -> dict:
    answer = api.post(f"/tasks/{task['id']}/submit", token, {"result": BOXES})
    assert answer.status == 201, answer.body
    return answer.body


def test_a_task_counts_from_taken_to_submitted_and_a_long_pause_counts_the_idle_limit(
    app, api, cast, frozen_clock, monkeypatch
):
    ready_work(api, cast, items=4, task_lease_minutes=24 * 60)
    first, second, third, fourth = take(api, cast.li, 4)
    frozen_clock.step(seconds=18, microseconds=999_999)
    assert submitted(api, cast.li, first)["work_seconds"] == 18  # whole seconds, not rounded up
    frozen_clock.step(seconds=581, microseconds=1)  # 600 s since she took them: the limit
    assert submitted(api, cast.li, second)["work_seconds"] == 600
    frozen_clock.step(hours=3)  # lunch: the pause beyond the limit is not counted
    assert submitted(api, cast.li, third)["work_seconds"] == 600
    monkeypatch.setitem(app.config, "IDLE_LIMIT_SECONDS", 120)
    assert submitted(api, cast.li, fourth)["work_seconds"] == 120
    listed = api.get("/submissions?status=submitted", cast.reviewer).body
    assert sorted(s["work_seconds"] for s in listed) == [18, 120, 600, 600]


def test_a_reworked_task_counts_from_when_it_came_back(app, api, cast, frozen_clock):
    """Half of a batch of 4 is sampled and both are wrong: the other two come back to Li,
    and their time counts again from then."""
    ready_work(
        api,
        cast,
        items=4,
        batch_size=4,
        review={"sample_rate": "0.5", "accuracy_threshold": "0.9"},
    )
    tasks = take(api, cast.li, 4)
    frozen_clock.step(seconds=30)
    done = [submitted(api, cast.li, task) for task in tasks]
    assert [s["work_seconds"] for s in done] == [30] * 4
    sample = api.get(f"/batches/{done[0]['batch_id']}/sample", cast.reviewer).body
    frozen_clock.step(hours=5)
    review(api, cast.reviewer, accept=[], reject=[s["id"] for s in sample])
    back = api.get("/tasks", cast.li).body  # in her hands again
    assert len(back) == 2, back
    frozen_clock.step(seconds=12)
    assert [submitted(api, cast.li, task)["work_seconds"] for task in back] == [12, 12]
