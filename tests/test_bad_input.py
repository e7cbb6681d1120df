"""Bad requests get a clear JSON error with the right status and code, and write nothing."""

import json

import pytest

from tests.flows import claim, post_order, review, set_rate, submit
from tests.support import row_counts

pytestmark = pytest.mark.slow

ORDER = {
    "title": "Boxes",
    "task_type": "bbox_2d",
    "unit_price": "0.10",
    "currency": "CNY",
    "payment_terms_days": 30,
    "batch_size": 5,
    "items": [{"ref": "s3://a.jpg"}],
}


def refused(app, api, method, path, token, status, code, **kwargs):
    """Call, and assert the error's status, code and shape, and that no table changed."""
    before = row_counts(app)
    answer = api.call(method, path, token, **kwargs)
    assert (answer.status, answer.error_code) == (status, code), answer.text[:500]
    assert set(answer.body["error"]) == {"code", "message", "details"}
    assert row_counts(app) == before
    return answer


def with_(**changes):
    body = dict(ORDER)
    for key, value in changes.items():
        if value is ...:
            del body[key]
        else:
            body[key] = value
    return body


ORDER_CASES = {
    **{
        f"missing {field}": with_(**{field: ...})
        for field in (
            "title",
            "task_type",
            "unit_price",
            "currency",
            "payment_terms_days",
            "batch_size",
            "items",
        )
    },
    "zero price": with_(unit_price="0"),
    "negative price": with_(unit_price="-0.10"),
    "finer than micros": with_(unit_price="0.0000001"),
    "float finer than micros": with_(unit_price=json.loads("1e-7")),
    "huge exponent": with_(unit_price="1e400"),
    "NaN string": with_(unit_price="NaN"),
    "Infinity string": with_(unit_price="Infinity"),
    "not a number": with_(unit_price="ten fen"),
    "price as a list": with_(unit_price=["0.10"]),
    "price as a bool": with_(unit_price=True),
    "price as an object": with_(unit_price={"amount": "0.10"}),
    "above the price cap": with_(unit_price=1_000_001),
    "unknown currency": with_(currency="XXY"),
    "lower-case currency": with_(currency="cny"),
    "currency as a number": with_(currency=156),
    "negative terms": with_(payment_terms_days=-1),
    "terms over a year": with_(payment_terms_days=366),
    "fractional terms": with_(payment_terms_days=json.loads("30.5")),
    "terms as a string": with_(payment_terms_days="30"),
    "zero batch size": with_(batch_size=0),
    "astronomical batch size": with_(batch_size=10**30),
    "no items": with_(items=[]),
    "items not a list": with_(items="s3://a.jpg"),
    "item without ref": with_(items=[{"payload": {}}]),
    "empty ref": with_(items=[{"ref": ""}]),
    "ref as a number": with_(items=[{"ref": 5}]),
    "too many items": with_(items=[{"ref": "x"}] * 100_001),
    "unknown field": with_(priority="high"),
}


@pytest.mark.parametrize("case", ORDER_CASES, ids=list(ORDER_CASES))
def test_an_invalid_order_is_refused_whole(app, api, cast, case):
    answer = refused(
        app, api, "POST", "/orders", cast.client, 422, "validation_failed", json=ORDER_CASES[case]
    )
    assert answer.body["error"]["details"]["fields"]["json"]


RAW_BODIES = {
    "truncated JSON": (b'{"title":', "application/json", 400, "malformed_json"),
    "NaN literal": (b'{"unit_price": NaN}', "application/json", 400, "malformed_json"),
    "not UTF-8": (b'{"title": "\xff\xfe"}', "application/json", 400, "malformed_json"),
    "a JSON list": (b"[]", "application/json", 422, "validation_failed"),
    "a JSON string": (b'"order"', "application/json", 422, "validation_failed"),
    "form-encoded": (
        b"title=Boxes",
        "application/x-www-form-urlencoded",
        415,
        "unsupported_media_type",
    ),
    "plain text": (json.dumps(ORDER).encode(), "text/plain", 415, "unsupported_media_type"),
}


@pytest.mark.parametrize("case", RAW_BODIES, ids=list(RAW_BODIES))
def test_a_body_that_is_not_a_json_object_is_refused(app, api, cast, case):
    data, content_type, status, code = RAW_BODIES[case]
    refused(
        app, api, "POST", "/orders", cast.client, status, code, data=data, content_type=content_type
    )


def test_unknown_routes_and_methods_answer_in_the_error_shape(app, api, cast):
    refused(app, api, "GET", "/orders/abc", cast.client, 404, "not_found")
    refused(app, api, "GET", "/no-such-thing", cast.client, 404, "not_found")
    refused(app, api, "DELETE", "/orders", cast.client, 405, "method_not_allowed")


@pytest.fixture
def work(api, cast):
    """An order Lotus works: two of Li's items submitted (one accepted), one in her hands."""
    order = post_order(api, cast.client, items=10, batch_size=5)
    claim(api, cast.owner, order, batches=1)
    set_rate(api, cast.owner, order, "0.06")
    accepted, waiting = submit(api, cast.li, 2)
    review(api, cast.reviewer, accept=[accepted])
    held = api.post("/tasks/next", cast.li, {"count": 1}).body[0]["id"]
    free, taken = None, None
    for batch in api.get(f"/orders/{order}/batches", cast.client).body:
        if batch["status"] == "released":
            free = free or batch["id"]
        else:
            taken = batch["id"]
    return {
        "order": order,
        "accepted": accepted,
        "waiting": waiting,
        "held": held,
        "free_batch": free,
        "taken_batch": taken,
    }


def test_orders_batches_and_rates(app, api, cast, work):
    draft = post_order(api, cast.client, items=1, batch_size=1, publish=False)
    refused(app, api, "POST", "/orders/999999/publish", cast.client, 404, "order_not_found")
    refused(
        app, api, "POST", f"/orders/{work['order']}/publish", cast.client, 409, "order_not_draft"
    )
    refused(app, api, "POST", f"/orders/{draft}/publish", cast.rival_client, 404, "order_not_found")
    refused(app, api, "POST", "/batches/999999/claim", cast.owner, 404, "batch_not_found")
    refused(
        app,
        api,
        "POST",
        f"/batches/{work['taken_batch']}/claim",
        cast.rival_owner,
        409,
        "batch_taken",
    )
    refused(
        app,
        api,
        "POST",
        f"/batches/{work['free_batch']}/claim",
        cast.owner,
        422,
        "validation_failed",
        json={"team_id": "lotus"},
    )
    refused(
        app,
        api,
        "POST",
        f"/batches/{work['free_batch']}/claim",
        cast.owner,
        404,
        "team_not_found",
        json={"team_id": cast.party_ids["tiger"]},
    )
    rate = f"/orders/{work['order']}/piece-rate"
    refused(
        app,
        api,
        "PUT",
        rate,
        cast.owner,
        409,
        "rate_above_contract_price",
        json={"unit_price": "0.11"},
    )
    for bad in ("0", "0.0000001", "-1", None):
        refused(
            app, api, "PUT", rate, cast.owner, 422, "validation_failed", json={"unit_price": bad}
        )
    refused(
        app, api, "PUT", rate, cast.rival_owner, 404, "order_not_found", json={"unit_price": "0.05"}
    )
    assert api.get("/batches", cast.owner).body[0]["status"] == "released"


def test_tasks_and_reviews(app, api, cast, work):
    for count in (0, 501, "ten", json.loads("1.5")):
        refused(
            app,
            api,
            "POST",
            "/tasks/next",
            cast.li,
            422,
            "validation_failed",
            json={"count": count},
        )
    refused(
        app,
        api,
        "POST",
        f"/tasks/{work['held']}/submit",
        cast.wang,
        404,
        "task_not_found",
        json={"result": {}},
    )
    refused(
        app,
        api,
        "POST",
        f"/tasks/{work['held']}/submit",
        cast.li,
        422,
        "validation_failed",
        json={"result": [1, 2]},
    )
    [submitted] = api.get("/tasks?status=accepted", cast.li).body
    refused(
        app,
        api,
        "POST",
        f"/tasks/{submitted['id']}/submit",
        cast.li,
        409,
        "task_not_open",
        json={"result": {}},
    )

    one = f"/submissions/{work['waiting']}/review"
    refused(
        app, api, "POST", one, cast.reviewer, 422, "validation_failed", json={"decision": "reject"}
    )
    refused(
        app, api, "POST", one, cast.reviewer, 422, "validation_failed", json={"decision": "maybe"}
    )
    refused(
        app,
        api,
        "POST",
        "/submissions/999999/review",
        cast.reviewer,
        404,
        "submission_not_found",
        json={"decision": "accept"},
    )
    refused(
        app,
        api,
        "POST",
        f"/submissions/{work['accepted']}/review",
        cast.reviewer,
        409,
        "already_reviewed",
        json={"decision": "reject", "reason": "changed my mind"},
    )
    # All or nothing: a bad last decision leaves the good first one unapplied.
    refused(
        app,
        api,
        "POST",
        "/reviews",
        cast.reviewer,
        404,
        "submission_not_found",
        json={
            "decisions": [
                {"submission_id": work["waiting"], "decision": "accept"},
                {"submission_id": 999999, "decision": "accept"},
            ]
        },
    )
    refused(
        app,
        api,
        "POST",
        "/reviews",
        cast.reviewer,
        409,
        "duplicate_decision",
        json={"decisions": [{"submission_id": work["waiting"], "decision": "accept"}] * 2},
    )
    refused(
        app,
        api,
        "POST",
        "/reviews",
        cast.reviewer,
        422,
        "validation_failed",
        json={"decisions": []},
    )
    waiting = api.get("/submissions", cast.reviewer).body
    assert [(s["id"], s["status"]) for s in waiting] == [(work["waiting"], "submitted")]


def test_invoices_payments_and_payouts(app, api, cast, work):
    invoice = api.post(f"/orders/{work['order']}/invoices", cast.admin).body  # 0.10 + 0.01
    assert invoice["total"] == "0.11"
    refused(
        app, api, "POST", f"/orders/{work['order']}/invoices", cast.admin, 409, "nothing_to_invoice"
    )
    pay = f"/invoices/{invoice['id']}/payments"
    good = {"amount": "0.11", "reference": "ICBC-1", "received_on": "2026-03-03"}
    for amount in ("0.105", "-5", "0", "1e400"):
        refused(
            app,
            api,
            "POST",
            pay,
            cast.admin,
            422,
            "invalid_amount",
            json={**good, "amount": amount},
        )
    for status, code, body in [
        (409, "amount_mismatch", {**good, "amount": "0.10"}),
        (422, "validation_failed", {**good, "received_on": "2026-13-45"}),
        (422, "validation_failed", {"amount": "0.11", "reference": "ICBC-1"}),
    ]:
        refused(app, api, "POST", pay, cast.admin, status, code, json=body)
    refused(
        app,
        api,
        "POST",
        "/invoices/999999/payments",
        cast.admin,
        404,
        "invoice_not_found",
        json=good,
    )
    assert api.post(pay, cast.admin, good).status == 201
    before = row_counts(app)
    again = api.post(pay, cast.admin, good)
    assert again.status == 200 and row_counts(app) == before  # the same transfer, recorded once
    refused(
        app, api, "POST", pay, cast.admin, 409, "reference_reused", json={**good, "amount": "0.12"}
    )
    refused(
        app, api, "POST", pay, cast.admin, 409, "invoice_paid", json={**good, "reference": "ICBC-2"}
    )
    refused(
        app,
        api,
        "POST",
        "/payout-runs",
        cast.admin,
        422,
        "validation_failed",
        json={"currency": "ZZZ"},
    )
    refused(
        app,
        api,
        "POST",
        "/payout-runs",
        cast.admin,
        422,
        "invalid_amount",
        json={"currency": "CNY", "minimum": "0.001"},
    )
