"""Reference wages: everyone signed in reads them; platform admins alone set them. What an
hour pays: an annotator her own, a team's owner her team's, an order's client its order's."""

import pytest

from tests.authorization.matrix import (
    CREATED,
    FORBIDDEN,
    LOTUS,
    NOT_THE_TEAM,
    OK,
    TIGER,
    Matrix,
    Row,
    by_endpoint,
    field_is,
    ids_are,
    missing,
    own_team,
    table,
)
from tests.wages import SHANGHAI

pytestmark = pytest.mark.slow

READS = [
    Row("GET", "/reference-wages", table(OK), check=ids_are(lambda w, c: set())),
    Row(
        "GET",
        "/me/earnings/hourly",
        table(FORBIDDEN, annotators=OK),
        check=field_is("team_id", lambda w, c: own_team(w, c)),
    ),
    Row(
        "GET",
        f"/me/earnings/hourly?team_id={TIGER}",
        table(FORBIDDEN, annotators=NOT_THE_TEAM, rival_annotator=OK),
        check=field_is("team_id", lambda w, c: w.party("tiger")),
    ),
    Row(
        "GET",
        f"/teams/{LOTUS}/hourly-pay",
        table(NOT_THE_TEAM, lotus=FORBIDDEN, owner=OK),
        check=field_is("team_id", lambda w, c: w.party("lotus")),
    ),
    Row(
        "GET",
        "/orders/{order}/hourly-pay",
        table(missing("order"), admin=OK, client=OK, lotus=FORBIDDEN),
        check=field_is("order_id", lambda w, c: w.order),
    ),
]

WRITES = [
    Row(
        "POST",
        "/reference-wages",
        table(FORBIDDEN, admin=CREATED),
        body=SHANGHAI,
        check=field_is("hourly_wage", lambda w, c: "24.00"),
    ),
]


@pytest.mark.parametrize("rows", by_endpoint(WRITES))
def test_writes(app, api, world, rows):
    """Every write endpoint, by every caller, each call on a fresh world."""
    matrix = Matrix(app, api, world)
    wrong = matrix.run_rows(rows)
    assert not wrong, "\n".join(wrong)
