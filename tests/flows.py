"""Steps of the trade through the HTTP API, for tests that need work done first."""

from marketplace.db import unit_of_work
from marketplace.orders.drops import release_due_batches
from marketplace.orders.models import Drop
from tests.support import ApiClient


def release_drops(app) -> list[Drop]:
    """What the scheduler does at each minute: take every drop that is due now."""
    with app.app_context(), unit_of_work() as session:
        return release_due_batches(session)


# An image's size: a box's rules check it ends inside.
IMAGE = {"width": 1920, "height": 1080}
# A box result that keeps every rule of bbox_2d.
BOXES = {"boxes": [{"label": "car", "x": 1, "y": 2, "w": 30, "h": 40}]}


def order_body(
    *,
    items: int = 1,
    price: str = "0.10",
    batch_size: int = 500,
    currency: str = "CNY",
    release_plan: dict | None = None,
    **terms,
) -> dict:
    """A valid order of `items` boxes, as a client would post it, with any other `terms`
    (claim_mode, limits, lease_hours, trial)."""
    body = {
        "title": "Boxes",
        "task_type": "bbox_2d",
        "unit_price": price,
        "currency": currency,
        "payment_terms_days": 30,
        "batch_size": batch_size,
        "items": [{"ref": f"s3://set/{n:06d}.jpg", "payload": IMAGE} for n in range(items)],
    }
    if release_plan is not None:
        body["release_plan"] = release_plan
    return body | terms


def post_order(api: ApiClient, client_token: str, *, publish: bool = True, **order) -> int:
    """Post (and publish) an order built by `order_body(**order)`; returns its id."""
    body = order_body(**order)
    answer = api.post("/orders", client_token, body)
    assert answer.status == 201, answer.body
    if publish:
        assert api.post(f"/orders/{answer.body['id']}/publish", client_token).status == 200
    return answer.body["id"]


def top_up(
    api: ApiClient, admin_token: str, client_id: int, amount: str, reference: str = "TOP-UP-1"
) -> dict:
    """An admin records the client's bank transfer to its balance (CNY); the payment."""
    body = {"client_id": client_id, "currency": "CNY", "amount": amount}
    body |= {"reference": reference, "received_on": "2026-01-01"}
    answer = api.post("/payments", admin_token, body)
    assert answer.status == 201, answer.body
    return answer.body


def claim(api: ApiClient, owner_token: str, order_id: int, batches: int | None = None) -> None:
    """The owner's team claims the order's released batches (the first `batches` of them)."""
    board = [
        b for b in api.get("/batches?limit=1000", owner_token).body if b["order_id"] == order_id
    ]
    for batch in board[:batches]:
        assert api.post(f"/batches/{batch['id']}/claim", owner_token).status == 200


def set_rate(api: ApiClient, owner_token: str, order_id: int, rate: str) -> None:
    answer = api.put(f"/orders/{order_id}/piece-rate", owner_token, {"unit_price": rate})
    assert answer.status == 200, answer.body


def submit(api: ApiClient, annotator_token: str, count: int) -> list[int]:
    """The annotator takes and submits `count` tasks; returns the submission ids."""
    taken = []
    while len(taken) < count:
        answer = api.post("/tasks/next", annotator_token, {"count": min(500, count - len(taken))})
        assert answer.status == 200 and answer.body, answer.body
        taken += answer.body
    ids = []
    for task in taken:
        answer = api.post(f"/tasks/{task['id']}/submit", annotator_token, {"result": BOXES})
        assert answer.status == 201, answer.body
        ids.append(answer.body["id"])
    return ids


def review(api: ApiClient, reviewer_token: str, accept: list[int], reject: list[int] = ()) -> None:
    decisions = [{"submission_id": i, "decision": "accept"} for i in accept] + [
        {
            "submission_id": i,
            "decision": "reject",
            "reason_code": "box_off_target",
            "reason": "box misses the wheel",
        }
        for i in reject
    ]
    for start in range(0, len(decisions), 1000):
        answer = api.post(
            "/reviews", reviewer_token, {"decisions": decisions[start : start + 1000]}
        )
        assert answer.status == 200, answer.body


def holding(api: ApiClient, token: str, holder: str) -> dict:
    [found] = [h for h in api.get("/me/earnings", token).body["holdings"] if h["holder"] == holder]
    return found


def ledger_totals(api: ApiClient, admin_token: str) -> dict:
    return api.get("/ledger/totals", admin_token).body["totals"]


def invoiced(
    api: ApiClient, cast, price: str = "0.10", items: int = 10, rate: str = "0.06"
) -> dict:
    """An order of `items` at `price`, all done by Li at `rate` and accepted, invoiced now:
    at the defaults 1.00 (Li 0.60, Lotus 0.40) plus the 0.05 fee, 1.05."""
    order_id = post_order(api, cast.client, items=items, batch_size=items, price=price)
    claim(api, cast.owner, order_id)
    set_rate(api, cast.owner, order_id, rate)
    review(api, cast.reviewer, accept=submit(api, cast.li, items))
    return api.post(f"/orders/{order_id}/invoices", cast.admin).body
