"""What an hour earns at each link: the order's median time from 30 accepted items (the
client's estimate until then), the annotator per task type and day, the team owner per
order and member, the client at her price and what reaches the performing teams, and a
rate card below the reference wage flagged on the drop board."""

import pytest

from tests.flows import post_order, review
from tests.wages import boxes_over_two_days, set_wage
from tests.workers import add_level

# End to end through the API: `make test` runs them, `make check` stays under a minute.
pytestmark = pytest.mark.slow

SHANGHAI_WAGE = {
    "hourly_wage": "24.00",
    "region": "Shanghai",
    "source": "Shanghai minimum wage notice, 2025",
    "effective_on": "2025-07-01",
}


def pay(hourly: str | None, seconds: str | None, basis: str, below: bool | None) -> dict:
    return {
        "currency": "CNY",
        "basis": basis,
        "seconds_per_item": seconds,
        "hourly_pay": hourly,
        "reference_wage": SHANGHAI_WAGE,
        "below_reference_wage": below,
    }


@pytest.fixture
def worked(api, cast, frozen_clock):
    """Li's 30 boxes over two days, 29 accepted, and Wang's one (tests/wages)."""
    return boxes_over_two_days(api, cast, frozen_clock)


def test_the_order_is_judged_at_the_estimate_until_30_items_are_accepted(
    api, cast, frozen_clock, worked
):
    order = worked["order"]
    before = api.get(f"/orders/{order}/hourly-pay", cast.client)
    assert before.status == 200, before.body
    # 29 measured: still the client's 20 s; 0.10 x 3600 / 20 = 18.00, below 24.00.
    assert before.body == {
        "order_id": order,
        "currency": "CNY",
        "pace": {"basis": "estimate", "seconds": "20", "measured_items": 29},
        "task_type_pace": None,
        "at_your_price": pay("18.00", "20", "estimate", True),
        "pass_through": "1.0000",
        "reaching_performers": pay("18.00", "20", "estimate", True),
    }
    review(api, cast.reviewer, accept=worked["li"][29:])
    thirty = api.get(f"/orders/{order}/hourly-pay", cast.client).body
    # 30 measured: the 15th and 16th take 13 and 14 s -> 13.5 s, read from two rows;
    # 0.10 x 3600 / 13.5 = 26.666... -> 26.67.
    assert thirty["pace"] == {"basis": "measured", "seconds": "13.5", "measured_items": 30}
    assert thirty["at_your_price"] == pay("26.67", "13.5", "measured", False)
    review(api, cast.reviewer, accept=worked["wang"])
    after = api.get(f"/orders/{order}/hourly-pay", cast.client).body
    # 31 measured: 9, eight of 10, seven of 13, ... -> the 16th is 13 s.
    # 0.10 x 3600 / 13 = 27.692... -> 27.69: the price pays the wage.
    assert after["pace"] == {"basis": "measured", "seconds": "13", "measured_items": 31}
    assert after["task_type_pace"] == after["pace"]  # the platform's only boxes
    assert after["at_your_price"] == pay("27.69", "13", "measured", False)
    assert after["reaching_performers"] == pay("27.69", "13", "measured", False)
    # The order's client and admins read it; its team and strangers do not.
    assert api.get(f"/orders/{order}/hourly-pay", cast.admin).body == after
    assert api.get(f"/orders/{order}/hourly-pay", cast.owner).error_code == "forbidden"
    assert api.get(f"/orders/{order}/hourly-pay", cast.li).error_code == "forbidden"
    for stranger in ("rival_client", "rival_owner"):
        answer = api.get(f"/orders/{order}/hourly-pay", cast.tokens[stranger])
        assert answer.error_code == "order_not_found"


def test_the_annotator_sees_her_hourly_pay_per_task_type_and_per_day(
    api, cast, frozen_clock, worked
):
    review(api, cast.reviewer, accept=worked["li"][29:])
    answer = api.get("/me/earnings/hourly", cast.li)
    assert answer.status == 200, answer.body
    mine = answer.body
    assert (mine["from"], mine["to"]) == ("2026-03-01", "2026-03-03")
    # Her 30 boxes: the 15th and 16th take 13 and 14 s; 0.06 x 3600 / 13.5 = 16.00.
    assert mine["task_types"] == [
        {
            "task_type": "bbox_2d",
            "currency": "CNY",
            "items": 30,
            "earned": "1.8",
            "pay": pay("16.00", "13.5", "measured", True),
        }
    ]
    # 2 March, 16 boxes: the two middle ones take 10 and 13 s -> 11.5 s, 0.06 x 3600 / 11.5
    # = 18.782... -> 18.78; 3 March: two of 14 s, twelve of 17 -> 17 s, 12.705... -> 12.71.
    assert [
        (d["day"], d["items"], d["earned"], d["pay"]["seconds_per_item"], d["pay"]["hourly_pay"])
        for d in mine["days"]
    ] == [("2026-03-02", 16, "0.96", "11.5", "18.78"), ("2026-03-03", 14, "0.84", "17", "12.71")]
    march_2 = api.get("/me/earnings/hourly?from=2026-03-02&to=2026-03-02", cast.li).body
    assert [(t["items"], t["pay"]["hourly_pay"]) for t in march_2["task_types"]] == [(16, "18.78")]
    # Wang's one box waits for review: nothing measured of hers yet.
    assert api.get("/me/earnings/hourly", cast.wang).body["task_types"] == []


def test_the_team_owner_sees_each_order_and_member_and_her_rate_card_below_the_wage(
    api, cast, frozen_clock, worked
):
    review(api, cast.reviewer, accept=worked["li"][29:] + worked["wang"])
    team = cast.party_ids["lotus"]
    answer = api.get(f"/teams/{team}/hourly-pay", cast.owner)
    assert answer.status == 200, answer.body
    # The order: 31 boxes, 1.86 paid, median 13 s -> 0.06 x 3600 / 13 = 16.62 (mean rate
    # 0.06); the rate card's 0.06 at the order's 13 s pays 16.62, below 24.00.
    [order] = answer.body["orders"]
    assert order == {
        "order_id": worked["order"],
        "title": "Boxes",
        "task_type": "bbox_2d",
        "currency": "CNY",
        "items": 31,
        "earned": "1.86",
        "pay": pay("16.62", "13", "measured", True),
        "rate_card_below_reference_wage": True,
    }
    # Wang's one box of 9 s: 0.06 x 3600 / 9 = 24.00, the wage to the fen.
    assert [
        (m["user_id"], m["items"], m["pay"]["hourly_pay"], m["pay"]["below_reference_wage"])
        for m in answer.body["members"]
    ] == [
        (cast.user_ids["li"], 30, "16.00", True),
        (cast.user_ids["wang"], 1, "24.00", False),
    ]
    for who in ("li", "reviewer"):
        assert api.get(f"/teams/{team}/hourly-pay", cast.tokens[who]).error_code == "forbidden"
    assert api.get(f"/teams/{team}/hourly-pay", cast.rival_owner).error_code == "team_not_found"


def test_the_drop_board_flags_orders_a_teams_rate_card_pays_below_the_wage(api, cast, frozen_clock):
    set_wage(api, cast.admin)
    add_level(api, cast, "junior", 0, rates=[("bbox_2d", "0.06")])
    # 0.06 x 3600 / 8 = 27.00: pays the wage; / 12 = 18.00: below it.
    fast = post_order(api, cast.client, items=2, estimated_seconds_per_item=8)
    slow = post_order(api, cast.client, items=2, estimated_seconds_per_item=12)
    unknown = post_order(api, cast.client, items=2)

    def flags(token):
        board = api.get("/batches", token).body
        return {b["order_id"]: b["below_reference_wage"] for b in board}

    assert flags(cast.owner) == {fast: False, slow: True, unknown: None}
    # Tiger has no rate card: nothing to compare; a client reading the board sees no flag.
    assert flags(cast.rival_owner) == {fast: None, slow: None, unknown: None}
    assert flags(cast.admin) == {fast: None, slow: None, unknown: None}
