"""Claims, lotteries (interest and allotments), standing claim rules, and trials."""

from typing import Any

import pytest

from tests.authorization.matrix import (
    CREATED,
    FORBIDDEN,
    GROUPS,
    NO_CONTENT,
    NOT_THE_ORDER,
    OK,
    UNKNOWN_ORDER,
    Matrix,
    Row,
    World,
    by_endpoint,
    conflict,
    field_is,
    ids_are,
    missing,
    own_team,
    table,
)
from tests.support import Response

pytestmark = pytest.mark.slow


def interests_are(matrix: Matrix, caller: str, answer: Response) -> str | None:
    """Each team sees its own interest in the lottery's next drop (not yesterday's)."""
    w = matrix.world
    asked = {"lotus": 1, "tiger": 2}
    expected = {
        (w.lottery, w.party(team), asked[team])
        for team in ("lotus", "tiger")
        if caller in GROUPS[team]
    }
    got = {(i["order_id"], i["team_id"], i["batches"]) for i in answer.body}
    return None if got == expected else f"interests {sorted(got)}, expected {sorted(expected)}"


def interest_withdrawn(matrix: Matrix, caller: str, answer: Response) -> str | None:
    """The caller's team no longer asks; the other team still does."""
    w = matrix.world
    left = {
        (i["order_id"], i["team_id"])
        for owner in ("owner", "rival_owner")
        for i in matrix.api.get("/interests", w.tokens[owner]).body
    }
    gone = (w.lottery, own_team(w, caller))
    other = (w.lottery, w.party("lotus" if caller == "rival_owner" else "tiger"))
    return None if gone not in left and other in left else f"interests left: {sorted(left)}"


def trials_of(world: World, caller: str) -> set[tuple[int, int, Any]]:
    """The client and admins see both trials; a team its own; none is scored yet."""
    trials = {
        "lotus": (world.party("lotus"), world.lotus_trial, None),
        "tiger": (world.party("tiger"), world.tiger_trial, None),
    }
    if caller in ("admin", "client"):
        return set(trials.values())
    return {trials[team] for team in ("lotus", "tiger") if caller in GROUPS[team]}


def trials_are(matrix: Matrix, caller: str, answer: Response) -> str | None:
    got = {(t["team_id"], t["batch_id"], t["score"]) for t in answer.body}
    want = trials_of(matrix.world, caller)
    return None if got == want else f"trials {sorted(got)}, expected {sorted(want)}"


def allotment_is(matrix: Matrix, caller: str, answer: Response) -> str | None:
    """Yesterday's drop: a published seed, and Lotus's line (asked 1, got the batch)."""
    w, body = matrix.world, answer.body
    lines = [
        (line["team_id"], line["source"], line["wanted"], line["allowed"], line["batch_ids"])
        for line in body["lines"]
    ]
    want = [(w.party("lotus"), "interest", 1, 1, [w.lottery_batch])]
    if (body["drop_id"], body["order_id"], lines) != (w.lottery_drop, w.lottery, want):
        return f"allotment {body}"
    return None if body["seed"] and body["algorithm"] else f"no published seed: {body}"


def trial_scored(matrix: Matrix, caller: str, answer: Response) -> str | None:
    got = (answer.body["team_id"], answer.body["batch_id"], answer.body["score"])
    want = (matrix.world.party("tiger"), matrix.world.tiger_trial, 90)
    passed = answer.body["passed"]
    return None if got == want and passed is True else f"scored {answer.body}"


READS = [
    # Lotteries, claim rules and trials: a published order is open to every team (and to
    # its client and admins); a draft only to its client.
    Row(
        "GET",
        "/drops/{lottery_drop}/allotment",
        table(missing("drop"), admin=OK, client=OK, teams=OK),
        check=allotment_is,
    ),
    Row("GET", "/interests", table(FORBIDDEN, teams=OK), check=interests_are),
    Row(
        "GET",
        "/claim-rules",
        table(FORBIDDEN, owner=OK, rival_owner=OK),
        check=ids_are(
            lambda w, c: {"owner": {w.lotus_rule}, "rival_owner": {w.tiger_rule}}.get(c, set())
        ),
    ),
    Row(
        "GET",
        "/orders/{trial_order}/trials",
        table(missing("order"), admin=OK, client=OK, teams=OK),
        check=trials_are,
    ),
    Row(
        "GET",
        "/orders/{order}/trials",
        table(missing("order"), admin=OK, client=OK, teams=OK),
        check=lambda m, c, a: None if a.body == [] else f"trials {a.body}",
    ),
    Row(
        "GET",
        "/orders/{rival_draft}/trials",
        table(missing("order"), rival_client=OK, admin=OK),
        check=lambda m, c, a: None if a.body == [] else f"trials {a.body}",
    ),
    Row(
        "GET",
        "/batches",
        table(FORBIDDEN, admin=OK, teams=OK),
        check=ids_are(
            lambda w, c: set(w.batches) - {w.held_batch} | {w.trial_regular, *w.bids_batches}
        ),
    ),
]

WRITES = [
    # Claims: only team owners, for their own team. A released batch is on the board of
    # every team; a claimed one stays visible to teams (a late claimer learns it lost).
    Row(
        "POST",
        "/batches/{free_batch}/claim",
        table(FORBIDDEN, owner=OK, rival_owner=OK),
        body={},
        check=field_is(
            "claimed_by", lambda w, c: w.party({"owner": "lotus", "rival_owner": "tiger"}[c])
        ),
    ),
    Row(
        "POST",
        "/batches/{free_batch}/claim",
        table(FORBIDDEN, owner=missing("team"), rival_owner=OK),
        body=lambda w, c: {"team_id": w.party("tiger")},
        check=field_is("claimed_by", lambda w, c: w.party("tiger")),
        label="for Tiger",
    ),
    Row(
        "POST",
        "/batches/{held_batch}/claim",
        table(
            FORBIDDEN,
            owner=conflict("batch_taken"),
            rival_owner=conflict("batch_taken"),
            rival_client=missing("batch"),
            stranger=missing("batch"),
        ),
        body={},
    ),
    # Interest in a lottery's next drop: team owners, for their own team, on an order
    # they can see.
    Row(
        "PUT",
        "/orders/{lottery}/interest",
        table(
            FORBIDDEN, owner=OK, rival_owner=OK, rival_client=NOT_THE_ORDER, stranger=NOT_THE_ORDER
        ),
        body={"batches": 3},
        check=lambda m, c, a: (
            None
            if (a.body["order_id"], a.body["team_id"], a.body["batches"])
            == (m.world.lottery, own_team(m.world, c), 3)
            else f"interest {a.body}"
        ),
    ),
    Row(
        "PUT",
        "/orders/{lottery}/interest",
        table(
            FORBIDDEN,
            owner=missing("team"),
            rival_owner=OK,
            rival_client=NOT_THE_ORDER,
            stranger=NOT_THE_ORDER,
        ),
        body=lambda w, c: {"batches": 3, "team_id": w.party("tiger")},
        check=field_is("team_id", lambda w, c: w.party("tiger")),
        label="for Tiger",
    ),
    Row(
        "PUT",
        "/orders/{order}/interest",
        table(
            FORBIDDEN,
            owner=conflict("not_a_lottery"),
            rival_owner=conflict("not_a_lottery"),
            rival_client=NOT_THE_ORDER,
            stranger=NOT_THE_ORDER,
        ),
        body={"batches": 1},
    ),
    Row(
        "PUT",
        "/orders/{rival_draft}/interest",
        table(NOT_THE_ORDER, rival_client=FORBIDDEN, admin=FORBIDDEN),
        body={"batches": 1},
    ),
    Row(
        "DELETE",
        "/orders/{lottery}/interest",
        table(
            FORBIDDEN,
            owner=NO_CONTENT,
            rival_owner=NO_CONTENT,
            rival_client=NOT_THE_ORDER,
            stranger=NOT_THE_ORDER,
        ),
        check=interest_withdrawn,
    ),
    Row(
        "DELETE",
        "/orders/{lottery}/interest?team_id={cast.party_ids[tiger]}",
        table(
            FORBIDDEN,
            owner=missing("team"),
            rival_owner=NO_CONTENT,
            rival_client=NOT_THE_ORDER,
            stranger=NOT_THE_ORDER,
        ),
        check=interest_withdrawn,
    ),
    Row(
        "DELETE",
        "/orders/{trial_order}/interest",
        table(
            FORBIDDEN,
            owner=conflict("not_a_lottery"),
            rival_owner=conflict("not_a_lottery"),
            rival_client=NOT_THE_ORDER,
            stranger=NOT_THE_ORDER,
        ),
    ),
    Row(
        "DELETE",
        "/orders/{rival_draft}/interest",
        table(NOT_THE_ORDER, rival_client=FORBIDDEN, admin=FORBIDDEN),
    ),
    # Standing claim rules: a team owner's, for its own team; deleting another's is 404.
    Row(
        "POST",
        "/claim-rules",
        table(FORBIDDEN, owner=CREATED, rival_owner=CREATED),
        body={"batches_per_drop": 1},
        check=field_is("team_id", own_team),
    ),
    Row(
        "POST",
        "/claim-rules",
        table(FORBIDDEN, owner=missing("team"), rival_owner=CREATED),
        body=lambda w, c: {"batches_per_drop": 1, "team_id": w.party("tiger")},
        check=field_is("team_id", lambda w, c: w.party("tiger")),
        label="for Tiger",
    ),
    Row(
        "POST",
        "/claim-rules",
        table(FORBIDDEN, owner=CREATED, rival_owner=CREATED),
        body=lambda w, c: {
            "batches_per_drop": 2,
            "order_id": w.lottery,
            "client_id": w.party("horizon"),
            "task_type": "bbox_2d",
            "currency": "CNY",
            "min_unit_price": "0.08",
        },
        check=field_is("order_id", lambda w, c: w.lottery),
        label="for the lottery",
    ),
    Row(
        "POST",
        "/claim-rules",
        table(FORBIDDEN, owner=UNKNOWN_ORDER, rival_owner=UNKNOWN_ORDER),
        body=lambda w, c: {"batches_per_drop": 1, "order_id": w.rival_draft},
        label="for Acme's draft",
    ),
    Row(
        "DELETE",
        "/claim-rules/{lotus_rule}",
        table(missing("claim_rule"), owner=NO_CONTENT),
        check=lambda m, c, a: (
            None
            if m.api.get("/claim-rules", m.world.tokens[c]).body == []
            else "the rule is still there"
        ),
    ),
    Row(
        "DELETE",
        "/claim-rules/{tiger_rule}",
        table(missing("claim_rule"), rival_owner=NO_CONTENT),
    ),
    # Trials: the order's client scores a finished trial batch; every team sees the batch.
    Row(
        "POST",
        "/batches/{tiger_trial}/trial-score",
        table(FORBIDDEN, client=OK, rival_client=missing("batch"), stranger=missing("batch")),
        body={"score": 90, "note": "tight boxes"},
        check=trial_scored,
    ),
    Row(
        "POST",
        "/batches/{lotus_trial}/trial-score",
        table(
            FORBIDDEN,
            client=conflict("trial_not_finished"),
            rival_client=missing("batch"),
            stranger=missing("batch"),
        ),
        body={"score": 90},
    ),
    Row(
        "POST",
        "/batches/{free_batch}/trial-score",
        table(
            FORBIDDEN,
            client=conflict("not_a_trial"),
            rival_client=missing("batch"),
            stranger=missing("batch"),
        ),
        body={"score": 90},
    ),
]


@pytest.mark.parametrize("rows", by_endpoint(WRITES))
def test_writes(app, api, world, rows):
    """Every write endpoint, by every caller, each call on a fresh world."""
    [prepare] = {row.prepare for row in rows}
    matrix = Matrix(app, api, world, prepare=prepare)
    wrong = matrix.run_rows(rows)
    assert not wrong, "\n".join(wrong)
