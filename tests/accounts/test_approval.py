"""With SIGNUP_APPROVAL=clients a new client publishes nothing until an admin approves
it; a refusal says why, by e-mail and in the applicant's own view."""

import pytest
from sqlalchemy import select

from marketplace.db import db
from marketplace.identity.models import AuditEntry
from tests.accounts.kit import mails_to, sign_up, token_in
from tests.flows import post_order, top_up

pytestmark = pytest.mark.slow


@pytest.fixture
def approval(app, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNUP_APPROVAL", "clients")


def verified(app, api, email: str, **changes) -> dict:
    """Signed up, and the address verified by the mailed link."""
    created = sign_up(api, email=email, **changes)
    [mail] = mails_to(app, email)
    assert api.post("/signup/verify", json={"token": token_in(mail.body)}).status == 200
    return created


def test_a_client_waits_for_approval_and_a_team_does_not(app, api, cast, approval):
    client = verified(app, api, "ada@horizon.example")
    team = sign_up(api, "team", "kai@crane.example")
    assert (client["signup"]["status"], team["signup"]["status"]) == ("pending", "approved")
    order = post_order(api, client["token"], publish=False)
    waiting = api.post(f"/orders/{order}/publish", client["token"])
    assert (waiting.status, waiting.error_code) == (403, "signup_pending")

    pending = api.get("/signups?status=pending", cast.admin).body
    assert [s["id"] for s in pending] == [client["signup"]["id"]]
    # The admins are told, in their language (the cast's admin reads Chinese), of the
    # client that waits, and of nobody else.
    [told] = mails_to(app, "admin@example.com")
    assert told.subject == "新客户等待审核：" + client["signup"]["party_name"]  # noqa: RUF001
    assert f"/api/v1/signups/{client['signup']['id']}/approve" in told.body
    assert pending[0]["email"] == "ada@horizon.example"
    assert len(api.get("/signups", cast.admin).body) == 2
    approved = api.post(f"/signups/{client['signup']['id']}/approve", cast.admin, {})
    assert (approved.status, approved.body["status"]) == (200, "approved")
    top_up(api, cast.admin, client["signup"]["party_id"], "0.11")  # a new client prefunds
    assert api.post(f"/orders/{order}/publish", client["token"]).status == 200
    [_, letter] = mails_to(app, "ada@horizon.example")
    assert letter.subject == "Your Piecework account for Horizon Two is approved"


def test_a_refusal_needs_a_reason_which_the_applicant_reads(app, api, cast, approval):
    client = verified(app, api, "mei@horizon.example", locale="zh-CN")
    signup = client["signup"]["id"]
    no_reason = api.post(f"/signups/{signup}/refuse", cast.admin, {})
    assert (no_reason.status, no_reason.error_code) == (422, "reason_required")
    reason = "We could not confirm the company."
    refused = api.post(f"/signups/{signup}/refuse", cast.admin, {"reason": reason})
    assert (refused.status, refused.body["status"], refused.body["reason"]) == (
        200,
        "refused",
        reason,
    )
    own = api.get("/signup", client["token"]).body["signup"]
    assert (own["status"], own["reason"]) == ("refused", reason)
    order = post_order(api, client["token"], publish=False)
    publish = api.post(f"/orders/{order}/publish", client["token"])
    assert (publish.status, publish.error_code) == (403, "signup_refused")
    again = api.post(f"/signups/{signup}/approve", cast.admin, {})
    assert (again.status, again.error_code) == (409, "signup_decided")

    [_, letter] = mails_to(app, "mei@horizon.example")
    assert letter.subject == "您在 Piecework 的注册 Horizon Two 未通过审核"
    assert f"理由：{reason}" in letter.body  # noqa: RUF001 (Chinese punctuation)
    with app.app_context():
        [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.subject_type == "signup"))
        assert (entry.action, entry.subject_id, entry.user_id, entry.details["reason"]) == (
            "signup.refused",
            signup,
            cast.user_ids["admin"],
            reason,
        )
