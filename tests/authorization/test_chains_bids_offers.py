"""Contracts and their chains, tenders and bids, offers down a chain, and cost floors."""

from collections.abc import Callable

import pytest

from tests.authorization.matrix import (
    CREATED,
    FORBIDDEN,
    NO_CONTENT,
    NOT_THE_ORDER,
    OK,
    Check,
    Matrix,
    Row,
    World,
    by_endpoint,
    conflict,
    field_is,
    id_is,
    ids_are,
    missing,
    own_team,
    per_caller,
    table,
)
from tests.support import Response

pytestmark = pytest.mark.slow


PARTY_OF = {"client": "horizon", "rival_client": "acme", "owner": "lotus", "rival_owner": "tiger"}


def contracts_seen(world: World, caller: str) -> set[int]:
    """Admins see all; a client (admin) or team owner those its party is upstream or
    downstream of: Horizon not the subcontract Lotus made with Tiger."""
    if caller == "admin":
        return set().union(*world.contracts.values())
    party = PARTY_OF.get(caller)
    return world.contracts.get(world.party(party), set()) if party else set()


def offers_of(*names: str) -> Callable[[World], set[int]]:
    return lambda world: {getattr(world, f"{name}_offer") for name in names}


def lotus_offers(world: World) -> set[int]:
    return offers_of("taken", "open", "direct", "crane", "withdrawn")(world)


def chain_is(links: Callable[[World], set[int]]) -> Check:
    """The chain's links, priced only where the caller's party is upstream or downstream
    (every link, for admins); the pass-through share only for the client and admins."""

    def check(matrix: Matrix, caller: str, answer: Response) -> str | None:
        w, body = matrix.world, answer.body
        mine = w.party(PARTY_OF[caller]) if caller in PARTY_OF else None
        got = {link["id"]: link["unit_price"] is not None for link in body["links"]}
        want = {
            link["id"]: caller == "admin" or mine in (link["upstream_id"], link["downstream_id"])
            for link in body["links"]
        }
        if set(got) != links(w) or got != want:
            return f"links {body['links']}, expected {sorted(links(w))}, priced {want}"
        shown = body["pass_through"] is not None
        return None if shown == (caller in ("admin", "client")) else f"pass_through {body}"

    return check


def status_is(status: str) -> Check:
    return field_is("status", lambda w, c: status)


def accepted_into_subcontract(matrix: Matrix, caller: str, answer: Response) -> str | None:
    """Tiger takes the offer at the subcontract's price: the subcontract grows by it."""
    contract, offer = answer.body["contract"], answer.body["offer"]
    got = (contract["id"], contract["quantity"], offer["status"])
    want = (matrix.world.subcontract, 4, "taken")
    return None if got == want else f"accepted {got}, expected {want}"


BID: dict = {"unit_price": "0.07", "quantity": 1}
FLOOR: dict = {"task_type": "rating", "currency": "CNY", "unit_price": "0.30"}

READS = [
    Row("GET", "/contracts", table(OK), check=ids_are(contracts_seen)),
    Row(
        "GET",
        "/contracts/{contract}",
        table(missing("contract"), admin=OK, client=OK, owner=OK),
        check=id_is("contract"),
    ),
    Row(
        "GET",
        "/contracts/{bids_contract}",
        table(missing("contract"), admin=OK, client=OK, owner=OK),
        check=field_is("cost_floor", lambda w, c: {"owner": "0.08"}.get(c)),
    ),
    Row(
        "GET",
        "/contracts/{subcontract}",
        table(missing("contract"), admin=OK, owners=OK),
        check=field_is("cost_floor", lambda w, c: {"rival_owner": "0.05"}.get(c)),
    ),
    # Subcontracting. Bids orders are tendered to team owners; a bid is seen by its team's
    # owner and by whoever awards it (the order's client, or the offer's maker).
    Row(
        "GET",
        "/tenders",
        table(FORBIDDEN, admin=OK, owners=OK),
        check=ids_are(lambda w, c: {w.bids_order}),
    ),
    Row(
        "GET",
        "/orders/{bids_order}/bids",
        table(NOT_THE_ORDER, admin=OK, client=OK, teams=OK),
        check=ids_are(
            per_caller(
                admin=lambda w: {w.lotus_bid, w.tiger_bid},
                client=lambda w: {w.lotus_bid, w.tiger_bid},
                owner=lambda w: {w.lotus_bid},
                rival_owner=lambda w: {w.tiger_bid},
            )
        ),
    ),
    Row(
        "GET",
        "/bids/{lotus_bid}",
        table(missing("bid"), admin=OK, client=OK, owner=OK),
        check=id_is("lotus_bid"),
    ),
    Row(
        "GET",
        "/bids/{tiger_bid}",
        table(missing("bid"), admin=OK, client=OK, rival_owner=OK),
        check=id_is("tiger_bid"),
    ),
    Row(
        "GET",
        "/bids/{offer_bid}",
        table(missing("bid"), admin=OK, owners=OK),
        check=id_is("offer_bid"),
    ),
    Row("GET", "/bids/{crane_bid}", table(missing("bid"), admin=OK, owner=OK)),
    # Offers: a team owner sees its team's, those made to its team, and those open to all.
    Row(
        "GET",
        "/offers",
        table(FORBIDDEN, admin=OK, owners=OK),
        check=ids_are(
            per_caller(
                admin=lotus_offers,
                owner=lotus_offers,
                rival_owner=offers_of("taken", "open", "direct"),
            )
        ),
    ),
    Row(
        "GET",
        "/offers?status=open",
        table(FORBIDDEN, admin=OK, owners=OK),
        check=ids_are(
            per_caller(
                admin=offers_of("open", "direct", "crane"),
                owner=offers_of("open", "direct", "crane"),
                rival_owner=offers_of("open", "direct"),
            )
        ),
    ),
    Row(
        "GET",
        "/offers/{open_offer}",
        table(missing("offer"), admin=OK, owners=OK),
        check=id_is("open_offer"),
    ),
    Row(
        "GET",
        "/offers/{direct_offer}",
        table(missing("offer"), admin=OK, owners=OK),
        check=field_is("cost_floor", lambda w, c: {"owner": "0.08", "rival_owner": "0.05"}.get(c)),
    ),
    Row(
        "GET",
        "/offers/{crane_offer}",
        table(missing("offer"), admin=OK, owner=OK),
        check=id_is("crane_offer"),
    ),
    Row("GET", "/offers/{withdrawn_offer}", table(missing("offer"), admin=OK, owner=OK)),
    Row(
        "GET",
        "/offers/{open_offer}/bids",
        table(missing("offer"), admin=OK, owners=OK),
        check=ids_are(
            per_caller(
                admin=lambda w: {w.offer_bid, w.crane_bid},
                owner=lambda w: {w.offer_bid, w.crane_bid},
                rival_owner=lambda w: {w.offer_bid},
            )
        ),
    ),
    # Contracts below the client's: the holder sees what it passed down; every client and
    # team owner of a chain sees the chain, with the prices of its own links only.
    Row(
        "GET",
        "/contracts/{bids_contract}/subcontracts",
        table(missing("contract"), admin=OK, owner=OK, client=FORBIDDEN),
        check=ids_are(lambda w, c: {w.subcontract}),
    ),
    Row(
        "GET",
        "/contracts/{subcontract}/subcontracts",
        table(missing("contract"), admin=OK, rival_owner=OK, owner=FORBIDDEN),
        check=ids_are(lambda w, c: set()),
    ),
    Row(
        "GET",
        "/contracts/{bids_contract}/chain",
        table(missing("contract"), admin=OK, client=OK, owners=OK),
        check=chain_is(lambda w: {w.bids_contract, w.subcontract}),
    ),
    Row(
        "GET",
        "/contracts/{subcontract}/chain",
        table(missing("contract"), admin=OK, client=OK, owners=OK),
        check=chain_is(lambda w: {w.bids_contract, w.subcontract}),
    ),
    Row(
        "GET",
        "/contracts/{contract}/chain",
        table(missing("contract"), admin=OK, client=OK, owner=OK),
        check=chain_is(lambda w: {w.contract}),
    ),
    Row(
        "GET",
        "/cost-floors",
        table(FORBIDDEN, admin=OK, owners=OK),
        check=ids_are(
            per_caller(
                admin=lambda w: {w.lotus_floor, w.tiger_floor},
                owner=lambda w: {w.lotus_floor},
                rival_owner=lambda w: {w.tiger_floor},
            )
        ),
    ),
]

WRITES = [
    # Bids: team owners bid on a published bids order; the client awards (or the offer's
    # maker, a bid on its offer); the bidder's owner withdraws an open bid.
    Row(
        "POST",
        "/orders/{bids_order}/bids",
        table(FORBIDDEN, owners=CREATED, rival_client=NOT_THE_ORDER, stranger=NOT_THE_ORDER),
        body={"unit_price": "0.08", "quantity": 5},
        check=field_is("team_id", own_team),
    ),
    Row(
        "POST",
        "/orders/{order}/bids",
        table(
            FORBIDDEN,
            owners=conflict("not_open_for_bids"),
            rival_client=NOT_THE_ORDER,
            stranger=NOT_THE_ORDER,
        ),
        body=BID,
    ),
    Row(
        "POST",
        "/orders/{bids_draft}/bids",
        table(NOT_THE_ORDER, admin=FORBIDDEN, client=FORBIDDEN),
        body=BID,
    ),
    Row(
        "POST",
        "/bids/{tiger_bid}/award",
        table(missing("bid"), client=OK, admin=FORBIDDEN, rival_owner=FORBIDDEN),
        body={},
        check=status_is("awarded"),
    ),
    Row(
        "POST",
        "/bids/{offer_bid}/award",
        table(missing("bid"), owner=OK, admin=FORBIDDEN, rival_owner=FORBIDDEN),
        body={},
        check=field_is("contract_id", lambda w, c: w.subcontract),
    ),
    Row(
        "POST",
        "/bids/{lotus_bid}/award",
        table(missing("bid"), client=conflict("bid_closed"), admin=FORBIDDEN, owner=FORBIDDEN),
        body={},
    ),
    Row(
        "DELETE",
        "/bids/{tiger_bid}",
        table(missing("bid"), rival_owner=OK, client=FORBIDDEN, admin=FORBIDDEN),
        check=status_is("withdrawn"),
    ),
    Row(
        "DELETE",
        "/bids/{offer_bid}",
        table(missing("bid"), rival_owner=OK, owner=FORBIDDEN, admin=FORBIDDEN),
        check=status_is("withdrawn"),
    ),
    Row(
        "DELETE",
        "/bids/{lotus_bid}",
        table(missing("bid"), owner=conflict("bid_closed"), client=FORBIDDEN, admin=FORBIDDEN),
    ),
    # Offers: a contract's downstream team owner passes items down; the team offered them
    # (any other team, for an offer open to all) takes them or bids.
    Row(
        "POST",
        "/contracts/{bids_contract}/offers",
        table(missing("contract"), owner=CREATED, client=FORBIDDEN, admin=FORBIDDEN),
        body=BID,
        check=field_is("contract_id", lambda w, c: w.bids_contract),
    ),
    Row(
        "POST",
        "/contracts/{subcontract}/offers",
        table(missing("contract"), rival_owner=CREATED, owner=FORBIDDEN, admin=FORBIDDEN),
        body={"unit_price": "0.06", "quantity": 1},
        check=field_is("contract_id", lambda w, c: w.subcontract),
    ),
    Row(
        "DELETE",
        "/offers/{open_offer}",
        table(missing("offer"), owner=OK, rival_owner=FORBIDDEN, admin=FORBIDDEN),
        check=status_is("withdrawn"),
    ),
    Row(
        "DELETE",
        "/offers/{direct_offer}",
        table(missing("offer"), owner=OK, rival_owner=FORBIDDEN, admin=FORBIDDEN),
        check=status_is("withdrawn"),
    ),
    Row(
        "DELETE",
        "/offers/{crane_offer}",
        table(missing("offer"), owner=OK, admin=FORBIDDEN),
        check=status_is("withdrawn"),
    ),
    Row(
        "DELETE",
        "/offers/{withdrawn_offer}",
        table(missing("offer"), owner=conflict("offer_closed"), admin=FORBIDDEN),
    ),
    Row(
        "POST",
        "/offers/{direct_offer}/accept",
        table(
            missing("offer"),
            rival_owner=CREATED,
            owner=conflict("offer_not_for_you"),
            admin=FORBIDDEN,
        ),
        body={},
        check=accepted_into_subcontract,
    ),
    Row(
        "POST",
        "/offers/{open_offer}/accept",
        table(
            missing("offer"),
            rival_owner=CREATED,
            owner=conflict("offer_not_for_you"),
            admin=FORBIDDEN,
        ),
        body={},
        check=accepted_into_subcontract,
    ),
    Row(
        "POST",
        "/offers/{crane_offer}/accept",
        table(missing("offer"), owner=conflict("offer_not_for_you"), admin=FORBIDDEN),
        body={},
    ),
    Row(
        "POST",
        "/offers/{open_offer}/bids",
        table(
            missing("offer"),
            rival_owner=CREATED,
            owner=conflict("offer_not_open"),
            admin=FORBIDDEN,
        ),
        body=BID,
        check=field_is("offer_id", lambda w, c: w.open_offer),
    ),
    Row(
        "POST",
        "/offers/{direct_offer}/bids",
        table(missing("offer"), owners=conflict("offer_not_open"), admin=FORBIDDEN),
        body=BID,
    ),
    # Cost floors: a team owner's own; nobody else's, not even for admins.
    Row(
        "PUT",
        "/cost-floors",
        table(FORBIDDEN, owners=OK),
        body=FLOOR,
        check=field_is("team_id", own_team),
    ),
    Row(
        "PUT",
        "/cost-floors",
        table(FORBIDDEN, owner=missing("team"), rival_owner=OK),
        body=lambda w, c: {**FLOOR, "team_id": w.party("tiger")},
        check=field_is("team_id", lambda w, c: w.party("tiger")),
        label="for Tiger",
    ),
    Row(
        "DELETE",
        "/cost-floors/{lotus_floor}",
        table(missing("cost_floor"), owner=NO_CONTENT),
    ),
    Row(
        "DELETE",
        "/cost-floors/{tiger_floor}",
        table(missing("cost_floor"), rival_owner=NO_CONTENT),
    ),
]


@pytest.mark.parametrize("rows", by_endpoint(WRITES))
def test_writes(app, api, world, rows):
    """Every write endpoint, by every caller, each call on a fresh world."""
    [prepare] = {row.prepare for row in rows}
    matrix = Matrix(app, api, world, prepare=prepare)
    wrong = matrix.run_rows(rows)
    assert not wrong, "\n".join(wrong)
