"""Team invites: the owner invites by e-mail; the invitee accepts with the mailed token and
works at once. Invites expire, can be revoked, are used once; a person already on
Piecework joins a second team, and her earnings in each stay apart."""

import hashlib
import secrets

import pytest
from sqlalchemy import select

from marketplace.accounts.signin import MAX_FAILED_SIGN_INS
from marketplace.db import db
from marketplace.identity.models import User
from marketplace.limits import limiter
from marketplace.notices.mail import SmtpSettings, send_outbox
from marketplace.notices.models import OutboxMessage
from marketplace.workers.models import TeamInvite
from tests.cast import PASSWORD as CAST_PASSWORD
from tests.payments.test_earnings_views import invoice, money, pay, payout_run, team_order, work
from tests.support import row_counts
from tests.workers import add_level, ready_work, take
from tests.workers.invite_kit import (
    PASSWORD,
    TOKEN,
    accept,
    invite,
    invited,
    mailed_token,
    newcomer,
)

pytestmark = pytest.mark.slow


def statuses(api, cast, status: str | None = None) -> list[tuple[str, str]]:
    query = f"?status={status}" if status else ""
    answer = api.get(f"/teams/{cast.party_ids['lotus']}/invites{query}", cast.owner)
    assert answer.status == 200, answer.body
    return [(i["email"], i["status"]) for i in answer.body]


def test_an_invited_annotator_gets_the_mail_accepts_and_works_at_once(app, api, cast, smtp_server):
    ready_work(api, cast, items=5, rate=None)
    trainee = add_level(api, cast, "trainee", 0, rates=[("bbox_2d", "0.04")])
    sent = invited(api, cast, " Mei@Example.com ", level_id=trainee["id"], locale="en")
    assert (sent["email"], sent["role"], sent["level_id"], sent["status"]) == (
        "mei@example.com",
        "annotator",
        trainee["id"],
        "pending",
    )
    assert "token" not in sent  # the owner never sees it: only the mailbox does

    with app.app_context():
        settings = SmtpSettings(smtp_server.host, smtp_server.port, "team@piecework.test")
        assert send_outbox(settings) == {"sent": 1, "failed": 0}
    [mail] = smtp_server.messages
    assert mail.rcpt_tos == ["mei@example.com"]
    assert mail.subject == "Owner invites you to the team Lotus"
    link = f"{app.config['PUBLIC_URL']}/invites/accept?token="
    assert link in mail.body and "as an annotator" in mail.body
    token = TOKEN.search(mail.body).group()
    # Beside the link to its page, the mail gives the code and the call that takes it.
    assert f'POST /api/v1/invites/accept with {{"token": "{token}"}}' in mail.body
    with app.app_context():
        stored = db.session.scalar(select(TeamInvite.token_digest))
    assert stored == hashlib.sha256(token.encode()).hexdigest()

    joined = newcomer(api, token, name="Mei", locale="en")
    assert (joined["team_id"], joined["role"]) == (cast.party_ids["lotus"], "annotator")
    me = api.get("/me", joined["token"]).body
    assert [(m["party_id"], m["role"]) for m in me["memberships"]] == [
        (cast.party_ids["lotus"], "annotator")
    ]
    with app.app_context():
        user = db.session.get(User, me["id"])
        assert (user.email, user.locale) == ("mei@example.com", "en")
        assert user.email_verified_at is not None  # the token proved the address
    # She works at once, at the level she was invited to, and is paid its rate.
    [task] = take(api, joined["token"], 1)
    assert task["order_id"]
    mine = [m for m in api.get(f"/teams/{cast.party_ids['lotus']}/members", cast.owner).body]
    [mei] = [m for m in mine if m["user_id"] == me["id"]]
    assert (mei["role"], mei["active"], mei["level"]["name"]) == ("annotator", True, "trainee")
    assert statuses(api, cast, "accepted") == [("mei@example.com", "accepted")]
    assert statuses(api, cast, "pending") == []
    # She signs in with the password she chose.
    signed_in = api.post("/auth/tokens", json={"email": "mei@example.com", "password": PASSWORD})
    assert signed_in.status == 201

    before = row_counts(app)
    again = accept(api, token, name="Mei", password=PASSWORD)
    assert (again.status, again.error_code) == (409, "invite_not_pending")
    assert again.body["error"]["details"] == {"status": "accepted"}
    assert row_counts(app) == before


def test_the_mail_speaks_the_invitees_language(app, api, cast):
    """A newcomer's mail is in the language the owner chose (Chinese by default); a user
    already on Piecework gets hers."""
    with app.app_context():
        db.session.get(User, cast.user_ids["rival_reviewer"]).locale = "en"
        db.session.commit()
    invited(api, cast, "mei@example.com")
    invited(api, cast, "chen@example.com", role="reviewer", locale="en")
    invited(api, cast, "rival_reviewer@example.com", role="reviewer", locale="zh-CN")
    with app.app_context():
        mails = {m.to_address: m for m in db.session.scalars(select(OutboxMessage))}
    assert mails["mei@example.com"].subject == "Owner 邀请你加入团队 Lotus"
    assert "以标注员身份" in mails["mei@example.com"].body
    assert "as a reviewer" in mails["chen@example.com"].body
    assert mails["rival_reviewer@example.com"].subject == "Owner invites you to the team Lotus"


def test_an_invite_expires_and_another_can_be_sent(app, api, cast, frozen_clock):
    sent = invited(api, cast, "mei@example.com", expires_in_days=2)
    assert sent["expires_at"] == "2026-03-04T10:00:00+00:00"
    token = mailed_token(app, "mei@example.com")
    twice = invite(api, cast.owner, cast.party_ids["lotus"], "mei@example.com")
    assert (twice.status, twice.error_code) == (409, "invite_pending")
    assert twice.body["error"]["details"] == {"invite_id": sent["id"]}

    frozen_clock.step(days=2)
    assert statuses(api, cast) == [("mei@example.com", "expired")]
    assert statuses(api, cast, "pending") == []
    before = row_counts(app)
    late = accept(api, token, name="Mei", password=PASSWORD)
    assert (late.status, late.error_code) == (409, "invite_not_pending")
    assert late.body["error"]["details"] == {"status": "expired"}
    assert row_counts(app) == before

    invited(api, cast, "mei@example.com")
    assert statuses(api, cast) == [("mei@example.com", "expired"), ("mei@example.com", "pending")]
    newcomer(api, mailed_token(app, "mei@example.com"))


def test_a_revoked_invite_no_longer_works(app, api, cast):
    team = cast.party_ids["lotus"]
    sent = invited(api, cast, "mei@example.com")
    token = mailed_token(app, "mei@example.com")
    revoked = api.delete(f"/teams/{team}/invites/{sent['id']}", cast.owner)
    assert (revoked.status, revoked.body["status"]) == (200, "revoked")
    assert statuses(api, cast, "revoked") == [("mei@example.com", "revoked")]

    before = row_counts(app)
    refused = accept(api, token, name="Mei", password=PASSWORD)
    assert (refused.status, refused.error_code) == (409, "invite_not_pending")
    again = api.delete(f"/teams/{team}/invites/{sent['id']}", cast.owner)
    assert (again.status, again.error_code) == (409, "invite_not_pending")
    assert row_counts(app) == before


def test_an_existing_user_joins_a_second_team_and_her_earnings_stay_apart(
    app, api, cast, frozen_clock
):
    """Li annotates for Lotus and accepts Tiger's invite (proving it is her by her
    password). Her Lotus work is paid and paid out; her Tiger work still waits on its
    invoice: each team's money is its own."""
    lotus, tiger = cast.party_ids["lotus"], cast.party_ids["tiger"]
    invited(api, cast, "li@example.com", team="tiger")
    token = mailed_token(app, "li@example.com")
    before = row_counts(app)
    for body, bearer, status, code in (
        ({}, None, 422, "password_required"),
        ({"password": "wrong password"}, None, 401, "invalid_credentials"),
        ({}, cast.wang, 403, "invite_for_another_address"),
    ):
        refused = accept(api, token, bearer, **body)
        assert (refused.status, refused.error_code) == (status, code)
    assert row_counts(app) == before
    joined = accept(api, token, password=CAST_PASSWORD)
    assert joined.status == 201, joined.body
    assert joined.body["user"]["id"] == cast.user_ids["li"]
    memberships = api.get("/me", cast.li).body["memberships"]
    assert [(m["party_id"], m["role"]) for m in memberships] == [
        (lotus, "annotator"),
        (tiger, "annotator"),
    ]

    lotus_order = team_order(api, cast, 3, rate="0.06")
    work(api, cast.li, cast.reviewer, accept=3)
    tiger_order = team_order(api, cast, 2, rate="0.07", owner=cast.rival_owner)
    work(api, cast.li, cast.rival_reviewer, accept=2)
    pay(api, cast, invoice(api, cast, lotus_order), received_on="2026-03-02")
    invoice(api, cast, tiger_order)

    def hers() -> dict[int, tuple[str, str, str]]:
        holdings = api.get("/me/earnings", cast.li).body["holdings"]
        return {h["party_id"]: money(h) for h in holdings}

    assert hers() == {lotus: ("0.00", "0.18", "0.00"), tiger: ("0.14", "0.00", "0.00")}
    paid = [p for p in payout_run(api, cast)["payouts"] if p["user_id"] == cast.user_ids["li"]]
    assert [(p["party_id"], p["amount"]) for p in paid] == [(lotus, "0.18")]
    assert hers() == {lotus: ("0.00", "0.00", "0.18"), tiger: ("0.14", "0.00", "0.00")}


def test_a_signed_in_user_accepts_with_her_bearer_token_and_no_one_joins_twice(app, api, cast):
    invited(api, cast, "rival_annotator@example.com")
    joined = accept(api, mailed_token(app, "rival_annotator@example.com"), cast.rival_annotator)
    assert joined.status == 201, joined.body
    assert (joined.body["team_id"], joined.body["role"]) == (cast.party_ids["lotus"], "annotator")
    member = invite(api, cast.owner, cast.party_ids["lotus"], "rival_annotator@example.com")
    assert (member.status, member.error_code) == (409, "already_member")


@pytest.fixture
def tight_limits(app):
    """Acceptance limits low enough to reach: 3 a minute per address and 2 per invite."""
    saved = {
        key: app.config[key]
        for key in ("INVITE_ACCEPT_LIMIT_PER_ADDRESS", "INVITE_ACCEPT_LIMIT_PER_INVITE")
    }
    app.config["INVITE_ACCEPT_LIMIT_PER_ADDRESS"] = "3 per minute"
    app.config["INVITE_ACCEPT_LIMIT_PER_INVITE"] = "2 per minute"
    yield
    app.config.update(saved)


def test_acceptance_is_throttled_per_invite_and_per_address(app, api, cast, tight_limits):
    invited(api, cast, "mei@example.com")
    token = mailed_token(app, "mei@example.com")
    client = app.test_client()

    def attempts(tokens: list[str]) -> list:
        # An address of its own, so counts left by other tests (or runs, in Redis) do not
        # add up.
        address = {"REMOTE_ADDR": f"10.18.{secrets.randbelow(250)}.{secrets.randbelow(250)}"}
        return [
            client.post(
                "/api/v1/invites/accept",
                json={"token": token_, "name": "Mei", "password": "short"},
                environ_base=address,
            )
            for token_ in tokens
        ]

    tries = attempts([token] * 3)
    assert [answer.status_code for answer in tries] == [422, 422, 429]
    # The usual error shape (its code is the limiter's, see marketplace/limits.py).
    assert set(tries[2].json["error"]) == {"code", "message", "details"}
    assert int(tries[2].headers["Retry-After"]) > 0
    # Many invites' tokens (guesses) from one address.
    guesses = attempts([f"inv_{secrets.token_urlsafe(32)}" for _ in range(4)])
    assert [answer.status_code for answer in guesses] == [404, 404, 404, 429]


def test_only_a_verified_owner_invites(app, api, cast):
    """The mail goes to any address, so an owner who has not proved hers sends none."""
    with app.app_context():
        db.session.get(User, cast.user_ids["owner"]).email_verified_at = None
        db.session.commit()
    before = row_counts(app)
    refused = invite(api, cast.owner, cast.party_ids["lotus"], "mei@example.com")
    assert (refused.status, refused.error_code) == (403, "email_not_verified")
    assert row_counts(app) == before


def test_a_team_sends_at_most_its_invite_limit(app, api, cast, monkeypatch):
    monkeypatch.setitem(app.config, "TEAM_INVITES_LIMIT", "2 per hour")
    limiter.reset()
    try:
        lotus = cast.party_ids["lotus"]
        # Refused calls use up nothing: another owner's, and an invalid one.
        assert invite(api, cast.rival_owner, lotus, "mei@example.com").status == 404
        assert invite(api, cast.owner, lotus, "not an address").status == 422
        for email in ("mei@example.com", "chen@example.com"):
            assert invite(api, cast.owner, lotus, email).status == 201
        third = invite(api, cast.owner, lotus, "zhou@example.com")
        assert (third.status, third.error_code) == (429, "too_many_requests")
        # Counted per team: Tiger's owner still invites.
        assert invited(api, cast, "zhou@example.com", team="tiger")["status"] == "pending"
    finally:
        limiter.reset()


def test_accepting_with_a_password_counts_towards_and_obeys_the_sign_in_lock(
    app, api, cast, frozen_clock
):
    """Wrong passwords given to accept an invite count as wrong sign-ins; once the account
    is locked, even her right password accepts nothing until the lock ends."""
    invited(api, cast, "li@example.com", team="tiger")
    token = mailed_token(app, "li@example.com")
    for _ in range(MAX_FAILED_SIGN_INS):
        wrong = accept(api, token, password="wrong password")
        assert (wrong.status, wrong.error_code) == (401, "invalid_credentials")
    with app.app_context():
        subjects = db.session.scalars(
            select(OutboxMessage.subject).where(OutboxMessage.to_address == "li@example.com")
        ).all()
    assert "您的 Piecework 账户已锁定至 2026-03-02 10:15" in subjects
    locked = accept(api, token, password=CAST_PASSWORD)
    assert (locked.status, locked.error_code) == (401, "invalid_credentials")
    tiger_invites = api.get(f"/teams/{cast.party_ids['tiger']}/invites", cast.rival_owner)
    assert [i["status"] for i in tiger_invites.body] == ["pending"]
    frozen_clock.step(minutes=15)
    joined = accept(api, token, password=CAST_PASSWORD)
    assert joined.status == 201, joined.body
