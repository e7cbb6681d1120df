"""The team console and the account pages in Debian's Chromium, against the live server.

The owner invites an annotator on the team page in English; the invitation goes out
through the local SMTP server; the invitee opens its link on a phone in Chinese, in a
browser of her own, chooses her name and password, and lands signed in, a member of
the team at the level she was invited to. Every page of the console and of getting an
account is checked by axe-core (no serious or critical violation) and photographed at
desktop and phone width in both languages (tests/pages/screenshots/).
"""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from marketplace.db import db
from marketplace.identity.models import Membership, Role, User
from marketplace.workers.models import LevelChange, LevelRate, TeamInvite
from tests import flows
from tests.pages.conftest import DESKTOP, PHONE
from tests.pages.kit import delivered, link_path
from tests.pages.test_browser import accessible, screenshot, sign_in_with_the_keyboard
from tests.support import row_counts
from tests.workers import add_level
from tests.workers.invite_kit import invited, mailed_token

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]

OWNER = "owner@example.com"
MEI_PASSWORD = "plum blossom 2026"


def photographed(page: Page, name: str, engine_name: str) -> None:
    """The page checked by axe and photographed at desktop and at phone width."""
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        accessible(page)
        screenshot(page, name, engine_name)


def owner_signed_in(open_browser, language: str):
    """The owner, signed in with the keyboard; the header's switch sets the language
    (her profile reads Chinese)."""
    page = open_browser(language, DESKTOP)
    page.goto("/sign-in")
    sign_in_with_the_keyboard(page, OWNER)
    expect(page.get_by_role("heading", level=1)).to_have_text("抢单大厅")  # her day's start
    if language == "en":
        page.get_by_role("button", name="English").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Drop board")
    return page


def test_the_owner_invites_and_the_annotator_joins_on_her_phone_in_chinese(
    app, api, cast, frozen_clock, open_browser, smtp_server, engine_name
):
    trainee = add_level(api, cast, "trainee", 0, rates=[("bbox_2d", "0.055")], daily_quota=40)
    owner = owner_signed_in(open_browser, "en")
    owner.get_by_role("link", name="Team", exact=True).click()
    expect(owner.get_by_role("heading", level=1)).to_have_text("Members")
    form = owner.locator("form[action$='/invites']")
    form.get_by_label("E-mail").fill("mei@example.com")
    form.get_by_label("Role").select_option("annotator")
    form.get_by_label("Starting level").select_option(label="trainee")
    form.get_by_label("Language of the mail").select_option("zh-CN")
    form.get_by_role("button", name="Send the invitation").click()
    expect(owner.get_by_role("status")).to_have_text("We sent an invitation to mei@example.com.")
    expect(owner.locator(".invite")).to_contain_text("mei@example.com")
    with app.app_context():
        invite = db.session.scalar(select(TeamInvite))
        assert (invite.email, invite.role, invite.level_id) == (
            "mei@example.com",
            Role.ANNOTATOR,
            trainee["id"],
        )
    photographed(owner, "team-members-en", engine_name)

    [mail] = delivered(app, smtp_server)
    assert mail.rcpt_tos == ["mei@example.com"] and mail.subject == "Owner 邀请你加入团队 Lotus"

    # Mei, on her phone, in Chinese, in a browser that never saw the owner's session.
    mei = open_browser("zh-CN", PHONE)
    mei.goto(link_path(mail.body))
    expect(mei.get_by_role("heading", level=1)).to_have_text("加入团队")
    expect(mei.locator(".invitation")).to_have_text("Lotus 邀请您以标注员身份加入。")
    expect(mei.locator("#field-name")).to_be_focused()
    accessible(mei)
    screenshot(mei, "invite-zh", engine_name)
    mei.keyboard.type("Mei")
    mei.keyboard.press("Tab")
    expect(mei.locator("#field-password")).to_be_focused()
    mei.keyboard.type(MEI_PASSWORD)
    mei.keyboard.press("Enter")
    expect(mei).to_have_url(re.compile(r"/work$"))  # her day starts at the workspace
    expect(mei.get_by_role("heading", level=1)).to_have_text("工作台")
    expect(mei.get_by_role("status")).to_have_text("欢迎加入 Lotus！")
    expect(mei.locator(".who")).to_have_text("Mei")
    accessible(mei)
    screenshot(mei, "invite-joined-zh", engine_name)
    with app.app_context():
        her = db.session.scalar(select(User).where(User.email == "mei@example.com"))
        roles = db.session.execute(
            select(Membership.party_id, Membership.role).where(Membership.user_id == her.id)
        ).all()
        level = db.session.scalar(select(LevelChange.level_id).where(LevelChange.user_id == her.id))
        assert (her.name, her.locale) == ("Mei", "zh_CN") and her.email_verified_at is not None
        assert [(p, Role(r)) for p, r in roles] == [(cast.party_ids["lotus"], Role.ANNOTATOR)]
        assert level == trainee["id"]

    # She signs out and in again with what she chose, on her phone, in Chinese.
    mei.get_by_role("button", name="退出登录").click()
    expect(mei.get_by_role("heading", name="登录")).to_be_visible()
    sign_in_with_the_keyboard(mei, "mei@example.com", MEI_PASSWORD)
    expect(mei.get_by_role("heading", level=1)).to_have_text("工作台")

    # The owner sees her at once, at her level, with her quota.
    owner.reload()
    row = owner.locator("tr", has_text="Mei")
    expect(row).to_contain_text("trainee")
    expect(row).to_contain_text("0 of 40")


def test_a_bad_rate_is_said_beside_its_field_on_screen_and_nothing_is_written(
    app, api, cast, open_browser, engine_name
):
    trainee = add_level(api, cast, "trainee", 0)
    owner = owner_signed_in(open_browser, "zh-CN")
    owner.goto(f"/teams/{cast.party_ids['lotus']}/levels")
    before = row_counts(app)
    rate = owner.locator(f"#rate-{trainee['id']}-unit_price")
    rate.fill("0.0000001")
    owner.get_by_role("button", name="设置单价").click()
    rate = owner.locator(f"#rate-{trainee['id']}-unit_price")
    expect(rate).to_have_attribute("aria-invalid", "true")
    expect(rate).to_be_focused()
    expect(owner.locator(f"#error-rate-{trainee['id']}-unit_price")).to_have_text(
        "价格最多 6 位小数。"
    )
    photographed(owner, "team-levels-error-zh", engine_name)
    assert row_counts(app) == before
    rate.fill("0.055")
    owner.get_by_role("button", name="设置单价").click()
    expect(owner.locator(".rate")).to_have_text("¥0.055")
    with app.app_context():
        assert db.session.scalar(select(LevelRate.unit_price_micros)) == 55_000


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_every_page_of_the_console_and_of_getting_an_account(
    app, api, cast, frozen_clock, open_browser, engine_name, language, monkeypatch
):
    """Each page, with something on it, passes axe at both widths and is photographed."""
    add_level(api, cast, "trainee", 0, rates=[("bbox_2d", "0.05")], daily_quota=40)
    flows.invoiced(api, cast)
    invited(api, cast, "chen@example.com", locale="en")
    token = mailed_token(app, "chen@example.com")
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", True)
    lotus, li = cast.party_ids["lotus"], cast.user_ids["li"]
    short = "zh" if language == "zh-CN" else "en"

    owner = owner_signed_in(open_browser, language)
    for path, name in (
        (f"/teams/{lotus}/members", "team-members"),
        (f"/teams/{lotus}/members/{li}", "team-member"),
        (f"/teams/{lotus}/levels", "team-levels"),
        (f"/teams/{lotus}/earnings", "team-earnings"),
        ("/me/notifications", "notifications"),
    ):
        owner.set_viewport_size(DESKTOP)
        owner.goto(path)
        expect(owner.locator("h1")).to_be_visible()
        photographed(owner, f"{name}-{short}", engine_name)
    owner.goto(f"/teams/{lotus}/earnings")  # the team's margin: 10 boxes at 0.10 - 0.06
    expect(owner.locator(".figure-pending .money")).to_have_attribute("data-minor", "40")

    owner.set_viewport_size(DESKTOP)
    owner.goto(f"/teams/{lotus}/webhooks")
    owner.locator("#webhook-url").fill("http://127.0.0.1:9/hook")
    owner.locator("input[name=events][value='batch.claimed']").check()
    owner.locator("form[action$='/webhooks'] button.primary").click()
    secret = owner.locator(".secret-value")
    expect(secret).to_have_text(re.compile(r"^whsec_"))
    photographed(owner, f"team-webhooks-{short}", engine_name)

    visitor = open_browser(language, DESKTOP)
    for path, name in (
        ("/sign-up", "sign-up"),
        ("/password-resets", "reset-request"),
        ("/password-resets/complete?token=from-the-mail", "reset"),
        ("/signup/verify?token=from-the-mail", "verify"),
        (f"/invites/accept?token={token}", "invite"),
        ("/sign-in", "sign-in-links"),
    ):
        visitor.set_viewport_size(DESKTOP)
        visitor.goto(path)
        expect(visitor.locator("h1")).to_be_visible()
        photographed(visitor, f"{name}-{short}", engine_name)
