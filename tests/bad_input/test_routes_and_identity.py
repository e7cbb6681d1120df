"""Routes and ids that are no object, who is calling (tokens, logging in), and roles."""

import json

import pytest

from tests.bad_input.cases import HUGE_ID, ORDER, POST_ORDER, TEXT, case, run

pytestmark = pytest.mark.slow


# -- routes, identities and roles ----------------------------------------------------------

LOGIN = {"email": "li@example.com", "password": "correct horse battery"}

ROUTE_CASES = [
    # A non-numeric id is no route: 404 in the error shape.
    case("order abc", "client POST /orders/abc/publish", 404, "not_found"),
    case("order -1", "client POST /orders/-1/publish", 404, "not_found"),
    case("batch abc", "owner POST /batches/abc/claim", 404, "not_found"),
    case("rate abc", "owner PUT /orders/abc/piece-rate", 404, "not_found", {"unit_price": "0.06"}),
    case("task abc", "li POST /tasks/abc/submit", 404, "not_found", {"result": {}}),
    case(
        "submission abc",
        "reviewer POST /submissions/abc/review",
        404,
        "not_found",
        {"decision": "accept"},
    ),
    case("invoice order abc", "admin POST /orders/abc/invoices", 404, "not_found"),
    case(
        "invoice abc",
        "admin POST /invoices/abc/payments",
        404,
        "not_found",
        {"amount": "0.11", "reference": "R", "received_on": "2026-03-02"},
    ),
    case("unknown path", "client POST /no-such-thing", 404, "not_found"),
    case("DELETE /orders", "client DELETE /orders", 405, "method_not_allowed"),
    case("PUT /orders", "client PUT /orders", 405, "method_not_allowed", ORDER),
    # A numeric id beyond 64 bits is simply no such object.
    case("publish 10**20", f"client POST /orders/{HUGE_ID}/publish", 404, "order_not_found"),
    case("claim 10**20", f"owner POST /batches/{HUGE_ID}/claim", 404, "batch_not_found"),
    case("invoice 10**20", f"admin POST /orders/{HUGE_ID}/invoices", 404, "order_not_found"),
    case(
        "submit 10**20", f"li POST /tasks/{HUGE_ID}/submit", 404, "task_not_found", {"result": {}}
    ),
    # Who you are comes first: a stranger with a bad body learns only that.
    case("anonymous bad JSON", "anonymous POST /orders", 401, "missing_token", text='{"title":'),
    case("unknown token", "stranger POST /orders", 401, "invalid_token", ORDER),
    case(
        "basic auth",
        "anonymous POST /orders",
        401,
        "missing_token",
        ORDER,
        headers={"Authorization": "Basic bGk6eA=="},
    ),
    case("anonymous payout", "anonymous POST /payout-runs", 401, "missing_token", {"x": 1}),
    case("anonymous log out", "anonymous DELETE /auth/tokens/current", 401, "missing_token"),
    # Roles and parties.
    case("owner orders", "owner POST /orders", 403, "forbidden", ORDER),
    case("annotator orders", "li POST /orders", 403, "forbidden", ORDER),
    case("admin orders", "admin POST /orders", 403, "forbidden", ORDER),
    case(
        "order for the rival",
        POST_ORDER,
        404,
        "client_not_found",
        lambda ids: ORDER | {"client_id": ids["acme"]},
    ),
    # Logging in.
    case(
        "login without password",
        "anonymous POST /auth/tokens",
        422,
        "validation_failed",
        {"email": LOGIN["email"]},
    ),
    case(
        "login e-mail a number",
        "anonymous POST /auth/tokens",
        422,
        "validation_failed",
        LOGIN | {"email": 5},
    ),
    # (A wrong password is counted towards a lock: tests/accounts/test_lockout.py.)
    case(
        "login unknown address",
        "anonymous POST /auth/tokens",
        401,
        "invalid_credentials",
        LOGIN | {"email": "nobody@example.com"},
    ),
    case(
        "login as text/plain",
        "anonymous POST /auth/tokens",
        415,
        "unsupported_media_type",
        text=json.dumps(LOGIN),
        content_type=TEXT,
    ),
]


def test_routes_identities_and_roles(subtests, app, api, cast, story):
    run(subtests, app, api, cast, story, ROUTE_CASES)
