"""Task types are data: a result keeps its type's schema and rules, or nothing is written.

The platform's own types (boxes, 1-5 ratings, 0/1/2 audio scores) and a
client's own, posted with its schema and rules in the rule language.
"""

import pytest

from tests.flows import IMAGE, claim, order_body, set_rate
from tests.support import row_counts
from tests.workers import ready_work, take

# Whole flows of the work side: `make test` runs them, `make check` leaves them out.
pytestmark = pytest.mark.slow

CAR = {"label": "car", "x": 1, "y": 2, "w": 30, "h": 40}
ERROR_TYPES = ["factual_error", "unsafe", "off_topic"]


def submit(api, token, task, result):
    return api.post(f"/tasks/{task['id']}/submit", token, {"result": result})


def assert_refused_unwritten(app, api, token, task, result, *, rule, **where):
    """The result is refused naming `rule` (and where it broke); nothing is written and the
    task stays in the annotator's hands."""
    before = row_counts(app)
    answer = submit(api, token, task, result)
    assert (answer.status, answer.error_code) == (422, "result_breaks_rule"), answer.body
    details = answer.body["error"]["details"]
    assert details["rule"] == rule
    assert {key: details.get(key) for key in where} == where
    assert row_counts(app) == before
    held = api.get("/tasks", token).body
    assert task["id"] in {t["id"] for t in held if t["status"] == "assigned"}


def test_the_platform_lists_its_three_task_types_with_their_schemas(api, cast):
    # Storing bbox_2d for an order's use changes nothing of what the list shows.
    ready_work(api, cast, items=1)
    answer = api.get("/task-types", cast.li)
    assert answer.status == 200
    assert [t["key"] for t in answer.body] == ["bbox_2d", "rating_1_5", "audio_score_0_2"]
    bbox, rating, audio = answer.body
    assert all(t["client_id"] is None for t in answer.body)

    assert bbox["item_schema"]["required"] == ["width", "height"]
    assert bbox["result_schema"]["required"] == ["boxes"]
    assert set(bbox["result_schema"]["properties"]["boxes"]["items"]["properties"]) == {
        "label",
        "x",
        "y",
        "w",
        "h",
    }
    assert [r["name"] for r in bbox["rules"]] == [
        "box_inside_image_width",
        "box_inside_image_height",
    ]
    assert [r["each"] for r in bbox["rules"]] == ["result.boxes", "result.boxes"]
    assert bbox["reason_codes"] == ["box_off_target", "object_missed", "wrong_label", "other"]

    assert rating["result_schema"]["properties"]["rating"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 5,
    }
    assert rating["options_schema"]["required"] == ["error_types"]
    assert [r["name"] for r in rating["rules"]] == [
        "error_type_required_for_low_rating",
        "error_type_from_order_list",
    ]

    assert audio["result_schema"]["properties"] == {"score": {"enum": [0, 1, 2]}}
    assert audio["rules"] == [] and audio["options_schema"] is None
    assert audio["reason_codes"] == ["wrong_score", "other"]

    # Anyone signed in reads one, the rival client too; an unknown key is 404.
    assert api.get("/task-types/rating_1_5", cast.rival_client).body == rating
    missing = api.get("/task-types/polygon_3d", cast.li)
    assert (missing.status, missing.error_code) == (404, "task_type_not_found")
    assert api.get("/task-types").status == 401


@pytest.mark.parametrize(
    ("bad_box", "rule"),
    [
        ({"label": "bus", "x": 1900, "y": 0, "w": 21, "h": 10}, "box_inside_image_width"),
        ({"label": "bus", "x": 0, "y": 1000, "w": 10, "h": 81}, "box_inside_image_height"),
    ],
)
def test_a_box_ending_past_the_image_is_refused_and_nothing_is_written(
    app, api, cast, bad_box, rule
):
    """The image is 1920 x 1080: a box's right edge at 1921 (or bottom at 1081) is out."""
    ready_work(api, cast, items=1)
    [task] = take(api, cast.li)
    assert task["item_payload"] == IMAGE
    assert_refused_unwritten(app, api, cast.li, task, {"boxes": [CAR, bad_box]}, rule=rule, index=1)


def test_a_box_ending_on_the_image_edge_is_accepted(api, cast):
    ready_work(api, cast, items=1)
    [task] = take(api, cast.li)
    corner = {"label": "sign", "x": 1900, "y": 1000, "w": 20, "h": 80}  # ends at 1920 x 1080
    answer = submit(api, cast.li, task, {"boxes": [CAR, corner]})
    assert answer.status == 201, answer.body
    assert answer.body["result"]["boxes"][1] == corner


def test_a_box_that_breaks_the_schema_names_its_path(app, api, cast):
    ready_work(api, cast, items=1)
    [task] = take(api, cast.li)
    flat = {"label": "car", "x": 1, "y": 2, "w": 30, "h": 0}
    assert_refused_unwritten(
        app, api, cast.li, task, {"boxes": [CAR, flat]}, rule="result_schema", path="boxes/1/h"
    )


def test_a_rating_order_must_list_its_error_types(app, api, cast):
    before = row_counts(app)
    for options in (None, {}, {"error_types": []}):
        body = order_body(items=1, task_type="rating_1_5", task_options=options)
        answer = api.post("/orders", cast.client, body)
        assert (answer.status, answer.error_code) == (422, "invalid_task_options"), options
    assert row_counts(app) == before
    body = order_body(items=1, task_type="rating_1_5", task_options={"error_types": ERROR_TYPES})
    answer = api.post("/orders", cast.client, body)
    assert answer.status == 201
    assert answer.body["task_options"] == {"error_types": ERROR_TYPES}


@pytest.fixture
def rating_tasks(api, cast):
    """Six 1-5 rating tasks in Li's hands, of an order whose error types are ERROR_TYPES."""
    ready_work(
        api,
        cast,
        items=6,
        task_type="rating_1_5",
        price="0.30",
        rate="0.20",
        task_options={"error_types": ERROR_TYPES},
    )
    return take(api, cast.li, 6)


@pytest.mark.parametrize(
    ("result", "rule", "where"),
    [
        ({"rating": 2}, "error_type_required_for_low_rating", {}),
        ({"rating": 1, "error_types": []}, "error_type_required_for_low_rating", {}),
        (
            {"rating": 2, "error_types": ["unsafe", "rude"]},
            "error_type_from_order_list",
            {"index": 1},
        ),
        ({"rating": 4, "error_types": ["rude"]}, "error_type_from_order_list", {"index": 0}),
        ({"rating": 6}, "result_schema", {"path": "rating"}),
        ({"rating": 2.5, "error_types": ["unsafe"]}, "result_schema", {"path": "rating"}),
    ],
)
def test_a_rating_breaking_its_rules_is_refused(app, api, cast, rating_tasks, result, rule, where):
    assert_refused_unwritten(app, api, cast.li, rating_tasks[0], result, rule=rule, **where)


def test_ratings_keeping_the_rules_are_accepted(api, cast, rating_tasks):
    fine = [
        {"rating": 3},
        {"rating": 2, "error_types": ["unsafe"]},
        {"rating": 1, "error_types": ["factual_error", "off_topic"], "comment": "made up"},
        {"rating": 5},
    ]
    for task, result in zip(rating_tasks, fine, strict=False):
        answer = submit(api, cast.li, task, result)
        assert answer.status == 201, (result, answer.body)
        assert answer.body["result"] == result
    assert len(api.get("/submissions", cast.reviewer).body) == 4


def test_an_audio_score_is_0_1_or_2(app, api, cast):
    ready_work(api, cast, items=4, task_type="audio_score_0_2", price="0.05", rate="0.03")
    tasks = take(api, cast.li, 4)
    for task, score in zip(tasks, (0, 1, 2), strict=False):
        assert submit(api, cast.li, task, {"score": score}).status == 201
    for refused in ({"score": 3}, {"score": "2"}, {"score": -1}, {}):
        assert_refused_unwritten(app, api, cast.li, tasks[3], refused, rule="result_schema")
    scores = sorted(s["result"]["score"] for s in api.get("/submissions", cast.reviewer).body)
    assert scores == [0, 1, 2]


# A client's own task type: how many lanes a road photo shows, and which are marked.
LANES = {
    "key": "lane_count",
    "name": "Lanes of a road",
    "description": "Count the lanes; list the numbers of the marked ones.",
    "item_schema": {
        "type": "object",
        "required": ["road_lanes"],
        "properties": {"road_lanes": {"type": "integer", "minimum": 1}},
    },
    "result_schema": {
        "type": "object",
        "required": ["lanes"],
        "additionalProperties": False,
        "properties": {
            "lanes": {"type": "integer", "minimum": 0},
            "marked": {"type": "array", "items": {"type": "integer"}},
        },
    },
    "rules": [
        {
            "name": "lanes_fit_the_road",
            "message": "No more lanes than the road has.",
            "require": {"<=": [{"var": "result.lanes"}, {"var": "item.road_lanes"}]},
        },
        {
            "name": "marked_lane_exists",
            "each": "result.marked",
            "require": {
                "and": [
                    {">=": [{"var": "it"}, 1]},
                    {"<=": [{"var": "it"}, {"var": "result.lanes"}]},
                ]
            },
        },
    ],
    "reason_codes": ["wrong_count", "other"],
}


def lanes_order(items: int) -> dict:
    body = order_body(items=items, task_type="lane_count")
    body["items"] = [
        {"ref": f"s3://roads/{n}.jpg", "payload": {"road_lanes": 3}} for n in range(items)
    ]
    return body


def test_a_clients_own_task_type_checks_its_own_rules(app, api, cast):
    posted = api.post("/task-types", cast.client, LANES)
    assert posted.status == 201, posted.body
    assert posted.body["client_id"] == cast.party_ids["horizon"]
    assert [r["name"] for r in posted.body["rules"]] == ["lanes_fit_the_road", "marked_lane_exists"]

    order = api.post("/orders", cast.client, lanes_order(3))
    assert order.status == 201, order.body
    assert api.post(f"/orders/{order.body['id']}/publish", cast.client).status == 200
    claim(api, cast.owner, order.body["id"])
    set_rate(api, cast.owner, order.body["id"], "0.06")
    first, second, third = take(api, cast.li, 3)

    assert_refused_unwritten(app, api, cast.li, first, {"lanes": 4}, rule="lanes_fit_the_road")
    refused = submit(api, cast.li, first, {"lanes": 4})
    assert refused.body["error"]["message"] == "No more lanes than the road has."
    assert_refused_unwritten(
        app,
        api,
        cast.li,
        second,
        {"lanes": 2, "marked": [1, 3]},
        rule="marked_lane_exists",
        index=1,
    )
    assert_refused_unwritten(app, api, cast.li, third, {"lanes": "3"}, rule="result_schema")
    for task, result in ((first, {"lanes": 3}), (second, {"lanes": 2, "marked": [1, 2]})):
        assert submit(api, cast.li, task, result).status == 201

    # An item the road's schema does not describe is refused when the order is posted.
    body = lanes_order(2)
    body["items"][1]["payload"] = {"road_lanes": 0}
    bad = api.post("/orders", cast.client, body)
    assert (bad.status, bad.error_code) == (422, "invalid_item_payload")
    assert bad.body["error"]["details"]["item_index"] == 1


def test_another_client_reads_a_clients_task_type_but_cannot_order_it(app, api, cast):
    assert api.post("/task-types", cast.client, LANES).status == 201
    mine = api.get("/task-types/lane_count", cast.rival_client)
    assert mine.status == 200 and mine.body["client_id"] == cast.party_ids["horizon"]
    assert mine.body["rules"] == LANES["rules"]
    assert "lane_count" in {t["key"] for t in api.get("/task-types", cast.rival_client).body}
    assert api.get("/task-types/lane_count", cast.rival_owner).status == 200

    before = row_counts(app)
    refused = api.post("/orders", cast.rival_client, lanes_order(1))
    assert (refused.status, refused.error_code) == (422, "unknown_task_type")
    assert row_counts(app) == before


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"rules": [{"name": "x", "require": {"xor": [1, 2]}}]}, 422, "invalid_rules"),
        ({"rules": [{"name": "Bad Name", "require": True}]}, 422, "invalid_rules"),
        (
            {"rules": [{"name": "a", "require": True}, {"name": "a", "require": False}]},
            422,
            "invalid_rules",
        ),
        ({"result_schema": {"type": "lanes"}}, 422, "invalid_schema"),
        ({"key": "bbox_2d"}, 409, "task_type_exists"),
    ],
)
def test_a_task_type_that_is_not_well_formed_is_refused(app, api, cast, change, status, code):
    before = row_counts(app)
    answer = api.post("/task-types", cast.client, LANES | change)
    assert (answer.status, answer.error_code) == (status, code), answer.body
    assert row_counts(app) == before


def test_a_task_type_key_is_taken_once_and_only_clients_post_types(app, api, cast):
    assert api.post("/task-types", cast.client, LANES).status == 201
    again = api.post("/task-types", cast.rival_client, LANES)
    assert (again.status, again.error_code) == (409, "task_type_exists")
    assert api.post("/task-types", cast.owner, LANES | {"key": "lanes_two"}).status == 403
    assert api.get("/task-types/lanes_two", cast.client).status == 404
