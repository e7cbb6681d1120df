"""A team's day, ladder, rate cards and members' levels."""

import pytest

from tests.bad_input.cases import (
    HUGE_ID,
    SIGNED_OVERFLOW,
    TEXT,
    TOO_BIG,
    Case,
    case,
    run_work,
)

pytestmark = pytest.mark.slow


# A team's day, ladder, rate cards and members' levels: the owner's, within the contracts.
TEAM = "PATCH /teams/{lotus}"
ZONE = f"owner {TEAM}"
LEVELS = "POST /teams/{lotus}/levels"
ADD_LEVEL = f"owner {LEVELS}"
PATCH_SENIOR = "owner PATCH /levels/{senior}"
RATES = "PUT /levels/{junior}/rates"
SET_LEVEL_RATE = f"owner {RATES}"
MOVE_LI = "POST /teams/{lotus}/members/{li_id}/levels"
MOVE = f"owner {MOVE_LI}"
SHANGHAI = {"timezone": "Asia/Shanghai"}
LEVEL = {"name": "Lead", "rank": 3}
BOX_RATE = {"task_type": "bbox_2d", "currency": "CNY", "unit_price": "0.05"}


def level_case(case_id, field, route=ADD_LEVEL, **changes) -> Case:
    """A new level (or, on a PATCH route, the change) with fields changed, refused for
    `field`; to `...`: left out."""
    base = LEVEL if "POST" in route else {}
    body = {key: value for key, value in (base | changes).items() if value is not ...}
    return case(case_id, route, 422, "validation_failed", body, field=field)


def promotion(**changes) -> dict:
    return {"min_accuracy": "0.95", "over_items": 500} | changes


def to_level(level: str):
    return lambda ids: {"level_id": ids[level]}


LEVEL_CASES = [
    # The team's time zone: an IANA name.
    *(
        case(f"time zone {zone!r}", ZONE, 422, "invalid_timezone", {"timezone": zone})
        for zone in (
            "Mars/Base",
            "Asia/Shanghai ",
            "asia/shanghai",
            "UTC+8",
            "+08:00",
            "../zoneinfo/UTC",
            "/etc/localtime",
            "localtime",  # whatever the server's clock is set to: no zone of the team's
        )
    ),
    *(
        case(
            f"time zone {zone!r}",
            ZONE,
            422,
            "validation_failed",
            {"timezone": zone},
            field="timezone",
        )
        for zone in ("", "x" * 65, 8, None, ["Asia/Shanghai"], "UTC\x00")
    ),
    case("time zone missing", ZONE, 422, "validation_failed", {}, field="timezone"),
    case("team renamed", ZONE, 422, "validation_failed", SHANGHAI | {"name": "Lily"}, field="name"),
    case("time zone as text", ZONE, 415, "unsupported_media_type", text="UTC", content_type=TEXT),
    case("time zone truncated", ZONE, 400, "malformed_json", text='{"timezone": '),
    case("tiger's time zone", "owner PATCH /teams/{tiger}", 404, "team_not_found", SHANGHAI),
    case("client's time zone", "client PATCH /teams/{lotus}", 404, "team_not_found", SHANGHAI),
    case("annotator sets the zone", f"li {TEAM}", 403, "forbidden", SHANGHAI),
    case("reviewer sets the zone", f"reviewer {TEAM}", 403, "forbidden", SHANGHAI),
    case("anonymous sets the zone", f"anonymous {TEAM}", 401, "missing_token", SHANGHAI),
    *(
        case(f"zone of team {n}", f"owner PATCH /teams/{n}", 404, "team_not_found", SHANGHAI)
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("zone of team abc", "owner PATCH /teams/abc", 404, "not_found", SHANGHAI),
    case("PUT a team", "owner PUT /teams/{lotus}", 405, "method_not_allowed", SHANGHAI),
    # A new level: a name and a rank of its own, a quota of at least 1.
    *(level_case(f"level without {field}", field, **{field: ...}) for field in LEVEL),
    *(
        level_case(f"level name {name!r}", "name", name=name)
        for name in ("", "   ", "x" * 65, 5, None, "Le\x00ad")
    ),
    *(level_case(f"rank {rank!r}", "rank", rank=rank) for rank in (-1, 1001, "3", True, None)),
    *(
        level_case(f"quota {quota!r}", "daily_quota", daily_quota=quota)
        for quota in (0, -1, 1_000_001, "40", True, [40])
    ),
    case(
        "rank 2.5",
        ADD_LEVEL,
        422,
        "validation_failed",
        text='{"name": "Lead", "rank": 2.5}',
        field="rank",
    ),
    case(
        "quota 40.0",
        ADD_LEVEL,
        422,
        "validation_failed",
        text='{"name": "Lead", "rank": 3, "daily_quota": 40.0}',
        field="daily_quota",
    ),
    *(level_case(f"reviews {value!r}", "reviews", reviews=value) for value in ("maybe", 2, [True])),
    *(
        level_case(f"promotion {name}", "promotion", promotion=rule)
        for name, rule in (
            ("accuracy 1.5", promotion(min_accuracy="1.5")),
            ("accuracy -0.1", promotion(min_accuracy="-0.1")),
            ("accuracy 0.95001", promotion(min_accuracy="0.95001")),
            ("accuracy 95%", promotion(min_accuracy="95%")),
            ("accuracy NaN", promotion(min_accuracy="NaN")),
            ("over 0 items", promotion(over_items=0)),
            ("over 100,001 items", promotion(over_items=100_001)),
            ("over '500' items", promotion(over_items="500")),
            ("without accuracy", {"over_items": 500}),
            ("without items", {"min_accuracy": "0.95"}),
            ("with an unknown field", promotion(after_days=30)),
            ("a list", [promotion()]),
            ("a number", 0.95),
        )
    ),
    level_case("level for a team", "team_id", team_id=1),
    case("level name taken", ADD_LEVEL, 409, "level_exists", {"name": "Junior", "rank": 3}),
    case("level rank taken", ADD_LEVEL, 409, "level_exists", {"name": "Lead", "rank": 2}),
    case("level of tiger", "owner POST /teams/{tiger}/levels", 404, "team_not_found", LEVEL),
    case("tiger adds to lotus", f"rival_owner {LEVELS}", 404, "team_not_found", LEVEL),
    case("client adds a level", f"client {LEVELS}", 404, "team_not_found", LEVEL),
    case("annotator adds a level", f"li {LEVELS}", 403, "forbidden", LEVEL),
    case("reviewer adds a level", f"reviewer {LEVELS}", 403, "forbidden", LEVEL),
    case("anonymous adds a level", f"anonymous {LEVELS}", 401, "missing_token", LEVEL),
    *(
        case(f"level of team {n}", f"owner POST /teams/{n}/levels", 404, "team_not_found", LEVEL)
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("level as text", ADD_LEVEL, 415, "unsupported_media_type", text="Lead", content_type=TEXT),
    case("level a list", ADD_LEVEL, 422, "validation_failed", text="[]"),
    # Changing a level: the same checks, on one's own team's levels.
    level_case("rename blank", "name", PATCH_SENIOR, name=" "),
    level_case("rename null", "name", PATCH_SENIOR, name=None),
    level_case("rerank -1", "rank", PATCH_SENIOR, rank=-1),
    level_case("quota 0", "daily_quota", PATCH_SENIOR, daily_quota=0),
    level_case(
        "promotion accuracy 1.5", "promotion", PATCH_SENIOR, promotion=promotion(min_accuracy="1.5")
    ),
    level_case("move the level to tiger", "team_id", PATCH_SENIOR, team_id=1),
    case("rename to Junior", PATCH_SENIOR, 409, "level_exists", {"name": "Junior"}),
    case("rerank to Junior's", PATCH_SENIOR, 409, "level_exists", {"rank": 1}),
    case(
        "change tiger's level", "owner PATCH /levels/{tiger_level}", 404, "level_not_found", LEVEL
    ),
    case("annotator changes a level", "li PATCH /levels/{senior}", 403, "forbidden", LEVEL),
    case("client changes a level", "client PATCH /levels/{senior}", 404, "level_not_found", LEVEL),
    *(
        case(f"change level {n}", f"owner PATCH /levels/{n}", 404, "level_not_found", LEVEL)
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("change level abc", "owner PATCH /levels/abc", 404, "not_found", LEVEL),
    # Rate cards: a known task type, a currency, a price no contract of the team undercuts.
    *(
        case(
            f"rate task type {key!r}",
            SET_LEVEL_RATE,
            422,
            "unknown_task_type",
            BOX_RATE | {"task_type": key},
            details={"field": "task_type"},
        )
        for key in ("polygon_3d", "BBOX_2D")
    ),
    *(
        case(
            f"rate {field} missing",
            SET_LEVEL_RATE,
            422,
            "validation_failed",
            {k: v for k, v in BOX_RATE.items() if k != field},
            field=field,
        )
        for field in BOX_RATE
    ),
    *(
        case(
            f"rate task type {key!r}",
            SET_LEVEL_RATE,
            422,
            "validation_failed",
            BOX_RATE | {"task_type": key},
            field="task_type",
        )
        for key in ("", "x" * 65, 5, None)
    ),
    *(
        case(
            f"rate currency {c!r}",
            SET_LEVEL_RATE,
            422,
            "validation_failed",
            BOX_RATE | {"currency": c},
            field="currency",
        )
        for c in ("XXY", "cny", "", "XXX", 156, None)
    ),
    *(
        case(
            f"level rate {p!r}",
            SET_LEVEL_RATE,
            422,
            "validation_failed",
            BOX_RATE | {"unit_price": p},
            field="unit_price",
        )
        for p in ("0", "-0.05", "0.0000001", "NaN", "five fen", TOO_BIG, True, None)
    ),
    case(
        "level rate float 1e-7",
        SET_LEVEL_RATE,
        422,
        "validation_failed",
        text='{"task_type": "bbox_2d", "currency": "CNY", "unit_price": 1e-7}',
        field="unit_price",
    ),
    case(
        "level rate for an order",
        SET_LEVEL_RATE,
        422,
        "validation_failed",
        BOX_RATE | {"order_id": 1},
        field="order_id",
    ),
    *(
        case(
            f"level rate {price}, the contract pays 0.10",
            SET_LEVEL_RATE,
            409,
            "rate_above_contract_price",
            BOX_RATE | {"unit_price": price},
            details={"contract_price": "0.1"},
        )
        for price in ("0.100001", "0.11", "1000000")
    ),
    case(
        "rate of tiger's level",
        "owner PUT /levels/{tiger_level}/rates",
        404,
        "level_not_found",
        BOX_RATE,
    ),
    case("annotator sets a level rate", f"li {RATES}", 403, "forbidden", BOX_RATE),
    case("reviewer sets a level rate", f"reviewer {RATES}", 403, "forbidden", BOX_RATE),
    case("client sets a level rate", f"client {RATES}", 404, "level_not_found", BOX_RATE),
    case("anonymous sets a level rate", f"anonymous {RATES}", 401, "missing_token", BOX_RATE),
    *(
        case(f"rate of level {n}", f"owner PUT /levels/{n}/rates", 404, "level_not_found", BOX_RATE)
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case(
        "POST a level rate",
        "owner POST /levels/{junior}/rates",
        405,
        "method_not_allowed",
        BOX_RATE,
    ),
    case(
        "level rate as text",
        SET_LEVEL_RATE,
        415,
        "unsupported_media_type",
        text="0.05",
        content_type=TEXT,
    ),
    # Moving a member: an annotator of the team, to another level of it; up only if eligible.
    case(
        "promote Li before she is eligible",
        MOVE,
        409,
        "not_eligible",
        to_level("senior"),
        details={"accepted": 1, "reviewed": 1, "needed_items": 5},
    ),
    case("move Li to her own level", MOVE, 409, "same_level", to_level("junior")),
    case("move Li to tiger's level", MOVE, 404, "level_not_found", to_level("tiger_level")),
    *(
        case(f"move Li to level {n}", MOVE, 404, "level_not_found", {"level_id": n})
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW, 0, -1)
    ),
    *(
        case(
            f"move Li to level {n!r}",
            MOVE,
            422,
            "validation_failed",
            {"level_id": n},
            field="level_id",
        )
        for n in ("1", "Junior", True, None, [1])
    ),
    case(
        "move Li to level 1.0",
        MOVE,
        422,
        "validation_failed",
        text='{"level_id": 1.0}',
        field="level_id",
    ),
    case(
        "move Li without a level", MOVE, 422, "validation_failed", {"note": "x"}, field="level_id"
    ),
    case(
        "move Li with a note of 501",
        MOVE,
        422,
        "validation_failed",
        lambda ids: {"level_id": ids["junior"], "note": "x" * 501},
        field="note",
    ),
    *(
        case(
            f"move {who}",
            f"owner POST /teams/{{lotus}}/members/{{{who}}}/levels",
            404,
            "member_not_found",
            to_level("junior"),
        )
        for who in ("owner_id", "reviewer_id", "tiger_annotator_id")
    ),
    *(
        case(
            f"move member {n}",
            f"owner POST /teams/{{lotus}}/members/{n}/levels",
            404,
            "member_not_found",
            to_level("junior"),
        )
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case(
        "move member abc",
        "owner POST /teams/{lotus}/members/abc/levels",
        404,
        "not_found",
        {"level_id": 1},
    ),
    case(
        "move Li in tiger",
        "owner POST /teams/{tiger}/members/{li_id}/levels",
        404,
        "team_not_found",
        to_level("junior"),
    ),
    case("tiger moves Li", f"rival_owner {MOVE_LI}", 404, "team_not_found", to_level("senior")),
    case("Li moves herself", f"li {MOVE_LI}", 403, "forbidden", to_level("senior")),
    case("reviewer moves Li", f"reviewer {MOVE_LI}", 403, "forbidden", to_level("senior")),
    case("client moves Li", f"client {MOVE_LI}", 404, "team_not_found", to_level("senior")),
    case("anonymous moves Li", f"anonymous {MOVE_LI}", 401, "missing_token", to_level("senior")),
    case("move as text", MOVE, 415, "unsupported_media_type", text="senior", content_type=TEXT),
    # Reading the ladder, the members and their histories.
    *(
        case(f"{what} of team {n}", f"owner GET /teams/{n}/{path}", 404, "team_not_found")
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
        for what, path in (
            ("levels", "levels"),
            ("members", "members"),
            ("history", "members/{li_id}/levels"),
        )
    ),
    case("levels of tiger", "owner GET /teams/{tiger}/levels", 404, "team_not_found"),
    case("members of tiger", "owner GET /teams/{tiger}/members", 404, "team_not_found"),
    case("members by an annotator", "li GET /teams/{lotus}/members", 403, "forbidden"),
    case("members by the client", "client GET /teams/{lotus}/members", 404, "team_not_found"),
    case(
        "Wang's history by Li", "li GET /teams/{lotus}/members/{wang_id}/levels", 403, "forbidden"
    ),
    case(
        "Li's history by tiger",
        "rival_owner GET /teams/{lotus}/members/{li_id}/levels",
        404,
        "team_not_found",
    ),
]


def test_a_teams_ladder_takes_only_what_holds(subtests, app, api, cast, work_world):
    run_work(subtests, app, api, cast, work_world, LEVEL_CASES)
