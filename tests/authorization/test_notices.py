"""Webhook endpoints and their delivery logs (a client's admins, a team's owner: their own
party's; another party's is 404, a member in another role 403), and each user's own
notice preferences."""

import pytest

from tests.authorization.matrix import (
    CREATED,
    FORBIDDEN,
    NO_CONTENT,
    OK,
    Matrix,
    Row,
    World,
    by_endpoint,
    field_is,
    ids_are,
    missing,
    per_caller,
    table,
)
from tests.support import ApiClient

pytestmark = pytest.mark.slow

NOT_THE_ENDPOINT = missing("webhook_endpoint")
HOOK = {"url": "https://hooks.example.com/piecework", "events": ["*"]}
# The world has no endpoint: any id (the order's, here) is nobody's, 404 to everybody.
NOBODYS = "{order}"


def prepare_endpoints(api: ApiClient, world: World) -> None:
    """Lotus's owner and Horizon's admin each register an endpoint: `lotus_endpoint`,
    `horizon_endpoint`."""
    for attribute, person in (("lotus_endpoint", "owner"), ("horizon_endpoint", "client")):
        answer = api.post("/webhook-endpoints", world.tokens[person], HOOK)
        assert answer.status == 201, answer.body
        setattr(world, attribute, answer.body["id"])


LOTUS_ONLY = table(NOT_THE_ENDPOINT, lotus=FORBIDDEN, owner=OK)
MANAGERS = {"client", "owner", "rival_client", "rival_owner"}

READS = [
    Row(
        "GET",
        "/webhook-endpoints",
        table(FORBIDDEN, **dict.fromkeys(MANAGERS, OK)),
        check=ids_are(lambda w, c: set()),
    ),
    Row("GET", f"/webhook-endpoints/{NOBODYS}", table(NOT_THE_ENDPOINT), label="none"),
    Row("GET", f"/webhook-endpoints/{NOBODYS}/deliveries", table(NOT_THE_ENDPOINT), label="none"),
    Row(
        "GET",
        "/me/notice-preferences",
        table(OK),
        check=field_is("drop_released_email", lambda w, c: False),
    ),
]

ENDPOINT_READS = [
    Row(
        "GET",
        "/webhook-endpoints",
        table(FORBIDDEN, **dict.fromkeys(MANAGERS, OK)),
        check=ids_are(
            per_caller(owner=lambda w: {w.lotus_endpoint}, client=lambda w: {w.horizon_endpoint})
        ),
        label="registered",
    ),
    Row("GET", "/webhook-endpoints/{lotus_endpoint}", LOTUS_ONLY),
    Row(
        "GET",
        "/webhook-endpoints/{horizon_endpoint}/deliveries",
        table(NOT_THE_ENDPOINT, client=OK),
        check=ids_are(lambda w, c: set()),
    ),
]

WRITES = [
    Row(
        "POST",
        "/webhook-endpoints",
        table(FORBIDDEN, **dict.fromkeys(MANAGERS, CREATED)),
        body=HOOK,
        check=field_is("enabled", lambda w, c: True),
        prepare=prepare_endpoints,
    ),
    Row(
        "PATCH",
        "/webhook-endpoints/{lotus_endpoint}",
        LOTUS_ONLY,
        body={"enabled": False},
        check=field_is("enabled", lambda w, c: False),
        prepare=prepare_endpoints,
    ),
    Row(
        "DELETE",
        "/webhook-endpoints/{lotus_endpoint}",
        table(NOT_THE_ENDPOINT, lotus=FORBIDDEN, owner=NO_CONTENT),
        prepare=prepare_endpoints,
    ),
    Row(
        "POST",
        "/webhook-endpoints/{horizon_endpoint}/rotate-secret",
        table(NOT_THE_ENDPOINT, client=OK),
        check=field_is("id", lambda w, c: w.horizon_endpoint),
        prepare=prepare_endpoints,
    ),
    Row(
        "PUT",
        "/me/notice-preferences",
        table(OK),
        body={"lead_minutes": 15, "earnings_email": False},
        check=field_is("lead_minutes", lambda w, c: 15),
    ),
    Row(
        "PUT",
        "/me/notice-preferences",
        table(FORBIDDEN, owner=OK, rival_owner=OK),
        body={"drop_released_email": True},
        check=field_is("drop_released_email", lambda w, c: True),
        label="drop e-mail",
    ),
]


def test_endpoints_are_read_by_their_own_partys_managers(app, api, world):
    matrix = Matrix(app, api, world, prepare=prepare_endpoints)
    wrong = matrix.run_rows(ENDPOINT_READS)
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("rows", by_endpoint(WRITES))
def test_writes(app, api, world, rows):
    """Every write endpoint, by every caller, each call on a fresh world."""
    [prepare] = {row.prepare for row in rows}
    matrix = Matrix(app, api, world, prepare=prepare)
    wrong = matrix.run_rows(rows)
    assert not wrong, "\n".join(wrong)
