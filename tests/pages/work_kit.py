"""Work for the workspace's tests: orders of each built-in task type on the demo's own
media (images, clips, chatbot answers), claimed by Lotus with Li's pay set, and her
daily quota."""

from sqlalchemy import select

from marketplace import demo_work
from marketplace.db import db
from marketplace.workers.models import Submission, Task
from tests import flows

ERROR_TYPES = demo_work.ERROR_TYPES


def box_items(count: int) -> list[dict]:
    names = list(demo_work.SCENES)
    return [
        {
            "ref": f"{demo_work.MEDIA_URL}{names[n % len(names)]}?n={n}",
            "payload": {"width": demo_work.WIDTH, "height": demo_work.HEIGHT},
        }
        for n in range(count)
    ]


def answer_items(count: int) -> list[dict]:
    answers = demo_work.ANSWERS
    return [
        {"ref": f"answer-{n}", "payload": {"question": q, "answer": a}}
        for n, (q, a) in ((n, answers[n % len(answers)]) for n in range(count))
    ]


def clip_items(count: int) -> list[dict]:
    names = list(demo_work.CLIPS)
    return [{"ref": f"{demo_work.MEDIA_URL}{names[n % len(names)]}?n={n}"} for n in range(count)]


def work(api, cast, task_type: str, items: list[dict], **terms) -> int:
    """An order of these items posted by Horizon, claimed by Lotus, Li's piece rate set."""
    body = {
        "title": f"Demo {task_type}",
        "task_type": task_type,
        "unit_price": "0.10",
        "currency": "CNY",
        "payment_terms_days": 30,
        "batch_size": len(items),
        "items": items,
        "instructions": "Do it well.",
    } | terms
    answer = api.post("/orders", cast.client, body)
    assert answer.status == 201, answer.body
    order_id = answer.body["id"]
    assert api.post(f"/orders/{order_id}/publish", cast.client).status == 200
    flows.claim(api, cast.owner, order_id)
    flows.set_rate(api, cast.owner, order_id, "0.06")
    return order_id


def ratings(api, cast, count: int) -> int:
    return work(
        api, cast, "rating_1_5", answer_items(count), task_options={"error_types": ERROR_TYPES}
    )


def quota(api, cast, daily: int) -> None:
    """Li at a level of Lotus with this daily quota."""
    team = cast.party_ids["lotus"]
    body = {"name": "trainee", "rank": 0, "daily_quota": daily}
    level = api.post(f"/teams/{team}/levels", cast.owner, body)
    assert level.status == 201, level.body
    moved = api.post(
        f"/teams/{team}/members/{cast.user_ids['li']}/levels",
        cast.owner,
        {"level_id": level.body["id"]},
    )
    assert moved.status == 201, moved.body


def submissions(app, order_id: int | None = None) -> list[Submission]:
    with app.app_context():
        query = select(Submission).order_by(Submission.id)
        if order_id is not None:
            query = query.where(Submission.order_id == order_id)
        found = db.session.scalars(query).all()
        db.session.expunge_all()
        return found


def task_row(app, task_id: int) -> Task:
    with app.app_context():
        found = db.session.get(Task, task_id)
        db.session.expunge_all()
        return found
