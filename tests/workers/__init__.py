"""Helpers shared by the annotators' tests: work ready to take, taking it, a team's ladder."""

from tests.flows import claim, post_order, set_rate
from tests.support import ApiClient


def ready_work(api: ApiClient, cast, *, rate: str | None = "0.06", **order) -> int:
    """An order posted and published by the client, every batch claimed by Lotus, with a
    piece rate (unless `rate` is None): its tasks wait to be taken. Returns the order id."""
    order_id = post_order(api, cast.client, **order)
    claim(api, cast.owner, order_id)
    if rate is not None:
        set_rate(api, cast.owner, order_id, rate)
    return order_id


def take(api: ApiClient, token: str, count: int = 1) -> list[dict]:
    """The annotator takes up to `count` tasks (an empty list: nothing for her)."""
    answer = api.post("/tasks/next", token, {"count": count})
    assert answer.status == 200, answer.body
    return answer.body


def add_level(api: ApiClient, cast, name: str, rank: int, *, rates=(), **terms) -> dict:
    """The owner adds a level to Lotus's ladder and sets its `rates`, pairs of
    (task type, price) in CNY. Returns the level as the API shows it."""
    team = cast.party_ids["lotus"]
    answer = api.post(f"/teams/{team}/levels", cast.owner, {"name": name, "rank": rank} | terms)
    assert answer.status == 201, answer.body
    level = answer.body
    for task_type, price in rates:
        body = {"task_type": task_type, "currency": "CNY", "unit_price": price}
        answer = api.put(f"/levels/{level['id']}/rates", cast.owner, body)
        assert answer.status == 200, answer.body
        level = answer.body
    return level


def move(api: ApiClient, cast, who: str, level: dict, note: str | None = None):
    """The owner moves the annotator `who` to `level`; the answer as it came."""
    team = cast.party_ids["lotus"]
    return api.post(
        f"/teams/{team}/members/{cast.user_ids[who]}/levels",
        cast.owner,
        {"level_id": level["id"]} | ({} if note is None else {"note": note}),
    )
