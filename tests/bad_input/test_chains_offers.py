"""Subcontracting: offers down a contract, and accepting and withdrawing them."""

import json
import re

import pytest

from tests.bad_input.cases import (
    FLOAT_PRICES,
    FLOAT_QUANTITIES,
    FORM,
    HUGE_ID,
    PRICES,
    SIGNED_OVERFLOW,
    TEXT,
    Case,
    case,
    refused,
    run_chain,
)

pytestmark = pytest.mark.slow


# POST /contracts/{id}/offers: a contract holder passes items down.
OFFER_LOTUS = "POST /contracts/{lotus_contract}/offers"
OFFER = f"owner {OFFER_LOTUS}"
APEX_OFFER = "apex POST /contracts/{apex_contract}/offers"
BRIDGE_OFFER = "bridge POST /contracts/{bridge_contract}/offers"
ONE_BOX = {"unit_price": "0.05", "quantity": 1}  # Lotus's contract has room for just that


def offer_case(case_id, field, route=OFFER, **changes) -> Case:
    """An offer of one box at 0.05 to all, with fields changed (to `...`: left out)."""
    body = {key: value for key, value in (ONE_BOX | changes).items() if value is not ...}
    return case(case_id, route, 422, "validation_failed", body, field=field)


def raw_offer_case(case_id, field, **literals) -> Case:
    body = {key: json.dumps(value) for key, value in ONE_BOX.items()} | literals
    text = "{" + ", ".join(f'"{key}": {value}' for key, value in body.items()) + "}"
    return case(case_id, OFFER, 422, "validation_failed", text=text, field=field)


def to_team(party: str | int, **changes):
    """One box at 0.05 to a party of the world (by name) or a number."""
    return lambda ids: ONE_BOX | {"to_team_id": ids.get(party, party)} | changes


OFFER_CASES = [
    offer_case("price missing", "unit_price", unit_price=...),
    *(offer_case(f"price {p!r}", "unit_price", unit_price=p) for p in PRICES),
    *(raw_offer_case(f"price float {p}", "unit_price", unit_price=p) for p in FLOAT_PRICES),
    *(
        offer_case(f"quantity {q!r}", "quantity", quantity=q)
        for q in (0, -1, 10_000_001, 10**30, "1", True, [1])
    ),
    *(raw_offer_case(f"quantity {q}", "quantity", quantity=q) for q in FLOAT_QUANTITIES),
    *(offer_case(f"to team {t!r}", "to_team_id", to_team_id=t) for t in ("tiger", "7", True)),
    raw_offer_case("to team 7.0", "to_team_id", to_team_id="7.0"),
    *(
        offer_case(f"batch ids {b!r}", "batch_ids", batch_ids=b, quantity=...)
        for b in (7, "7", [0], [-1], ["7"], [True], [None], [[7]], {"7": 7}, [7] * 1001)
    ),
    raw_offer_case("batch ids [7.0]", "batch_ids", batch_ids="[7.0]"),
    *(
        offer_case(f"note {name}", "note", note=note)
        for name, note in (("of 1001", "x" * 1001), ("a number", 5), ("with NUL", "a\x00b"))
    ),
    offer_case("offer unknown field", "currency", currency="CNY"),
    offer_case("offer names its order", "order_id", order_id=1),
    case("offer a list", OFFER, 422, "validation_failed", text="[]"),
    case("offer empty body", OFFER, 422, "validation_failed", text=""),
    case("offer truncated", OFFER, 400, "malformed_json", text='{"unit_price": '),
    case(
        "offer NaN literal",
        OFFER,
        400,
        "malformed_json",
        text='{"unit_price": NaN, "quantity": 1}',
    ),
    case(
        "offer form-encoded",
        OFFER,
        415,
        "unsupported_media_type",
        text="unit_price=0.05&quantity=1",
        content_type=FORM,
    ),
    case("offer as text", OFFER, 415, "unsupported_media_type", text="1 box", content_type=TEXT),
    # How many: a quantity or batches, within the contract's room.
    case("offer no quantity", OFFER, 422, "quantity_required", {"unit_price": "0.05"}),
    case(
        "offer no quantity, no batches",
        OFFER,
        422,
        "quantity_required",
        {"unit_price": "0.05", "batch_ids": []},
    ),
    *(
        case(
            f"offer {q} of room for 1",
            OFFER,
            409,
            "quantity_exceeds_room",
            ONE_BOX | {"quantity": q},
            details={"room": 1},
        )
        for q in (2, 10_000_000)
    ),
    case(
        "offer of a contract worked whole",
        "owner POST /contracts/{claims_contract}/offers",
        409,
        "quantity_exceeds_room",
        ONE_BOX,
        details={"room": 0},
    ),
    case(
        "offer over the room of apex",
        APEX_OFFER,
        409,
        "quantity_exceeds_room",
        ONE_BOX | {"quantity": 2},
        details={"room": 1},
    ),
    *(
        case(
            f"offer batch {name}",
            OFFER,
            409,
            "batch_not_passable",
            lambda ids, batch=batch: {"unit_price": "0.05", "batch_ids": [ids.get(batch, batch)]},
            details=lambda ids, batch=batch: {"batch_id": ids.get(batch, batch)},
        )
        for name, batch in (
            ("of another order", "taken_batch"),
            ("nobody claimed", "bids_batch"),
            ("already on offer", "offered_batch"),
            ("999999", 999_999),
            ("10**20", HUGE_ID),
            ("2**63", SIGNED_OVERFLOW),
            ("2**63 - 1", SIGNED_OVERFLOW - 1),
        )
    ),
    case(
        "offer batches, one not passable",
        OFFER,
        409,
        "batch_not_passable",
        lambda ids: {"unit_price": "0.05", "batch_ids": [ids["lotus_batch"], ids["offered_batch"]]},
        details=lambda ids: {"batch_id": ids["offered_batch"]},
    ),
    *(
        case(
            f"offer a batch of 5 as {q}",
            OFFER,
            422,
            "quantity_mismatch",
            lambda ids, q=q: {
                "unit_price": "0.05",
                "batch_ids": [ids["lotus_batch"]],
                "quantity": q,
            },
            details={"batch_items": 5},
        )
        for q in (1, 4, 6)
    ),
    case(
        "offer the same batch twice as 10",
        OFFER,
        422,
        "quantity_mismatch",
        lambda ids: {"unit_price": "0.05", "batch_ids": [ids["lotus_batch"]] * 2, "quantity": 10},
        details={"batch_items": 5},
    ),
    # To whom: a team not yet in the chain.
    *(
        case(
            f"offer to {name}",
            OFFER,
            422,
            "unknown_team",
            to_team(party),
            details=lambda ids, party=party: {"team_id": ids.get(party, party)},
        )
        for name, party in (
            ("no team", 999_999),
            ("team 10**20", HUGE_ID),
            ("team 2**63", SIGNED_OVERFLOW),
            ("team 0", 0),
            ("team -1", -1),
            ("the client", "horizon"),
            ("another client", "acme"),
            ("the platform", "platform"),
        )
    ),
    case("offer to oneself", OFFER, 409, "party_in_chain", to_team("lotus")),
    case("offer up the chain", APEX_OFFER, 409, "party_in_chain", to_team("lotus")),
    case("offer to the top of the chain", BRIDGE_OFFER, 409, "party_in_chain", to_team("lotus")),
    case("offer back up", BRIDGE_OFFER, 409, "party_in_chain", to_team("apex")),
    # At what price: at most the parent's, at least the client's share of the top price.
    *(
        case(
            f"offer at {price}",
            OFFER,
            409,
            "price_above_contract",
            ONE_BOX | {"unit_price": price},
            details={"contract_price": "0.09"},
        )
        for price in ("0.090001", "0.1", "1000000")
    ),
    case(
        "apex offers above its price",
        APEX_OFFER,
        409,
        "price_above_contract",
        ONE_BOX | {"unit_price": "0.07"},
        details={"contract_price": "0.06"},
    ),
    *(
        case(
            f"offer at {price}, half of 0.09 is 0.045",
            route,
            409,
            "pass_through_too_low",
            to_team("tiger", unit_price=price),
            details={"min_pass_through": "0.5000"},
        )
        for route, price in ((OFFER, "0.044999"), (OFFER, "0.000001"), (APEX_OFFER, "0.044"))
    ),
    # How deep: the client allows 3 links; Bridge holds the third.
    *(
        case(
            f"bridge offers {name}",
            BRIDGE_OFFER,
            409,
            "chain_too_deep",
            body,
            details={"max_depth": 3, "depth": 4},
        )
        for name, body in (("to all", ONE_BOX), ("to tiger", to_team("tiger")))
    ),
    # Which contract, and who offers: its holder's owner only.
    case("offer on contract abc", "owner POST /contracts/abc/offers", 404, "not_found", ONE_BOX),
    *(
        case(
            f"offer on contract {n}",
            f"owner POST /contracts/{n}/offers",
            404,
            "contract_not_found",
            ONE_BOX,
        )
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("outsider offers", f"rival_owner {OFFER_LOTUS}", 404, "contract_not_found", ONE_BOX),
    case("client offers", f"client {OFFER_LOTUS}", 403, "forbidden", ONE_BOX),
    case("rival client offers", f"rival_client {OFFER_LOTUS}", 404, "contract_not_found", ONE_BOX),
    case("reviewer offers", f"reviewer {OFFER_LOTUS}", 404, "contract_not_found", ONE_BOX),
    case("annotator offers", f"li {OFFER_LOTUS}", 404, "contract_not_found", ONE_BOX),
    case("admin offers", f"admin {OFFER_LOTUS}", 403, "forbidden", ONE_BOX),
    case(
        "offer on the subcontract one made",
        "owner POST /contracts/{apex_contract}/offers",
        403,
        "forbidden",
        ONE_BOX,
    ),
    case(
        "offer two links down",
        "owner POST /contracts/{bridge_contract}/offers",
        404,
        "contract_not_found",
        ONE_BOX,
    ),
    case("anonymous offers", f"anonymous {OFFER_LOTUS}", 401, "missing_token", ONE_BOX),
    case(
        "anonymous bad offer",
        f"anonymous {OFFER_LOTUS}",
        401,
        "missing_token",
        text='{"unit_price": ',
    ),
    case("stranger offers", f"stranger {OFFER_LOTUS}", 401, "invalid_token", ONE_BOX),
    case(
        "PUT an offer",
        "owner PUT /contracts/{lotus_contract}/offers",
        405,
        "method_not_allowed",
        ONE_BOX,
    ),
]


def test_offers(subtests, app, api, cast, chain_world):
    run_chain(subtests, app, api, cast, chain_world, OFFER_CASES)


def test_a_cap_names_the_cap_never_a_price(app, api, cast, chain_world):
    """Apex may not learn Lotus's price (nor the client's budget) from the caps' refusals."""
    offer = f"/contracts/{chain_world['apex_contract']}/offers"
    too_low = {"unit_price": "0.044", "quantity": 1}
    answer = refused(app, api, "POST", offer, cast.apex, 409, "pass_through_too_low", json=too_low)
    assert answer.body["error"]["details"] == {"min_pass_through": "0.5000"}
    deeper = f"/contracts/{chain_world['bridge_contract']}/offers"
    answer_2 = refused(app, api, "POST", deeper, cast.bridge, 409, "chain_too_deep", json=ONE_BOX)
    assert answer_2.body["error"]["details"] == {"max_depth": 3, "depth": 4}
    for text in (answer.text, answer_2.text):
        numbers = set(re.findall(r"\d+\.\d+", text))
        assert not numbers & {"0.09", "0.045", "0.1", "0.10", "0.06"}, text


# POST /offers/{id}/accept and DELETE /offers/{id}: taking and withdrawing offers.
ACCEPT_OPEN = "POST /offers/{open_offer}/accept"

ACCEPT_OFFER_CASES = [
    case("accept a taken offer", "apex POST /offers/{taken_offer}/accept", 409, "offer_closed", {}),
    case(
        "accept a withdrawn offer",
        "rival_owner POST /offers/{withdrawn_offer}/accept",
        409,
        "offer_closed",
        {},
    ),
    case("accept one's own offer", f"owner {ACCEPT_OPEN}", 409, "offer_not_for_you", {}),
    case(
        "accept one's own offer to another",
        "owner POST /offers/{taken_offer}/accept",
        409,
        "offer_not_for_you",
        {},
    ),
    case(
        "accept a second deal at another price",
        f"apex {ACCEPT_OPEN}",
        409,
        "contract_exists",
        {},
        details=lambda ids: {"contract_id": ids["apex_contract"]},
    ),
    case(
        "accept another team's offer",
        "rival_owner POST /offers/{taken_offer}/accept",
        404,
        "offer_not_found",
        {},
    ),
    case("client accepts", f"client {ACCEPT_OPEN}", 404, "offer_not_found", {}),
    case("annotator accepts", f"rival_annotator {ACCEPT_OPEN}", 404, "offer_not_found", {}),
    case("admin accepts", f"admin {ACCEPT_OPEN}", 403, "forbidden", {}),
    case("anonymous accepts", f"anonymous {ACCEPT_OPEN}", 401, "missing_token", {}),
    case("accept offer abc", "rival_owner POST /offers/abc/accept", 404, "not_found", {}),
    *(
        case(
            f"accept offer {n}", f"rival_owner POST /offers/{n}/accept", 404, "offer_not_found", {}
        )
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    *(
        case(
            f"accept for team {t!r}",
            f"rival_owner {ACCEPT_OPEN}",
            422,
            "validation_failed",
            {"team_id": t},
            field="team_id",
        )
        for t in ("tiger", "7", True, [7])
    ),
    case(
        "accept for lotus",
        f"rival_owner {ACCEPT_OPEN}",
        404,
        "team_not_found",
        lambda ids: {"team_id": ids["lotus"]},
    ),
    case(
        "accept for team 10**20",
        f"rival_owner {ACCEPT_OPEN}",
        404,
        "team_not_found",
        {"team_id": HUGE_ID},
    ),
    case(
        "accept at a price",
        f"rival_owner {ACCEPT_OPEN}",
        422,
        "validation_failed",
        {"unit_price": "0.05"},
        field="unit_price",
    ),
    case(
        "accept part",
        f"rival_owner {ACCEPT_OPEN}",
        422,
        "validation_failed",
        {"quantity": 1},
        field="quantity",
    ),
    case("accept a list", f"rival_owner {ACCEPT_OPEN}", 422, "validation_failed", text="[]"),
    case("accept truncated", f"rival_owner {ACCEPT_OPEN}", 400, "malformed_json", text="{"),
    case(
        "accept as text",
        f"rival_owner {ACCEPT_OPEN}",
        415,
        "unsupported_media_type",
        text="yes",
        content_type=TEXT,
    ),
    # Withdrawing: an open offer of one's own team, once.
    case("withdraw an offer twice", "owner DELETE /offers/{withdrawn_offer}", 409, "offer_closed"),
    case("withdraw a taken offer", "owner DELETE /offers/{taken_offer}", 409, "offer_closed"),
    case("withdraw another's offer", "rival_owner DELETE /offers/{open_offer}", 403, "forbidden"),
    case("taker withdraws the offer", "apex DELETE /offers/{taken_offer}", 403, "forbidden"),
    case("client withdraws an offer", "client DELETE /offers/{open_offer}", 404, "offer_not_found"),
    case("withdraw offer abc", "owner DELETE /offers/abc", 404, "not_found"),
    *(
        case(f"withdraw offer {n}", f"owner DELETE /offers/{n}", 404, "offer_not_found")
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case(
        "anonymous withdraws an offer",
        "anonymous DELETE /offers/{open_offer}",
        401,
        "missing_token",
    ),
]


def test_accepting_and_withdrawing_offers(subtests, app, api, cast, chain_world):
    run_chain(subtests, app, api, cast, chain_world, ACCEPT_OFFER_CASES)
