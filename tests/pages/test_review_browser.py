"""Review in Debian's Chromium, against the live server: Lotus's reviewer rejects one of
Li's boxes with a reason, one item at a time, and accepts the rest of the batch at once
in the table; Li reads the rejection and its reason on her level's page and disputes it;
the owner (not the reviewer who rejected it) upholds the dispute. Each step is checked
on the screen and in the database. axe-core finds no serious or critical violation;
screenshots at desktop and phone width, in Chinese and English.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.pages.conftest import DESKTOP, PHONE
from tests.pages.review_kit import decision_record, disputes_of, lis_boxes
from tests.pages.test_browser import accessible, screenshot, sign_in_with_the_keyboard

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]


def shots(page: Page, name: str, engine_name: str) -> None:
    """The page at desktop and phone width, each checked by axe, then desktop again."""
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        accessible(page)
        screenshot(page, name, engine_name)
    page.set_viewport_size(DESKTOP)


def sign_in(open_browser, label: str, language: str, path: str) -> Page:
    page = open_browser(language, DESKTOP)
    page.goto(path)
    sign_in_with_the_keyboard(page, f"{label}@example.com")
    return page


def test_a_reviewer_rejects_with_a_reason_li_disputes_the_owner_decides(
    app, api, cast, open_browser, engine_name
):
    first, *rest = lis_boxes(api, cast, items=4)

    # The reviewer's queue, in her profile's Chinese, then in English.
    page = sign_in(open_browser, "reviewer", "zh-CN", "/review")
    expect(page.get_by_role("heading", level=1)).to_have_text("审核队列")
    expect(page.locator("table.queue tbody tr")).to_have_count(4)
    shots(page, "review-queue-zh", engine_name)
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review queue")
    shots(page, "review-queue-en", engine_name)

    # One at a time: the first item, its boxes drawn read-only; rejected with a reason.
    page.get_by_role("link", name=re.compile(r"000000\.jpg")).click()
    expect(page).to_have_url(re.compile(rf"/review/items/{first}$"))
    expect(page.locator("svg.bbox-svg rect.box-body")).to_have_count(1)
    expect(page.locator("svg.bbox-svg")).to_have_attribute("aria-label", "1 box")
    shots(page, "review-item-en", engine_name)
    page.get_by_role("button", name="Reject", exact=True).click()  # no reason yet
    error = page.locator("#error-reason_code")
    expect(error).to_have_text("A rejection needs a reason code.")
    expect(page.get_by_label("Reason for a rejection")).to_be_focused()
    assert decision_record(app, first)["status"] == "submitted"
    # With the keyboard alone, from the field in error: a reason, a note, Reject.
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Reason for a rejection")).to_have_value("box_off_target")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Note for the annotator (optional)")).to_be_focused()
    page.keyboard.type("The box misses the car.")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Reject", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/review/items/{rest[0]}$"))  # the next one
    expect(page.get_by_role("status")).to_have_text("Accepted 0, rejected 1.")
    record = decision_record(app, first)
    assert (record["status"], record["reason_code"], record["reason"]) == (
        "rejected",
        "box_off_target",
        "The box misses the car.",
    )

    # The rest of the batch at once: tick all, accept.
    page.get_by_role("link", name="Queue").click()
    expect(page.locator("table.queue tbody tr")).to_have_count(3)
    page.get_by_label("Tick all").check()
    for box in page.locator("input.tick").all():
        expect(box).to_be_checked()
    page.get_by_role("button", name="Accept ticked").click()
    expect(page.get_by_role("status")).to_have_text("Accepted 3, rejected 0.")
    expect(page.get_by_text("Nothing is waiting for review.")).to_be_visible()
    for submission_id in rest:
        record = decision_record(app, submission_id)
        assert (record["status"], record["rate_micros"]) == ("accepted", 60_000)

    # The batch's sample is decided: 3 of 4, over the order's threshold of 0.
    page.goto(f"/review/items/{first}")
    page.get_by_role("link", name=re.compile("round 1")).click()
    expect(page.locator("table.rounds tbody")).to_contain_text("75%")
    expect(page.locator("table.rounds tbody")).to_contain_text("Passed: the rest accepted")
    shots(page, "review-batch-en", engine_name)

    # Li, on her phone, in Chinese: the rejection and its reason; she disputes it.
    li = open_browser("zh-CN", PHONE)
    li.goto("/me/standing")
    sign_in_with_the_keyboard(li, "li@example.com")
    expect(li.get_by_role("heading", level=1)).to_have_text("我的等级")
    rejection = li.locator(f"#rejection-{first}")
    expect(rejection.locator(".reason")).to_have_text("框未对准目标")
    expect(rejection.locator(".note")).to_have_text("The box misses the car.")
    shots(li, "standing-zh", engine_name)
    rejection.get_by_label("申诉理由").fill("框正好在车上。")
    rejection.get_by_role("button", name="申诉").click()
    expect(li.get_by_role("status")).to_have_text("申诉已提交，将由原审核员以外的人裁决。")
    expect(li.locator(f"#rejection-{first} .dispute-state")).to_have_text("您的申诉：待裁决")
    assert disputes_of(app, first) == [("open", "框正好在车上。", None, None, "box_off_target")]

    # The reviewer who rejected it may not decide: refused beside the note.
    page.goto("/review/disputes")
    page.get_by_label("Uphold: accept the item").check()
    page.get_by_label("Note for the annotator").fill("Fine by me.")
    page.get_by_role("button", name="Decide").click()
    expect(page.locator(".field-error")).to_have_text(
        "Someone other than the reviewer who rejected the item decides."
    )
    assert disputes_of(app, first)[0][0] == "open"

    # The owner upholds it, in English: the item is accepted at Li's rate.
    owner = sign_in(open_browser, "owner", "en", "/review/disputes")
    owner.get_by_role("button", name="English").click()
    expect(owner.get_by_role("heading", level=1)).to_have_text("Disputes")
    expect(owner.locator(".her-reason")).to_have_text("框正好在车上。")
    shots(owner, "review-disputes-en", engine_name)
    owner.get_by_label("Uphold: accept the item").check()
    owner.get_by_label("Note for the annotator").fill("The box is right.")
    owner.get_by_role("button", name="Decide").click()
    expect(owner.locator("td.dispute-state")).to_have_text("Upheld: your item is accepted")
    assert disputes_of(app, first) == [
        ("upheld", "框正好在车上。", cast.user_ids["owner"], "The box is right.", "box_off_target")
    ]
    record = decision_record(app, first)
    assert (record["status"], record["rate_micros"]) == ("accepted", 60_000)

    # Li reads the outcome; each page once more in the other language.
    li.reload()
    expect(li.locator(f"#rejection-{first} .dispute-state")).to_contain_text(
        "申诉成立：作品已改为通过"
    )
    expect(li.locator(f"#rejection-{first} .note")).to_have_text("The box misses the car.")
    li.get_by_role("button", name="English").click()
    expect(li.get_by_role("heading", level=1)).to_have_text("My level")
    shots(li, "standing-en", engine_name)
    owner.get_by_role("button", name="中文").click()
    expect(owner.get_by_role("heading", level=1)).to_have_text("申诉")
    shots(owner, "review-disputes-zh", engine_name)
    owner.goto(f"/review/items/{first}")
    expect(owner.locator(".item-status")).to_have_text("已通过")
    shots(owner, "review-item-zh", engine_name)
    owner.get_by_role("link", name=re.compile("第 1 轮")).click()
    shots(owner, "review-batch-zh", engine_name)
