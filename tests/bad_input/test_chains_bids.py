"""Subcontracting: bids on a bids order or an offer, and the awards and withdrawals of bids."""

import json

import pytest

from tests.bad_input.cases import (
    FLOAT_PRICES,
    FLOAT_QUANTITIES,
    FORM,
    HUGE_ID,
    PRICES,
    QUANTITIES,
    SIGNED_OVERFLOW,
    TEXT,
    TOO_BIG,
    Case,
    case,
    run_chain,
)

pytestmark = pytest.mark.slow


# -- subcontracting: bids and awards ------------------------------------------------------

# POST /orders/{id}/bids and POST /offers/{id}/bids: a team's price and quantity.
BID_ON_BIDS = "POST /orders/{bids}/bids"
BID = f"rival_owner {BID_ON_BIDS}"
BID_ON_OPEN = "POST /offers/{open_offer}/bids"
GOOD_BID = {"unit_price": "0.09", "quantity": 5}


def bid_case(case_id, field, route=BID, **changes) -> Case:
    """Tiger's valid bid for 5 boxes at 0.09, with fields changed (to `...`: left out)."""
    body = {key: value for key, value in (GOOD_BID | changes).items() if value is not ...}
    return case(case_id, route, 422, "validation_failed", body, field=field)


def raw_bid_case(case_id, field, route=BID, **literals) -> Case:
    """Tiger's valid bid with fields written as raw JSON literals."""
    body = {key: json.dumps(value) for key, value in GOOD_BID.items()} | literals
    text = "{" + ", ".join(f'"{key}": {value}' for key, value in body.items()) + "}"
    return case(case_id, route, 422, "validation_failed", text=text, field=field)


BID_CASES = [
    bid_case("price missing", "unit_price", unit_price=...),
    *(bid_case(f"price {p!r}", "unit_price", unit_price=p) for p in PRICES),
    *(raw_bid_case(f"price float {p}", "unit_price", unit_price=p) for p in FLOAT_PRICES),
    case(
        "price NaN literal",
        BID,
        400,
        "malformed_json",
        text='{"unit_price": NaN, "quantity": 5}',
    ),
    bid_case("quantity missing", "quantity", quantity=...),
    *(bid_case(f"quantity {q!r}", "quantity", quantity=q) for q in QUANTITIES),
    *(raw_bid_case(f"quantity {q}", "quantity", quantity=q) for q in FLOAT_QUANTITIES),
    *(
        bid_case(f"note {name}", "note", note=note)
        for name, note in (
            ("of 1001", "x" * 1001),
            ("a number", 5),
            ("a list", ["cheap"]),
            ("with NUL", "ch\x00eap"),
            ("null", None),
        )
    ),
    raw_bid_case("note a lone surrogate", "note", note='"\\ud800"'),
    *(bid_case(f"team {t!r}", "team_id", team_id=t) for t in ("tiger", "7", True, [7])),
    raw_bid_case("team 7.0", "team_id", team_id="7.0"),
    case(
        "bid for lotus",
        BID,
        404,
        "team_not_found",
        lambda ids: GOOD_BID | {"team_id": ids["lotus"]},
    ),
    case("bid for team 10**20", BID, 404, "team_not_found", GOOD_BID | {"team_id": HUGE_ID}),
    bid_case("bid unknown field", "currency", currency="CNY"),
    bid_case("bid names its contract", "contract_id", contract_id=1),
    # Bodies.
    case("bid a list", BID, 422, "validation_failed", text="[]"),
    case("bid null", BID, 422, "validation_failed", text="null"),
    case("bid empty body", BID, 422, "validation_failed", text=""),
    case("bid truncated", BID, 400, "malformed_json", text='{"unit_price": "0.09", '),
    case("bid not UTF-8", BID, 400, "malformed_json", text=b'{"note": "\xff"}'),
    case(
        "bid form-encoded",
        BID,
        415,
        "unsupported_media_type",
        text="unit_price=0.09&quantity=5",
        content_type=FORM,
    ),
    case("bid as text", BID, 415, "unsupported_media_type", text="0.09 x 5", content_type=TEXT),
    # Valid bids the order refuses: more than it has, or an order that takes claims.
    *(
        case(
            f"bid for {q} of 20",
            BID,
            422,
            "quantity_too_large",
            GOOD_BID | {"quantity": q},
            details={"most": 20},
        )
        for q in (21, 10_000_000)
    ),
    case(
        "bid on a claims order",
        "rival_owner POST /orders/{order}/bids",
        409,
        "not_open_for_bids",
        GOOD_BID,
    ),
    case("bid on the draft", "owner POST /orders/{draft}/bids", 404, "order_not_found", GOOD_BID),
    case("bid on order abc", "owner POST /orders/abc/bids", 404, "not_found", GOOD_BID),
    *(
        case(f"bid on order {n}", f"owner POST /orders/{n}/bids", 404, "order_not_found", GOOD_BID)
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    # Who: team owners only.
    case("client bids", f"client {BID_ON_BIDS}", 403, "forbidden", GOOD_BID),
    case("rival client bids", f"rival_client {BID_ON_BIDS}", 404, "order_not_found", GOOD_BID),
    case("annotator bids", f"li {BID_ON_BIDS}", 403, "forbidden", GOOD_BID),
    case("reviewer bids", f"reviewer {BID_ON_BIDS}", 403, "forbidden", GOOD_BID),
    case("admin bids", f"admin {BID_ON_BIDS}", 403, "forbidden", GOOD_BID),
    case("anonymous bids", f"anonymous {BID_ON_BIDS}", 401, "missing_token", GOOD_BID),
    case(
        "anonymous bad bid",
        f"anonymous {BID_ON_BIDS}",
        401,
        "missing_token",
        {"unit_price": "NaN", "quantity": 0},
    ),
    case("stranger bids", f"stranger {BID_ON_BIDS}", 401, "invalid_token", GOOD_BID),
    case("PUT a bid", "owner PUT /orders/{bids}/bids", 405, "method_not_allowed", GOOD_BID),
    # Bids on offers: open to all, up to what is left, all of an offer's batches.
    bid_case("offer bid price 0", "unit_price", f"rival_owner {BID_ON_OPEN}", unit_price="0"),
    bid_case(
        "offer bid price 1e999999", "unit_price", f"rival_owner {BID_ON_OPEN}", unit_price=TOO_BIG
    ),
    raw_bid_case(
        "offer bid price float 1e-7", "unit_price", f"rival_owner {BID_ON_OPEN}", unit_price="1e-7"
    ),
    bid_case("offer bid quantity 0", "quantity", f"rival_owner {BID_ON_OPEN}", quantity=0),
    raw_bid_case(
        "offer bid quantity 1.0", "quantity", f"rival_owner {BID_ON_OPEN}", quantity="1.0"
    ),
    bid_case("offer bid unknown field", "offer_id", f"rival_owner {BID_ON_OPEN}", offer_id=1),
    case(
        "offer bid as text",
        f"rival_owner {BID_ON_OPEN}",
        415,
        "unsupported_media_type",
        text="0.05",
        content_type=TEXT,
    ),
    case(
        "bid for 2 of the offer's 1",
        f"rival_owner {BID_ON_OPEN}",
        422,
        "quantity_too_large",
        {"unit_price": "0.05", "quantity": 2},
        details={"most": 1},
    ),
    *(
        case(
            f"bid for {q} of a batch offer's 5",
            "rival_owner POST /offers/{batch_offer}/bids",
            422,
            "quantity_mismatch",
            {"unit_price": "0.05", "quantity": q},
            details={"offer_quantity": 5},
        )
        for q in (1, 4, 6)
    ),
    case(
        "bid on one's own offer",
        f"owner {BID_ON_OPEN}",
        409,
        "offer_not_open",
        {"unit_price": "0.05", "quantity": 1},
    ),
    case(
        "bid on an offer made to one team",
        "apex POST /offers/{taken_offer}/bids",
        409,
        "offer_not_open",
        {"unit_price": "0.05", "quantity": 1},
    ),
    case(
        "bid on a withdrawn offer",
        "rival_owner POST /offers/{withdrawn_offer}/bids",
        409,
        "offer_not_open",
        {"unit_price": "0.05", "quantity": 1},
    ),
    case(
        "bid on another team's offer",
        "rival_owner POST /offers/{taken_offer}/bids",
        404,
        "offer_not_found",
        {"unit_price": "0.05", "quantity": 1},
    ),
    case("client bids on an offer", f"client {BID_ON_OPEN}", 404, "offer_not_found", GOOD_BID),
    case("annotator bids on an offer", f"li {BID_ON_OPEN}", 404, "offer_not_found", GOOD_BID),
    case("bid on offer abc", "rival_owner POST /offers/abc/bids", 404, "not_found", GOOD_BID),
    *(
        case(
            f"bid on offer {n}",
            f"rival_owner POST /offers/{n}/bids",
            404,
            "offer_not_found",
            GOOD_BID,
        )
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("anonymous bids on an offer", f"anonymous {BID_ON_OPEN}", 401, "missing_token", GOOD_BID),
]


def test_bids(subtests, app, api, cast, chain_world):
    run_chain(subtests, app, api, cast, chain_world, BID_CASES)


# POST /bids/{id}/award and DELETE /bids/{id}: the client's (or the offer maker's) awards.
AWARD_TIGER = "POST /bids/{tiger_bid}/award"
AWARD = f"client {AWARD_TIGER}"

AWARD_CASES = [
    # What is left of the order: 5 of its 20 boxes, Tiger bid for all 20.
    case(
        "award all of a bid for more than is left",
        AWARD,
        409,
        "quantity_exceeded",
        {},
        details={"order_quantity": 20, "awarded": 15, "available": 5},
    ),
    case(
        "award a null quantity",
        AWARD,
        409,
        "quantity_exceeded",
        {"quantity": None},
        details={"available": 5},
    ),
    case("award 6 of 5 left", AWARD, 409, "quantity_exceeded", {"quantity": 6}),
    case(
        "award more than the bid",
        AWARD,
        422,
        "quantity_too_large",
        {"quantity": 21},
        details={"most": 20},
    ),
    *(
        case(f"award {q!r}", AWARD, 422, "validation_failed", {"quantity": q}, field="quantity")
        for q in (0, -1, 10_000_001, 10**30, "5", True, [5], {"n": 5})
    ),
    *(
        case(
            f"award {q}",
            AWARD,
            422,
            "validation_failed",
            text=f'{{"quantity": {q}}}',
            field="quantity",
        )
        for q in FLOAT_QUANTITIES
    ),
    case(
        "award at a price",
        AWARD,
        422,
        "validation_failed",
        {"quantity": 5, "unit_price": "0.09"},
        field="unit_price",
    ),
    case("award a list", AWARD, 422, "validation_failed", text="[5]"),
    case("award a number", AWARD, 422, "validation_failed", text="5"),
    case("award truncated", AWARD, 400, "malformed_json", text='{"quantity": '),
    case("award as text", AWARD, 415, "unsupported_media_type", text="5", content_type=TEXT),
    case(
        "award form-encoded",
        AWARD,
        415,
        "unsupported_media_type",
        text="quantity=5",
        content_type=FORM,
    ),
    # Bids that are closed, or would make a second contract on other terms.
    case("award again", "client POST /bids/{awarded_bid}/award", 409, "bid_closed", {}),
    case("award a withdrawn bid", "client POST /bids/{withdrawn_bid}/award", 409, "bid_closed", {}),
    case(
        "award a second price to the same team",
        "client POST /bids/{lotus_bid}/award",
        409,
        "contract_exists",
        {},
        details=lambda ids: {"contract_id": ids["lotus_contract"]},
    ),
    # Awards of bids on an offer: within the offer, the parent's price and the client's caps.
    case(
        "award a bid above the parent's price",
        "owner POST /bids/{dear_bid}/award",
        409,
        "price_above_contract",
        {},
        details={"contract_price": "0.09"},
    ),
    case(
        "award a bid below the pass-through",
        "owner POST /bids/{cheap_bid}/award",
        409,
        "pass_through_too_low",
        {},
        details={"min_pass_through": "0.5000"},
    ),
    case(
        "award more than the offer bid",
        "owner POST /bids/{offer_bid}/award",
        422,
        "quantity_too_large",
        {"quantity": 2},
        details={"most": 1},
    ),
    case(
        "award part of a batch offer",
        "owner POST /bids/{batch_bid}/award",
        422,
        "quantity_mismatch",
        {"quantity": 4},
        details={"offer_quantity": 5},
    ),
    case(
        "award more than a batch bid",
        "owner POST /bids/{batch_bid}/award",
        422,
        "quantity_too_large",
        {"quantity": 6},
        details={"most": 5},
    ),
    # Who: the order's client, the offer's maker.
    case("team awards itself", f"rival_owner {AWARD_TIGER}", 403, "forbidden", {}),
    case("other team awards", f"owner {AWARD_TIGER}", 404, "bid_not_found", {}),
    case("rival client awards", f"rival_client {AWARD_TIGER}", 404, "bid_not_found", {}),
    case("admin awards", f"admin {AWARD_TIGER}", 403, "forbidden", {}),
    case("annotator awards", f"li {AWARD_TIGER}", 404, "bid_not_found", {}),
    case("anonymous awards", f"anonymous {AWARD_TIGER}", 401, "missing_token", {}),
    case("stranger awards", f"stranger {AWARD_TIGER}", 401, "invalid_token", {}),
    case(
        "client awards a bid on an offer",
        "client POST /bids/{offer_bid}/award",
        404,
        "bid_not_found",
        {},
    ),
    case(
        "bidder awards its bid on an offer",
        "rival_owner POST /bids/{offer_bid}/award",
        403,
        "forbidden",
        {},
    ),
    case(
        "outsider awards a bid on an offer",
        "apex POST /bids/{offer_bid}/award",
        404,
        "bid_not_found",
        {},
    ),
    case("award bid abc", "client POST /bids/abc/award", 404, "not_found", {}),
    case("award bid -1", "client POST /bids/-1/award", 404, "not_found", {}),
    *(
        case(f"award bid {n}", f"client POST /bids/{n}/award", 404, "bid_not_found", {})
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("GET an award", "client GET /bids/{tiger_bid}/award", 405, "method_not_allowed"),
    # Withdrawing: an open bid of one's own team, once.
    case("withdraw an awarded bid", "owner DELETE /bids/{awarded_bid}", 409, "bid_closed"),
    case("withdraw a bid twice", "rival_owner DELETE /bids/{withdrawn_bid}", 409, "bid_closed"),
    case("withdraw another team's bid", "owner DELETE /bids/{tiger_bid}", 404, "bid_not_found"),
    case("client withdraws a bid", "client DELETE /bids/{tiger_bid}", 403, "forbidden"),
    case("offer maker withdraws a bid", "owner DELETE /bids/{offer_bid}", 403, "forbidden"),
    *(
        case(f"withdraw bid {n}", f"rival_owner DELETE /bids/{n}", 404, "bid_not_found")
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("anonymous withdraws a bid", "anonymous DELETE /bids/{tiger_bid}", 401, "missing_token"),
]


def test_awards(subtests, app, api, cast, chain_world):
    run_chain(subtests, app, api, cast, chain_world, AWARD_CASES)
