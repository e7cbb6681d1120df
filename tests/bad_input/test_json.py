"""Bodies that are no JSON object, and JSON numbers and free-form JSON that must be read
exactly."""

import pytest

from tests.bad_input.cases import (
    FORM,
    JSON,
    POST_ORDER,
    TEXT,
    Case,
    case,
    order_json,
    raw,
    run,
    story_view,
)
from tests.flows import review
from tests.support import dec

pytestmark = pytest.mark.slow


# -- POST /orders: bodies ----------------------------------------------------------------


def body_case(case_id, text, status, code, content_type=JSON) -> Case:
    return case(case_id, POST_ORDER, status, code, text=text, content_type=content_type)


ORDER_BODY_CASES = [
    body_case("truncated", '{"title":', 400, "malformed_json"),
    body_case("no closing brace", order_json()[:-1], 400, "malformed_json"),
    body_case("extra brace", order_json() + "}", 400, "malformed_json"),
    body_case("single quotes", "{'title': 'Boxes'}", 400, "malformed_json"),
    body_case("NaN literal", '{"unit_price": NaN}', 400, "malformed_json"),
    body_case("NaN price", order_json(unit_price="NaN"), 400, "malformed_json"),
    body_case("Infinity price", order_json(unit_price="Infinity"), 400, "malformed_json"),
    body_case("-Infinity price", order_json(unit_price="-Infinity"), 400, "malformed_json"),
    body_case("not UTF-8", b'{"title": "\xff\xfe"}', 400, "malformed_json"),
    body_case("binary", b"\x00\x01\x02", 400, "malformed_json"),
    body_case("integer of 5,000 digits", order_json(batch_size="9" * 5000), 400, "malformed_json"),
    body_case(
        "nested 100,000 deep",
        order_json(title="[" * 100_000 + "]" * 100_000),
        400,
        "malformed_json",
    ),
    body_case("empty", "", 422, "validation_failed"),
    body_case("a list", "[]", 422, "validation_failed"),
    body_case("the order in a list", f"[{order_json()}]", 422, "validation_failed"),
    body_case("a string", '"x"', 422, "validation_failed"),
    body_case("a number", "42", 422, "validation_failed"),
    body_case("null", "null", 422, "validation_failed"),
    body_case("form-encoded", "title=Boxes", 415, "unsupported_media_type", FORM),
    body_case(
        "multipart",
        b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nBoxes\r\n--b--\r\n',
        415,
        "unsupported_media_type",
        "multipart/form-data; boundary=b",
    ),
    body_case("JSON as text/plain", order_json(), 415, "unsupported_media_type", TEXT),
    body_case("no content type", order_json(), 415, "unsupported_media_type", None),
    body_case("application/xml", order_json(), 415, "unsupported_media_type", "application/xml"),
]


def test_a_body_that_is_not_a_json_object_is_refused(subtests, app, api, cast, story):
    run(subtests, app, api, cast, story, ORDER_BODY_CASES)


def test_free_form_json_keeps_its_fractions(api, cast, story):
    """Item payloads and task results are not money: their fractions are plain JSON numbers."""
    items = (
        '[{"ref": "s3://a.jpg", "payload": '
        '{"width": 1920, "height": 1080, "crop": [0.25, 0.5], "zoom": 1.5, "n": 1e3}}]'
    )
    order = api.post("/orders", cast.client, **raw(order_json(items=items)))
    assert order.status == 201, order.text[:500]
    result = '{"result": {"boxes": [{"x": 10.5, "y": 20.25, "w": 3e1, "h": 40.0}]}}'
    answer = api.post(f"/tasks/{story['held_task']}/submit", cast.li, **raw(result))
    assert answer.status == 201, answer.text[:500]
    expected = {"boxes": [{"x": dec("10.5"), "y": dec("20.25"), "w": 30, "h": 40}]}
    assert answer.body["result"] == expected
    [stored] = [
        s for s in api.get("/submissions", cast.reviewer).body if s["id"] == answer.body["id"]
    ]
    assert stored["result"] == expected


# -- what must be accepted -----------------------------------------------------------------

JSON_NUMBER_PRICES = [
    ("0.1", "0.1"),
    ("0.10", "0.1"),
    ("0.07", "0.07"),  # as a binary float: 0.07000000000000000666...
    ("0.055", "0.055"),
    ("1.005", "1.005"),  # as a binary float: 1.00499999999999989...
    ("0.000001", "0.000001"),
    ("1e-6", "0.000001"),
    ("123456.789012", "123456.789012"),
    ("1000000", "1000000"),  # the cap itself
    ("1e6", "1000000"),
]


def test_a_price_written_as_a_json_number_is_read_exactly(subtests, api, cast):
    for literal, stored in JSON_NUMBER_PRICES:
        with subtests.test(literal):
            answer = api.post("/orders", cast.client, **raw(order_json(unit_price=literal)))
            assert (answer.status, answer.body["unit_price"]) == (201, stored), answer.text[:500]
            order = api.get(f"/orders/{answer.body['id']}", cast.client).body
            assert order["unit_price"] == stored


def test_refused_rates_leave_the_piece_rate_and_a_json_number_rate_is_exact(api, cast, story):
    rate = f"/orders/{story['order']}/piece-rate"
    for value in ("0.11", "0", "0.0000001"):
        assert api.put(rate, cast.owner, {"unit_price": value}).status in (409, 422)
    review(api, cast.reviewer, accept=[story["waiting"]])
    answer = api.put(rate, cast.owner, **raw('{"unit_price": 0.07}'))
    assert (answer.status, answer.body["unit_price"]) == (200, "0.07")
    review(api, cast.reviewer, accept=[story["waiting_2"]])
    accepted = dict(story_view(api, cast, story)["accepted"])
    assert [accepted[story["waiting"]], accepted[story["waiting_2"]]] == ["0.06", "0.07"]
