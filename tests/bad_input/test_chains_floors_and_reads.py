"""Subcontracting: the teams' cost floors, and reading chains, margins and subcontracts."""

import json

import pytest

from tests.bad_input.cases import (
    FLOAT_PRICES,
    FORM,
    HUGE_ID,
    PRICES,
    SIGNED_OVERFLOW,
    TEXT,
    Case,
    case,
    run_chain,
)

pytestmark = pytest.mark.slow


# PUT /cost-floors and DELETE /cost-floors/{id}: what a team needs per item.
FLOOR = "owner PUT /cost-floors"
GOOD_FLOOR = {"task_type": "bbox_2d", "currency": "CNY", "unit_price": "0.05"}


def floor_case(case_id, field, **changes) -> Case:
    """Lotus's valid floor, with fields changed (to `...`: left out)."""
    body = {key: value for key, value in (GOOD_FLOOR | changes).items() if value is not ...}
    return case(case_id, FLOOR, 422, "validation_failed", body, field=field)


def raw_floor_case(case_id, field, **literals) -> Case:
    body = {key: json.dumps(value) for key, value in GOOD_FLOOR.items()} | literals
    text = "{" + ", ".join(f'"{key}": {value}' for key, value in body.items()) + "}"
    return case(case_id, FLOOR, 422, "validation_failed", text=text, field=field)


COST_FLOOR_CASES = [
    *(floor_case(f"{field} missing", field, **{field: ...}) for field in GOOD_FLOOR),
    *(
        floor_case(f"task type {t!r}", "task_type", task_type=t)
        for t in ("", "   ", "x" * 65, "bbox\x00", 5, None, ["bbox_2d"])
    ),
    *(
        floor_case(f"currency {c!r}", "currency", currency=c)
        for c in ("XXY", "cny", " CNY", "", "XXX", "XTS", "DEM", "CNH", 156, None, ["CNY"])
    ),
    *(floor_case(f"price {p!r}", "unit_price", unit_price=p) for p in PRICES),
    *(raw_floor_case(f"price float {p}", "unit_price", unit_price=p) for p in FLOAT_PRICES),
    case(
        "price NaN literal",
        FLOOR,
        400,
        "malformed_json",
        text='{"task_type": "bbox_2d", "currency": "CNY", "unit_price": NaN}',
    ),
    *(floor_case(f"team {t!r}", "team_id", team_id=t) for t in ("lotus", "3", True)),
    raw_floor_case("team 3.0", "team_id", team_id="3.0"),
    case(
        "floor for tiger",
        FLOOR,
        404,
        "team_not_found",
        lambda ids: GOOD_FLOOR | {"team_id": ids["tiger"]},
    ),
    case("floor for team 10**20", FLOOR, 404, "team_not_found", GOOD_FLOOR | {"team_id": HUGE_ID}),
    floor_case("floor unknown field", "order_id", order_id=1),
    case("floor a list", FLOOR, 422, "validation_failed", text="[]"),
    case("floor null", FLOOR, 422, "validation_failed", text="null"),
    case("floor empty body", FLOOR, 422, "validation_failed", text=""),
    case("floor truncated", FLOOR, 400, "malformed_json", text='{"task_type": '),
    case(
        "floor form-encoded",
        FLOOR,
        415,
        "unsupported_media_type",
        text="task_type=bbox_2d",
        content_type=FORM,
    ),
    case(
        "floor as text",
        FLOOR,
        415,
        "unsupported_media_type",
        text=json.dumps(GOOD_FLOOR),
        content_type=TEXT,
    ),
    # Who: team owners, for their own teams.
    case("client sets a floor", "client PUT /cost-floors", 403, "forbidden", GOOD_FLOOR),
    case("annotator sets a floor", "li PUT /cost-floors", 403, "forbidden", GOOD_FLOOR),
    case("reviewer sets a floor", "reviewer PUT /cost-floors", 403, "forbidden", GOOD_FLOOR),
    case("admin sets a floor", "admin PUT /cost-floors", 403, "forbidden", GOOD_FLOOR),
    case("anonymous sets a floor", "anonymous PUT /cost-floors", 401, "missing_token", GOOD_FLOOR),
    case("stranger sets a floor", "stranger PUT /cost-floors", 401, "invalid_token", GOOD_FLOOR),
    case("POST a floor", "owner POST /cost-floors", 405, "method_not_allowed", GOOD_FLOOR),
    # Removing: one's own team's floor only.
    case(
        "remove tiger's floor",
        "owner DELETE /cost-floors/{tiger_floor}",
        404,
        "cost_floor_not_found",
    ),
    case(
        "client removes tiger's floor",
        "client DELETE /cost-floors/{tiger_floor}",
        404,
        "cost_floor_not_found",
    ),
    case(
        "annotator removes tiger's floor",
        "rival_annotator DELETE /cost-floors/{tiger_floor}",
        404,
        "cost_floor_not_found",
    ),
    *(
        case(
            f"remove floor {n}",
            f"rival_owner DELETE /cost-floors/{n}",
            404,
            "cost_floor_not_found",
        )
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("remove floor abc", "rival_owner DELETE /cost-floors/abc", 404, "not_found"),
    case("remove floor -1", "rival_owner DELETE /cost-floors/-1", 404, "not_found"),
    case(
        "anonymous removes a floor",
        "anonymous DELETE /cost-floors/{tiger_floor}",
        401,
        "missing_token",
    ),
]


def test_cost_floors(subtests, app, api, cast, chain_world):
    run_chain(subtests, app, api, cast, chain_world, COST_FLOOR_CASES)


# Reading the chains: bad queries, and ids no 64-bit column holds, are clear errors.
MARGINS = "GET /orders/{bids}/margins"

CHAIN_READ_CASES = [
    *(
        case(
            f"margins format {f!r}",
            f"owner {MARGINS}?format={f}",
            422,
            "validation_failed",
            field="format",
            location="query",
        )
        for f in ("xml", "CSV", "", "json,csv")
    ),
    case(
        "margins team abc",
        f"owner {MARGINS}?team_id=abc",
        422,
        "validation_failed",
        field="team_id",
        location="query",
    ),
    case("margins of tiger", f"owner {MARGINS}?team_id={{tiger}}", 404, "team_not_found"),
    case("margins of team 10**20", f"owner {MARGINS}?team_id={HUGE_ID}", 404, "team_not_found"),
    case("margins for no team", f"admin {MARGINS}", 422, "team_required"),
    case(
        "admin margins of team 10**20",
        f"admin {MARGINS}?team_id={HUGE_ID}",
        404,
        "order_not_found",
    ),
    case("anonymous margins as xml", f"anonymous {MARGINS}?format=xml", 401, "missing_token"),
    case("margins of the client", f"client {MARGINS}", 403, "forbidden"),
    case("margins without a contract", f"rival_owner {MARGINS}", 404, "order_not_found"),
    *(
        case(f"margins of order {n}", f"owner GET /orders/{n}/margins", 404, "order_not_found")
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    *(
        case(
            f"offers status {s!r}",
            f"owner GET /offers?status={s}",
            422,
            "validation_failed",
            field="status",
            location="query",
        )
        for s in ("bogus", "OPEN", "", "open,taken")
    ),
    case(
        "offers team abc",
        "owner GET /offers?team_id=abc",
        422,
        "validation_failed",
        field="team_id",
        location="query",
    ),
    case("offers of tiger", "owner GET /offers?team_id={tiger}", 404, "team_not_found"),
    case("offers of team 10**20", f"owner GET /offers?team_id={HUGE_ID}", 404, "team_not_found"),
    case(
        "anonymous offers, status bogus", "anonymous GET /offers?status=bogus", 401, "missing_token"
    ),
    case("offers for the client", "client GET /offers", 403, "forbidden"),
    case(
        "offer for team 10**20",
        f"owner GET /offers/{{open_offer}}?team_id={HUGE_ID}",
        404,
        "team_not_found",
    ),
    case(
        "offer team abc",
        "owner GET /offers/{open_offer}?team_id=abc",
        422,
        "validation_failed",
        field="team_id",
        location="query",
    ),
    *(
        case(f"{what} {n}", f"{who} GET {path.format(n=n)}", 404, code)
        for n in (HUGE_ID, SIGNED_OVERFLOW)
        for what, who, path, code in (
            ("contract", "owner", "/contracts/{n}", "contract_not_found"),
            ("chain of contract", "owner", "/contracts/{n}/chain", "contract_not_found"),
            ("subcontracts of", "owner", "/contracts/{n}/subcontracts", "contract_not_found"),
            ("offer", "owner", "/offers/{n}", "offer_not_found"),
            ("bids on offer", "owner", "/offers/{n}/bids", "offer_not_found"),
            ("bid", "owner", "/bids/{n}", "bid_not_found"),
            ("bids on order", "client", "/orders/{n}/bids", "order_not_found"),
        )
    ),
    case(
        "chain of another's contract",
        "rival_owner GET /contracts/{lotus_contract}/chain",
        404,
        "contract_not_found",
    ),
    case(
        "subcontracts of the client's contract",
        "client GET /contracts/{lotus_contract}/subcontracts",
        403,
        "forbidden",
    ),
]


def test_reading_chains(subtests, app, api, cast, chain_world):
    run_chain(subtests, app, api, cast, chain_world, CHAIN_READ_CASES)
