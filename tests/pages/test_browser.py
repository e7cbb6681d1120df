"""The pages in Debian's Chromium, against the live server: Li signs in, in Chinese and
in English, with the keyboard, and reads her money to the fen as the ledger holds it;
a wrong password, a forged form and another team's page are refused on screen, and
nothing is written. axe-core (from the axe-playwright-python package, no download)
finds no serious or critical violation on any page, at desktop and phone width.

Screenshots of each page go to tests/pages/screenshots/ (SCREENSHOTS to move them).
"""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.cast import PASSWORD
from tests.pages.conftest import DESKTOP, PHONE, SCREENSHOTS
from tests.pages.kit import ledger_of, li_money_in_every_state, pay
from tests.support import row_counts

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]

LI = "li@example.com"
AXE = Axe()


SETTLED_WITHOUT_SIDEWAYS_SCROLL = """() => new Promise(resolve => {
  let frames = 0;
  const look = () => {
    const root = document.documentElement;
    const fits = root.scrollWidth <= root.clientWidth;
    if (fits || ++frames > 30) resolve(fits); else requestAnimationFrame(look);
  };
  look();
})"""


def accessible(page: Page) -> None:
    """axe-core, run in the page: no serious or critical violation; and the page never
    scrolls sideways at its width (a wide table scrolls in its own region)."""
    # A layout just resized may take a frame or two to settle: look again over a few
    # animation frames before judging it (evaluated through the browser's protocol, which
    # the page's Content-Security-Policy does not govern).
    fits = page.evaluate(SETTLED_WITHOUT_SIDEWAYS_SCROLL)
    if not fits:
        wide = page.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
            " > document.documentElement.clientWidth).slice(0, 5).map(e => e.tagName + '.' +"
            " e.className + ' ' + Math.round(e.getBoundingClientRect().right))"
        )
        raise AssertionError(f"{page.url} scrolls sideways: {wide}")
    violations = AXE.run(page).response["violations"]
    grave = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert not grave, "\n".join(grave)


def screenshot(page: Page, name: str, engine_name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=SCREENSHOTS / f"{name}-{width}-{engine_name}.png", full_page=True)


def sign_in_with_the_keyboard(page: Page, email: str, password: str = PASSWORD) -> None:
    """From the sign-in page's first load, as a person without a mouse: the e-mail field
    has the focus, Tab goes to the password, Enter sends the form."""
    expect(page.locator("#field-email")).to_be_focused()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    expect(page.locator("#field-password")).to_be_focused()
    page.keyboard.type(password)
    page.keyboard.press("Enter")


def test_li_reads_her_money_to_the_fen_in_chinese_and_in_english(
    app, api, cast, frozen_clock, open_browser, engine_name
):
    money = li_money_in_every_state(app, api, cast, frozen_clock)
    assert ledger_of(app, cast) == {"CNY": (39, 120, 60)}  # pending, available, paid

    for language, viewport in (("zh-CN", DESKTOP), ("zh-CN", PHONE)):
        page = open_browser(language, viewport)
        page.goto("/me/earnings")
        expect(page).to_have_url(re.compile(r"/sign-in\?next=/me/earnings$"))
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.get_by_role("heading", name="登录")).to_be_visible()
        accessible(page)
        screenshot(page, "sign-in-zh", engine_name)
        sign_in_with_the_keyboard(page, LI)
        expect(page).to_have_url(re.compile(r"/me/earnings$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("我的收入")
        figures = page.locator(".figures")
        expect(figures.locator(".figure-pending .money")).to_have_text("¥0.39")
        expect(figures.locator(".figure-available .money")).to_have_text("¥1.20")
        expect(figures.locator(".figure-paid .money")).to_have_text("¥0.60")
        invoice = page.locator(".invoice")
        expect(invoice).to_contain_text(f"发票 {money.late_invoice['number']} · Horizon")
        expect(invoice).to_contain_text("2026年4月1日")
        expect(invoice).to_contain_text("逾期 5 天")
        expect(invoice).to_contain_text("该客户的信用已被冻结")
        expect(page.locator(".funded")).to_contain_text("已预付，审核期至 2026年4月9日")
        expect(page.locator(".funded .money")).to_have_text("¥0.30")
        expect(page.locator(".unbilled .money")).to_have_text("¥0.17")
        expect(page.locator(".as-of")).to_have_text("截至 2026年4月6日 18:00")
        accessible(page)
        screenshot(page, "earnings-zh", engine_name)

    # English: the browser asks for it; the switch keeps it over her profile's Chinese.
    page = open_browser("en-US", DESKTOP)
    page.goto("/sign-in")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    accessible(page)
    screenshot(page, "sign-in-en", engine_name)
    sign_in_with_the_keyboard(page, LI)
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")  # her profile; her day
    page.get_by_role("link", name="收入").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("我的收入")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My earnings")
    expect(page.get_by_role("button", name="English")).to_have_attribute("aria-pressed", "true")
    figures = page.locator(".figures")
    expect(figures.locator(".figure-pending .money")).to_have_text("CN¥0.39")
    expect(figures.locator(".figure-available .money")).to_have_text("CN¥1.20")
    expect(figures.locator(".figure-paid .money")).to_have_text("CN¥0.60")
    expect(page.locator(".invoice")).to_contain_text("5 days late")
    expect(page.locator(".invoice")).to_contain_text("April 1, 2026")
    expect(page.locator(".funded")).to_contain_text("Funded, in review until April 9, 2026")
    accessible(page)
    screenshot(page, "earnings-en", engine_name)
    page.set_viewport_size(PHONE)
    accessible(page)
    screenshot(page, "earnings-en", engine_name)

    # Horizon pays the late invoice: her 0.39 moves from pending to available, to the fen,
    # and the invoice is no longer what her money waits on.
    pay(api, cast, money.late_invoice)
    assert ledger_of(app, cast) == {"CNY": (0, 159, 60)}
    page.reload()
    expect(figures.locator(".figure-pending .money")).to_have_text("CN¥0.00")
    expect(figures.locator(".figure-available .money")).to_have_text("CN¥1.59")
    expect(figures.locator(".figure-paid .money")).to_have_text("CN¥0.60")
    expect(page.locator(".invoice")).to_have_count(0)

    # Signing out ends the session: the page asks her to sign in again.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.goto("/me/earnings")
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))


def test_the_keyboard_always_shows_where_it_is(cast, open_browser):
    """On a page without a form, the first Tab lands on the skip link, on screen and
    outlined; Enter takes the focus to the content."""
    page = open_browser("en", PHONE)
    page.goto("/sign-in")
    sign_in_with_the_keyboard(page, LI)
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")
    page.goto("/me/earnings")
    expect(page.get_by_role("heading", level=1)).to_have_text("我的收入")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="跳到正文")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box and box["y"] >= 0, "the focused skip link is on screen"
    assert skip.evaluate("link => getComputedStyle(link).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")  # on into the page: its focus is outlined too
    focused = page.locator(":focus")
    assert focused.evaluate("el => getComputedStyle(el).outlineStyle") == "solid"


def test_a_wrong_password_is_said_beside_the_field_in_her_language(
    app, cast, open_browser, engine_name
):
    page = open_browser("zh-CN", PHONE)
    page.goto("/sign-in")
    sign_in_with_the_keyboard(page, LI, "not her password")
    error = page.locator("#error-password")
    expect(error).to_have_text("邮箱或密码错误。")
    password = page.locator("#field-password")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_attribute("aria-describedby", "error-password")
    expect(password).to_be_focused()
    expect(page.locator("#field-email")).to_have_value(LI)
    accessible(page)
    screenshot(page, "sign-in-wrong-password-zh", engine_name)


def test_a_forged_csrf_token_is_refused_and_nothing_is_written(app, cast, open_browser):
    page = open_browser("zh-CN", DESKTOP)
    page.goto("/sign-in")
    page.locator("#field-email").fill(LI)
    page.locator("#field-password").fill(PASSWORD)
    page.locator("form[action='/sign-in'] input[name=csrf_token]").evaluate(
        "field => { field.value = 'forged' }"
    )
    before = row_counts(app)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("请求被拒绝")
    expect(page.locator("main")).to_contain_text("此表单不是从本站提交的")
    assert row_counts(app) == before
    page.goto("/me/earnings")
    expect(page).to_have_url(re.compile(r"/sign-in"))  # not signed in


def test_a_session_opens_only_what_the_api_would_show_its_user(
    app, api, cast, open_browser, engine_name
):
    tiger = cast.party_ids["tiger"]
    page = open_browser("zh-CN", DESKTOP)
    page.goto("/sign-in")
    sign_in_with_the_keyboard(page, LI)
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")
    answer = page.goto(f"/me/earnings?team={tiger}")
    assert answer.status == 404 == api.get(f"/me/earnings/days?team_id={tiger}", cast.li).status
    expect(page.get_by_role("heading", level=1)).to_have_text("未找到")
    expect(page.locator("main")).not_to_contain_text("Tiger")
    accessible(page)
    screenshot(page, "not-found-zh", engine_name)

    owner = open_browser("en", DESKTOP)
    owner.goto("/sign-in")
    sign_in_with_the_keyboard(owner, "owner@example.com")
    # Her profile reads Chinese; her day starts at the drop board. An owner is no
    # annotator: 403, as the API's annotator reads.
    expect(owner.get_by_role("heading", level=1)).to_have_text("抢单大厅")
    accessible(owner)
    answer = owner.goto("/me/earnings")
    assert answer.status == 403 == api.get("/me/earnings/days", cast.owner).status
    expect(owner.get_by_role("heading", level=1)).to_have_text("无权操作")
