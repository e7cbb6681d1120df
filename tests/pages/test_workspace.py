"""The annotator's workspace through Flask's test client: her quota and leases, taking
tasks, submitting through the form (with and without the JSON the page's script builds),
a refused result beside its field with nothing written, skipping, and the API's 403/404
and CSRF refusals. In a real browser: test_workspace_browser.py."""

import html
import json
import re
from types import SimpleNamespace

import pytest
from flask import render_template_string

from marketplace import demo_work
from marketplace.orders.models import TaskType
from marketplace.orders.task_types import BUILT_IN
from marketplace.workers.models import TaskStatus
from tests.pages.kit import PageClient, text
from tests.pages.work_kit import (
    ERROR_TYPES,
    box_items,
    clip_items,
    quota,
    ratings,
    submissions,
    task_row,
)
from tests.pages.work_kit import work as post_work
from tests.support import row_counts

# Through the pages and the API end to end: `make test` runs them; `make check` stays
# under a minute.
pytestmark = pytest.mark.slow

LI = "li@example.com"


def li_at_work(app, language="zh-CN") -> PageClient:
    browser = PageClient(app.test_client(), language)
    assert browser.sign_in(LI).status_code == 302
    return browser


def take(browser: PageClient, count: int = 5):
    return browser.post("/work/take", {"count": str(count)}, token_from="/work")


def taken_id(answer) -> int:
    assert answer.status_code == 302, text(answer)
    return int(re.fullmatch(r"/work/tasks/(\d+)", answer.headers["Location"])[1])


def error_beside(answer, field: str) -> str | None:
    found = re.search(
        rf'<p class="field-error" id="error-{re.escape(field)}"(?: data-error-for="[^"]*")?>'
        r"([^<]*)</p>",
        text(answer),
    )
    return found and html.unescape(found[1])


def test_her_quota_and_the_lease_of_each_task_in_her_hands(app, api, cast, frozen_clock):
    quota(api, cast, 40)
    post_work(api, cast, "bbox_2d", box_items(3))
    browser = li_at_work(app)
    page = text(browser.get("/work"))
    assert "今天 0 / 40" in page and "工作台" in page
    assert 'href="/work" aria-current="page"' in page  # the header's link, first
    first = taken_id(take(browser, 2))
    page = text(browser.get("/work"))
    assert 'data-used="2" data-quota="40"' in page and "今天 2 / 40" in page
    assert page.count('data-seconds-left="7200"') == 2  # the order's 120-minute task lease
    frozen_clock.stand_at("2026-03-02T10:08:00+00:00")
    task = text(browser.get(f"/work/tasks/{first}"))
    assert 'role="timer" aria-live="polite"' in task and 'data-seconds-left="6720"' in task
    assert re.search(r'<time class="lease-left" datetime="PT1H52M">1:52</time>', task)
    english = li_at_work(app, "en")
    english.post("/language", {"locale": "en"}, token_from="/work")
    assert "2 of 40 today" in text(english.get("/work"))
    assert "Lease ends in" in text(english.get(f"/work/tasks/{first}"))


def test_boxes_submitted_by_the_form_are_stored_in_the_images_pixels(app, api, cast):
    order = post_work(api, cast, "bbox_2d", box_items(2))
    browser = li_at_work(app, "en")
    first = taken_id(take(browser, 2))
    page = text(browser.get(f"/work/tasks/{first}"))
    assert f'src="{demo_work.MEDIA_URL}street-1.png?n=0"' in page
    assert 'viewBox="0 0 1280 720"' in page and 'name="boxes.0.x"' in page
    # Without the script: the visible fields alone (an empty row is no box).
    fields = {"boxes.0.x": "10", "boxes.0.y": "20", "boxes.0.w": "300", "boxes.0.h": "150"}
    fields |= {"boxes.0.label": "car", "boxes.1.x": "", "boxes.1.y": "", "boxes.1.label": ""}
    answer = browser.post(f"/work/tasks/{first}/submit", fields, token_from=f"/work/tasks/{first}")
    second = taken_id(answer)  # on to the next task in her hands
    [stored] = submissions(app, order)
    assert stored.result == {"boxes": [{"x": 10, "y": 20, "w": 300, "h": 150, "label": "car"}]}
    assert stored.task_id == first and task_row(app, first).status == TaskStatus.SUBMITTED
    # With the script: the JSON it built from the same fields.
    built = {"boxes": [{"x": 0.5, "y": 1, "w": 1279.5, "h": 719, "label": "person"}]}
    answer = browser.post(
        f"/work/tasks/{second}/submit",
        {"result": json.dumps(built), "boxes.0.x": "0.5"},
        token_from=f"/work/tasks/{second}",
    )
    assert (answer.status_code, answer.headers["Location"]) == (302, "/work")
    assert submissions(app, order)[1].result == built
    assert "已提交。" in text(browser.get("/work"))  # her profile's language


def test_a_rule_error_comes_back_beside_its_field_and_nothing_is_written(app, api, cast):
    post_work(api, cast, "bbox_2d", box_items(1))
    browser = li_at_work(app)
    task = taken_id(take(browser, 1))
    before = row_counts(app)
    fields = {"boxes.0.x": "1200", "boxes.0.y": "0", "boxes.0.w": "100", "boxes.0.h": "50"}
    fields |= {"boxes.1.x": "5", "boxes.1.y": "5", "boxes.1.w": "10", "boxes.1.h": "10"}
    answer = browser.post(f"/work/tasks/{task}/submit", fields, token_from=f"/work/tasks/{task}")
    assert answer.status_code == 422
    assert error_beside(answer, "boxes-0") == "方框必须在图像内结束：x + w <= 图像宽度。"
    assert 'value="1200"' in text(answer)  # what she typed stays
    # The API says the same of the same result: one rule, two doors.
    result = {"boxes": [{"x": 1200, "y": 0, "w": 100, "h": 50}]}
    api_answer = api.post(f"/tasks/{task}/submit", cast.li, {"result": result})
    assert (api_answer.status, api_answer.body["error"]["details"]) == (
        422,
        {"rule": "box_inside_image_width", "index": 0},
    )
    # A schema error names its field: a width of 0 is no box.
    fields = {"boxes.0.x": "1", "boxes.0.y": "1", "boxes.0.w": "0", "boxes.0.h": "5"}
    answer = browser.post(f"/work/tasks/{task}/submit", fields, token_from=f"/work/tasks/{task}")
    assert answer.status_code == 422 and error_beside(answer, "boxes-0-w") == "太小。"
    assert 'id="field-boxes-0-w" name="boxes.0.w"' in text(answer)
    assert 'aria-invalid="true" aria-describedby="error-boxes-0-w"' in text(answer)
    assert row_counts(app) == before
    assert task_row(app, task).status == TaskStatus.ASSIGNED


def test_a_low_rating_needs_an_error_type_from_the_orders_list(app, api, cast):
    order = ratings(api, cast, 1)
    browser = li_at_work(app, "en")
    browser.post("/language", {"locale": "en"}, token_from="/work")
    task = taken_id(take(browser, 1))
    page = text(browser.get(f"/work/tasks/{task}"))
    assert demo_work.ANSWERS[0][0] in page and demo_work.ANSWERS[0][1] in page
    assert 'name="error_types" value="factually_wrong"' in page
    before = row_counts(app)
    answer = browser.post(
        f"/work/tasks/{task}/submit", {"rating": "2"}, token_from=f"/work/tasks/{task}"
    )
    assert answer.status_code == 422
    assert error_beside(answer, "error_types") == (
        "A rating of 2 or lower names at least one error type."
    )
    assert re.search(r'name="rating" value="2" data-key="2" checked', text(answer))
    assert row_counts(app) == before
    answer = browser.post(
        f"/work/tasks/{task}/submit",
        {"rating": "2", "error_types": "unhelpful", "comment": " vague "},
        token_from=f"/work/tasks/{task}",
    )
    assert answer.status_code == 302
    [stored] = submissions(app, order)
    assert stored.result == {"rating": 2, "error_types": ["unhelpful"], "comment": "vague"}


def test_an_audio_clip_is_scored_by_its_button(app, api, cast):
    order = post_work(api, cast, "audio_score_0_2", clip_items(1))
    browser = li_at_work(app)
    task = taken_id(take(browser, 1))
    page = text(browser.get(f"/work/tasks/{task}"))
    assert re.search(r'<audio class="clip" controls preload="metadata" src="[^"]+clip-clean', page)
    answer = browser.post(
        f"/work/tasks/{task}/submit", {"score": "1"}, token_from=f"/work/tasks/{task}"
    )
    assert answer.status_code == 302
    assert submissions(app, order)[0].result == {"score": 1}


def test_a_client_type_gets_a_form_from_its_result_schema(app, api, cast):
    schema = {
        "type": "object",
        "required": ["species", "count"],
        "additionalProperties": False,
        "properties": {
            "species": {"enum": ["cat", "dog"]},
            "count": {"type": "integer", "minimum": 0, "maximum": 9},
            "blurry": {"type": "boolean"},
            "tags": {"type": "array", "items": {"enum": ["night", "rain"]}},
            "note": {"type": "string", "maxLength": 50},
            "extra": {"type": "object"},
        },
    }
    created = api.post(
        "/task-types",
        cast.client,
        {
            "key": "pets",
            "name": "Pets",
            "result_schema": schema,
            "rules": [],
            "reason_codes": ["other"],
        },
    )
    assert created.status == 201, created.body
    order = post_work(api, cast, "pets", [{"ref": "pet-1"}])
    browser = li_at_work(app)
    task = taken_id(take(browser, 1))
    page = text(browser.get(f"/work/tasks/{task}"))
    assert 'type="radio" name="species" value="cat"' in page
    assert re.search(r'name="count" type="number" step="1" min="0" max="9"', page)
    assert 'type="checkbox" name="tags" value="night"' in page
    assert 'type="checkbox" name="blurry" value="true"' in page
    assert '<textarea id="field-extra" name="extra"' in page
    answer = browser.post(
        f"/work/tasks/{task}/submit", {"species": "cat", "count": "12"}, token_from="/work"
    )
    assert answer.status_code == 422 and error_beside(answer, "count") == "太大。"
    answer = browser.post(
        f"/work/tasks/{task}/submit",
        {"species": "dog", "count": "3", "tags": "rain", "blurry": "true", "extra": '{"a": 1}'},
        token_from="/work",
    )
    assert answer.status_code == 302
    assert submissions(app, order)[0].result == {
        "species": "dog",
        "count": 3,
        "blurry": True,
        "tags": ["rain"],
        "extra": {"a": 1},
    }


def test_skipping_gives_the_task_back_to_the_team(app, api, cast):
    post_work(api, cast, "bbox_2d", box_items(1))
    browser = li_at_work(app)
    task = taken_id(take(browser, 1))
    refused = browser.post(f"/work/tasks/{task}/skip", {"reason": " "}, token_from="/work")
    assert refused.status_code == 422 and error_beside(refused, "reason")
    answer = browser.post(
        f"/work/tasks/{task}/skip", {"reason": "the image is blank"}, token_from="/work"
    )
    assert (answer.status_code, answer.headers["Location"]) == (302, "/work")
    row = task_row(app, task)
    assert (row.status, row.annotator_user_id) == (TaskStatus.OPEN, None)
    assert "任务已退回团队" in text(browser.get("/work"))
    assert browser.get(f"/work/tasks/{task}").status_code == 404
    # She is not handed it again: nothing else is open.
    assert take(browser, 1).headers["Location"] == "/work"


def test_the_daily_quota_is_said_on_the_workspace(app, api, cast):
    quota(api, cast, 1)
    post_work(api, cast, "bbox_2d", box_items(2))
    browser = li_at_work(app)
    taken_id(take(browser, 1))
    refused = take(browser, 1)
    assert refused.status_code == 409
    assert api.post("/tasks/next", cast.li, {"count": 1}).error_code == "daily_quota_reached"
    assert error_beside(refused, "count")


def test_another_annotators_task_is_not_found_and_nothing_is_written(app, api, cast):
    post_work(api, cast, "bbox_2d", box_items(2))
    wang_task = api.post("/tasks/next", cast.wang, {"count": 1}).body[0]["id"]
    browser = li_at_work(app)
    before = row_counts(app)
    assert browser.get(f"/work/tasks/{wang_task}").status_code == 404
    fields = {"boxes.0.x": "1", "boxes.0.y": "1", "boxes.0.w": "5", "boxes.0.h": "5"}
    answer = browser.post(f"/work/tasks/{wang_task}/submit", fields, token_from="/work")
    assert (
        answer.status_code
        == 404
        == api.post(f"/tasks/{wang_task}/submit", cast.li, {"result": {"boxes": []}}).status
    )
    assert browser.post(f"/work/tasks/{wang_task}/skip", {"reason": "x"}, token_from="/work")
    assert browser.get("/work/tasks/99999999999999999999").status_code == 404
    assert row_counts(app) == before
    assert task_row(app, wang_task).status == TaskStatus.ASSIGNED


def test_a_forged_form_is_refused_and_nothing_is_written(app, api, cast):
    post_work(api, cast, "bbox_2d", box_items(1))
    browser = li_at_work(app)
    task = taken_id(take(browser, 1))
    before = row_counts(app)
    fields = {"boxes.0.x": "1", "boxes.0.y": "1", "boxes.0.w": "5", "boxes.0.h": "5"}
    for token in (None, "forged"):
        data = fields if token is None else fields | {"csrf_token": token}
        refused = browser.post(f"/work/tasks/{task}/submit", data, token_from=None)
        assert refused.status_code == 400 and "此表单不是从本站提交的" in text(refused)
        refused = browser.post("/work/take", {"count": "1", "csrf_token": "x"}, token_from=None)
        assert refused.status_code == 400
    assert row_counts(app) == before
    assert task_row(app, task).status == TaskStatus.ASSIGNED


def test_who_is_no_annotator_may_not_work(app, api, cast):
    post_work(api, cast, "bbox_2d", box_items(1))
    for email in ("reviewer@example.com", "owner@example.com"):
        browser = PageClient(app.test_client())
        browser.sign_in(email)
        home = browser.get("/").headers["Location"]  # her day's first page
        assert "/work" not in text(browser.get(home))  # no link to it in her header
        assert browser.get("/work").status_code == 403
        before = row_counts(app)
        refused = browser.post("/work/take", {"count": "1"}, token_from=home)
        assert refused.status_code == 403 and "您的角色无权进行此操作。" in text(refused)
        assert row_counts(app) == before
    assert api.post("/tasks/next", cast.reviewer, {"count": 1}).status == 403
    anonymous = PageClient(app.test_client()).get("/work")
    assert anonymous.headers["Location"] == "/sign-in?next=/work"


def test_the_demo_media_are_what_demo_work_makes(tmp_path):
    """The images and clips shipped under static/demo/ are this code's, byte for byte."""
    for name, data in demo_work.media().items():
        assert (demo_work.MEDIA / name).read_bytes() == data, name


def test_a_lease_that_ran_out_is_refused_and_nothing_is_written(app, api, cast, frozen_clock):
    post_work(api, cast, "bbox_2d", box_items(1))
    browser = li_at_work(app, "en")
    task = taken_id(take(browser, 1))
    frozen_clock.stand_at("2026-03-02T12:00:01+00:00")  # the 120-minute lease ran out
    page = text(browser.get(f"/work/tasks/{task}"))
    assert 'data-seconds-left="0"' in page
    before = row_counts(app)
    fields = {"boxes.0.x": "1", "boxes.0.y": "1", "boxes.0.w": "5", "boxes.0.h": "5"}
    answer = browser.post(f"/work/tasks/{task}/submit", fields, token_from="/work")
    assert answer.status_code == 409 and "您对此任务的租约已到期" in text(answer)
    assert row_counts(app) == before


SURFACE = """{% from "workspace/surface.html" import surface %}
{{ surface(task_type, order, item, result, readonly=True) }}"""


def test_a_surface_shows_a_submitted_result_read_only(app):
    """As a reviewer's page will show a submission: the same surface, nothing to edit."""

    def shown(key: str, item: dict, result: dict, options: dict | None = None) -> str:
        with app.test_request_context("/", headers={"Accept-Language": "en"}):
            return render_template_string(
                SURFACE,
                task_type=TaskType(key=key, **BUILT_IN[key]),
                order=SimpleNamespace(task_options=options),
                item=SimpleNamespace(**item),
                result=result,
            )

    assert set(BUILT_IN) == {"bbox_2d", "rating_1_5", "audio_score_0_2"}
    image = {"ref": "/pages/static/demo/street-1.png", "payload": {"width": 1280, "height": 720}}
    boxes = shown("bbox_2d", image, {"boxes": [{"x": 1, "y": 2, "w": 30, "h": 40, "label": "car"}]})
    assert 'role="img" aria-label="1 box"' in boxes and 'tabindex="0"' not in boxes
    assert '<rect class="box-body" x="1" y="2" width="30" height="40">' in boxes
    assert 'name="boxes.0.label"' in boxes and 'value="car"' in boxes
    assert 'name="boxes.1.x"' not in boxes and "<template" not in boxes and "add-box" not in boxes
    assert len(re.findall(r"<input [^>]*>", boxes)) == len(re.findall(r" readonly", boxes)) == 5
    rated = shown(
        "rating_1_5",
        {"ref": "a-1", "payload": {"question": "Q?", "answer": "A."}},
        {"rating": 2, "error_types": ["unsafe"]},
        {"error_types": ERROR_TYPES},
    )
    assert re.search(r'value="2" data-key="2" checked disabled', rated)
    assert re.search(r'value="unsafe" checked disabled', rated)
    assert "(keys 1 to 5)" not in rated
    scored = shown("audio_score_0_2", {"ref": "/c.wav", "payload": None}, {"score": 1})
    assert '<p class="score is-chosen">1 · Usable with faults</p>' in scored
    assert "<button" not in scored
