"""Helpers of the reference-wage tests: a wage set by the admin."""

from tests.flows import BOXES
from tests.support import ApiClient

SHANGHAI = {
    "currency": "CNY",
    "region": "Shanghai",
    "hourly_wage": "24.00",
    "source": "Shanghai minimum wage notice, 2025",
    "effective_on": "2025-07-01",
}


def set_wage(api: ApiClient, admin_token: str, **changes) -> dict:
    """The admin sets a reference wage (Shanghai's 24.00 CNY an hour, with `changes`)."""
    answer = api.post("/reference-wages", admin_token, SHANGHAI | changes)
    assert answer.status == 201, answer.body
    return answer.body


def work(api: ApiClient, clock, token: str, seconds: list[int]) -> list[int]:
    """The annotator takes one task at a time and submits it `seconds[n]` later; returns
    the submission ids."""
    ids = []
    for spent in seconds:
        answer = api.post("/tasks/next", token, {"count": 1})
        assert answer.status == 200 and len(answer.body) == 1, answer.body
        clock.step(seconds=spent)
        submitted = api.post(f"/tasks/{answer.body[0]['id']}/submit", token, {"result": BOXES})
        assert submitted.status == 201, submitted.body
        ids.append(submitted.body["id"])
    return ids
