"""Items from files: only the order's client adds them; another's order is not there.

The matrix sends no file, so the one caller let through is told the body is not one
(415): the order and the role are checked before the body is read.
"""

import pytest

from tests.authorization.matrix import FORBIDDEN, Matrix, Row, by_endpoint, missing, table

pytestmark = pytest.mark.slow

NOT_A_FILE = (415, "unsupported_media_type")

READS: list[Row] = []

WRITES = [
    Row(
        "POST",
        "/orders/{draft}/items",
        table(missing("order"), admin=FORBIDDEN, client=NOT_A_FILE),
    ),
    Row(
        "POST",
        "/orders/{order}/items",
        table(missing("order"), admin=FORBIDDEN, lotus=FORBIDDEN, client=NOT_A_FILE),
    ),
    Row(
        "POST",
        "/orders/{rival_draft}/items",
        table(missing("order"), admin=FORBIDDEN, rival_client=NOT_A_FILE),
    ),
]


@pytest.mark.parametrize("rows", by_endpoint(WRITES))
def test_writes(app, api, world, rows):
    """Each caller on each kind of order: a draft, a published one, another client's."""
    matrix = Matrix(app, api, world)
    wrong = matrix.run_rows(rows)
    assert not wrong, "\n".join(wrong)
