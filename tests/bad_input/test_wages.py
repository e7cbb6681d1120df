"""Reference wages, and publishing under the wage floor."""

import pytest

from tests.bad_input.cases import HUGE_ID, TEXT, TOO_BIG, case, query_case, run
from tests.wages import SHANGHAI

pytestmark = pytest.mark.slow

SET_WAGE = "admin POST /reference-wages"


def wage(**changes) -> dict:
    return {key: value for key, value in (SHANGHAI | changes).items() if value is not ...}


WAGE_CASES = [
    case("no source", SET_WAGE, 422, "validation_failed", wage(source=...), field="source"),
    case("blank source", SET_WAGE, 422, "validation_failed", wage(source=" \t"), field="source"),
    case("long source", SET_WAGE, 422, "validation_failed", wage(source="x" * 501), field="source"),
    case("no region", SET_WAGE, 422, "validation_failed", wage(region=...), field="region"),
    case(
        "no date", SET_WAGE, 422, "validation_failed", wage(effective_on=...), field="effective_on"
    ),
    case(
        "bad date",
        SET_WAGE,
        422,
        "validation_failed",
        wage(effective_on="2025-13-01"),
        field="effective_on",
    ),
    case("no currency", SET_WAGE, 422, "validation_failed", wage(currency="XTS"), field="currency"),
    case("no wage", SET_WAGE, 422, "validation_failed", wage(hourly_wage=...), field="hourly_wage"),
    case(
        "wage as words",
        SET_WAGE,
        422,
        "validation_failed",
        wage(hourly_wage="24 yuan"),
        field="hourly_wage",
    ),
    case(
        "wage true", SET_WAGE, 422, "validation_failed", wage(hourly_wage=True), field="hourly_wage"
    ),
    *(
        case(f"wage {amount!r}", SET_WAGE, 422, "invalid_amount", wage(hourly_wage=amount))
        for amount in ("-24.00", "0", "0.00", "-0.0", "24.001", TOO_BIG, "1e16")
    ),
    case("wage as text", SET_WAGE, 415, "unsupported_media_type", text="24.00", content_type=TEXT),
    case("wage truncated", SET_WAGE, 400, "malformed_json", text='{"currency": '),
    case("client sets a wage", "client POST /reference-wages", 403, "forbidden", SHANGHAI),
    case("owner sets a wage", "owner POST /reference-wages", 403, "forbidden", SHANGHAI),
    case(
        "anonymous sets a wage", "anonymous POST /reference-wages", 401, "missing_token", SHANGHAI
    ),
]

MINE = "li GET /me/earnings/hourly"
TEAMS = "owner GET /teams/{lotus}/hourly-pay"
BACKWARDS = "from=2026-03-05&to=2026-03-01"

# What an hour pays: a period that runs forward, a team of the caller's, an order of the
# client's.
HOURLY_CASES = [
    case("her period backwards", f"{MINE}?{BACKWARDS}", 422, "invalid_period"),
    case("her period too long", f"{MINE}?from=2025-01-01&to=2026-03-01", 422, "invalid_period"),
    query_case("her period in words", MINE, "from=yesterday", field="from"),
    query_case("her team in words", MINE, "team_id=lotus", field="team_id"),
    case("another team's", MINE + "?team_id={tiger}", 404, "team_not_found"),
    case("an owner's own hours", "owner GET /me/earnings/hourly", 403, "forbidden"),
    case("the team's period backwards", f"{TEAMS}?{BACKWARDS}", 422, "invalid_period"),
    query_case("the team's period in words", TEAMS, "to=tomorrow", field="to"),
    case("a member reads the team's", "li GET /teams/{lotus}/hourly-pay", 403, "forbidden"),
    case("another team's hours", "owner GET /teams/{tiger}/hourly-pay", 404, "team_not_found"),
    case("a huge team", f"owner GET /teams/{HUGE_ID}/hourly-pay", 404, "team_not_found"),
    case("a team reads the order's", "owner GET /orders/{order}/hourly-pay", 403, "forbidden"),
    case("a rival's order", "rival_client GET /orders/{order}/hourly-pay", 404, "order_not_found"),
    case("a huge order", f"client GET /orders/{HUGE_ID}/hourly-pay", 404, "order_not_found"),
    case("anonymous hours", "anonymous GET /orders/{order}/hourly-pay", 401, "missing_token"),
]

# The floor at `refuse`: the story's draft has no estimate of the seconds an item takes.
FLOOR_CASES = [
    case(
        "publish without an estimate",
        "client POST /orders/{draft}/publish",
        422,
        "estimate_required",
        details={"field": "estimated_seconds_per_item"},
    ),
]


def test_a_wage_needs_a_source_and_a_positive_amount(subtests, app, api, cast, story):
    run(subtests, app, api, cast, story, WAGE_CASES)


def test_hourly_pay_is_read_over_a_forward_period_by_those_it_belongs_to(
    subtests, app, api, cast, story
):
    run(subtests, app, api, cast, story, HOURLY_CASES)


def test_with_the_floor_on_an_order_without_an_estimate_is_not_published(
    subtests, app, api, cast, story, monkeypatch
):
    monkeypatch.setitem(app.config, "WAGE_FLOOR", "refuse")
    run(subtests, app, api, cast, story, FLOOR_CASES)
