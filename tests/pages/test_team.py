"""The team console through Flask's test client: the owner invites, sets levels, rates
and quotas, moves and deactivates members, reads the team's money and each member's,
registers webhook endpoints and chooses her e-mails, through the services the API calls.
Every write is checked in the database; every refusal writes nothing."""

import re

import pytest
from sqlalchemy import select

from marketplace.db import db
from marketplace.identity.models import Membership, Role
from marketplace.limits import limiter
from marketplace.notices.models import NoticePreference, OutboxMessage, WebhookEndpoint
from marketplace.workers.models import Level, LevelChange, LevelRate, TeamInvite
from tests import flows
from tests.pages.kit import PageClient, text
from tests.support import row_counts
from tests.workers import add_level

# Through the pages and the API end to end: `make test` runs them; `make check` stays
# under a minute.
pytestmark = pytest.mark.slow

OWNER = "owner@example.com"


def signed_in(app, email: str = OWNER, language: str = "zh-CN") -> PageClient:
    browser = PageClient(app.test_client(), language)
    assert browser.sign_in(email).status_code == 302
    return browser


def error_beside(answer, field_id: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="error-{field_id}">([^<]*)</p>', text(answer))
    return found and found.group(1)


def one(app, query):
    with app.app_context():
        return db.session.execute(query).all()


@pytest.fixture
def lotus(cast) -> int:
    return cast.party_ids["lotus"]


def test_the_owner_has_the_team_in_her_header_and_lands_on_its_members(app, cast, lotus):
    owner = signed_in(app)
    home = owner.get("/team")
    assert home.headers["Location"] == f"/teams/{lotus}/members"
    page = text(owner.get(f"/teams/{lotus}/members"))
    assert '<a href="/team" aria-current="page">团队</a>' in page  # her area, marked
    for name in ("Li", "Wang", "Zhang", "Reviewer"):
        assert f">{name}</a>" in page
    assert "Rival_Annotator" not in page
    assert "/team" not in text(signed_in(app, "li@example.com").get("/me/earnings"))


def test_an_invite_sent_from_the_form_is_written_and_mailed(app, api, cast, lotus):
    trainee = add_level(api, cast, "trainee", 0)
    owner = signed_in(app, language="en")
    path = f"/teams/{lotus}/members"
    answer = owner.post(
        f"/teams/{lotus}/invites",
        {
            "email": " Mei@Example.com ",
            "role": "annotator",
            "level_id": str(trainee["id"]),
            "locale": "zh-CN",
            "expires_in_days": "7",
        },
        token_from=path,
    )
    assert (answer.status_code, answer.headers["Location"]) == (303, path)
    [(invite,)] = one(app, select(TeamInvite))
    assert (invite.email, invite.role, invite.level_id, invite.locale) == (
        "mei@example.com",
        Role.ANNOTATOR,
        trainee["id"],
        "zh_CN",
    )
    [(mail,)] = one(app, select(OutboxMessage))
    assert mail.to_address == "mei@example.com" and "/invites/accept?token=inv_" in mail.body
    page = text(owner.get(path))
    assert "已向 mei@example.com 发送邀请。" in page

    # The same address again: the service's conflict, beside the e-mail, nothing written.
    before = row_counts(app)
    again = owner.post(
        f"/teams/{lotus}/invites",
        {"email": "mei@example.com", "role": "annotator", "locale": "en", "expires_in_days": "7"},
        token_from=path,
    )
    assert again.status_code == 409
    assert error_beside(again, "invite-email") == "该邮箱已有一份待接受的邀请；撤回后才能再发。"
    assert row_counts(app) == before

    revoked = owner.post(f"/teams/{lotus}/invites/{invite.id}/revoke", {}, token_from=path)
    assert revoked.status_code == 303
    [(when,)] = one(app, select(TeamInvite.revoked_at))
    assert when is not None


def test_an_invite_with_a_bad_address_is_refused_beside_it(app, cast, lotus):
    owner = signed_in(app)
    before = row_counts(app)
    answer = owner.post(
        f"/teams/{lotus}/invites",
        {"email": "not an address", "role": "boss", "locale": "zh-CN", "expires_in_days": "99"},
        token_from=f"/teams/{lotus}/members",
    )
    assert answer.status_code == 422
    assert error_beside(answer, "invite-email") and error_beside(answer, "invite-role")
    assert error_beside(answer, "invite-expires_in_days")
    assert 'value="not an address"' in text(answer)
    assert row_counts(app) == before


def test_levels_rates_and_quotas_are_written_exactly(app, cast, lotus):
    owner = signed_in(app)
    path = f"/teams/{lotus}/levels"
    added = owner.post(path, {"name": "senior", "rank": "2", "daily_quota": "40"}, token_from=path)
    assert added.status_code == 303
    [(level,)] = one(app, select(Level))
    assert (level.name, level.rank, level.daily_quota, level.team_party_id) == (
        "senior",
        2,
        40,
        lotus,
    )
    rate = {"task_type": "bbox_2d", "currency": "CNY", "unit_price": "0.055"}
    assert owner.post(f"{path}/{level.id}/rates", rate, token_from=path).status_code == 303
    assert (
        owner.post(f"{path}/{level.id}/quota", {"daily_quota": "70"}, token_from=path).status_code
        == 303
    )
    [(rate_row,)] = one(app, select(LevelRate))
    assert (rate_row.task_type, rate_row.currency, rate_row.unit_price_micros) == (
        "bbox_2d",
        "CNY",
        55_000,
    )
    page = text(owner.get(path))
    assert 'data-micros="55000" data-currency="CNY">¥0.055</td>' in page
    assert 'value="70"' in page
    # An emptied quota: no quota.
    owner.post(f"{path}/{level.id}/quota", {"daily_quota": ""}, token_from=path)
    [(quota,)] = one(app, select(Level.daily_quota))
    assert quota is None


@pytest.mark.parametrize(
    ("price", "said"),
    [("-0.01", "价格必须大于零。"), ("0.0000001", "最多 6 位小数"), ("abc", "不是有效的小数。")],
)
def test_a_bad_rate_is_said_beside_its_field_and_writes_nothing(app, api, cast, lotus, price, said):
    level = add_level(api, cast, "trainee", 0)
    owner = signed_in(app)
    path = f"/teams/{lotus}/levels"
    before = row_counts(app)
    body = {"task_type": "bbox_2d", "currency": "CNY", "unit_price": price}
    answer = owner.post(f"{path}/{level['id']}/rates", body, token_from=path)
    assert answer.status_code == 422
    assert said in error_beside(answer, f"rate-{level['id']}-unit_price")
    assert f'value="{price}"' in text(answer)
    assert row_counts(app) == before


def test_a_rate_above_a_contract_of_the_team_is_refused_beside_it(app, api, cast, lotus):
    order = flows.post_order(api, cast.client)  # 0.10 a box
    flows.claim(api, cast.owner, order)
    level = add_level(api, cast, "trainee", 0)
    owner = signed_in(app, language="en")
    path = f"/teams/{lotus}/levels"
    before = row_counts(app)
    body = {"task_type": "bbox_2d", "currency": "CNY", "unit_price": "0.5"}
    answer = owner.post(f"{path}/{level['id']}/rates", body, token_from=path)
    assert answer.status_code == 409
    said = error_beside(answer, f"rate-{level['id']}-unit_price")
    assert said == "该单价高于您团队此类任务合同的价格。"
    assert row_counts(app) == before


def test_a_members_level_is_changed_and_she_is_deactivated_and_back(app, api, cast, lotus):
    trainee = add_level(api, cast, "trainee", 0)
    senior = add_level(api, cast, "senior", 1, promotion={"min_accuracy": "0.9", "over_items": 5})
    owner = signed_in(app)
    li = cast.user_ids["li"]
    page = f"/teams/{lotus}/members/{li}"
    moved = owner.post(
        f"{page}/level", {"level_id": str(trainee["id"]), "note": "start"}, token_from=page
    )
    assert (moved.status_code, moved.headers["Location"]) == (303, page)
    [(change,)] = one(app, select(LevelChange))
    assert (change.user_id, change.level_id, change.note, change.changed_by_user_id) == (
        li,
        trainee["id"],
        "start",
        cast.user_ids["owner"],
    )
    # Up to senior needs her eligible: the service's 409, beside the level, nothing written.
    before = row_counts(app)
    refused = owner.post(f"{page}/level", {"level_id": str(senior["id"])}, token_from=page)
    assert refused.status_code == 409
    assert error_beside(refused, "level-level_id") == "她尚未达到该等级的晋升条件。"
    assert row_counts(app) == before

    assert owner.post(f"{page}/deactivate", {}, token_from=page).status_code == 303
    [(gone,)] = one(app, select(Membership.deactivated_at).where(Membership.user_id == li))
    assert gone is not None
    assert "已停用" in text(owner.get(page))
    assert owner.post(f"{page}/reactivate", {}, token_from=page).status_code == 303
    [(back,)] = one(app, select(Membership.deactivated_at).where(Membership.user_id == li))
    assert back is None


def test_another_teams_ids_in_a_url_are_404_and_write_nothing(app, api, cast, lotus):
    tiger = cast.party_ids["tiger"]
    theirs = api.post(f"/teams/{tiger}/levels", cast.rival_owner, {"name": "t", "rank": 0}).body
    mine = add_level(api, cast, "trainee", 0)
    owner = signed_in(app)
    token_page = f"/teams/{lotus}/members"
    rival = cast.user_ids["rival_annotator"]
    before = row_counts(app)
    for path, body in (
        (f"/teams/{lotus}/members/{rival}/deactivate", {}),
        (f"/teams/{lotus}/members/{rival}/level", {"level_id": str(mine["id"])}),
        (f"/teams/{lotus}/members/{cast.user_ids['li']}/level", {"level_id": str(theirs["id"])}),
        (f"/teams/{tiger}/members/{rival}/deactivate", {}),
        (
            f"/teams/{lotus}/levels/{theirs['id']}/rates",
            {"task_type": "bbox_2d", "currency": "CNY", "unit_price": "0.01"},
        ),
        (f"/teams/{lotus}/levels/{theirs['id']}/quota", {"daily_quota": "1"}),
        (f"/teams/{tiger}/invites", {"email": "x@example.com", "role": "annotator"}),
    ):
        answer = owner.post(path, body, token_from=token_page)
        assert answer.status_code == 404, path
        assert "Tiger" not in text(answer)
    for path in (
        f"/teams/{lotus}/members/{rival}",
        f"/teams/{tiger}/members",
        f"/teams/{tiger}/earnings",
        f"/teams/{lotus}/members/{10**30}",
    ):
        assert owner.get(path).status_code == 404, path
    assert api.post(f"/teams/{lotus}/members/{rival}/deactivate", cast.owner).status == 404
    assert row_counts(app) == before


def test_an_annotators_session_is_refused_the_console_as_by_the_api(app, api, cast, lotus):
    li = signed_in(app, "li@example.com")
    tiger = cast.party_ids["tiger"]
    assert api.get(f"/teams/{lotus}/invites", cast.li).status == 403
    before = row_counts(app)
    for path in (
        "/team",
        f"/teams/{lotus}/members",
        f"/teams/{lotus}/levels",
        f"/teams/{lotus}/earnings",
        f"/teams/{lotus}/webhooks",
        f"/teams/{lotus}/members/{cast.user_ids['wang']}",
    ):
        answer = li.get(path)
        assert answer.status_code == 403 and "您的角色无权进行此操作。" in text(answer), path
    assert li.get(f"/teams/{tiger}/members").status_code == 404
    refused = li.post(
        f"/teams/{lotus}/members/{cast.user_ids['wang']}/deactivate", {}, token_from="/me/earnings"
    )
    assert refused.status_code == 403
    assert row_counts(app) == before


def test_a_forged_form_is_refused_and_writes_nothing(app, cast, lotus):
    owner = signed_in(app)
    before = row_counts(app)
    for path, body in (
        (f"/teams/{lotus}/invites", {"email": "mei@example.com", "role": "annotator"}),
        (f"/teams/{lotus}/members/{cast.user_ids['li']}/deactivate", {}),
        (f"/teams/{lotus}/levels", {"name": "x", "rank": "1"}),
        (f"/teams/{lotus}/webhooks", {"url": "https://hooks.example/x", "events": "*"}),
        ("/me/notifications", {"lead_minutes": "10", "earnings_email": "on"}),
    ):
        for forged in ({}, {"csrf_token": "forged"}):
            answer = owner.post(path, body | forged, token_from=None)
            assert answer.status_code == 400, path
    assert row_counts(app) == before


def test_the_team_earnings_show_its_money_and_each_members(app, api, cast, lotus):
    """10 boxes at 0.10 invoiced to Horizon, Li paid 0.06 a box: the team's margin 0.40
    and Li's 0.60 are pending, to the fen."""
    bill = flows.invoiced(api, cast)
    owner = signed_in(app)
    page = text(owner.get(f"/teams/{lotus}/earnings"))
    team = api.get("/me/earnings", cast.owner).body["holdings"]
    [mine] = [h for h in team if h["holder"] == "team"]
    assert mine["pending"] == "0.40"
    assert 'data-minor="40" data-currency="CNY">¥0.40</span>' in page
    assert f"发票 {bill['number']} · Horizon" in page
    [li] = [m for m in api.get(f"/teams/{lotus}/earnings", cast.owner).body if m["name"] == "Li"]
    assert li["pending"] == "0.60"
    row = re.search(rf'<tr data-user="{cast.user_ids["li"]}">(.*?)</tr>', page, re.S).group(1)
    assert 'class="pending"><span class="money" data-minor="60"' in row
    member = text(owner.get(f"/teams/{lotus}/members/{cast.user_ids['li']}"))
    assert 'data-minor="60" data-currency="CNY">¥0.60</span>' in member


def test_webhook_endpoints_are_added_rotated_and_removed(app, api, cast, lotus, monkeypatch):
    owner = signed_in(app, language="en")
    path = f"/teams/{lotus}/webhooks"
    before = row_counts(app)
    private = owner.post(path, {"url": "http://127.0.0.1:9/hook", "events": "*"}, token_from=path)
    assert private.status_code == 422
    assert error_beside(private, "webhook-url") == "Webhook 只能发送到公网地址。"
    none = owner.post(path, {"url": "https://hooks.example/x"}, token_from=path)
    assert none.status_code == 422 and error_beside(none, "webhook-events")
    assert row_counts(app) == before

    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", True)
    body = {
        "url": "http://127.0.0.1:9/hook",
        "events": ["batch.claimed", "payment.settled"],
        "description": "our tracker",
    }
    made = owner.client.post(path, data=body | {"csrf_token": owner.csrf_token(path)})
    assert made.status_code == 201
    [(endpoint,)] = one(app, select(WebhookEndpoint))
    assert (endpoint.party_id, endpoint.url, endpoint.events, endpoint.enabled) == (
        lotus,
        "http://127.0.0.1:9/hook",
        ["batch.claimed", "payment.settled"],
        True,
    )
    assert endpoint.secret in text(made)
    assert endpoint.secret not in text(owner.get(path))  # shown once
    rotated = owner.post(f"{path}/{endpoint.id}/rotate", {}, token_from=path)
    [(secret,)] = one(app, select(WebhookEndpoint.secret))
    assert secret != endpoint.secret and secret in text(rotated)
    owner.post(f"{path}/{endpoint.id}/enabled", {"enabled": "false"}, token_from=path)
    [(enabled,)] = one(app, select(WebhookEndpoint.enabled))
    assert enabled is False
    assert owner.post(f"{path}/{endpoint.id}/delete", {}, token_from=path).status_code == 303
    assert one(app, select(WebhookEndpoint)) == []

    # Tiger's endpoint, named in Lotus's URLs or in Tiger's: 404, and it stays as it was.
    tiger = cast.party_ids["tiger"]
    theirs = api.post(
        "/webhook-endpoints", cast.rival_owner, {"url": "http://127.0.0.1:9/t", "events": ["*"]}
    ).body
    before = row_counts(app)
    for team in (lotus, tiger):
        for action in ("rotate", "delete", "enabled"):
            answer = owner.post(
                f"/teams/{team}/webhooks/{theirs['id']}/{action}", {}, token_from=path
            )
            assert answer.status_code == 404, (team, action)
    assert row_counts(app) == before
    [(kept,)] = one(app, select(WebhookEndpoint.secret))
    assert kept == theirs["secret"]


def test_notification_choices_are_saved(app, cast):
    owner = signed_in(app)
    saved = owner.post(
        "/me/notifications",
        {"drop_released_email": "on", "lead_minutes": "45"},
        token_from="/me/notifications",
    )
    assert saved.status_code == 303
    [(choice,)] = one(app, select(NoticePreference))
    assert (choice.user_id, choice.drop_released_email, choice.lead_minutes) == (
        cast.user_ids["owner"],
        True,
        45,
    )
    assert choice.earnings_email is False  # left unticked
    # An annotator may not ask for drop e-mails: the service's 403 beside the box.
    li = signed_in(app, "li@example.com", "en")
    before = row_counts(app)
    refused = li.post(
        "/me/notifications",
        {"drop_released_email": "on", "lead_minutes": "30"},
        token_from="/me/notifications",
    )
    assert refused.status_code == 403
    assert error_beside(refused, "prefs-drop_released_email") == "发布提醒邮件仅面向团队负责人。"
    bad = owner.post("/me/notifications", {"lead_minutes": "0"}, token_from="/me/notifications")
    assert bad.status_code == 422
    assert error_beside(bad, "prefs-lead_minutes") == "必须大于或等于 1 且小于或等于 1440。"
    assert row_counts(app) == before


def test_invites_are_throttled_per_team_as_the_api_throttles_them(app, cast, lotus, monkeypatch):
    monkeypatch.setitem(app.config, "TEAM_INVITES_LIMIT", "2 per minute")
    limiter.reset()
    try:
        owner = signed_in(app)
        path = f"/teams/{lotus}/members"
        for n in range(2):
            body = {
                "email": f"p{n}@example.com",
                "role": "annotator",
                "locale": "en",
                "expires_in_days": "7",
            }
            assert owner.post(f"/teams/{lotus}/invites", body, token_from=path).status_code == 303
        body = {
            "email": "p9@example.com",
            "role": "annotator",
            "locale": "en",
            "expires_in_days": "7",
        }
        throttled = owner.post(f"/teams/{lotus}/invites", body, token_from=path)
        assert throttled.status_code == 429 and "Retry-After" in throttled.headers
        assert len(one(app, select(TeamInvite))) == 2
    finally:
        limiter.reset()
