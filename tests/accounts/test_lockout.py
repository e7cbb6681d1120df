"""Ten wrong passwords in a row lock sign-in for 15 minutes and tell the owner (and no
one else); a right one before that starts the count again."""

import pytest
from sqlalchemy import select

from marketplace.accounts.signin import MAX_FAILED_SIGN_INS
from marketplace.db import db
from marketplace.identity.models import User
from tests.accounts.kit import mails_to
from tests.cast import PASSWORD

# End to end through the API: `make test` runs them, `make check` stays under a minute.
pytestmark = pytest.mark.slow

LI = "li@example.com"


def sign_in(api, password: str, email: str = LI):
    return api.post("/auth/tokens", json={"email": email, "password": password})


def failures(app) -> int:
    with app.app_context():
        return db.session.scalar(select(User.failed_sign_ins).where(User.email == LI))


def test_ten_wrong_passwords_lock_the_account_for_15_minutes(app, api, cast, frozen_clock):
    """Locked, the account answers its right password as it answers a wrong one or an
    unknown address (401 `invalid_credentials`): only its owner, by e-mail, is told."""
    for _ in range(MAX_FAILED_SIGN_INS):
        wrong = sign_in(api, "guess")
        assert (wrong.status, wrong.error_code) == (401, "invalid_credentials")
    right = sign_in(api, PASSWORD)
    assert (right.status, right.error_code) == (401, "invalid_credentials")
    assert right.body["error"] == sign_in(api, PASSWORD, "nobody@example.com").body["error"]
    # Guessing on during the lock is not counted.
    assert sign_in(api, "guess").error_code == "invalid_credentials"
    assert failures(app) == 0
    [letter] = mails_to(app, LI)  # in Chinese: Li reads zh_CN
    assert letter.subject == "您的 Piecework 账户已锁定至 2026-03-02 10:15"
    assert "连续 10 次登录密码错误" in letter.body
    # Tokens she holds keep working; other accounts sign in.
    assert api.get("/me", cast.li).status == 200
    assert sign_in(api, PASSWORD, "wang@example.com").status == 201

    frozen_clock.step(minutes=14, seconds=59)
    assert (sign_in(api, PASSWORD).status, failures(app)) == (401, 0)
    frozen_clock.step(seconds=1)
    assert sign_in(api, PASSWORD).status == 201
    assert len(mails_to(app, LI)) == 1


@pytest.mark.slow
def test_a_right_password_starts_the_count_again(app, api, cast, frozen_clock):
    for _ in range(MAX_FAILED_SIGN_INS - 1):
        sign_in(api, "guess")
    assert failures(app) == MAX_FAILED_SIGN_INS - 1
    assert sign_in(api, PASSWORD).status == 201
    assert failures(app) == 0
    for _ in range(MAX_FAILED_SIGN_INS - 1):
        sign_in(api, "guess")
    assert sign_in(api, PASSWORD).status == 201
    assert mails_to(app, LI) == []


@pytest.mark.slow
def test_an_unknown_address_is_refused_like_a_wrong_password(app, api, cast):
    unknown = sign_in(api, PASSWORD, "nobody@example.com")
    assert (unknown.status, unknown.error_code) == (401, "invalid_credentials")
