"""Who am I, logging in and logging out."""

import pytest

from tests.authorization.matrix import (
    CALLERS,
    CREATED,
    NO_CONTENT,
    OK,
    PEOPLE,
    Matrix,
    Row,
    World,
    by_endpoint,
    field_is,
    table,
)
from tests.cast import PASSWORD
from tests.support import Response

pytestmark = pytest.mark.slow


def credentials(world: World, caller: str, password: str = PASSWORD) -> dict:
    """The caller's own e-mail; callers without a person log in as Li."""
    person = caller if caller in PEOPLE else "li"
    return {"email": f"{person}@example.com", "password": password}


def logged_in(matrix: Matrix, caller: str, answer: Response) -> str | None:
    person = caller if caller in PEOPLE else "li"
    me = matrix.api.get("/me", answer.body["token"])
    want = matrix.world.user(person)
    if (me.status, answer.body["user"]["id"], (me.body or {}).get("id")) != (200, want, want):
        return f"the new token is {me.status} for user {(me.body or {}).get('id')}, not {want}"
    return None


def logged_out(matrix: Matrix, caller: str, answer: Response) -> str | None:
    """That token is dead; everybody else's still works."""
    gone = matrix.api.get("/me", matrix.world.tokens[caller])
    other = matrix.api.get("/me", matrix.world.tokens["client" if caller == "admin" else "admin"])
    if (gone.status, gone.error_code, other.status) != (401, "invalid_token", 200):
        return f"after logout: own token {gone.status}, another's {other.status}"
    return None


READS = [
    Row("GET", "/me", table(OK), check=field_is("id", lambda w, c: w.user(c))),
]

WRITES = [
    # Tokens: anyone logs in with a password (a token, live or not, is not looked at);
    # logging out revokes the caller's own token only.
    Row(
        "POST",
        "/auth/tokens",
        {caller: CREATED for caller in CALLERS},
        body=credentials,
        check=logged_in,
    ),
    # An address with no account writes nothing; a wrong password counts towards the
    # account's lock (tests/accounts/test_lockout.py), so it changes the user's row.
    Row(
        "POST",
        "/auth/tokens",
        {caller: (401, "invalid_credentials") for caller in CALLERS},
        body={"email": "nobody@example.com", "password": PASSWORD},
        label="no such account",
    ),
    Row("DELETE", "/auth/tokens/current", table(NO_CONTENT), check=logged_out),
]


@pytest.mark.parametrize("rows", by_endpoint(WRITES))
def test_writes(app, api, world, rows):
    """Every write endpoint, by every caller, each call on a fresh world."""
    [prepare] = {row.prepare for row in rows}
    matrix = Matrix(app, api, world, prepare=prepare)
    wrong = matrix.run_rows(rows)
    assert not wrong, "\n".join(wrong)
