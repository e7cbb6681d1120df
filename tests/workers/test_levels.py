"""A team's ladder: levels with rates and quotas, pay by level, promotion by accuracy.

Lotus's ladder: trainee 0.03 a box, annotator 0.04 (95 % of the last 20 reviewed
items to get there), senior 0.045 (98 %), quality inspector 0.05 (reviews others).
Lotus works a box order the client pays 0.10 a box.
"""

from datetime import UTC, datetime

import pytest

from tests.flows import holding, order_body, review, set_rate, submit
from tests.support import row_counts
from tests.workers import add_level, move, ready_work

# Whole flows of the work side: `make test` runs them, `make check` leaves them out.
pytestmark = pytest.mark.slow


def promotion(accuracy: str, over: int = 20) -> dict:
    return {"min_accuracy": accuracy, "over_items": over}


@pytest.fixture
def order_id(api, cast):
    """Lotus claimed a 100-box order at 0.10 (batches of 20); no piece rate is set."""
    return ready_work(api, cast, items=100, batch_size=20, rate=None)


@pytest.fixture
def ladder(api, cast, order_id) -> dict[str, dict]:
    box = "bbox_2d"
    return {
        "trainee": add_level(api, cast, "trainee", 0, daily_quota=40, rates=[(box, "0.03")]),
        "annotator": add_level(
            api,
            cast,
            "annotator",
            1,
            daily_quota=80,
            promotion=promotion("0.95"),
            rates=[(box, "0.04")],
        ),
        "senior": add_level(
            api,
            cast,
            "senior",
            2,
            daily_quota=700,
            promotion=promotion("0.98"),
            rates=[(box, "0.045")],
        ),
        "inspector": add_level(
            api,
            cast,
            "quality inspector",
            3,
            reviews=True,
            promotion=promotion("0.99"),
            rates=[(box, "0.05")],
        ),
    }


def members(api, cast) -> dict[int, dict]:
    answer = api.get(f"/teams/{cast.party_ids['lotus']}/members", cast.owner)
    assert answer.status == 200, answer.body
    return {m["user_id"]: m for m in answer.body}


def history(api, cast, who: str, token: str | None = None):
    team = cast.party_ids["lotus"]
    return api.get(f"/teams/{team}/members/{cast.user_ids[who]}/levels", token or cast.owner)


def work(api, cast, who: str, accepted: int, rejected: int = 0) -> None:
    """`who` submits accepted + rejected boxes; the reviewer accepts the first `accepted`."""
    ids = submit(api, getattr(cast, who), accepted + rejected)
    review(api, cast.reviewer, accept=ids[:accepted], reject=ids[accepted:])


def test_the_owner_builds_a_ladder_with_rates_quotas_and_promotion_rules(app, api, cast, ladder):
    team = cast.party_ids["lotus"]
    shown = api.get(f"/teams/{team}/levels", cast.li)  # members read their ladder
    assert shown.status == 200
    assert [(lv["name"], lv["rank"], lv["daily_quota"], lv["reviews"]) for lv in shown.body] == [
        ("trainee", 0, 40, False),
        ("annotator", 1, 80, False),
        ("senior", 2, 700, False),
        ("quality inspector", 3, None, True),
    ]
    assert [lv["promotion"] for lv in shown.body] == [
        None,
        {"min_accuracy": "0.9500", "over_items": 20},
        {"min_accuracy": "0.9800", "over_items": 20},
        {"min_accuracy": "0.9900", "over_items": 20},
    ]
    assert [lv["rates"] for lv in shown.body][1:3] == [
        [{"task_type": "bbox_2d", "currency": "CNY", "unit_price": "0.04"}],
        [{"task_type": "bbox_2d", "currency": "CNY", "unit_price": "0.045"}],
    ]

    before = row_counts(app)
    taken = api.post(f"/teams/{team}/levels", cast.owner, {"name": "senior", "rank": 9})
    assert (taken.status, taken.error_code) == (409, "level_exists")
    rank_taken = api.post(f"/teams/{team}/levels", cast.owner, {"name": "lead", "rank": 2})
    assert (rank_taken.status, rank_taken.error_code) == (409, "level_exists")
    assert api.post(f"/teams/{team}/levels", cast.li, {"name": "boss", "rank": 7}).status == 403
    assert api.get(f"/teams/{team}/levels", cast.rival_owner).status == 404
    assert row_counts(app) == before


@pytest.mark.parametrize(
    "change",
    [{"daily_quota": 200}, {"name": "quality inspector", "rank": 3, "daily_quota": 200}],
    ids=["quota-alone", "with-name-and-rank"],
)
def test_changing_a_levels_quota_keeps_the_rest_of_it(api, cast, ladder, change):
    """The inspectors' quota goes to 200: they still review, keep their rule and rate."""
    inspector = ladder["inspector"]
    answer = api.call("PATCH", f"/levels/{inspector['id']}", cast.owner, json=change)
    assert answer.status == 200, answer.body
    assert answer.body == inspector | {"daily_quota": 200}
    [shown] = [
        lv
        for lv in api.get(f"/teams/{cast.party_ids['lotus']}/levels", cast.owner).body
        if lv["id"] == inspector["id"]
    ]
    assert (shown["reviews"], shown["promotion"]) == (True, promotion("0.9900"))


def test_an_annotator_is_paid_her_levels_rate_per_accepted_item(api, cast, order_id, ladder):
    """Li is a senior (0.045 a box); the order's piece rate (0.04) pays who has no level."""
    set_rate(api, cast.owner, order_id, "0.04")
    assert move(api, cast, "li", ladder["senior"]).status == 201
    ids = submit(api, cast.li, 8)
    review(api, cast.reviewer, accept=ids[:7], reject=ids[7:])
    review(api, cast.reviewer, accept=submit(api, cast.wang, 2))

    decided = {s["id"]: s for s in api.get("/submissions?status=accepted", cast.reviewer).body}
    assert [decided[i]["rate"] for i in ids[:7]] == ["0.045"] * 7
    [rejected] = api.get("/submissions?status=rejected", cast.reviewer).body
    assert (rejected["id"], rejected["rate"]) == (ids[7], None)

    li = holding(api, cast.li, "annotator")
    # 7 x 0.045 = 0.315 exactly; invoicing will round it once, to 0.32.
    assert li["today"] == {"submitted": 8, "accepted": 7, "rejected": 1, "earned": "0.315"}
    assert li["unbilled"] == {"items": 7, "amount": "0.32"}
    wang = holding(api, cast.wang, "annotator")
    assert wang["today"] == {"submitted": 2, "accepted": 2, "rejected": 0, "earned": "0.08"}


def test_a_level_rate_above_the_teams_contract_price_is_refused(api, cast, order_id, ladder):
    senior = ladder["senior"]["id"]
    above = api.put(
        f"/levels/{senior}/rates",
        cast.owner,
        {"task_type": "bbox_2d", "currency": "CNY", "unit_price": "0.1001"},
    )
    assert (above.status, above.error_code) == (409, "rate_above_contract_price")
    assert above.body["error"]["details"]["contract_price"] == "0.1"
    levels = api.get(f"/teams/{cast.party_ids['lotus']}/levels", cast.owner).body
    assert [lv["rates"][0]["unit_price"] for lv in levels] == ["0.03", "0.04", "0.045", "0.05"]

    at_price = api.put(
        f"/levels/{senior}/rates",
        cast.owner,
        {"task_type": "bbox_2d", "currency": "CNY", "unit_price": "0.10"},
    )
    assert at_price.status == 200
    assert at_price.body["rates"] == [
        {"task_type": "bbox_2d", "currency": "CNY", "unit_price": "0.1"}
    ]


def test_a_team_whose_levels_earn_more_than_an_orders_price_cannot_claim_it(api, cast, ladder):
    """Lotus's inspectors earn 0.05 a box: a box order paying 0.045 would cost it money."""
    cheap = api.post("/orders", cast.client, order_body(items=5, price="0.045")).body["id"]
    assert api.post(f"/orders/{cheap}/publish", cast.client).status == 200
    [batch] = api.get(f"/orders/{cheap}/batches", cast.client).body
    refused = api.post(f"/batches/{batch['id']}/claim", cast.owner)
    assert (refused.status, refused.error_code) == (409, "rate_above_contract_price")
    assert api.get(f"/orders/{cheap}/batches", cast.client).body[0]["status"] == "released"
    # At 0.05 the ladder fits, and the claim goes through.
    fair = api.post("/orders", cast.client, order_body(items=5, price="0.05")).body["id"]
    assert api.post(f"/orders/{fair}/publish", cast.client).status == 200
    [batch] = api.get(f"/orders/{fair}/batches", cast.client).body
    assert api.post(f"/batches/{batch['id']}/claim", cast.owner).status == 200


def test_the_owner_sets_a_rate_card_before_any_order_of_its_type_exists(api, cast, ladder):
    """Nobody has ordered ratings yet; the owner still prices them for her trainees."""
    answer = api.put(
        f"/levels/{ladder['trainee']['id']}/rates",
        cast.owner,
        {"task_type": "rating_1_5", "currency": "CNY", "unit_price": "0.15"},
    )
    assert answer.status == 200, answer.body
    assert {"task_type": "rating_1_5", "currency": "CNY", "unit_price": "0.15"} in answer.body[
        "rates"
    ]


def test_nineteen_of_twenty_is_eligible_and_eighteen_is_not(api, cast, ladder):
    for who in ("li", "wang", "zhang"):
        assert move(api, cast, who, ladder["trainee"]).status == 201
    work(api, cast, "li", 19, 1)  # 95 %
    work(api, cast, "wang", 18, 2)  # 90 %
    work(api, cast, "zhang", 10)  # 100 %, but of 10 items only

    shown = members(api, cast)
    trainee = {"id": ladder["trainee"]["id"], "name": "trainee", "rank": 0}
    annotator = {"id": ladder["annotator"]["id"], "name": "annotator", "rank": 1}
    li, wang, zhang = (shown[cast.user_ids[who]] for who in ("li", "wang", "zhang"))
    assert (li["level"], li["submitted_today"]) == (trainee, 20)
    assert li["next"] == {"level": annotator, "eligible": True, "accepted": 19, "reviewed": 20}
    assert wang["next"] == {"level": annotator, "eligible": False, "accepted": 18, "reviewed": 20}
    assert zhang["next"] == {"level": annotator, "eligible": False, "accepted": 10, "reviewed": 10}

    refused = move(api, cast, "wang", ladder["annotator"])
    assert (refused.status, refused.error_code) == (409, "not_eligible")
    assert refused.body["error"]["details"] == {"accepted": 18, "reviewed": 20, "needed_items": 20}
    short = move(api, cast, "zhang", ladder["annotator"])
    assert (short.status, short.error_code) == (409, "not_eligible")
    assert short.body["error"]["details"] == {"accepted": 10, "reviewed": 10, "needed_items": 20}
    # Two steps up at once needs the senior rule: 95 % is short of 98 %.
    assert move(api, cast, "li", ladder["senior"]).error_code == "not_eligible"
    assert [len(history(api, cast, who).body) for who in ("li", "wang", "zhang")] == [1, 1, 1]

    promoted = move(api, cast, "li", ladder["annotator"], note="19 of 20")
    assert promoted.status == 201, promoted.body
    assert (promoted.body["accuracy"], promoted.body["from_level_id"]) == (
        "0.9500",
        ladder["trainee"]["id"],
    )
    li = members(api, cast)[cast.user_ids["li"]]
    assert li["level"]["name"] == "annotator" and li["next"]["level"]["name"] == "senior"


def test_only_her_last_reviewed_items_count_towards_promotion(api, cast, frozen_clock, ladder):
    """Five early misses, then twenty good boxes: the misses are out of the window."""
    assert move(api, cast, "li", ladder["trainee"]).status == 201
    work(api, cast, "li", 0, 5)
    frozen_clock.step(minutes=5)
    work(api, cast, "li", 20)
    li = members(api, cast)[cast.user_ids["li"]]
    following = li["next"]
    assert following["level"]["name"] == "annotator"
    assert (following["eligible"], following["accepted"], following["reviewed"]) == (True, 20, 20)
    assert move(api, cast, "li", ladder["annotator"]).body["accuracy"] == "1.0000"


def test_a_move_down_is_free_and_the_history_keeps_who_and_when(api, cast, frozen_clock, ladder):
    frozen_clock.stand_at("2026-03-02T09:00:00+08:00")
    assert move(api, cast, "li", ladder["trainee"], note="welcome").status == 201
    work(api, cast, "li", 19, 1)
    frozen_clock.stand_at("2026-03-05T09:00:00+08:00")
    assert move(api, cast, "li", ladder["annotator"]).status == 201
    frozen_clock.stand_at("2026-03-09T09:00:00+08:00")
    down = move(api, cast, "li", ladder["trainee"], note="too many missed wheels")
    assert down.status == 201 and down.body["accuracy"] is None
    same = move(api, cast, "li", ladder["trainee"])
    assert (same.status, same.error_code) == (409, "same_level")

    shown = history(api, cast, "li")
    assert shown.status == 200
    trainee, annotator = ladder["trainee"]["id"], ladder["annotator"]["id"]
    owner = cast.user_ids["owner"]
    assert [
        (c["from_level_id"], c["level_id"], c["changed_by"], c["note"], c["accuracy"])
        for c in shown.body
    ] == [
        (None, trainee, owner, "welcome", None),
        (trainee, annotator, owner, None, "0.9500"),
        (annotator, trainee, owner, "too many missed wheels", None),
    ]
    assert [datetime.fromisoformat(c["created_at"]) for c in shown.body] == [
        datetime(2026, 3, 2, 1, tzinfo=UTC),
        datetime(2026, 3, 5, 1, tzinfo=UTC),
        datetime(2026, 3, 9, 1, tzinfo=UTC),
    ]
    # She reads her own history; another annotator may not, nor may the owner of a rival team.
    assert history(api, cast, "li", cast.li).body == shown.body
    assert history(api, cast, "li", cast.wang).status == 403
    assert history(api, cast, "li", cast.rival_owner).status == 404
    assert members(api, cast)[cast.user_ids["li"]]["level"]["name"] == "trainee"


def test_a_quality_inspector_reviews_others_work_and_a_trainee_may_not(api, cast, ladder):
    assert move(api, cast, "zhang", ladder["inspector"]).status == 201  # a first level is free
    assert move(api, cast, "wang", ladder["trainee"]).status == 201
    assert move(api, cast, "li", ladder["trainee"]).status == 201
    first, second = submit(api, cast.li, 2)
    accept = {"decisions": [{"submission_id": first, "decision": "accept"}]}

    denied = api.post("/reviews", cast.wang, accept)
    assert denied.status == 403
    assert api.get("/submissions", cast.wang).body == []  # her own only: none
    assert {s["id"] for s in api.get("/submissions", cast.zhang).body} == {first, second}

    done = api.post("/reviews", cast.zhang, accept)
    assert done.status == 200, done.body
    assert (done.body[0]["status"], done.body[0]["reviewer_id"]) == (
        "accepted",
        cast.user_ids["zhang"],
    )
    assert done.body[0]["rate"] == "0.03"  # Li's trainee rate when she took it

    # Moved down, she reviews no more.
    assert move(api, cast, "zhang", ladder["trainee"]).status == 201
    again = api.post(
        "/reviews", cast.zhang, {"decisions": [{"submission_id": second, "decision": "accept"}]}
    )
    assert again.status == 403
    assert [s["id"] for s in api.get("/submissions", cast.reviewer).body] == [second]
