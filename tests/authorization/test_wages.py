"""Reference wages: everyone signed in reads them; platform admins alone set them."""

import pytest

from tests.authorization.matrix import (
    CREATED,
    FORBIDDEN,
    OK,
    Matrix,
    Row,
    by_endpoint,
    field_is,
    ids_are,
    table,
)
from tests.wages import SHANGHAI

pytestmark = pytest.mark.slow

READS = [
    Row("GET", "/reference-wages", table(OK), check=ids_are(lambda w, c: set())),
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
