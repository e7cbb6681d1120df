"""The workspace in Debian's Chromium, against the live server: Li draws three boxes with
the mouse and one with the keys alone, rates five answers with the keyboard (a 2 asks
for an error type before it is sent), and scores a clip with a key. Each time the
database holds what she did, in the image's own pixels. axe-core finds no serious or
critical violation; screenshots at desktop and phone width, in Chinese and English."""

import re

import pytest
from playwright.sync_api import Page, expect

from marketplace.workers.models import TaskStatus
from tests.pages.conftest import DESKTOP, PHONE
from tests.pages.test_browser import accessible, screenshot, sign_in_with_the_keyboard
from tests.pages.work_kit import (
    ERROR_TYPES,
    box_items,
    clip_items,
    quota,
    ratings,
    submissions,
    task_row,
    work,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]

LI = "li@example.com"


def signed_in(open_browser, language="zh-CN", viewport=DESKTOP, **options) -> Page:
    page = open_browser(language, viewport, **options)
    page.goto("/sign-in?next=/work")
    sign_in_with_the_keyboard(page, LI)
    expect(page).to_have_url(re.compile(r"/work$"))
    return page


def english(page: Page) -> None:
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def ready(page: Page) -> None:
    """The page's scripts are running (they start when the document is parsed): a key
    pressed earlier would be lost, as for a person on a slow phone."""
    page.wait_for_load_state("domcontentloaded")
    page.wait_for_load_state("load")


def left(page: Page, url: str) -> None:
    """Wait until the page is another one than `url` (a form sent, the next page in)."""
    page.wait_for_url(lambda now: now != url)
    ready(page)


def task_id(page: Page) -> int:
    return int(re.search(r"/work/tasks/(\d+)$", page.url)[1])


def drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=6)
    page.mouse.up()


def test_li_draws_three_boxes_with_the_mouse_and_one_with_the_keys(
    app, api, cast, open_browser, engine_name
):
    quota(api, cast, 40)
    order = work(api, cast, "bbox_2d", box_items(2))
    page = signed_in(open_browser)
    expect(page.locator(".quota-count")).to_have_text("今天 0 / 40")
    accessible(page)
    screenshot(page, "workspace-zh", engine_name)
    page.get_by_role("button", name="领取下一批任务").click()
    expect(page).to_have_url(re.compile(r"/work/tasks/\d+$"))
    first = task_id(page)
    expect(page.locator(".lease-left")).to_have_text("2:00")
    image = page.locator(".bbox-image")
    expect(image).to_have_js_property("complete", True)
    natural = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert natural == [1280, 720]
    shown = image.bounding_box()
    scale = natural[0] / shown["width"]
    assert shown["width"] < 1280 and abs(natural[1] / shown["height"] - scale) < 0.01

    def on_screen(x: float, y: float) -> tuple[float, float]:
        return shown["x"] + x * shown["width"], shown["y"] + y * shown["height"]

    def pixel(screen: float, origin: float) -> int:
        return round((screen - origin) * scale)

    strokes = [
        ((0.10, 0.60), (0.30, 0.80)),
        ((0.40, 0.62), (0.64, 0.84)),
        ((0.75, 0.53), (0.80, 0.76)),
    ]
    expected = []
    for (a, b), label in zip(strokes, ("car", "car", "person"), strict=True):
        start, end = on_screen(*a), on_screen(*b)
        drag(page, start, end)
        x0, y0 = pixel(start[0], shown["x"]), pixel(start[1], shown["y"])
        x1, y1 = pixel(end[0], shown["x"]), pixel(end[1], shown["y"])
        expected.append({"x": x0, "y": y0, "w": x1 - x0, "h": y1 - y0, "label": label})
    expect(page.locator(".bbox-svg .box")).to_have_count(3)
    # The fields mirror the drawing, in the image's pixels.
    expect(page.locator("#field-boxes-1-x")).to_have_value(str(expected[1]["x"]))
    expect(page.locator("#field-boxes-2-h")).to_have_value(str(expected[2]["h"]))
    # Move the second box by dragging it 20 screen pixels right.
    middle = on_screen(0.52, 0.73)
    drag(page, middle, (middle[0] + 20, middle[1]))
    moved = pixel(middle[0] + 20, shown["x"]) - pixel(middle[0], shown["x"])
    expected[1]["x"] += moved
    # Resize the third by dragging its corner 10 screen pixels right and down.
    third = expected[2]
    corner = (
        shown["x"] + (third["x"] + third["w"]) / scale,
        shown["y"] + (third["y"] + third["h"]) / scale,
    )
    drag(page, corner, (corner[0] + 10, corner[1] + 10))
    third["w"] += pixel(corner[0] + 10, shown["x"]) - pixel(corner[0], shown["x"])
    third["h"] += pixel(corner[1] + 10, shown["y"]) - pixel(corner[1], shown["y"])
    # A fourth box, drawn by mistake, deleted with the Delete key.
    drag(page, on_screen(0.05, 0.05), on_screen(0.15, 0.15))
    expect(page.locator(".bbox-svg .box")).to_have_count(4)
    page.keyboard.press("Delete")
    expect(page.locator(".bbox-svg .box")).to_have_count(3)
    for n, box in enumerate(expected):
        page.locator(f"#field-boxes-{n}-label").fill(box["label"])
    accessible(page)
    screenshot(page, "workspace-boxes-zh", engine_name)
    before = page.url
    page.get_by_role("button", name="提交", exact=True).click()
    left(page, before)
    expect(page.locator(".flashes")).to_contain_text("已提交。")

    [stored] = submissions(app, order)
    assert stored.task_id == first and task_row(app, first).status == TaskStatus.SUBMITTED
    for got, want in zip(stored.result["boxes"], expected, strict=True):
        assert got["label"] == want["label"]
        for key in ("x", "y", "w", "h"):
            assert abs(got[key] - want[key]) <= 1, (key, got, want)

    # The second image, with the keys alone: Tab to the drawing, N adds a box in the
    # middle (480, 270, 320 x 180), arrows move and resize it, L types its label.
    expect(page).to_have_url(re.compile(r"/work/tasks/\d+$"))
    ready(page)
    second = task_id(page)
    for _ in range(40):
        if page.evaluate("document.activeElement.classList.contains('bbox-svg')"):
            break
        page.keyboard.press("Tab")
    expect(page.locator(".bbox-svg")).to_be_focused()
    page.keyboard.press("n")
    for key in ("ArrowRight", "ArrowRight", "ArrowRight", "Shift+ArrowDown", "Shift+ArrowDown"):
        page.keyboard.press(key)
    page.keyboard.press("Alt+ArrowLeft")
    expect(page.locator(".bbox-status")).to_have_text(
        "第 1 个方框，共 1 个：x 509，y 270，宽 320，高 200，标签 "
    )
    page.keyboard.press("l")
    expect(page.locator("#field-boxes-0-label")).to_be_focused()
    page.keyboard.type("car")
    page.keyboard.press("Control+Enter")
    expect(page).to_have_url(re.compile(r"/work$"))
    last = submissions(app, order)[-1]
    assert last.task_id == second
    assert last.result == {"boxes": [{"x": 509, "y": 270, "w": 320, "h": 200, "label": "car"}]}


def test_a_box_outside_the_image_is_refused_before_it_is_sent(app, api, cast, open_browser):
    work(api, cast, "bbox_2d", box_items(1))
    page = signed_in(open_browser, "en-US")
    english(page)
    page.get_by_role("button", name="Take the next tasks").click()
    page.get_by_role("button", name="Add a box").click()
    page.locator("#field-boxes-0-x").fill("1200")
    page.locator("#field-boxes-0-w").fill("200")
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.locator("#error-boxes-0")).to_have_text(
        "A box must end inside the image: x + w <= the image's width."
    )
    assert submissions(app) == []
    # The drawing follows the fields.
    expect(page.locator(".bbox-svg .box-body")).to_have_attribute("x", "1200")


def test_li_rates_five_answers_with_the_keyboard(app, api, cast, open_browser, engine_name):
    order = ratings(api, cast, 5)
    page = signed_in(open_browser, "en-US")
    english(page)
    page.goto("/work")
    expect(page.locator("#field-count")).to_be_focused()
    page.keyboard.press("Enter")  # five, as the field says
    expect(page).to_have_url(re.compile(r"/work/tasks/\d+$"))
    expect(page.locator(".answer")).to_have_text(
        "最快的复兴号约 4 小时 18 分，一般车次 5 到 6 小时。"
    )
    ready(page)
    accessible(page)
    screenshot(page, "workspace-rating-en", engine_name)
    page.set_viewport_size(PHONE)
    accessible(page)
    screenshot(page, "workspace-rating-en", engine_name)
    page.set_viewport_size(DESKTOP)

    chosen = [5, 4, 2, 3, 1]
    for n, rating in enumerate(chosen):
        before = page.url
        page.keyboard.press(str(rating))
        expect(page.locator(f"input[name=rating][value='{rating}']")).to_be_checked()
        expect(page.locator(f"input[name=rating][value='{rating}']")).to_be_focused()
        page.keyboard.press("Enter")
        if rating <= 2:
            # The rule, checked in the page: nothing is sent until an error type is named.
            error = page.locator("#error-error_types")
            expect(error).to_have_text("A rating of 2 or lower names at least one error type.")
            first_kind = page.locator(f"input[name=error_types][value='{ERROR_TYPES[0]}']")
            expect(first_kind).to_be_focused()
            assert len(submissions(app, order)) == n
            accessible(page)
            screenshot(page, "workspace-rating-error-en", engine_name)
            page.keyboard.press("Space")
            page.keyboard.press("Enter")
        left(page, before)
        expect(page.locator(".flashes")).to_contain_text("Submitted.")
        assert len(submissions(app, order)) == n + 1
    expect(page).to_have_url(re.compile(r"/work$"))
    stored = [s.result for s in submissions(app, order)]
    assert [r["rating"] for r in stored] == chosen
    assert stored[2]["error_types"] == stored[4]["error_types"] == [ERROR_TYPES[0]]
    assert "error_types" not in stored[0]


def test_li_scores_a_clip_with_a_key(app, api, cast, open_browser, engine_name):
    order = work(api, cast, "audio_score_0_2", clip_items(2))
    for language, viewport in (("zh-CN", DESKTOP), ("zh-CN", PHONE)):
        page = signed_in(open_browser, language, viewport)
        if not submissions(app, order):
            page.get_by_role("button", name="领取下一批任务").click()
        else:
            page.locator(".task-card a").first.click()
        clip = page.locator("audio.clip")
        expect(clip).to_have_attribute("src", re.compile(r"clip-"))
        expect(clip).not_to_have_js_property("readyState", 0)  # its length is known
        assert 1.4 < clip.evaluate("audio => audio.duration") < 1.6
        accessible(page)
        screenshot(page, "workspace-audio-zh", engine_name)
        done = len(submissions(app, order))
        ready(page)
        page.keyboard.press("2" if done == 0 else "0")
        expect(page.locator(".flashes")).to_contain_text("已提交。")
        assert len(submissions(app, order)) == done + 1
    assert [s.result for s in submissions(app, order)] == [{"score": 2}, {"score": 0}]


def test_the_workspace_reads_well_on_a_phone_in_both_languages(
    app, api, cast, open_browser, engine_name
):
    quota(api, cast, 40)
    work(api, cast, "bbox_2d", box_items(1))
    page = signed_in(open_browser, "zh-CN", PHONE)
    page.get_by_role("button", name="领取下一批任务").click()
    page.locator(".bbox-image").evaluate("img => img.decode()")
    drag_from = page.locator(".bbox-image").bounding_box()
    start = (drag_from["x"] + 40, drag_from["y"] + 80)
    drag(page, start, (start[0] + 60, start[1] + 50))
    expect(page.locator(".bbox-svg .box")).to_have_count(1)
    accessible(page)
    screenshot(page, "workspace-boxes-zh", engine_name)
    english(page)
    expect(page.locator(".lease-text")).to_have_text("Lease ends in")
    accessible(page)
    screenshot(page, "workspace-boxes-en", engine_name)
    page.goto("/work")
    expect(page.locator(".quota-count")).to_have_text("1 of 40 today")
    accessible(page)
    screenshot(page, "workspace-en", engine_name)
    page.set_viewport_size(DESKTOP)
    screenshot(page, "workspace-en", engine_name)


def test_a_finger_draws_a_box_on_a_phone(app, api, cast, open_browser):
    """Touch, as Chromium gets it from a phone's screen: the box is drawn and stored in
    the image's pixels, and the page does not scroll under the finger."""
    order = work(api, cast, "bbox_2d", box_items(1))
    page = signed_in(open_browser, "zh-CN", PHONE, has_touch=True, is_mobile=True)
    page.get_by_role("button", name="领取下一批任务").click()
    ready(page)
    image = page.locator(".bbox-image")
    expect(image).to_have_js_property("complete", True)
    shown = image.bounding_box()
    scale = 1280 / shown["width"]
    touch = page.context.new_cdp_session(page)
    start = (round(shown["x"] + 50), round(shown["y"] + 100))
    end = (start[0] + 80, start[1] + 40)
    scrolled = page.evaluate("window.scrollY")

    def finger(kind: str, at: tuple | None) -> None:
        points = [{"x": at[0], "y": at[1]}] if at else []
        touch.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    finger("touchStart", start)
    for step in range(1, 7):
        finger("touchMove", (start[0] + 80 * step / 6, start[1] + 40 * step / 6))
    finger("touchEnd", None)
    expect(page.locator(".bbox-svg .box")).to_have_count(1)
    assert page.evaluate("window.scrollY") == scrolled
    page.locator("#field-boxes-0-label").fill("car")
    before = page.url
    page.get_by_role("button", name="提交", exact=True).click()
    left(page, before)
    [stored] = submissions(app, order)
    [box] = stored.result["boxes"]
    want = {
        "x": round((start[0] - shown["x"]) * scale),
        "y": round((start[1] - shown["y"]) * scale),
    }
    want["w"] = round((end[0] - shown["x"]) * scale) - want["x"]
    want["h"] = round((end[1] - shown["y"]) * scale) - want["y"]
    for key, value in want.items():
        assert abs(box[key] - value) <= 1, (key, box, want)


def test_without_javascript_the_fields_do_the_work_and_the_server_answers(
    app, api, cast, open_browser, engine_name
):
    """Scripts off: the lease is the server's number, a box is typed into its fields,
    the server's refusal stands beside the box it names, and nothing is written."""
    order = work(api, cast, "bbox_2d", box_items(1))
    page = signed_in(open_browser, "en-US", DESKTOP, java_script_enabled=False)
    english(page)
    page.get_by_role("button", name="Take the next tasks").click()
    expect(page.locator(".lease-left")).to_have_text("2:00")
    expect(page.get_by_role("button", name="Add a box")).to_be_hidden()
    box = page.get_by_role("group", name="Box 1")
    for label, value in (("X (left)", "1200"), ("Y (top)", "10"), ("Width", "200")):
        box.get_by_label(label).fill(value)
    box.get_by_label("Height").fill("100")
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.locator("#error-boxes-0")).to_have_text(
        "A box must end inside the image: x + w <= the image's width."
    )
    box = page.get_by_role("group", name="Box 1")
    expect(box).to_have_attribute("aria-describedby", "error-boxes-0")
    expect(box.get_by_label("X (left)")).to_have_value("1200")
    assert submissions(app, order) == []  # (axe needs scripts: it runs on the pages above)
    screenshot(page, "workspace-boxes-refused-en", engine_name)
    box.get_by_label("X (left)").fill("100")
    box.get_by_label("Label").fill("car")
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.locator(".flashes")).to_contain_text("Submitted.")
    [stored] = submissions(app, order)
    assert stored.result == {"boxes": [{"x": 100, "y": 10, "w": 200, "h": 100, "label": "car"}]}
