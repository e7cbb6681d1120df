"""The team owner's drop board and fair drops through Flask's test client: each batch
with its price, funding, payment record and hourly pay; a claim with one click; every
409 said in Chinese and in English with nothing written; another team's batch, an
annotator's session and a forged form refused as the API refuses them.

The chain page (bids, offers, subcontracts, margins) is in test_chain_page.py; the board
in a real browser, at the 03:00 drop, in test_board_browser.py.
"""

import html
import re

import pytest
from sqlalchemy import select

from marketplace.db import db, unit_of_work
from marketplace.identity import service as identity
from marketplace.identity.models import Party, Role, User
from marketplace.orders.models import Batch, ClaimRule, Interest
from tests import flows
from tests.orders.test_credit_hold import hold
from tests.pages.kit import PageClient, text
from tests.support import row_counts

# Through the pages and the API end to end: `make test` runs them; `make check` stays
# under a minute.
pytestmark = pytest.mark.slow

OWNER = "owner@example.com"
SHANGHAI_3AM = {"cron": "0 3 * * *", "timezone": "Asia/Shanghai", "batches_per_drop": 1}


def owner_pages(app, cast, language="zh-CN") -> PageClient:
    browser = PageClient(app.test_client(), language)
    assert browser.sign_in(OWNER).status_code == 302
    if language == "en":  # her profile reads Chinese: she switches
        browser.post("/language", {"locale": "en", "next": "/board"}, token_from="/board")
    return browser


def board_batches(api, cast, order_id: int) -> list[dict]:
    return [b for b in api.get("/batches?limit=1000", cast.owner).body if b["order_id"] == order_id]


def claim(browser: PageClient, batch_id: int):
    return browser.post(f"/board/batches/{batch_id}/claim", {}, token_from="/board")


def batch_row(app, batch_id: int) -> tuple[str, int | None]:
    with app.app_context():
        batch = db.session.get(Batch, batch_id)
        return batch.status, batch.claimed_by_party_id


def refusal(answer) -> str:
    found = re.search(
        r'<div class="refusal" role="alert" id="refusal">(.*?)</div>', text(answer), re.S
    )
    assert found, text(answer)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip())


def test_the_board_shows_each_order_with_its_price_funding_payment_record_and_hourly_pay(
    app, api, cast
):
    wage = {"currency": "CNY", "region": "Shanghai", "hourly_wage": "24.00"}
    wage |= {"source": "Shanghai minimum wage notice", "effective_on": "2025-07-01"}
    assert api.post("/reference-wages", cast.admin, wage).status == 201
    # On credit, 0.055 a box at the client's 12 s: 16.50 an hour, below the 24.00 wage.
    credit = flows.post_order(
        api, cast.client, items=10, batch_size=5, price="0.055", estimated_seconds_per_item=12
    )
    # Funded: 5 boxes at 0.10 and their fee reserved from Horizon's balance first.
    flows.top_up(api, cast.admin, cast.party_ids["horizon"], "0.53")
    funded = flows.post_order(api, cast.client, items=5, batch_size=5, funding="prefunded")
    hold(app, cast)  # Horizon is on credit hold now

    zh = text(owner_pages(app, cast).get("/board"))
    assert "<h1>抢单大厅</h1>" in zh
    credit_part = zh.split(f'data-order="{credit}"')[-1].split("</article>")[0]
    assert "¥0.055" in credit_part and "CNY" in credit_part
    assert "赊账" in credit_part  # on credit
    assert credit_part.count('<li class="batch') == 2
    assert '<span class="money" data-minor="1650" data-currency="CNY">¥16.50</span>' in credit_part
    assert "低于参考工资" in credit_part
    assert '<dd class="hold">冻结中</dd>' in credit_part
    assert '<dd class="overdue">0' in credit_part
    funded_part = zh.split(f'data-order="{funded}"')[-1].split("</article>")[0]
    assert "已预付" in funded_part
    assert 'data-minor="50" data-currency="CNY">¥0.50</span>' in funded_part

    en = text(owner_pages(app, cast, "en").get("/board"))
    en = en.replace("\n", " ")
    assert "CN¥0.055" in en and "On credit: paid when the client pays its invoice." in en
    assert "An hour pays" in en and "CN¥16.50" in en and "at the client's estimate of 12 s" in en
    assert "Funded: the client's money is reserved before the work." in en


def test_the_owner_claims_with_one_click_and_sees_the_batch_among_hers(app, api, cast):
    order = flows.post_order(api, cast.client, items=10, batch_size=5, lease_hours=24)
    first, second = board_batches(api, cast, order)
    browser = owner_pages(app, cast)
    answer = claim(browser, first["id"])
    assert (answer.status_code, answer.headers["Location"]) == (302, "/board#held")
    assert batch_row(app, first["id"]) == ("claimed", cast.party_ids["lotus"])
    assert batch_row(app, second["id"]) == ("released", None)
    page = text(browser.get("/board"))
    assert "已抢到" in page  # the flash
    held = page.split('id="held"')[1]
    assert f'data-batch="{first["id"]}"' in held
    assert 'role="timer"' in held and "24:00:00" in held  # the lease, from the server's clock
    assert text(browser.get(f"/board/held/{first['id']}")).count("24:00:00") == 1


@pytest.mark.parametrize(
    ("case", "zh", "en"),
    [
        ("taken", "其他团队先抢到了这个批次。", "Another team claimed this batch first."),
        (
            "trial",
            "这个订单需要先通过试做",
            "This order needs a passed trial first: claim a trial batch and wait for its score.",
        ),
        (
            "limit",
            "已达上限：客户允许一个团队同时持有 1 个未完成的批次，你的团队已持有 1 个。",
            "Limit reached: the client lets a team hold 1 unfinished batches at once, and your "
            "team holds 1.",
        ),
        ("not dropped", "这个批次还没有放出。", "This batch has not dropped yet."),
        (
            "no contract",
            "只有持有这个订单合同的团队才能抢它的批次",
            "Only teams holding a contract for this order's items claim its batches",
        ),
    ],
)
def test_each_refused_claim_is_said_in_her_language_and_writes_nothing(
    app, api, cast, frozen_clock, case, zh, en
):
    batch_id = _refused_claim(app, api, cast, frozen_clock, case)
    for language, words in (("zh-CN", zh), ("en", en)):
        browser = owner_pages(app, cast, language)
        token_page = "/board"
        token = browser.csrf_token(token_page)
        before = row_counts(app)
        answer = browser.post(
            f"/board/batches/{batch_id}/claim", {"csrf_token": token}, token_from=None
        )
        assert answer.status_code == 409
        assert words in refusal(answer)
        assert row_counts(app) == before
        assert batch_row(app, batch_id)[1] != cast.party_ids["lotus"]
        api_answer = api.post(f"/batches/{batch_id}/claim", cast.owner)
        assert api_answer.status == 409  # the API says the same


def _refused_claim(app, api, cast, frozen_clock, case: str) -> int:
    """A batch whose claim by Lotus the order's rules refuse, for `case`."""
    if case == "taken":
        order = flows.post_order(api, cast.client, items=5, batch_size=5)
        [batch] = board_batches(api, cast, order)
        assert api.post(f"/batches/{batch['id']}/claim", cast.rival_owner).status == 200
        return batch["id"]
    if case == "trial":
        trial = {"batches": 1, "batch_size": 2, "pass_score": 80}
        order = flows.post_order(api, cast.client, items=12, batch_size=10, trial=trial)
        return next(b for b in board_batches(api, cast, order) if b["kind"] == "regular")["id"]
    if case == "limit":
        order = flows.post_order(
            api, cast.client, items=10, batch_size=5, limits={"batches_held": 1}
        )
        first, second = board_batches(api, cast, order)
        assert api.post(f"/batches/{first['id']}/claim", cast.owner).status == 200
        return second["id"]
    if case == "no contract":  # a bids order's batch, and no contract of Lotus's
        order = flows.post_order(api, cast.client, items=5, batch_size=5, sourcing="bids")
        return board_batches(api, cast, order)[0]["id"]
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    order = flows.post_order(api, cast.client, items=5, batch_size=5, release_plan=SHANGHAI_3AM)
    with app.app_context():
        return db.session.scalar(select(Batch.id).where(Batch.order_id == order))


def test_another_teams_batch_is_not_found_and_her_own_is(app, api, cast):
    order = flows.post_order(api, cast.client, items=10, batch_size=5)
    mine, theirs = board_batches(api, cast, order)
    assert api.post(f"/batches/{mine['id']}/claim", cast.owner).status == 200
    assert api.post(f"/batches/{theirs['id']}/claim", cast.rival_owner).status == 200
    browser = owner_pages(app, cast)
    assert browser.get(f"/board/held/{mine['id']}").status_code == 200
    answer = browser.get(f"/board/held/{theirs['id']}")
    assert answer.status_code == 404 and "Tiger" not in text(answer)
    assert browser.get("/board/held/999999").status_code == 404


def test_an_annotators_session_may_not_open_or_use_the_owners_pages(app, api, cast):
    order = flows.post_order(api, cast.client, items=5, batch_size=5)
    [batch] = board_batches(api, cast, order)
    li = PageClient(app.test_client())
    li.sign_in("li@example.com")
    assert "抢单" not in text(li.get("/me/earnings")) and "/chain" not in text(
        li.get("/me/earnings")
    )  # no link in her header
    for path in ("/board", "/board/fair", "/chain"):
        assert li.get(path).status_code == 403
    before = row_counts(app)
    answer = li.post(f"/board/batches/{batch['id']}/claim", {}, token_from="/me/earnings")
    assert answer.status_code == 403 == api.post(f"/batches/{batch['id']}/claim", cast.li).status
    assert row_counts(app) == before
    # The owner's header has both of her pages.
    header = text(owner_pages(app, cast).get("/board")).split("</nav>")[0]
    assert ">抢单大厅</a>" in header and ">转包</a>" in header


def test_a_forged_claim_is_refused_before_anything_is_written(app, api, cast):
    order = flows.post_order(api, cast.client, items=5, batch_size=5)
    [batch] = board_batches(api, cast, order)
    browser = owner_pages(app, cast)
    before = row_counts(app)
    for token in (None, "forged"):
        data = {} if token is None else {"csrf_token": token}
        answer = browser.post(f"/board/batches/{batch['id']}/claim", data, token_from=None)
        assert answer.status_code == 400
    assert row_counts(app) == before
    assert batch_row(app, batch["id"]) == ("released", None)


def test_upcoming_drops_count_down_in_her_time_zone(app, api, cast, frozen_clock):
    frozen_clock.stand_at("2026-03-03T02:59:59+08:00")
    flows.post_order(api, cast.client, items=10, batch_size=5, release_plan=SHANGHAI_3AM)
    zh = text(owner_pages(app, cast).get("/board"))
    assert "2026年3月3日 03:00" in zh
    assert re.search(r'role="timer"[^>]*data-until="2026-03-03T03:00:00\+08:00"[^>]*>0:00:01<', zh)
    assert 'role="status" aria-live="polite" id="drop-news"' in zh
    assert '<script src="/pages/static/countdown.js" defer></script>' in zh


def test_lottery_interest_and_standing_rules_through_their_forms(app, api, cast, frozen_clock):
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    order = flows.post_order(
        api, cast.client, items=10, batch_size=5, release_plan=SHANGHAI_3AM, claim_mode="lottery"
    )
    browser = owner_pages(app, cast)
    page = text(browser.get("/board/fair"))
    assert f'action="/board/orders/{order}/interest"' in page
    answer = browser.post(
        f"/board/orders/{order}/interest", {"batches": "2"}, token_from="/board/fair"
    )
    assert answer.status_code == 302
    with app.app_context():
        [interest] = db.session.scalars(select(Interest)).all()
        assert (interest.order_id, interest.batches) == (order, 2)
    assert "2 个批次" in text(browser.get("/board/fair"))
    # A bad count is said beside its field; nothing more is written.
    before = row_counts(app)
    answer = browser.post(
        f"/board/orders/{order}/interest", {"batches": "0"}, token_from="/board/fair"
    )
    assert answer.status_code == 422 and 'aria-invalid="true"' in text(answer)
    assert row_counts(app) == before

    answer = browser.post(
        "/board/rules",
        {"batches_per_drop": "3", "task_type": "bbox_2d", "min_unit_price": "0.08"},
        token_from="/board/fair",
    )
    assert answer.status_code == 422  # a least price needs its currency
    assert "最低价格必须注明币种" in text(answer)
    assert row_counts(app) == before
    answer = browser.post(
        "/board/rules",
        {"batches_per_drop": "3", "currency": "CNY", "min_unit_price": "0.08"},
        token_from="/board/fair",
    )
    assert answer.status_code == 302
    with app.app_context():
        [rule] = db.session.scalars(select(ClaimRule)).all()
        assert (rule.batches_per_drop, rule.min_unit_price_micros, rule.currency) == (
            3,
            80_000,
            "CNY",
        )
        assert rule.team_party_id == cast.party_ids["lotus"]
    assert "¥0.08" in text(browser.get("/board/fair"))
    # Tiger's owner cannot delete Lotus's rule: 404, as the API answers.
    tiger = PageClient(app.test_client())
    tiger.sign_in("rival_owner@example.com")
    assert (
        tiger.post(f"/board/rules/{rule.id}/delete", {}, token_from="/board/fair").status_code
        == 404
    )
    assert (
        browser.post(f"/board/rules/{rule.id}/delete", {}, token_from="/board/fair").status_code
        == 302
    )
    with app.app_context():
        assert db.session.scalars(select(ClaimRule)).all() == []


def test_an_owner_of_two_teams_claims_for_the_team_she_chooses(app, api, cast):
    with app.app_context(), unit_of_work() as session:
        owner = session.get(User, cast.user_ids["owner"])
        identity.add_membership(
            session,
            user=owner,
            party=session.get(Party, cast.party_ids["tiger"]),
            role=Role.TEAM_OWNER,
        )
    order = flows.post_order(api, cast.client, items=5, batch_size=5)
    [batch] = board_batches(api, cast, order)
    browser = owner_pages(app, cast)
    page = text(browser.get("/board"))
    assert f'<select id="team-{batch["id"]}" name="team_id">' in page
    assert 'for="team-' in page and ">Tiger</option>" in page
    tiger = cast.party_ids["tiger"]
    answer = browser.post(
        f"/board/batches/{batch['id']}/claim", {"team_id": str(tiger)}, token_from="/board"
    )
    assert answer.status_code == 302
    assert batch_row(app, batch["id"]) == ("claimed", tiger)
