"""The drop board in Debian's Chromium, against the live server: the owner stands on the
board at 02:59:59 in Shanghai watching the countdown; the test moves the one clock (the
live server runs in this process, so it reads the same injected clock) to 03:00 and runs
the scheduler's release job; she reloads, loses the batch Tiger took first with a clear
message, and claims the other with one click. The database shows who holds what. Then
the chain page. axe finds no serious or critical violation; screenshots at desktop and
phone width in Chinese and English go to tests/pages/screenshots/.
"""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from marketplace import clock
from marketplace.db import db
from marketplace.orders.models import Batch
from tests import flows
from tests.pages.conftest import DESKTOP, PHONE
from tests.pages.test_browser import accessible, screenshot, sign_in_with_the_keyboard

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]

OWNER = "owner@example.com"
SHANGHAI_3AM = {"cron": "0 3 * * *", "timezone": "Asia/Shanghai", "batches_per_drop": 2}


def holders(app, order_id: int) -> dict[int, tuple[str, int | None]]:
    """Each batch of the order: its status and the team holding it, as the database has it."""
    with app.app_context():
        return {
            b.seq: (b.status, b.claimed_by_party_id)
            for b in db.session.scalars(select(Batch).where(Batch.order_id == order_id))
        }


def sign_in(open_browser, language: str, viewport: dict) -> Page:
    page = open_browser(language, viewport)
    page.goto("/board")
    sign_in_with_the_keyboard(page, OWNER)
    if language == "en":  # her profile reads Chinese: she switches
        page.get_by_role("button", name="English").click()
    return page


def test_the_owner_claims_at_the_3am_drop_and_loses_a_race_with_a_clear_message(
    app, api, cast, frozen_clock, open_browser, engine_name
):
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    order = flows.post_order(
        api, cast.client, items=10, batch_size=5, price="0.055", release_plan=SHANGHAI_3AM
    )
    frozen_clock.stand_at("2026-03-03T02:59:59+08:00")
    assert clock.now().isoformat() == "2026-03-02T18:59:59+00:00"  # the live server's too

    page = sign_in(open_browser, "zh-CN", DESKTOP)
    expect(page).to_have_url(re.compile(r"/board$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("抢单大厅")
    drop = page.locator(f'.drop[data-order="{order}"]')
    expect(drop).to_contain_text("2026年3月3日 03:00")
    expect(drop.get_by_role("timer")).to_have_attribute("data-until", "2026-03-03T03:00:00+08:00")
    expect(page.locator("main")).to_contain_text("现在没有可抢的单")
    screenshot(page, "board-before-drop-zh", engine_name)
    # The countdown reaches zero on the page's own (the server's) clock and says so, politely.
    news = page.get_by_role("status").filter(has_text="放单已开始")
    expect(news).to_have_text("放单已开始：刷新抢单大厅即可抢单。")
    expect(drop.get_by_role("timer")).to_have_text("0:00:00")
    accessible(page)
    assert holders(app, order) == {1: ("scheduled", None), 2: ("scheduled", None)}

    frozen_clock.stand_at("2026-03-03T03:00:00+08:00")
    [released] = flows.release_drops(app)  # the scheduler's job at 03:00
    assert released.batch_count == 2
    page.get_by_role("link", name="刷新抢单大厅").click()
    expect(page.get_by_role("button", name="抢第 1 批")).to_be_visible()
    expect(page.get_by_role("button", name="抢第 2 批")).to_be_visible()
    expect(page.locator(f'article[data-order="{order}"] .price')).to_have_text("¥0.055")
    accessible(page)
    screenshot(page, "board-at-drop-zh", engine_name)

    # Tiger's owner is faster for batch 2, through the API, while her screen still shows it.
    board = [b for b in api.get("/batches", cast.rival_owner).body if b["order_id"] == order]
    batch_2 = next(b for b in board if b["seq"] == 2)
    assert api.post(f"/batches/{batch_2['id']}/claim", cast.rival_owner).status == 200
    page.get_by_role("button", name="抢第 2 批").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("没有抢到：“Boxes”第 2 批")
    expect(alert).to_contain_text("其他团队先抢到了这个批次。")
    tiger, lotus = cast.party_ids["tiger"], cast.party_ids["lotus"]
    assert holders(app, order) == {1: ("released", None), 2: ("claimed", tiger)}
    accessible(page)
    screenshot(page, "board-lost-race-zh", engine_name)

    # One click on the batch that is left: hers.
    page.get_by_role("button", name="抢第 1 批").click()
    expect(page.get_by_role("status").filter(has_text="已抢到")).to_contain_text("第 1 批")
    assert holders(app, order) == {1: ("claimed", lotus), 2: ("claimed", tiger)}
    expect(page.locator(".held-batch")).to_have_count(1)
    accessible(page)
    screenshot(page, "board-claimed-zh", engine_name)
    page.set_viewport_size(PHONE)
    accessible(page)
    screenshot(page, "board-claimed-zh", engine_name)


def test_the_board_and_the_chain_in_english_at_desktop_and_phone_width(
    app, api, cast, frozen_clock, open_browser, engine_name
):
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    flows.post_order(api, cast.client, items=10, batch_size=5, price="0.055", lease_hours=24)
    flows.post_order(api, cast.client, items=10, batch_size=5, release_plan=SHANGHAI_3AM)
    flows.post_order(api, cast.client, items=50, batch_size=10, sourcing="bids")
    for viewport in (DESKTOP, PHONE):
        page = sign_in(open_browser, "en", viewport)
        expect(page.get_by_role("heading", level=1)).to_have_text("Drop board")
        expect(page.locator(".price").first).to_have_text("CN¥0.055")
        # 9 hours to the drop from the server's clock, ticking down in real seconds.
        expect(page.get_by_role("timer").first).to_have_text(re.compile(r"^(9:00:00|8:59:\d\d)$"))
        accessible(page)
        screenshot(page, "board-en", engine_name)
        page.locator(".claim-button").first.click()
        expect(page.get_by_role("status").filter(has_text="Claimed")).to_be_visible()
        lease = page.locator(".held-batch").first.get_by_role("timer")
        expect(lease).to_have_text(re.compile(r"^2[34]:\d\d:\d\d$"))
        page.locator(".held-batch a").first.click()
        expect(page.get_by_role("timer")).to_have_text(re.compile(r"^2[34]:\d\d:\d\d$"))
        expect(page.locator("main")).to_contain_text("March 3, 2026, 6:00 PM")  # lease ends
        accessible(page)
        screenshot(page, "held-batch-en", engine_name)
        page.get_by_role("link", name="Back to the drop board").click()
        page.get_by_role("link", name="Lottery and standing rules").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Lottery and standing rules")
        accessible(page)
        screenshot(page, "fair-en", engine_name)
        page.get_by_role("navigation", name="Your pages").get_by_role("link", name="Chain").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Chain")
        accessible(page)
        screenshot(page, "chain-en", engine_name)
    page.get_by_role("button", name="中文").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("转包")
    accessible(page)
    screenshot(page, "chain-zh", engine_name)
    page.locator(".contract .card-title a").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("转包链")
    expect(page.locator(".chain-links .is-this .price")).to_have_text("¥0.055")
    accessible(page)
    screenshot(page, "chain-contract-zh", engine_name)
    with app.app_context():
        claimed = db.session.scalars(
            select(Batch).where(Batch.claimed_by_party_id == cast.party_ids["lotus"])
        ).all()
        assert len(claimed) == 2  # one click at each width
