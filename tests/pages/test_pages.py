"""The pages through Flask's test client (fast, in `make check`): sign-in into a session
on the accounts service, CSRF on every form, the security headers, the session's actor
seeing what the API lets it see, amounts to the fen in both languages.
Tests in a real browser are in test_browser.py."""

import re

from sqlalchemy import select

from marketplace.accounts.signin import MAX_FAILED_SIGN_INS
from marketplace.db import db
from marketplace.identity.models import ApiToken, User
from marketplace.limits import limiter
from tests import flows
from tests.pages.kit import PageClient, ledger_of, text
from tests.support import row_counts

LI = "li@example.com"
WRONG = "E-mail or password is wrong."
WRONG_ZH = "邮箱或密码错误。"


def pages(app, language="zh-CN") -> PageClient:
    return PageClient(app.test_client(), language)


def field_error(answer, name: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="error-{name}">([^<]*)</p>', text(answer))
    return found and found.group(1)


def test_the_sign_in_page_speaks_the_browsers_language(app, cast):
    zh = pages(app, "zh-CN,zh;q=0.9,en;q=0.8").get("/sign-in")
    assert zh.status_code == 200
    assert '<html lang="zh-CN">' in text(zh) and "<title>登录 · Piecework</title>" in text(zh)
    en = pages(app, "en-US,en;q=0.9").get("/sign-in")
    assert '<html lang="en">' in text(en) and "<title>Sign in · Piecework</title>" in text(en)
    # Neither language asked for: English.
    assert '<html lang="en">' in text(pages(app, "fr-FR").get("/sign-in"))


def test_pages_carry_a_content_security_policy_and_no_inline_script(app, cast):
    answer = pages(app).get("/sign-in")
    policy = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy and "form-action 'self'" in policy
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script" not in text(answer) and " style=" not in text(answer)
    css = pages(app).get("/pages/static/pages.css")
    assert css.status_code == 200 and css.mimetype == "text/css"


def test_signing_in_keeps_the_token_in_an_httponly_lax_session_cookie(app, cast):
    browser = pages(app)
    answer = browser.sign_in(" Li@Example.com ")
    assert (answer.status_code, answer.headers["Location"]) == (302, "/")
    assert browser.get("/").headers["Location"] == "/work"  # an annotator's day
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("piecework_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    earnings = browser.get("/me/earnings")
    assert earnings.status_code == 200 and "我的收入" in text(earnings)
    # The session's token is a sign-in token like the API's: its digest alone is stored.
    with app.app_context():
        names = db.session.scalars(
            select(ApiToken.name).where(ApiToken.user_id == cast.user_ids["li"])
        )
        assert sorted(names) == ["", "login"]


def test_the_cookie_is_secure_when_served_over_https(app, cast, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    cookie = pages(app).sign_in(LI).headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_a_wrong_password_an_unknown_address_and_a_locked_account_read_the_same(app, cast):
    browser = pages(app)
    wrong = browser.sign_in(LI, "not her password")
    unknown = browser.sign_in("nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert field_error(wrong, "password") == field_error(unknown, "password") == WRONG_ZH
    assert 'value="li@example.com"' in text(wrong) and "not her password" not in text(wrong)
    for _ in range(MAX_FAILED_SIGN_INS - 1):  # the page's failures count toward the lock
        browser.sign_in(LI, "guess")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == LI))
        assert user.locked_until is not None
    locked = browser.sign_in(LI)  # her right password, during the lock
    assert (locked.status_code, field_error(locked, "password")) == (401, WRONG_ZH)
    assert field_error(pages(app, "en").sign_in(LI), "password") == WRONG


def test_the_sign_in_form_is_checked_by_the_apis_schema_beside_each_field(app, cast):
    answer = pages(app).post("/sign-in", {"email": "", "password": ""})
    assert answer.status_code == 422
    assert field_error(answer, "email") == "长度须在 3 到 254 个字符之间。"
    assert field_error(answer, "password") == "长度须在 1 到 200 个字符之间。"
    assert 'aria-describedby="error-email"' in text(answer)


def test_a_form_without_this_sessions_csrf_token_is_refused_and_writes_nothing(app, cast):
    browser = pages(app)
    before = row_counts(app)
    for data in (
        {"email": LI, "password": "guess"},
        {"email": LI, "password": "guess", "csrf_token": "forged"},
    ):
        refused = browser.post("/sign-in", data, token_from=None)
        assert refused.status_code == 400 and "此表单不是从本站提交的" in text(refused)
    # Another session's token is no good either.
    other = pages(app).csrf_token()
    refused = browser.post("/sign-in", {"email": LI, "password": "x", "csrf_token": other})
    assert refused.status_code == 400
    assert row_counts(app) == before
    with app.app_context():  # not one failure counted toward her lock
        assert db.session.scalar(select(User.failed_sign_ins).where(User.email == LI)) == 0

    assert browser.sign_in(LI).status_code == 302
    refused = browser.post("/sign-out", {"csrf_token": "forged"}, token_from=None)
    assert refused.status_code == 400
    assert browser.get("/me/earnings").status_code == 200  # still signed in


def test_the_api_takes_no_csrf_token_it_uses_bearer_tokens(app, api, cast):
    answer = api.post("/auth/tokens", json={"email": LI, "password": "correct horse battery"})
    assert answer.status == 201


def test_signing_out_revokes_the_sessions_token(app, cast):
    browser = pages(app)
    browser.sign_in(LI)
    stolen = browser.client.get_cookie("piecework_session").value
    answer = browser.post("/sign-out", {}, token_from="/me/earnings")
    assert (answer.status_code, answer.headers["Location"]) == (302, "/sign-in")
    assert "您已退出登录。" in text(browser.get("/sign-in"))
    assert browser.get("/me/earnings").status_code == 302
    # The old cookie, replayed, signs nobody in: its token is revoked.
    replay = app.test_client()
    replay.set_cookie("piecework_session", stolen)
    answer = replay.get("/me/earnings")
    assert (answer.status_code, answer.headers["Location"]) == (302, "/sign-in?next=/me/earnings")


def test_signing_in_returns_to_the_page_asked_for_and_never_to_another_site(app, cast):
    browser = pages(app)
    asked = browser.get("/me/earnings?team=3")
    assert asked.headers["Location"] == "/sign-in?next=/me/earnings?team%3D3"
    back = browser.post(
        "/sign-in",
        {"email": LI, "password": "correct horse battery", "next": "/me/earnings?team=3"},
    )
    assert back.headers["Location"] == "/me/earnings?team=3"
    for elsewhere in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        other = pages(app)
        answer = other.post(
            "/sign-in", {"email": LI, "password": "correct horse battery", "next": elsewhere}
        )
        assert answer.headers["Location"] == "/", elsewhere


def test_the_language_switch_is_kept_in_her_profile_for_her_next_sessions(app, api, cast):
    browser = pages(app, "zh-CN")
    browser.sign_in(LI)  # her profile says zh_CN
    switched = browser.post(
        "/language", {"locale": "en", "next": "/me/earnings"}, token_from="/me/earnings"
    )
    assert switched.headers["Location"] == "/me/earnings"
    assert "<h1>My earnings</h1>" in text(browser.get("/me/earnings"))
    assert locale_of(app, LI) == "en"
    # A new session on a phone whose browser asks for Chinese: her choice holds.
    phone = pages(app, "zh-CN")
    phone.sign_in(LI)
    assert "<h1>My earnings</h1>" in text(phone.get("/me/earnings"))
    phone.post("/language", {"locale": "zh_CN"}, token_from="/me/earnings")
    assert "<h1>我的收入</h1>" in text(phone.get("/me/earnings"))
    assert locale_of(app, LI) == "zh_CN"
    # Signed out, the switch holds for the session and writes nothing.
    stranger = pages(app, "zh-CN")
    stranger.post("/language", {"locale": "en"})
    assert "Sign in" in text(stranger.get("/sign-in"))
    assert locale_of(app, LI) == "zh_CN"


def test_her_language_is_chosen_through_the_api_too(app, api, cast):
    answer = api.put("/me/locale", cast.li, {"locale": "en"})
    assert answer.status == 200 and answer.body == {"locale": "en"}
    assert locale_of(app, LI) == "en"
    refused = api.put("/me/locale", cast.li, {"locale": "fr"})
    assert refused.status == 422 and "locale" in refused.body["error"]["details"]["fields"]["json"]
    assert locale_of(app, LI) == "en"


def locale_of(app, email: str) -> str:
    with app.app_context():
        return db.session.scalar(select(User.locale).where(User.email == email))


def test_a_session_sees_what_the_api_lets_its_user_see(app, api, cast):
    """The page's 403 and 404 are the API's: Li opening another team's earnings, and an
    owner (no annotator) opening an annotator's page."""
    li, owner = pages(app), pages(app)
    li.sign_in(LI)
    owner.sign_in("owner@example.com")
    tiger = cast.party_ids["tiger"]
    for team, status in ((tiger, 404), (10**30, 404), ("abc", 404)):
        assert li.get(f"/me/earnings?team={team}").status_code == status, team
    assert api.get(f"/me/earnings/days?team_id={tiger}", cast.li).status == 404
    refused = text(li.get(f"/me/earnings?team={tiger}"))
    assert "页面不存在，或您无权查看。" in refused and "Tiger" not in refused
    assert li.get(f"/me/earnings?team={cast.party_ids['lotus']}").status_code == 200

    assert api.get("/me/earnings/days", cast.owner).status == 403
    assert owner.get("/").headers["Location"] == "/board"  # an owner's day
    client = pages(app)
    client.sign_in("client@example.com")
    home = text(client.get("/"))  # no page of her role yet (issue 21): where she stands
    assert "欢迎，" in home and "（Horizon）" in home
    forbidden = owner.get("/me/earnings")
    assert forbidden.status_code == 403 and "您的角色无权进行此操作。" in text(forbidden)


def test_the_earnings_page_shows_pending_money_and_the_invoice_it_waits_on(
    app, api, cast, frozen_clock
):
    """10 boxes at Li's 0.06, invoiced on 2 March, due in 30 days: 0.60 pending. Her
    money in every state, on both engines, is in test_browser.py (make test)."""
    bill = flows.invoiced(api, cast)
    assert ledger_of(app, cast) == {"CNY": (60, 0, 0)}
    zh = pages(app)
    zh.sign_in(LI)
    page = text(zh.get("/me/earnings"))
    assert 'data-minor="60" data-currency="CNY">¥0.60</span>' in page
    assert 'data-minor="0" data-currency="CNY">¥0.00</span>' in page
    assert f"发票 {bill['number']} · Horizon" in page and "2026年4月1日" in page
    assert "未到期" in page and "截至 2026年3月2日 18:00" in page

    en = pages(app, "en")
    en.sign_in(LI)
    en.post("/language", {"locale": "en"}, token_from="/me/earnings")
    page = text(en.get("/me/earnings"))
    for written in ("CN¥0.60", "Not due yet", "April 1, 2026", "As of March 2, 2026, 6:00"):
        assert written in page, written


def test_the_sign_in_page_and_the_api_share_one_throttle(app, api, cast, monkeypatch):
    """Two doors give no more guesses: three sign-ins a minute per account, counted
    across the API's and the page's; the fourth is refused on the page, saying to wait."""
    monkeypatch.setitem(app.config, "ACCOUNTS_LIMIT_PER_ACCOUNT", "3 per minute")
    limiter.reset()
    try:
        body = {"email": LI, "password": "guess"}
        assert api.post("/auth/tokens", json=body).status == 401
        assert api.post("/auth/tokens", json=body).status == 401
        browser = pages(app)
        assert browser.sign_in(LI, "guess").status_code == 401
        throttled = browser.sign_in(LI)
        assert throttled.status_code == 429 and 0 < int(throttled.headers["Retry-After"]) <= 60
        assert field_error(throttled, "password") == "尝试次数过多。请等一分钟后再试。"
        assert api.post("/auth/tokens", json=body).status == 429
    finally:
        limiter.reset()
