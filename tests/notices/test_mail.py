"""Notices by e-mail and on a timer: an owner's e-mail ahead of a drop at the time she chose
(through a real SMTP server), and a team told once that its lease on a batch is ending."""

import pytest

from marketplace.db import unit_of_work
from marketplace.identity.models import Membership, Role, User
from marketplace.notices.letters import earnings_paid
from marketplace.notices.mail import send_outbox
from marketplace.orders.announce import warn_expiring_leases
from marketplace.orders.drop_mail import remind_owners_of_drops
from tests.flows import claim, post_order
from tests.notices.support import deliver, register
from tests.receivables.test_outbox import settings_for

# End to end, through the real use cases: in `make test`, not `make check`.
pytestmark = pytest.mark.slow

PLAN = {"cron": "0 3 * * *", "timezone": "Asia/Shanghai", "batches_per_drop": 20}


def remind(app) -> int:
    """One pass of the scheduler's notices job, drop e-mails."""
    with app.app_context(), unit_of_work() as session:
        return remind_owners_of_drops(session)


def warn(app) -> int:
    with app.app_context(), unit_of_work() as session:
        return warn_expiring_leases(session)


def reads_english(app, cast, label: str) -> None:
    with app.app_context(), unit_of_work() as session:
        session.get(User, cast.user_ids[label]).locale = "en_US"


def test_an_owner_is_mailed_ahead_of_a_drop_at_the_time_she_chose_in_her_language(
    app, api, cast, frozen_clock, smtp_server
):
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    order = post_order(
        api, cast.client, items=200, batch_size=5, release_plan=PLAN, claim_mode="lottery"
    )
    assert api.put(f"/orders/{order}/interest", cast.owner, {"batches": 2}).status == 200
    chose = api.put(
        "/me/notice-preferences", cast.owner, {"drop_released_email": True, "lead_minutes": 30}
    )
    assert chose.status == 200
    assert chose.body == {"drop_released_email": True, "lead_minutes": 30, "earnings_email": True}
    reads_english(app, cast, "rival_owner")
    assert (
        api.put(
            "/me/notice-preferences",
            cast.rival_owner,
            {"drop_released_email": True, "lead_minutes": 60},
        ).status
        == 200
    )

    frozen_clock.stand_at("2026-03-03T01:59:59+08:00")
    assert remind(app) == 0
    frozen_clock.step(seconds=1)  # 02:00: an hour ahead, Tiger's owner
    assert remind(app) == 1
    frozen_clock.stand_at("2026-03-03T02:29:59+08:00")
    assert remind(app) == 0
    frozen_clock.step(seconds=1)  # 02:30: half an hour ahead, Lotus's owner
    assert remind(app) == 1
    frozen_clock.step(minutes=1)
    assert remind(app) == 0  # once per drop and owner

    with app.app_context():
        assert send_outbox(settings_for(smtp_server)) == {"sent": 2, "failed": 0}
    tiger, lotus = smtp_server.messages
    assert tiger.to == "rival_owner@example.com"
    assert tiger.subject == "20 batches of Boxes drop at 2026-03-03 03:00 Asia/Shanghai"
    assert "no lottery interest registered for Tiger" in tiger.body
    assert lotus.to == "owner@example.com"
    assert lotus.subject == "20 批「Boxes」将于 2026-03-03 03:00 Asia/Shanghai 发布"
    assert "Lotus 的抽签意向：2 批" in lotus.body  # noqa: RUF001


def test_an_owner_of_two_teams_is_mailed_each_team_s_own_interest(
    app, api, cast, frozen_clock, smtp_server
):
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    order = post_order(
        api, cast.client, items=200, batch_size=5, release_plan=PLAN, claim_mode="lottery"
    )
    assert api.put(f"/orders/{order}/interest", cast.owner, {"batches": 2}).status == 200
    assert api.put(f"/orders/{order}/interest", cast.rival_owner, {"batches": 3}).status == 200
    with app.app_context(), unit_of_work() as session:
        session.add(
            Membership(
                user_id=cast.user_ids["owner"],
                party_id=cast.party_ids["tiger"],
                role=Role.TEAM_OWNER,
            )
        )
    reads_english(app, cast, "owner")
    chose = api.put("/me/notice-preferences", cast.owner, {"drop_released_email": True})
    assert chose.status == 200

    frozen_clock.stand_at("2026-03-03T02:30:00+08:00")
    assert remind(app) == 2
    assert remind(app) == 0

    with app.app_context():
        send_outbox(settings_for(smtp_server))
    bodies = sorted(m.body for m in smtp_server.messages if m.to == "owner@example.com")
    assert len(bodies) == 2
    assert "Lotus's lottery interest: 2." in bodies[0]
    assert "Tiger's lottery interest: 3." in bodies[1]


def test_a_payout_not_yet_sent_is_on_its_way_not_paid(app, cast):
    with app.app_context(), unit_of_work() as session:
        li = session.get(User, cast.user_ids["li"])
        queued = earnings_paid(li, amount_minor=60, currency="CNY", sent=False)
        sent = earnings_paid(li, amount_minor=60, currency="CNY", sent=True)
        li.locale = "en_US"
        queued_en = earnings_paid(li, amount_minor=60, currency="CNY", sent=False)
        session.rollback()

    assert queued[0] == "¥0.60 正在支付给你" and "已排队" in queued[1]
    assert sent[0] == "已向你支付 ¥0.60"
    assert queued_en[0] == "CN¥0.60 is on its way to you"
    assert "paid to" not in queued_en[1]


def test_nobody_is_mailed_who_did_not_ask_and_a_client_may_not_ask(app, api, cast, frozen_clock):
    frozen_clock.stand_at("2026-03-03T02:50:00+08:00")
    post_order(api, cast.client, items=200, batch_size=5, release_plan=PLAN)
    assert remind(app) == 0
    refused = api.put("/me/notice-preferences", cast.client, {"drop_released_email": True})
    assert (refused.status, refused.error_code) == (403, "forbidden")


def test_a_team_is_told_once_that_its_lease_ends_within_the_hour(
    app, api, cast, frozen_clock, webhook_receiver
):
    register(api, cast.owner, webhook_receiver.url, ["batch.lease_expiring"])
    order = post_order(api, cast.client, items=5, batch_size=5, lease_hours=3)
    claim(api, cast.owner, order)

    frozen_clock.step(hours=1, minutes=59)
    assert warn(app) == 0
    frozen_clock.step(minutes=1)  # an hour before the lease ends
    assert warn(app) == 1
    frozen_clock.step(minutes=30)
    assert warn(app) == 0
    deliver(app)

    [event] = webhook_receiver.events()
    assert event["type"] == "batch.lease_expiring"
    assert event["data"]["order_id"] == order
    assert event["data"]["lease_expires_at"] == "2026-03-02T13:00:00+00:00"
