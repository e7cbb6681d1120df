"""Every write endpoint, and every read of the annotators' side and of collection, has a
refused case in one of this package's tables."""

import importlib
import pkgutil

import pytest
from werkzeug.exceptions import HTTPException

import tests.bad_input
from tests.bad_input.cases import Case

pytestmark = pytest.mark.slow


def case_tables() -> dict[str, list[Case]]:
    """Every `*_CASES` table of every module of this package, by module and name."""
    tables = {}
    for found in pkgutil.iter_modules(tests.bad_input.__path__):
        if found.name == "conftest":
            continue
        module = importlib.import_module(f"{tests.bad_input.__name__}.{found.name}")
        for name, cases in vars(module).items():
            if name.endswith("_CASES"):
                tables[f"{found.name}.{name}"] = cases
    return tables


def test_every_write_and_every_new_read_has_bad_input_here(app):
    """A write endpoint, or a read of the annotators' side, without a refused case in
    this package fails here: bad input to it would go untested."""
    adapter = app.url_map.bind("localhost")

    class AnyId(dict):
        def __missing__(self, key):
            return "1"

    covered = set()
    for cases in case_tables().values():
        for bad in cases:
            _, method, path = bad.route.split()
            try:
                rule, _ = adapter.match(
                    "/api/v1" + path.format_map(AnyId()).split("?")[0],
                    method=method,
                    return_rule=True,
                )
            except HTTPException:  # ids that are no route, methods the route lacks
                continue
            covered.add((method, rule.rule.removeprefix("/api/v1")))
    served = {
        (method, rule.rule.removeprefix("/api/v1"))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"GET", "HEAD", "OPTIONS"}
    }
    assert served - covered == set()
    assert NEW_READS - covered == set()


# The reads of the annotators' side (issue 5) and of collection, each with cases above.
NEW_READS = {
    ("GET", route)
    for route in (
        "/task-types",
        "/task-types/<key>",
        "/teams/<int:team_id>/levels",
        "/teams/<int:team_id>/members",
        "/teams/<int:team_id>/members/<int:user_id>/levels",
        "/batches/<int:batch_id>/sample",
        "/batches/<int:batch_id>/reviews",
        "/submissions/<int:submission_id>/decisions",
        "/disputes",
        "/disputes/<int:dispute_id>",
        "/me/earnings",
        "/me/earnings/days",
        "/me/earnings/statement",
        "/teams/<int:team_id>/earnings",
        "/tasks",
        "/submissions",
        # Money that arrived and went back, invoices as CSV, the reconciliation.
        "/payments",
        "/payments/<int:payment_id>",
        "/payments/<int:payment_id>/reversals",
        "/invoices",
        "/invoices/<int:invoice_id>",
        "/invoices/<int:invoice_id>/credit-notes",
        "/reconciliation",
        # Receivables: aging, the dunning schedule, collection, holds, records, mail, audit.
        "/receivables/aging",
        "/dunning/steps",
        "/invoices/<int:invoice_id>/collection",
        "/credit-holds",
        "/clients/<int:client_id>/credit-holds",
        "/clients/<int:client_id>/payment-record",
        "/payment-records",
        "/outbox",
        "/audit-log",
        # Results out.
        "/orders/<int:order_id>/results",
        # What an hour pays.
        "/me/earnings/hourly",
        "/teams/<int:team_id>/hourly-pay",
        "/orders/<int:order_id>/hourly-pay",
    )
}
