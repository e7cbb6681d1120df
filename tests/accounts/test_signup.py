"""Sign-up: a client or a team registers itself, proves its address by the mailed link
(once, within 24 hours), and only then publishes orders or claims work."""

import pytest
from sqlalchemy import func, select

from marketplace.db import db
from marketplace.identity.models import Party, User
from marketplace.notices.mail import SmtpSettings, send_outbox
from tests.accounts.kit import mails_to, sign_up, signup_body, token_in
from tests.flows import post_order, top_up
from tests.support import row_counts

# End to end through the API: `make test` runs them, `make check` stays under a minute.
pytestmark = pytest.mark.slow


def publish(api, token, order_id):
    return api.post(f"/orders/{order_id}/publish", token)


def test_a_client_signs_up_verifies_by_the_mailed_link_and_then_publishes(
    app, api, smtp_server, cast
):
    created = sign_up(api, "client", "Mei@Horizon.Example ", locale="zh-CN")
    token = created["token"]
    signup = created["signup"]
    assert (signup["kind"], signup["status"], signup["email_verified"]) == (
        "client",
        "approved",
        False,
    )
    assert [(m["party_name"], m["role"]) for m in created["user"]["memberships"]] == [
        ("Horizon Two", "client_admin")
    ]
    with app.app_context():
        user = db.session.get(User, created["user"]["id"])
        party = db.session.get(Party, signup["party_id"])
        assert (user.email, user.locale, party.timezone) == (
            "mei@horizon.example",
            "zh_CN",
            "Europe/Berlin",
        )
    # The token works at once, for reading and for drafts; publishing waits.
    assert api.get("/me", token).status == 200
    order = post_order(api, token, publish=False)
    refused = publish(api, token, order)
    assert (refused.status, refused.error_code) == (403, "email_not_verified")

    settings = SmtpSettings(host=smtp_server.host, port=smtp_server.port, sender="a@p.test")
    with app.app_context():
        assert send_outbox(settings) == {"sent": 1, "failed": 0}
    [mail] = smtp_server.messages
    assert mail.rcpt_tos == ["mei@horizon.example"]
    assert mail.subject == "请确认您在 Piecework 的电子邮箱"
    assert "http://127.0.0.1:5000/signup/verify?token=" in mail.body
    # The link's page comes later: the mail gives the code and the call that takes it.
    code = token_in(mail.body)
    assert "POST /api/v1/signup/verify" in mail.body and f'{{"token": "{code}"}}' in mail.body

    verified = api.post("/signup/verify", json={"token": token_in(mail.body)})
    assert (verified.status, verified.body["email"]) == (200, "mei@horizon.example")
    assert api.get("/signup", token).body["email_verified"] is True
    # A new client has no credit line: its order is prefunded, and waits for its money.
    short = publish(api, token, order)
    assert (short.status, short.error_code) == (409, "funds_short")
    assert "needs 0.11 CNY more reserved" in short.body["error"]["message"]
    top_up(api, cast.admin, signup["party_id"], "0.11")
    assert publish(api, token, order).status == 200
    [balance] = api.get("/balance", token).body
    assert (balance["available"], balance["reserved"]) == ("0.00", "0.11")


@pytest.mark.slow
def test_a_team_signs_up_and_claims_only_once_verified(app, api, cast):
    created = sign_up(api, "team", "kai@crane.example")
    token = created["token"]
    assert created["user"]["memberships"][0]["role"] == "team_owner"
    order = post_order(api, cast.client, items=2, batch_size=1)
    [batch, _] = api.get(f"/orders/{order}/batches", cast.client).body
    refused = api.post(f"/batches/{batch['id']}/claim", token, {})
    assert (refused.status, refused.error_code) == (403, "email_not_verified")

    [mail] = mails_to(app, "kai@crane.example")
    assert mail.subject == "Confirm your e-mail address for Piecework"
    assert api.post("/signup/verify", json={"token": token_in(mail.body)}).status == 200
    claimed = api.post(f"/batches/{batch['id']}/claim", token, {})
    assert (claimed.status, claimed.body["status"]) == (200, "claimed")


@pytest.mark.slow
def test_a_link_works_once_and_for_24_hours_and_another_can_be_asked_for(app, api, frozen_clock):
    created = sign_up(api)
    token = created["token"]
    [first] = mails_to(app, "ada@horizon.example")
    frozen_clock.step(hours=24)
    expired = api.post("/signup/verify", json={"token": token_in(first.body)})
    assert (expired.status, expired.error_code) == (422, "token_expired")

    assert api.post("/signup/verification", token).status == 202
    [_, second] = mails_to(app, "ada@horizon.example")
    frozen_clock.step(hours=23, minutes=59)
    assert api.post("/signup/verify", json={"token": token_in(second.body)}).status == 200
    again = api.post("/signup/verify", json={"token": token_in(second.body)})
    assert (again.status, again.error_code) == (422, "token_used")
    unknown = api.post("/signup/verify", json={"token": "not-a-token-we-sent"})
    assert (unknown.status, unknown.error_code) == (422, "unknown_token")
    # Verified: nothing more to send.
    done = api.post("/signup/verification", token)
    assert (done.status, done.error_code) == (409, "already_verified")
    assert len(mails_to(app, "ada@horizon.example")) == 2


@pytest.mark.slow
def test_an_address_signs_up_once_and_a_refused_sign_up_writes_nothing(app, api, cast):
    sign_up(api)
    before = row_counts(app)
    for email in ("ADA@horizon.example", "li@example.com"):
        taken = api.post("/signup", json=signup_body(email=email))
        assert (taken.status, taken.error_code) == (409, "email_taken")
    weak = api.post("/signup", json=signup_body(email="bo@x.example", password="short"))
    assert (weak.status, weak.error_code) == (422, "validation_failed")
    assert row_counts(app) == before


@pytest.mark.slow
def test_users_an_operator_made_count_as_verified_and_have_no_sign_up(app, api, cast):
    with app.app_context():
        count = select(func.count()).select_from(User).where(User.email_verified_at.is_(None))
        assert db.session.scalar(count) == 0
    assert api.get("/signup", cast.client).body == {
        "email": "client@example.com",
        "email_verified": True,
        "signup": None,
    }
