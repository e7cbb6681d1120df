"""A team's invites (its owner's), accepting one (anyone holding its token, as the invited
address), and members deactivated and back (the owner's)."""

import pytest

from tests.authorization.matrix import (
    ANONYMOUS,
    CREATED,
    FORBIDDEN,
    LOTUS,
    NOT_THE_TEAM,
    OK,
    REVOKED,
    TIGER,
    UNKNOWN,
    Matrix,
    Row,
    World,
    by_endpoint,
    conflict,
    field_is,
    ids_are,
    missing,
    table,
)
from tests.support import ApiClient
from tests.workers.invite_kit import PASSWORD, invited, mailed_token

pytestmark = pytest.mark.slow

LI = "{cast.user_ids[li]}"


def prepare_invite(api: ApiClient, world: World) -> None:
    """Lotus's owner invites mei@example.com: `invite`, and `invite_token` from her mail."""
    world.invite = invited(api, world.cast, "mei@example.com")["id"]
    world.invite_token = mailed_token(api.client.application, "mei@example.com")


def accepted_as_mei(matrix: Matrix, caller: str, answer) -> str | None:
    user = answer.body["user"]
    joined = (user["email"], answer.body["team_id"], answer.body["role"])
    want = ("mei@example.com", matrix.world.party("lotus"), "annotator")
    me = matrix.api.get("/me", answer.body["token"])
    return None if joined == want and me.status == 200 else f"accepted {joined}, /me {me.status}"


def prepare_invites_of_both_teams(api: ApiClient, world: World) -> None:
    """Lotus invites mei@example.com (`invite`), Tiger chen@example.com (`tiger_invite`)."""
    world.invite = invited(api, world.cast, "mei@example.com")["id"]
    world.tiger_invite = invited(api, world.cast, "chen@example.com", team="tiger")["id"]


# Anyone may accept with the token; a caller signed in as another address is refused.
ACCEPT_WANT = {
    **table((403, "invite_for_another_address")),
    ANONYMOUS: CREATED,
    UNKNOWN: (401, "invalid_token"),
    REVOKED: (401, "invalid_token"),
}

READS = [
    Row(
        "GET",
        f"/teams/{LOTUS}/invites",
        table(NOT_THE_TEAM, lotus=FORBIDDEN, owner=OK),
        check=ids_are(lambda w, c: set()),
    ),
    Row(
        "GET",
        f"/teams/{TIGER}/invites?status=pending",
        table(NOT_THE_TEAM, tiger=FORBIDDEN, rival_owner=OK),
        check=ids_are(lambda w, c: set()),
    ),
]

WRITES = [
    Row(
        "POST",
        f"/teams/{LOTUS}/invites",
        table(NOT_THE_TEAM, lotus=FORBIDDEN, owner=CREATED),
        body={"email": "mei@example.com", "role": "annotator"},
        check=field_is("status", lambda w, c: "pending"),
    ),
    Row(
        "DELETE",
        f"/teams/{LOTUS}/invites/{{invite}}",
        table(NOT_THE_TEAM, lotus=FORBIDDEN, owner=OK),
        check=field_is("status", lambda w, c: "revoked"),
        prepare=prepare_invite,
    ),
    Row(
        "DELETE",
        f"/teams/{TIGER}/invites/{{invite}}",
        table(NOT_THE_TEAM, tiger=FORBIDDEN, rival_owner=missing("invite")),
        label="Lotus's invite, under Tiger",
        prepare=prepare_invite,
    ),
    Row(
        "POST",
        "/invites/accept",
        ACCEPT_WANT,
        body=lambda w, c: {"token": w.invite_token, "name": "Mei", "password": PASSWORD},
        check=accepted_as_mei,
        prepare=prepare_invite,
    ),
    Row(
        "POST",
        f"/teams/{LOTUS}/members/{LI}/deactivate",
        table(NOT_THE_TEAM, lotus=FORBIDDEN, owner=OK),
        check=field_is("active", lambda w, c: False),
    ),
    Row(
        "POST",
        f"/teams/{TIGER}/members/{LI}/deactivate",
        table(NOT_THE_TEAM, tiger=FORBIDDEN, rival_owner=missing("member")),
        label="Lotus's annotator, under Tiger",
    ),
    Row(
        "POST",
        f"/teams/{LOTUS}/members/{LI}/reactivate",
        table(NOT_THE_TEAM, lotus=FORBIDDEN, owner=conflict("not_deactivated")),
    ),
]

# The shared world has no invites (READS above); with one in each team, a leak shows.
INVITED_READS = [
    Row(
        "GET",
        f"/teams/{LOTUS}/invites",
        table(NOT_THE_TEAM, lotus=FORBIDDEN, owner=OK),
        check=ids_are(lambda w, c: {w.invite}),
        label="each team invited one",
    ),
    Row(
        "GET",
        f"/teams/{TIGER}/invites?status=pending",
        table(NOT_THE_TEAM, tiger=FORBIDDEN, rival_owner=OK),
        check=ids_are(lambda w, c: {w.tiger_invite}),
        label="each team invited one",
    ),
]


def test_each_owner_reads_her_own_teams_invites_only(app, api, world):
    matrix = Matrix(app, api, world, prepare=prepare_invites_of_both_teams)
    wrong = matrix.run_rows(INVITED_READS)
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("rows", by_endpoint(WRITES))
def test_writes(app, api, world, rows):
    """Every write endpoint, by every caller, each call on a fresh world."""
    [prepare] = {row.prepare for row in rows}
    matrix = Matrix(app, api, world, prepare=prepare)
    wrong = matrix.run_rows(rows)
    assert not wrong, "\n".join(wrong)
