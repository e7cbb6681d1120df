"""Orders with work decided, and exports read back, for the results tests."""

import hashlib
import hmac
import json

from tests.flows import claim, post_order, set_rate
from tests.support import ApiClient

RATING = {"rating": 2, "error_types": ["factual"], "comment": 'wrong year, "1999"'}


def pseudonym(app, order_id: int, user_id: int) -> str:
    """The annotator's name in the order's exports, worked out independently."""
    key = app.config["SECRET_KEY"].encode()
    return "a-" + hmac.new(key, f"{order_id}:{user_id}".encode(), hashlib.sha256).hexdigest()[:12]


def submit_results(api: ApiClient, token: str, results: list[dict]) -> list[int]:
    """The annotator takes len(results) tasks and submits one result each, in order."""
    tasks = api.post("/tasks/next", token, {"count": len(results)}).body
    assert len(tasks) == len(results), tasks
    ids = []
    for task, result in zip(tasks, results, strict=True):
        answer = api.post(f"/tasks/{task['id']}/submit", token, {"result": result})
        assert answer.status == 201, answer.body
        ids.append(answer.body["id"])
    return ids


def rating_order(api: ApiClient, cast, items: int = 2) -> int:
    """Horizon's published order of `items` answers to rate, claimed by Lotus at 0.06."""
    order_id = post_order(
        api,
        cast.client,
        items=items,
        batch_size=items,
        task_type="rating_1_5",
        task_options={"error_types": ["factual", "format"]},
    )
    claim(api, cast.owner, order_id)
    set_rate(api, cast.owner, order_id, "0.06")
    return order_id


def box_order(api: ApiClient, cast, items: int, batch_size: int | None = None) -> int:
    """Horizon's published order of `items` boxes, every batch claimed by Lotus at 0.06."""
    order_id = post_order(api, cast.client, items=items, batch_size=batch_size or items)
    claim(api, cast.owner, order_id)
    set_rate(api, cast.owner, order_id, "0.06")
    return order_id


def export(api: ApiClient, token: str, order_id: int, query: str = "", status: int = 200):
    answer = api.get(f"/orders/{order_id}/results{'?' + query if query else ''}", token)
    assert answer.status == status, answer.text[:500]
    return answer


def lines(answer) -> list[dict]:
    """The JSON Lines of an answer, parsed."""
    return [json.loads(line) for line in answer.text.splitlines()]
