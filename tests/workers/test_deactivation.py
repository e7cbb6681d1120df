"""An owner deactivates a member: her tasks in hand go back to the team at once, she takes
no more work (nor reviews), and what she earned stays hers, through to her payout."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from marketplace.db import unit_of_work
from marketplace.identity.models import Membership
from tests.flows import review
from tests.payments.test_earnings_views import invoice, money, pay, payout_run, team_order, work
from tests.support import row_counts
from tests.workers import ready_work, take
from tests.workers.invite_kit import accept, invited, mailed_token


def member_path(cast, who: str, action: str) -> str:
    return f"/teams/{cast.party_ids['lotus']}/members/{cast.user_ids[who]}/{action}"


def deactivate(api, cast, who: str) -> dict:
    answer = api.post(member_path(cast, who, "deactivate"), cast.owner)
    assert answer.status == 200, answer.body
    return answer.body


def shown(api, cast, who: str) -> list[tuple[str, bool]]:
    """How the team's member list shows `who`: (role, active) per role."""
    members = api.get(f"/teams/{cast.party_ids['lotus']}/members", cast.owner).body
    return [(m["role"], m["active"]) for m in members if m["user_id"] == cast.user_ids[who]]


def test_her_tasks_go_back_at_once_and_she_takes_no_more_work(app, api, cast, frozen_clock):
    ready_work(api, cast, items=6)
    held = take(api, cast.li, 3)
    done = api.post(f"/tasks/{held[0]['id']}/submit", cast.li, {"result": {"boxes": []}})
    assert done.status == 201, done.body
    take(api, cast.wang, 1)

    state = deactivate(api, cast, "li")
    assert state == {
        "team_id": cast.party_ids["lotus"],
        "user_id": cast.user_ids["li"],
        "roles": ["annotator"],
        "active": False,
        "deactivated_at": "2026-03-02T10:00:00+00:00",
        "tasks_returned": 2,
    }
    assert api.get("/tasks", cast.li).body == []
    assert shown(api, cast, "li") == [("annotator", False)]

    before = row_counts(app)
    refused = api.post("/tasks/next", cast.li, {"count": 1})
    assert (refused.status, refused.error_code) == (403, "member_deactivated")
    again = api.post(member_path(cast, "li", "deactivate"), cast.owner)
    assert (again.status, again.error_code) == (409, "already_deactivated")
    assert row_counts(app) == before

    # Her two tasks are the team's again: with the two nobody took, Wang takes them.
    assert len(take(api, cast.wang, 10)) == 4
    # What she submitted is still reviewed.
    review(api, cast.reviewer, accept=[done.body["id"]])

    back = api.post(member_path(cast, "li", "reactivate"), cast.owner)
    assert (back.status, back.body["active"], back.body["deactivated_at"]) == (200, True, None)
    assert shown(api, cast, "li") == [("annotator", True)]
    twice = api.post(member_path(cast, "li", "reactivate"), cast.owner)
    assert (twice.status, twice.error_code) == (409, "not_deactivated")


def test_a_task_still_in_her_hands_when_she_is_deactivated_is_not_taken_in(app, api, cast):
    """A deactivation that found her task locked by another transaction leaves it in her
    hands until its lease ends; she may not submit it, and nothing is written."""
    ready_work(api, cast, items=1)
    [task] = take(api, cast.li, 1)
    with app.app_context(), unit_of_work() as session:
        session.execute(
            update(Membership)
            .where(Membership.user_id == cast.user_ids["li"])
            .values(deactivated_at=datetime(2026, 3, 2, tzinfo=UTC))
        )
    before = row_counts(app)
    refused = api.post(f"/tasks/{task['id']}/submit", cast.li, {"result": {"boxes": []}})
    assert (refused.status, refused.error_code) == (403, "member_deactivated")
    assert row_counts(app) == before


def test_a_deactivated_reviewer_reviews_no_more(api, cast):
    ready_work(api, cast, items=1)
    [task] = take(api, cast.li, 1)
    done = api.post(f"/tasks/{task['id']}/submit", cast.li, {"result": {"boxes": []}}).body
    deactivate(api, cast, "reviewer")
    assert shown(api, cast, "reviewer") == [("reviewer", False)]
    decision = {"submission_id": done["id"], "decision": "accept"}
    refused = api.post("/reviews", cast.reviewer, {"decisions": [decision]})
    assert (refused.status, refused.error_code) == (403, "member_deactivated")
    # The owner still reviews: her own role is never deactivated.
    assert api.post("/reviews", cast.owner, {"decisions": [decision]}).status == 200


@pytest.mark.slow
def test_what_she_earned_keeps_moving_to_paid_after_she_is_deactivated(api, cast, frozen_clock):
    order = team_order(api, cast, 3, rate="0.06")
    work(api, cast.li, cast.reviewer, accept=3)
    bill = invoice(api, cast, order)
    deactivate(api, cast, "li")

    def hers() -> tuple[str, str, str]:
        [holding] = api.get("/me/earnings", cast.li).body["holdings"]
        return money(holding)

    assert hers() == ("0.18", "0.00", "0.00")
    pay(api, cast, bill, received_on="2026-03-02")
    assert hers() == ("0.00", "0.18", "0.00")
    paid = [p for p in payout_run(api, cast)["payouts"] if p["user_id"] == cast.user_ids["li"]]
    assert [p["amount"] for p in paid] == ["0.18"]
    assert hers() == ("0.00", "0.00", "0.18")


@pytest.mark.slow
def test_deactivated_by_one_team_she_still_works_for_the_other(app, api, cast):
    invited(api, cast, "li@example.com", team="tiger")
    joined = accept(api, mailed_token(app, "li@example.com"), cast.li)
    assert joined.status == 201, joined.body
    ready_work(api, cast, items=2)
    tigers = team_order(api, cast, 2, rate="0.07", owner=cast.rival_owner)
    deactivate(api, cast, "li")
    assert {task["order_id"] for task in take(api, cast.li, 5)} == {tigers}
    assert take(api, cast.wang, 5) != []  # Lotus's work waits for its active members
