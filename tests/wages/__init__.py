"""Helpers of the reference-wage tests: a wage set by the admin."""

from tests.flows import BOXES, claim, post_order, review, set_rate
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


def boxes_over_two_days(api: ApiClient, cast, clock) -> dict:
    """Horizon's 40 boxes at 0.10 CNY, estimated at 20 s each; Lotus pays Li and Wang 0.06.
    Li does 16 boxes on 2 March in Shanghai (8 of 10 s, 7 of 13 s, 1 of 16 s), 14 on 3
    March (2 of 14 s, 12 of 17 s); Wang one of 9 s. 29 of Li's are accepted; her 30th
    and Wang's wait. Shanghai's reference wage is 24.00."""
    set_wage(api, cast.admin)
    order = post_order(api, cast.client, items=40, batch_size=40, estimated_seconds_per_item=20)
    claim(api, cast.owner, order)
    set_rate(api, cast.owner, order, "0.06")
    clock.stand_at("2026-03-02T18:00:00+08:00")
    li = work(api, clock, cast.li, [10] * 8 + [13] * 7 + [16])
    clock.stand_at("2026-03-03T09:00:00+08:00")
    li += work(api, clock, cast.li, [14] * 2 + [17] * 12)
    wang = work(api, clock, cast.wang, [9])
    review(api, cast.reviewer, accept=li[:29])
    return {"order": order, "li": li, "wang": wang}
