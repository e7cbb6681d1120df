"""A team's day, ladder and rates, and its members' levels."""

import pytest

from tests.authorization.matrix import (
    CREATED,
    FORBIDDEN,
    LOTUS,
    NOT_THE_TEAM,
    OK,
    TIGER,
    Matrix,
    Row,
    by_endpoint,
    conflict,
    field_is,
    ids_are,
    missing,
    table,
)
from tests.support import Response

pytestmark = pytest.mark.slow


def ladder_is(matrix: Matrix, caller: str, answer: Response) -> str | None:
    """Lotus's levels, lowest first, with junior's rate card and senior's promotion rule."""
    w = matrix.world
    got = [
        (level["id"], level["name"], level["daily_quota"], level["reviews"], level["promotion"])
        for level in answer.body
    ]
    want = [
        (w.junior, "junior", 600, False, None),
        (w.senior, "senior", None, False, {"min_accuracy": "0.9500", "over_items": 100}),
        (w.inspector, "inspector", None, True, None),
    ]
    rates = [(r["task_type"], r["currency"], r["unit_price"]) for r in answer.body[0]["rates"]]
    ok = got == want and rates == [("bbox_2d", "CNY", "0.05")]
    return None if ok else f"levels {answer.body}"


def members_are(matrix: Matrix, caller: str, answer: Response) -> str | None:
    """Lotus's annotators and reviewer: their level, boxes submitted today, and (an
    annotator's) the next level up."""
    w = matrix.world
    got = {
        (
            m["user_id"],
            (m["level"] or {}).get("name"),
            m["submitted_today"],
            (m["next"] or {}).get("level", {}).get("name"),
            (m["next"] or {}).get("eligible"),
        )
        for m in answer.body
    }
    want = {
        (w.user("li"), None, 2, "junior", False),
        (w.user("wang"), "junior", 2, "senior", False),
        (w.user("zhang"), "inspector", 0, None, None),
        (w.user("reviewer"), None, 0, None, None),
    }
    return None if got == want else f"members {sorted(got)}, expected {sorted(want)}"


READS = [
    # Levels: a team's members read its ladder (and what each level is paid); its owner and
    # reviewers see the members; a member's history is hers, her owner's and reviewers'.
    Row("GET", f"/teams/{LOTUS}/levels", table(NOT_THE_TEAM, lotus=OK), check=ladder_is),
    Row(
        "GET",
        f"/teams/{TIGER}/levels",
        table(NOT_THE_TEAM, tiger=OK),
        check=ids_are(lambda w, c: {w.tiger_level}),
    ),
    Row(
        "GET",
        f"/teams/{LOTUS}/members",
        table(NOT_THE_TEAM, lotus=FORBIDDEN, owner=OK, reviewer=OK),
        check=members_are,
    ),
    Row(
        "GET",
        f"/teams/{LOTUS}/members/{{cast.user_ids[wang]}}/levels",
        table(NOT_THE_TEAM, lotus=FORBIDDEN, owner=OK, reviewer=OK, wang=OK),
        check=ids_are(lambda w, c: {w.wang_change}),
    ),
]

WRITES = [
    # A team's day, ladder and rates: its owner's to set; its other members see the team
    # (403), nobody else does (404), not even a rival team's owner.
    Row(
        "PATCH",
        f"/teams/{LOTUS}",
        table(NOT_THE_TEAM, lotus=FORBIDDEN, owner=OK),
        body={"timezone": "Europe/Berlin"},
        check=field_is("timezone", lambda w, c: "Europe/Berlin"),
    ),
    Row(
        "POST",
        f"/teams/{LOTUS}/levels",
        table(NOT_THE_TEAM, lotus=FORBIDDEN, owner=CREATED),
        body={"name": "expert", "rank": 3, "daily_quota": 800},
        check=field_is("team_id", lambda w, c: w.party("lotus")),
    ),
    Row(
        "POST",
        f"/teams/{LOTUS}/levels",
        table(NOT_THE_TEAM, lotus=FORBIDDEN, owner=conflict("level_exists")),
        body={"name": "expert", "rank": 1},
        label="a rank taken",
    ),
    Row(
        "PATCH",
        "/levels/{junior}",
        table(missing("level"), lotus=FORBIDDEN, owner=OK),
        body={"daily_quota": 500},
        check=field_is("daily_quota", lambda w, c: 500),
    ),
    Row(
        "PATCH",
        "/levels/{tiger_level}",
        table(missing("level"), tiger=FORBIDDEN, rival_owner=OK),
        body={"daily_quota": 500},
        check=field_is("daily_quota", lambda w, c: 500),
    ),
    Row(
        "PUT",
        "/levels/{junior}/rates",
        table(missing("level"), lotus=FORBIDDEN, owner=OK),
        body={"task_type": "rating_1_5", "currency": "CNY", "unit_price": "0.20"},
        check=lambda m, c, a: (
            None
            if [(r["task_type"], r["unit_price"]) for r in a.body["rates"]]
            == [("bbox_2d", "0.05"), ("rating_1_5", "0.2")]
            else f"rates {a.body['rates']}"
        ),
    ),
    Row(
        "PUT",
        "/levels/{junior}/rates",
        table(missing("level"), lotus=FORBIDDEN, owner=conflict("rate_above_contract_price")),
        body={"task_type": "bbox_2d", "currency": "CNY", "unit_price": "0.12"},
        label="above what Horizon pays",
    ),
    Row(
        "POST",
        f"/teams/{LOTUS}/members/{{cast.user_ids[li]}}/levels",
        table(NOT_THE_TEAM, lotus=FORBIDDEN, owner=CREATED),
        body=lambda w, c: {"level_id": w.junior, "note": "first month"},
        check=lambda m, c, a: (
            None
            if (a.body["user_id"], a.body["level_id"], a.body["from_level_id"])
            == (m.world.user("li"), m.world.junior, None)
            else f"level change {a.body}"
        ),
    ),
    Row(
        "POST",
        f"/teams/{LOTUS}/members/{{cast.user_ids[wang]}}/levels",
        table(NOT_THE_TEAM, lotus=FORBIDDEN, owner=conflict("not_eligible")),
        body=lambda w, c: {"level_id": w.senior},
    ),
]


@pytest.mark.parametrize("rows", by_endpoint(WRITES))
def test_writes(app, api, world, rows):
    """Every write endpoint, by every caller, each call on a fresh world."""
    [prepare] = {row.prepare for row in rows}
    matrix = Matrix(app, api, world, prepare=prepare)
    wrong = matrix.run_rows(rows)
    assert not wrong, "\n".join(wrong)
