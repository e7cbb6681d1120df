"""The account pages through Flask's test client: sign-up, the sign-up mail's
verification link, a forgotten password end to end through the local SMTP server, and
an invitation accepted from its mail by someone new and by someone with an account.
Each is checked in the database; a refusal writes nothing (but a wrong password's
count toward the lock, as the API's)."""

import re

import pytest
from sqlalchemy import select

from marketplace.accounts.models import Signup
from marketplace.db import db
from marketplace.identity.models import Membership, Party, Role, User
from marketplace.workers.models import LevelChange
from tests.accounts.kit import mails_to, token_in
from tests.cast import PASSWORD
from tests.pages.kit import PageClient, delivered, link_path, text
from tests.support import row_counts
from tests.workers import add_level
from tests.workers.invite_kit import invited, mailed_token

# Through the pages and the API end to end: `make test` runs them; `make check` stays
# under a minute.
pytestmark = pytest.mark.slow

NEW_PASSWORD = "plum blossom 2026"


def browser(app, language: str = "zh-CN") -> PageClient:
    return PageClient(app.test_client(), language)


def error_beside(answer, field_id: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="error-{field_id}">([^<]*)</p>', text(answer))
    return found and found.group(1)


def user(app, email: str) -> User | None:
    with app.app_context():
        found = db.session.scalar(select(User).where(User.email == email))
        if found is not None:
            db.session.expunge(found)
        return found


def test_the_sign_in_page_links_to_sign_up_and_to_a_forgotten_password(app, cast):
    page = text(browser(app).get("/sign-in"))
    assert '<a href="/password-resets">忘记密码？</a>' in page
    assert '<a href="/sign-up">注册</a>' in page


def test_a_team_signs_up_is_signed_in_and_verifies_its_address(app, cast):
    new = browser(app, "en")
    form = {
        "kind": "team",
        "party_name": "Crane Labs",
        "name": "Ada",
        "email": " Ada@Crane.example ",
        "password": NEW_PASSWORD,
        "locale": "en",
        "timezone": "Asia/Shanghai",
    }
    answer = new.post("/sign-up", form, token_from="/sign-up")
    assert (answer.status_code, answer.headers["Location"]) == (303, "/")
    ada = user(app, "ada@crane.example")
    assert (ada.name, ada.locale, ada.email_verified_at) == ("Ada", "en", None)
    with app.app_context():
        signup = db.session.scalar(select(Signup))
        party = db.session.get(Party, signup.party_id)
        roles = db.session.execute(select(Membership.party_id, Membership.role)).all()
    assert (party.name, party.kind, party.timezone) == ("Crane Labs", "team", "Asia/Shanghai")
    assert (signup.party_id, Role.TEAM_OWNER) in [(p, Role(r)) for p, r in roles]
    # Signed in at once, as the owner of her new team.
    assert new.get("/team").headers["Location"] == f"/teams/{party.id}/members"

    [mail] = mails_to(app, "ada@crane.example")
    verify = new.get(link_path(mail.body))
    assert verify.status_code == 200 and "Confirm my address" in text(verify)
    assert user(app, "ada@crane.example").email_verified_at is None  # opening is not confirming
    confirmed = new.post("/signup/verify", {"token": token_in(mail.body)}, token_from="/sign-up")
    assert confirmed.status_code == 303
    assert user(app, "ada@crane.example").email_verified_at is not None
    again = new.post("/signup/verify", {"token": token_in(mail.body)}, token_from="/sign-up")
    assert again.status_code == 422 and "This link was used already." in text(again)


def test_a_sign_up_is_refused_beside_each_field_and_writes_nothing(app, cast):
    new = browser(app)
    before = row_counts(app)
    bad = {
        "kind": "team",
        "party_name": " ",
        "name": "Ada",
        "email": "li@example.com",
        "password": "short",
        "locale": "zh-CN",
        "timezone": "Mars/Base",
    }
    answer = new.post("/sign-up", bad, token_from="/sign-up")
    assert answer.status_code == 422
    assert error_beside(answer, "party_name") == "不能为空。"
    assert error_beside(answer, "password") == "长度须在 8 到 200 个字符之间。"
    assert error_beside(answer, "timezone") == "不是 IANA 时区名称，例如 Asia/Shanghai。"
    taken = new.post(
        "/sign-up",
        bad | {"party_name": "Crane", "password": NEW_PASSWORD, "timezone": "Asia/Shanghai"},
        token_from="/sign-up",
    )
    assert taken.status_code == 409 and error_beside(taken, "email") == "该邮箱已注册。"
    assert NEW_PASSWORD not in text(taken)
    assert row_counts(app) == before


def test_a_forgotten_password_is_reset_from_the_mail_end_to_end(app, cast, smtp_server):
    li = browser(app)
    known = li.post("/password-resets", {"email": "Li@Example.com"}, token_from="/password-resets")
    unknown = li.post("/password-resets", {"email": "nobody@example.com"}, token_from="/sign-in")
    assert known.status_code == unknown.status_code == 202
    assert text(known) == text(unknown)  # the same answer, account or not
    [mail] = delivered(app, smtp_server)
    assert mail.rcpt_tos == ["li@example.com"] and mail.subject == "重置您的 Piecework 密码"

    path = link_path(mail.body)
    assert path.startswith("/password-resets/complete?token=")
    page = li.get(path)
    token = token_in(mail.body)
    assert page.status_code == 200 and f'name="token" value="{token}"' in text(page)
    weak = li.post(path, {"token": token, "password": "short"}, token_from=path)
    assert weak.status_code == 422
    assert error_beside(weak, "password") == "长度须在 8 到 200 个字符之间。"
    done = li.post(path, {"token": token, "password": NEW_PASSWORD}, token_from=path)
    assert (done.status_code, done.headers["Location"]) == (303, "/sign-in")
    assert "新密码已设置，请用它登录。" in text(li.get("/sign-in"))
    assert browser(app).sign_in("li@example.com", PASSWORD).status_code == 401
    assert browser(app).sign_in("li@example.com", NEW_PASSWORD).status_code == 302
    used = li.post(path, {"token": token, "password": "yet another one"}, token_from=path)
    assert used.status_code == 422 and "该链接已被使用。" in text(used)


def test_a_newcomer_joins_from_the_invitation_mail_and_is_signed_in(app, api, cast, smtp_server):
    trainee = add_level(api, cast, "trainee", 0)
    invited(api, cast, "mei@example.com", level_id=trainee["id"], locale="en")
    [mail] = delivered(app, smtp_server)
    assert mail.subject == "Owner invites you to the team Lotus"
    path = link_path(mail.body)
    assert path.startswith("/invites/accept?token=inv_")

    mei = browser(app, "zh-CN")
    page = mei.get(path)
    assert page.status_code == 200
    assert "Lotus 邀请您以标注员身份加入。" in text(page) and "您是新用户" in text(page)
    token = token_in(mail.body)
    before = row_counts(app)
    short = mei.post(
        "/invites/accept", {"token": token, "name": "Mei", "password": "short"}, token_from=path
    )
    assert short.status_code == 422 and error_beside(short, "password") == "密码至少 8 个字符。"
    assert row_counts(app) == before

    joined = mei.post(
        "/invites/accept",
        {"token": token, "name": "Mei", "password": NEW_PASSWORD},
        token_from=path,
    )
    assert (joined.status_code, joined.headers["Location"]) == (303, "/")
    new = user(app, "mei@example.com")
    assert (new.name, new.locale) == ("Mei", "zh_CN") and new.email_verified_at is not None
    with app.app_context():
        roles = db.session.execute(
            select(Membership.party_id, Membership.role).where(Membership.user_id == new.id)
        ).all()
        level = db.session.scalar(select(LevelChange.level_id).where(LevelChange.user_id == new.id))
    assert [(p, Role(r)) for p, r in roles] == [(cast.party_ids["lotus"], Role.ANNOTATOR)]
    assert level == trainee["id"]
    assert mei.get("/").headers["Location"] == "/work"  # signed in, an annotator
    assert "欢迎加入 Lotus！" in text(mei.get("/me/earnings"))

    # The link is used: its page says so, and accepting again is the API's 409.
    gone = browser(app).get(path)
    assert gone.status_code == 404 and "此邀请已失效" in text(gone)
    again = browser(app).post(
        "/invites/accept",
        {"token": token, "name": "Mei", "password": NEW_PASSWORD},
        token_from=path,
    )
    assert again.status_code == 409 and "该邀请已被接受。" in text(again)


def test_someone_with_an_account_joins_with_her_password(app, api, cast):
    """Li, an annotator, invited to review for Lotus too: a wrong password is refused
    beside it and counts toward her lock, as the API's; the right one adds the role."""
    invited(api, cast, "li@example.com", role="reviewer")
    token = mailed_token(app, "li@example.com")
    li = browser(app)
    path = f"/invites/accept?token={token}"
    assert "此邮箱已有账户" in text(li.get(path))
    wrong = li.post("/invites/accept", {"token": token, "password": "guess"}, token_from=path)
    assert wrong.status_code == 401 and error_beside(wrong, "password") == "邮箱或密码错误。"
    assert user(app, "li@example.com").failed_sign_ins == 1
    right = li.post("/invites/accept", {"token": token, "password": PASSWORD}, token_from=path)
    assert right.status_code == 303
    with app.app_context():
        roles = db.session.scalars(
            select(Membership.role).where(Membership.user_id == cast.user_ids["li"])
        ).all()
    assert sorted(roles) == ["annotator", "reviewer"]


def test_forged_account_forms_are_refused_and_write_nothing(app, api, cast):
    invited(api, cast, "mei@example.com")
    before = row_counts(app)
    new = browser(app)
    for path, body in (
        (
            "/sign-up",
            {
                "kind": "team",
                "party_name": "X",
                "name": "X",
                "email": "x@x.example",
                "password": NEW_PASSWORD,
            },
        ),
        ("/password-resets", {"email": "li@example.com"}),
        ("/password-resets/complete", {"token": "x", "password": NEW_PASSWORD}),
        ("/invites/accept", {"token": "inv_x", "name": "Mei", "password": NEW_PASSWORD}),
        ("/signup/verify", {"token": "x"}),
    ):
        for forged in ({}, {"csrf_token": "forged"}):
            assert new.post(path, body | forged, token_from=None).status_code == 400, path
    assert row_counts(app) == before


def test_a_signed_in_invitee_joins_with_one_button_and_another_person_may_not(app, api, cast):
    invited(api, cast, "li@example.com", role="reviewer")
    token = mailed_token(app, "li@example.com")
    path = f"/invites/accept?token={token}"
    wang = browser(app)
    assert wang.sign_in("wang@example.com").status_code == 302
    assert "您当前登录的是其他账户" in text(wang.get(path))
    before = row_counts(app)
    refused = wang.post("/invites/accept", {"token": token}, token_from=path)
    assert refused.status_code == 403  # as the API answers a bearer of another address
    assert row_counts(app) == before

    li = browser(app)
    assert li.sign_in("li@example.com").status_code == 302
    assert "您已用此邮箱登录。" in text(li.get(path))
    old = li.client.get_cookie("piecework_session").value
    joined = li.post("/invites/accept", {"token": token}, token_from=path)
    assert joined.status_code == 303
    with app.app_context():
        roles = db.session.scalars(
            select(Membership.role).where(Membership.user_id == cast.user_ids["li"])
        ).all()
    assert sorted(roles) == ["annotator", "reviewer"]
    assert li.get("/me/earnings").status_code == 200  # still signed in, on a new token
    replay = app.test_client()
    replay.set_cookie("piecework_session", old)
    assert replay.get("/me/earnings").status_code == 302  # the replaced session's is revoked
