"""Orders, their batches and drops, piece rates, and task types."""

import pytest

from tests.authorization.matrix import (
    CREATED,
    EVERY_DAY_3AM,
    FORBIDDEN,
    GROUPS,
    OK,
    POLYGON,
    Matrix,
    Row,
    World,
    by_endpoint,
    conflict,
    field_is,
    id_is,
    ids_are,
    missing,
    table,
)
from tests.flows import order_body

pytestmark = pytest.mark.slow


def own_party(world: World, caller: str) -> int:
    return world.party({"client": "horizon", "rival_client": "acme"}[caller])


def orders_seen(world: World, caller: str) -> set[int]:
    horizons = {world.order, world.draft, world.lottery, world.trial_order}
    horizons |= {world.bids_order, world.bids_draft, world.review_order}
    if caller == "admin":
        return {*horizons, world.rival_draft}
    if caller == "client":
        return horizons
    # Batches held, or a standing: Lotus holds the bids order's award, Tiger a subcontract.
    if caller in GROUPS["lotus"]:
        return {world.order, world.lottery, world.trial_order, world.bids_order, world.review_order}
    if caller in GROUPS["tiger"]:
        return {world.trial_order, world.bids_order}
    return {world.rival_draft} if caller == "rival_client" else set()


READS = [
    Row("GET", "/orders", table(OK), check=ids_are(orders_seen)),
    Row(
        "GET",
        "/orders/{order}",
        table(missing("order"), admin=OK, client=OK, lotus=OK),
        check=id_is("order"),
    ),
    Row(
        "GET", "/orders/{draft}", table(missing("order"), admin=OK, client=OK), check=id_is("draft")
    ),
    Row(
        "GET",
        "/orders/{bids_order}",
        table(missing("order"), admin=OK, client=OK, lotus=OK, tiger=OK),
        # Its price is the client's budget: teams with a contract read the order without it.
        check=field_is("unit_price", lambda w, c: "0.1" if c in ("admin", "client") else None),
    ),
    Row(
        "GET",
        "/orders/{rival_draft}",
        table(missing("order"), admin=OK, rival_client=OK),
        check=id_is("rival_draft"),
    ),
    Row(
        "GET",
        "/orders/{order}/batches",
        table(missing("order"), admin=OK, client=OK, lotus=FORBIDDEN),
        check=ids_are(lambda w, c: set(w.batches)),
    ),
    Row(
        "GET",
        "/orders/{rival_draft}/batches",
        table(missing("order"), admin=OK, rival_client=OK),
        check=ids_are(lambda w, c: set()),
    ),
    Row("GET", "/orders/{order}/drops", table(missing("order"), admin=OK, client=OK, lotus=OK)),
    Row("GET", "/orders/{rival_draft}/drops", table(missing("order"), admin=OK, rival_client=OK)),
    Row("GET", "/drops/upcoming", table(FORBIDDEN, admin=OK, teams=OK)),
    # Task types are public to anyone signed in: a team reads a result's format before it
    # claims the work, Acme's own type included.
    Row(
        "GET",
        "/task-types",
        table(OK),
        check=lambda m, c, a: (
            None
            if [t["key"] for t in a.body]
            == ["bbox_2d", "rating_1_5", "audio_score_0_2", m.world.custom_type]
            else f"task types {[t['key'] for t in a.body]}"
        ),
    ),
    Row(
        "GET",
        "/task-types/{custom_type}",
        table(OK),
        check=field_is("client_id", lambda w, c: w.party("acme")),
    ),
]

WRITES = [
    # Orders: clients post their own; nobody posts for another client.
    Row(
        "POST",
        "/orders",
        table(FORBIDDEN, client=CREATED, rival_client=CREATED),
        body=order_body(batch_size=5),
        check=field_is("client_id", own_party),
    ),
    Row(
        "POST",
        "/orders",
        table(FORBIDDEN, client=CREATED, rival_client=missing("client")),
        body=lambda w, c: {**order_body(batch_size=5), "client_id": w.party("horizon")},
        check=field_is("client_id", lambda w, c: w.party("horizon")),
        label="for Horizon",
    ),
    Row(
        "POST",
        "/orders",
        table(FORBIDDEN, client=CREATED, rival_client=CREATED),
        body=order_body(
            items=10,
            batch_size=2,
            release_plan=EVERY_DAY_3AM,
            claim_mode="lottery",
            limits={"batches_held": 2, "batches_per_drop": 1},
            lease_hours=24,
            trial={"batches": 1, "batch_size": 2, "pass_score": 80},
        ),
        check=lambda m, c, a: (
            None
            if (a.body["client_id"], a.body["claim_mode"], a.body["trial"]["pass_score"])
            == (own_party(m.world, c), "lottery", 80)
            else f"order {a.body}"
        ),
        label="lottery, limits, lease and trial",
    ),
    Row(
        "POST",
        "/orders/{draft}/publish",
        table(missing("order"), admin=FORBIDDEN, client=OK),
        check=field_is("status", lambda w, c: "published"),
    ),
    Row(
        "POST",
        "/orders/{rival_draft}/publish",
        table(missing("order"), admin=FORBIDDEN, rival_client=OK),
        check=field_is("status", lambda w, c: "published"),
    ),
    Row(
        "POST",
        "/orders/{order}/publish",
        table(
            missing("order"), admin=FORBIDDEN, lotus=FORBIDDEN, client=conflict("order_not_draft")
        ),
    ),
    # Piece rates: the owner of the team working the order.
    Row(
        "PUT",
        "/orders/{order}/piece-rate",
        table(missing("order"), admin=FORBIDDEN, client=FORBIDDEN, lotus=FORBIDDEN, owner=OK),
        body={"unit_price": "0.05"},
        check=field_is("team_id", lambda w, c: w.party("lotus")),
    ),
    Row(
        "PUT",
        "/orders/{rival_draft}/piece-rate",
        table(missing("order"), admin=FORBIDDEN, rival_client=FORBIDDEN),
        body={"unit_price": "0.05"},
    ),
    # Task types: a client administrator posts one for her client; nobody for another.
    Row(
        "POST",
        "/task-types",
        table(FORBIDDEN, client=CREATED, rival_client=CREATED),
        body=POLYGON,
        check=field_is("client_id", own_party),
    ),
    Row(
        "POST",
        "/task-types",
        table(FORBIDDEN, client=CREATED, rival_client=missing("client")),
        body=lambda w, c: {**POLYGON, "client_id": w.party("horizon")},
        check=field_is("client_id", lambda w, c: w.party("horizon")),
        label="for Horizon",
    ),
]


@pytest.mark.parametrize("rows", by_endpoint(WRITES))
def test_writes(app, api, world, rows):
    """Every write endpoint, by every caller, each call on a fresh world."""
    [prepare] = {row.prepare for row in rows}
    matrix = Matrix(app, api, world, prepare=prepare)
    wrong = matrix.run_rows(rows)
    assert not wrong, "\n".join(wrong)
