"""Task types: an order must fit its task type and review terms, and a client's own task
type is checked before it is stored."""

from typing import Any

import pytest

from tests.bad_input.cases import (
    ERROR_TYPES,
    HUGE_ID,
    ORDER,
    POST_ORDER,
    TEXT,
    Case,
    case,
    order_json,
    run_work,
)

pytestmark = pytest.mark.slow


# POST /orders: the task type, its options and item payloads, review terms, task leases.
RATINGS = ORDER | {"task_type": "rating_1_5", "task_options": {"error_types": ERROR_TYPES}}


def terms_case(case_id, field, **changes) -> Case:
    """The valid order of boxes with changed terms, refused for `field` (validation)."""
    return case(case_id, POST_ORDER, 422, "validation_failed", ORDER | changes, field=field)


def raw_terms_case(case_id, field, **literals) -> Case:
    return case(
        case_id, POST_ORDER, 422, "validation_failed", text=order_json(**literals), field=field
    )


def review_case(case_id, **terms) -> Case:
    return terms_case(f"review {case_id}", "review", review=terms)


def options_case(case_id, options, base=RATINGS, **details) -> Case:
    body = base | {"task_options": options}
    if options is ...:
        body = {key: value for key, value in base.items() if key != "task_options"}
    return case(case_id, POST_ORDER, 422, "invalid_task_options", body, details=details or None)


def payload_case(case_id, index, *payloads, base=ORDER) -> Case:
    """An order whose items carry these payloads (None: no payload); item `index` breaks
    the task type's item_schema."""
    items = [
        {"ref": f"s3://{n}.jpg"} | ({} if payload is None else {"payload": payload})
        for n, payload in enumerate(payloads)
    ]
    return case(
        case_id,
        POST_ORDER,
        422,
        "invalid_item_payload",
        base | {"items": items},
        details={"item_index": index},
    )


IMAGE_640 = {"width": 640, "height": 480}
POLYGON_ORDER = ORDER | {"task_type": "polygon_2d", "task_options": {"classes": ["car"]}}

ORDER_TERMS_CASES = [
    # Task types: the platform's, or the client's own.
    *(
        case(
            f"task type {key}",
            POST_ORDER,
            422,
            "unknown_task_type",
            ORDER | {"task_type": key},
            details={"known": ["audio_score_0_2", "bbox_2d", "rating_1_5"]},
        )
        for key in ("polygon_3d", "BBOX_2D", "bbox_2d ", "acme_polygon")
    ),
    # The task type's options: rating_1_5 needs a list of error types.
    options_case("rating without options", ...),
    options_case("rating options null", None),
    options_case("rating options empty", {}),
    options_case("rating no error types", {"error_types": []}),
    options_case("rating error types twice", {"error_types": ["unsafe", "unsafe"]}),
    options_case("rating error type a number", {"error_types": [5]}, path="error_types/0"),
    options_case("rating error types a string", {"error_types": "unsafe"}),
    options_case("rating error type of 65", {"error_types": ["x" * 65]}),
    options_case("rating 21 error types", {"error_types": [f"e{n}" for n in range(21)]}),
    options_case("rating unknown option", {"error_types": ["unsafe"], "labels": ["car"]}),
    options_case(
        "polygons without classes", {"colours": 3}, base=POLYGON_ORDER, keyword="required"
    ),
    terms_case("options a list", "task_options", task_options=["unsafe"]),
    terms_case("options a string", "task_options", task_options="unsafe"),
    terms_case("options with NUL key", "task_options", task_options={"a\x00": 1}),
    raw_terms_case("options 1e5000", "task_options", task_options='{"n": 1e5000}'),
    # Item payloads: bbox_2d needs every image's size in pixels.
    payload_case("box item without payload", 0, None),
    payload_case("box item without height", 0, {"width": 640}),
    payload_case("second box item without size", 1, IMAGE_640, {"lane": "left"}),
    payload_case("box width 0", 0, {"width": 0, "height": 480}),
    payload_case("box width -640", 0, {"width": -640, "height": 480}),
    payload_case("box width '640'", 0, {"width": "640", "height": 480}),
    payload_case("box width 640.5", 0, {"width": 640.5, "height": 480}),
    payload_case("box width true", 0, {"width": True, "height": 480}),
    payload_case("box height null", 0, {"width": 640, "height": None}),
    payload_case("last of three box items", 2, IMAGE_640, IMAGE_640, {"width": 640}),
    payload_case("polygon item without size", 0, {}, base=POLYGON_ORDER),
    # Review terms: a share of 0.0001 to 1 sampled, a threshold of 0 to 1, 1 to 21 days.
    *(
        review_case(f"sample rate {rate!r}", sample_rate=rate)
        for rate in ("0", "0.00001", "0.00009", "1.0001", "2", "-0.5", "NaN", "10%", "", True)
    ),
    review_case("sample rate null", sample_rate=None),
    *(
        review_case(f"threshold {value!r}", accuracy_threshold=value)
        for value in ("1.5", "1.00001", "-0.01", "0.95001", "Infinity", "high", None, ["0.9"])
    ),
    *(
        review_case(f"window {days!r} days", window_days=days)
        for days in (0, 22, -1, 10**30, "3", True, None, [3])
    ),
    raw_terms_case("review window 3.0 days", "review", review='{"window_days": 3.0}'),
    raw_terms_case("review window 2.5 days", "review", review='{"window_days": 2.5}'),
    raw_terms_case("review sample rate float 1e-5", "review", review='{"sample_rate": 1e-5}'),
    raw_terms_case("review threshold float 1.5", "review", review='{"accuracy_threshold": 1.5}'),
    review_case("unknown term", reviewers=2),
    terms_case("review null", "review", review=None),
    terms_case("review a list", "review", review=[{"window_days": 3}]),
    terms_case("review a number", "review", review=3),
    # A task's lease: 1 minute to a week.
    *(
        terms_case(f"task lease {minutes!r}", "task_lease_minutes", task_lease_minutes=minutes)
        for minutes in (0, -1, 7 * 24 * 60 + 1, 10**30, "120", True, None, [120])
    ),
    raw_terms_case("task lease 120.0", "task_lease_minutes", task_lease_minutes="120.0"),
    raw_terms_case("task lease 0.5", "task_lease_minutes", task_lease_minutes="0.5"),
    # A refusal after the platform's task type was first stored leaves it unstored.
    case(
        "audio lottery without a release plan",
        POST_ORDER,
        422,
        "lottery_needs_release_plan",
        ORDER | {"task_type": "audio_score_0_2", "claim_mode": "lottery"},
    ),
]


def test_an_order_must_fit_its_task_type_and_review_terms(subtests, app, api, cast, work_world):
    run_work(subtests, app, api, cast, work_world, ORDER_TERMS_CASES)


# POST /task-types: a client's own type, its schemas and rules checked before it is stored.
NEW_TYPE = {
    "key": "keypoints",
    "name": "Keypoints",
    "result_schema": {"type": "object", "required": ["points"]},
    "reason_codes": ["wrong_point", "other"],
}
POST_TYPE = "client POST /task-types"


def type_case(case_id, field, **changes) -> Case:
    """The valid new type with fields changed (to `...`: left out), refused for `field`."""
    body = {key: value for key, value in (NEW_TYPE | changes).items() if value is not ...}
    return case(case_id, POST_TYPE, 422, "validation_failed", body, field=field)


def schema_case(case_id, field, schema, key="keypoints") -> Case:
    """A type whose `field` is JSON but no JSON Schema: 422 invalid_schema naming it."""
    return case(
        case_id,
        POST_TYPE,
        422,
        "invalid_schema",
        NEW_TYPE | {"key": key, field: schema},
        details={"field": field},
    )


def rules_case(case_id, *rules) -> Case:
    return case(case_id, POST_TYPE, 422, "invalid_rules", NEW_TYPE | {"rules": list(rules)})


def nested(depth: int) -> Any:
    """An expression `depth` levels deep: {"!": [{"!": [... true]}]}."""
    expression: Any = True
    for _ in range(depth // 2):
        expression = {"!": [expression]}
    return expression


REQUIRE = {"==": [1, 1]}

TASK_TYPE_CASES = [
    *(type_case(f"{field} missing", field, **{field: ...}) for field in NEW_TYPE),
    *(
        type_case(f"key {key!r}", "key", key=key)
        for key in ("", "Keypoints", "1points", "_points", "key-points", "key points", "x" * 65)
    ),
    type_case("key a number", "key", key=5),
    type_case("key null", "key", key=None),
    type_case("key with NUL", "key", key="key\x00"),
    *(
        case(f"key {key} taken", POST_TYPE, 409, "task_type_exists", NEW_TYPE | {"key": key})
        for key in ("bbox_2d", "rating_1_5", "audio_score_0_2", "polygon_2d", "acme_polygon")
    ),
    type_case("name blank", "name", name="  "),
    type_case("name of 201", "name", name="x" * 201),
    type_case("description of 5001", "description", description="x" * 5001),
    # Schemas: JSON objects that are JSON Schemas.
    *(
        type_case(f"result schema {schema!r}", "result_schema", result_schema=schema)
        for schema in ([{"type": "object"}], "object", True, None, 5)
    ),
    type_case("item schema a list", "item_schema", item_schema=[]),
    type_case("options schema a string", "options_schema", options_schema="object"),
    schema_case("result schema of no type", "result_schema", {"type": "banana"}),
    schema_case("result schema with a bad regex", "result_schema", {"pattern": "("}),
    schema_case("result schema minItems -1", "result_schema", {"minItems": -1}),
    schema_case("result schema required a string", "result_schema", {"required": "points"}),
    schema_case("item schema of no type", "item_schema", {"type": 5}),
    schema_case("options schema enum a number", "options_schema", {"enum": 3}),
    # A $ref that leads nowhere would fail every order or result later, as an error 500.
    # (Each its own key: one wrongly stored does not hide the next.)
    *(
        schema_case(f"{field} $ref to {where}", field, {"$ref": ref}, key=f"ref_{n}")
        for n, (field, where, ref) in enumerate(
            (
                ("result_schema", "nowhere", "#/$defs/nowhere"),
                ("item_schema", "nowhere", "#/$defs/nowhere"),
                ("options_schema", "nowhere", "#/properties/nowhere"),
                ("item_schema", "the web", "https://example.com/s.json"),
            )
        )
    ),
    # Rules: the rule language, named, at most 50, nested at most 16 deep.
    type_case("rules an object", "rules", rules={"name": "a", "require": True}),
    type_case("rules a string", "rules", rules="x + w <= width"),
    type_case("rule a number", "rules", rules=[5]),
    type_case("rule a list", "rules", rules=[["name", "a"]]),
    rules_case("rule without require", {"name": "a"}),
    rules_case("rule without name", {"require": REQUIRE}),
    *(
        rules_case(f"rule name {name!r}", {"name": name, "require": REQUIRE})
        for name in ("", "Box", "1box", "box inside", "x" * 65, 5)
    ),
    rules_case("rule of an unknown operator", {"name": "a", "require": {"eval": ["1"]}}),
    rules_case("rule of two operators", {"name": "a", "require": {"==": [1, 1], "!=": [1, 2]}}),
    rules_case("rule var an object", {"name": "a", "require": {"var": {"path": "result"}}}),
    rules_case("rule with an unknown field", {"name": "a", "require": REQUIRE, "then": 1}),
    rules_case("rule each empty", {"name": "a", "each": "", "require": REQUIRE}),
    rules_case("rule message of 301", {"name": "a", "message": "x" * 301, "require": REQUIRE}),
    rules_case(
        "rules of one name", {"name": "a", "require": REQUIRE}, {"name": "a", "require": True}
    ),
    rules_case("rule 17 deep", {"name": "a", "require": nested(17)}),
    rules_case("51 rules", *({"name": f"r{n}", "require": True} for n in range(51))),
    # Reason codes: 1 to 50 names.
    *(
        type_case(f"reason codes {codes!r}", "reason_codes", reason_codes=codes)
        for codes in ([], "other", ["Other"], ["other", 5], [""], None)
    ),
    type_case("51 reason codes", "reason_codes", reason_codes=[f"r{n}" for n in range(51)]),
    type_case("unknown field", "version", version=2),
    # For whom, and who asks.
    case(
        "type for acme",
        POST_TYPE,
        404,
        "client_not_found",
        lambda ids: NEW_TYPE | {"client_id": ids["acme"]},
    ),
    case(
        "type for client 10**20",
        POST_TYPE,
        404,
        "client_not_found",
        NEW_TYPE | {"client_id": HUGE_ID},
    ),
    type_case("type for client '2'", "client_id", client_id="2"),
    case("owner adds a type", "owner POST /task-types", 403, "forbidden", NEW_TYPE),
    case("annotator adds a type", "li POST /task-types", 403, "forbidden", NEW_TYPE),
    case("admin adds a type", "admin POST /task-types", 403, "forbidden", NEW_TYPE),
    case("anonymous adds a type", "anonymous POST /task-types", 401, "missing_token", NEW_TYPE),
    case("stranger adds a type", "stranger POST /task-types", 401, "invalid_token", NEW_TYPE),
    case("type as text", POST_TYPE, 415, "unsupported_media_type", text="{}", content_type=TEXT),
    case("type truncated", POST_TYPE, 400, "malformed_json", text='{"key": '),
    case("type a list", POST_TYPE, 422, "validation_failed", text="[]"),
    case("PUT a type", "client PUT /task-types", 405, "method_not_allowed", NEW_TYPE),
    # Reading one.
    case("type unknown", "li GET /task-types/polygon_3d", 404, "task_type_not_found"),
    case("type by another case", "li GET /task-types/BBOX_2D", 404, "task_type_not_found"),
    case("anonymous reads a type", "anonymous GET /task-types/bbox_2d", 401, "missing_token"),
    case("anonymous reads the types", "anonymous GET /task-types", 401, "missing_token"),
    case("PUT one type", "client PUT /task-types/polygon_2d", 405, "method_not_allowed", NEW_TYPE),
]


def test_a_task_type_is_checked_before_it_is_stored(subtests, app, api, cast, work_world):
    run_work(subtests, app, api, cast, work_world, TASK_TYPE_CASES)
