"""Password resets by e-mail (once, for an hour), and changes; either signs out every
other session."""

import pytest
from sqlalchemy import func, select

from marketplace.db import db
from marketplace.notices.models import OutboxMessage
from tests.accounts.kit import mails_to, token_in
from tests.cast import PASSWORD

pytestmark = pytest.mark.slow


def sign_in(api, email: str, password: str):
    return api.post("/auth/tokens", json={"email": email, "password": password})


def outbox_size(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def test_a_reset_link_sets_a_new_password_once_and_signs_out_everywhere(
    app, api, cast, frozen_clock
):
    known = api.post("/password-resets", json={"email": " Li@Example.com"})
    nobody = api.post("/password-resets", json={"email": "nobody@example.com"})
    assert known.status == nobody.status == 202 and known.body == nobody.body
    assert outbox_size(app) == 1
    [mail] = mails_to(app, "li@example.com")
    assert "/password-resets/complete?token=" in mail.body
    token = token_in(mail.body)
    # Beside the link to its page, the mail gives the code and the call that takes it.
    assert "POST /api/v1/password-resets/complete" in mail.body
    assert f'{{"token": "{token}", "password": "..."}}' in mail.body

    weak = api.post("/password-resets/complete", json={"token": token, "password": "short"})
    assert (weak.status, weak.error_code) == (422, "validation_failed")
    frozen_clock.step(minutes=59)
    new = {"token": token, "password": "a new horse battery"}
    assert api.post("/password-resets/complete", json=new).status == 204
    assert api.get("/me", cast.li).error_code == "invalid_token"
    assert sign_in(api, "li@example.com", PASSWORD).error_code == "invalid_credentials"
    assert sign_in(api, "li@example.com", "a new horse battery").status == 201
    used = api.post("/password-resets/complete", json=new)
    assert (used.status, used.error_code) == (422, "token_used")


def test_a_reset_link_expires_after_an_hour(app, api, cast, frozen_clock):
    api.post("/password-resets", json={"email": "li@example.com"})
    [mail] = mails_to(app, "li@example.com")
    frozen_clock.step(hours=1)
    late = {"token": token_in(mail.body), "password": "a new horse battery"}
    answer = api.post("/password-resets/complete", json=late)
    assert (answer.status, answer.error_code) == (422, "token_expired")
    assert api.get("/me", cast.li).status == 200
    assert sign_in(api, "li@example.com", PASSWORD).status == 201


def test_changing_a_password_revokes_every_other_token(app, api, cast):
    other = sign_in(api, "li@example.com", PASSWORD).body["token"]
    wrong = api.post(
        "/me/password", cast.li, {"current_password": "guess", "new_password": "x" * 8}
    )
    assert (wrong.status, wrong.error_code) == (422, "wrong_password")
    assert api.get("/me", other).status == 200
    change = {"current_password": PASSWORD, "new_password": "another horse battery"}
    assert api.post("/me/password", cast.li, change).status == 204
    assert api.get("/me", cast.li).status == 200
    assert api.get("/me", other).error_code == "invalid_token"
    assert api.get("/me", cast.wang).status == 200
    assert sign_in(api, "li@example.com", "another horse battery").status == 201


def test_a_reset_link_from_before_a_password_change_stops_working(app, api, cast):
    api.post("/password-resets", json={"email": "li@example.com"})
    [mail] = mails_to(app, "li@example.com")
    change = {"current_password": PASSWORD, "new_password": "another horse battery"}
    assert api.post("/me/password", cast.li, change).status == 204
    late = {"token": token_in(mail.body), "password": "a thief's new password"}
    answer = api.post("/password-resets/complete", json=late)
    assert (answer.status, answer.error_code) == (422, "token_used")
    assert sign_in(api, "li@example.com", "another horse battery").status == 201
