"""The matrix as a whole: the rows of every area module of this package cover every
endpoint and every caller, and every read runs, by every caller, on one world."""

import importlib
import pkgutil
import re

import pytest

import tests.authorization
from tests.authorization.matrix import CALLERS, Matrix, Row, snapshot

pytestmark = pytest.mark.slow


def area_modules() -> list:
    """Every module of this package but the conftest, the machinery and this one; each
    exports its rows as READS and WRITES."""
    skip = {"conftest", "matrix", __name__.rpartition(".")[2]}
    return [
        importlib.import_module(f"{tests.authorization.__name__}.{found.name}")
        for found in pkgutil.iter_modules(tests.authorization.__path__)
        if found.name not in skip
    ]


MODULES = area_modules()
READS: list[Row] = [row for module in MODULES for row in module.READS]
WRITES: list[Row] = [row for module in MODULES for row in module.WRITES]
ROWS = READS + WRITES
ROW_NAMES = [row.name for row in ROWS]
assert len(set(ROW_NAMES)) == len(ROW_NAMES), "two rows share a name"


def test_the_matrix_covers_every_endpoint_and_every_caller(app):
    """A new endpoint, or a row that names an endpoint that is gone, fails here."""
    served = {
        (method, re.sub(r"<[^>]*>", "{}", rule.rule.removeprefix("/api/v1")))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    covered = {(row.method, row.route) for row in ROWS}
    assert covered == served, (sorted(served - covered), sorted(covered - served))
    for row in ROWS:
        assert list(row.want) == CALLERS, row.name


def test_reads(app, api, world):
    """Every GET, by every caller, on one world; reading writes nothing."""
    matrix = Matrix(app, api, world)
    wrong = matrix.run_rows(READS)
    changed = sorted(t for t, rows in snapshot(app).items() if rows != matrix.fresh[t])
    assert not wrong and not changed, "\n".join([*wrong, f"reads changed {changed}"])
