"""Each event is published by the use case that makes it happen, to the parties it concerns,
and arrives signed at their endpoints (a real local receiver, one path per party)."""

import pytest
from sqlalchemy import select

from marketplace.db import db
from marketplace.notices.mail import send_outbox
from marketplace.notices.models import OutboxMessage
from tests.flows import claim, invoiced, post_order, release_drops, review, set_rate, submit
from tests.notices.support import deliver, register, verified
from tests.orders.test_credit_hold import hold
from tests.receivables.test_outbox import settings_for

# End to end, through the real use cases: in `make test`, not `make check`.
pytestmark = pytest.mark.slow

SHANGHAI_3AM = {"cron": "0 3 * * *", "timezone": "Asia/Shanghai", "batches_per_drop": 2}


def endpoints(api, cast, receiver, *labels) -> dict[str, dict]:
    """Each person's party registers an endpoint for every event, at its own path."""
    return {
        label: register(api, getattr(cast, label), f"{receiver.url}/{label}") for label in labels
    }


def received(receiver, label: str) -> list[dict]:
    """The events that arrived at `label`'s endpoint, each checked against its secret."""
    return [r.event for r in receiver.received if r.path == f"/hooks/{label}"]


def types(receiver, label: str) -> list[str]:
    return [event["type"] for event in received(receiver, label)]


def test_a_released_drop_is_told_to_every_team_that_may_claim_it(
    app, api, cast, frozen_clock, webhook_receiver
):
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    mine = endpoints(api, cast, webhook_receiver, "owner", "rival_owner", "client")
    order = post_order(api, cast.client, items=30, batch_size=5, release_plan=SHANGHAI_3AM)
    frozen_clock.stand_at("2026-03-03T03:00:00+08:00")
    [drop] = release_drops(app)

    deliver(app)

    expected = {
        "drop_id": drop.id,
        "order_id": order,
        "title": "Boxes",
        "task_type": "bbox_2d",
        "status": "released",
        "scheduled_at": "2026-03-02T19:00:00+00:00",
        "batch_count": 2,
        "lottery": False,
    }
    for team in ("owner", "rival_owner"):
        [event] = received(webhook_receiver, team)
        assert (event["type"], event["data"]) == ("drop.released", expected)
    assert types(webhook_receiver, "client") == []
    for received_ in webhook_receiver.received:
        label = received_.path.rsplit("/", 1)[1]
        signature = received_.headers["Piecework-Signature"]
        assert verified(mine[label]["secret"], signature, received_.body)


def test_a_held_drop_is_told_to_the_client_and_mailed_to_the_admins(
    app, api, cast, frozen_clock, webhook_receiver, smtp_server
):
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    endpoints(api, cast, webhook_receiver, "client", "owner")
    order = post_order(api, cast.client, items=30, batch_size=5, release_plan=SHANGHAI_3AM)
    hold(app, cast)
    frozen_clock.stand_at("2026-03-03T03:00:00+08:00")
    [drop] = release_drops(app)

    deliver(app)

    [event] = received(webhook_receiver, "client")
    assert event["type"] == "drop.held"
    assert event["data"]["drop_id"] == drop.id and event["data"]["order_id"] == order
    assert event["data"]["reason"].startswith("the client is on credit hold")
    assert types(webhook_receiver, "owner") == []
    with app.app_context():
        send_outbox(settings_for(smtp_server))
    [mail] = smtp_server.messages
    assert mail.to == "admin@example.com"
    # The cast's admin reads zh_CN, the default locale.
    assert mail.subject == f"订单 {order}（Horizon）的一次发布被暂停"  # noqa: RUF001
    assert "the client is on credit hold" in mail.body


def test_a_skipped_drop_is_told_to_the_client_and_mailed_to_the_admins(
    app, api, cast, frozen_clock, webhook_receiver
):
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    endpoints(api, cast, webhook_receiver, "client")
    post_order(
        api, cast.client, items=30, batch_size=5, release_plan=SHANGHAI_3AM | {"grace_minutes": 5}
    )
    frozen_clock.stand_at("2026-03-03T03:10:00+08:00")  # the scheduler was down at 03:00
    assert [drop.status for drop in release_drops(app)] == ["skipped"]

    deliver(app)

    [event] = received(webhook_receiver, "client")
    assert (event["type"], event["data"]["status"]) == ("drop.skipped", "skipped")
    with app.app_context():
        [mail] = db.session.scalars(select(OutboxMessage)).all()
    assert mail.to_address == "admin@example.com" and "跳过" in mail.subject


def test_work_reviewed_tells_the_team_its_rejections_and_the_client_its_results(
    app, api, cast, frozen_clock, webhook_receiver
):
    endpoints(api, cast, webhook_receiver, "owner", "client", "rival_owner")
    order = post_order(api, cast.client, items=3, batch_size=3)
    claim(api, cast.owner, order)
    set_rate(api, cast.owner, order, "0.06")
    first, second, third = submit(api, cast.li, 3)
    review(api, cast.reviewer, accept=[first, second], reject=[third])
    deliver(app)

    assert types(webhook_receiver, "owner") == ["batch.claimed", "submission.rejected"]
    [rejected] = received(webhook_receiver, "owner")[1:]
    batch_id = rejected["data"]["batch_id"]
    assert rejected["data"]["submissions"] == [
        {
            "submission_id": third,
            "task_id": rejected["data"]["submissions"][0]["task_id"],
            "reason_code": "box_off_target",
            "reason": "box misses the wheel",
        }
    ]
    assert types(webhook_receiver, "client") == ["batch.claimed"]  # not all accepted yet

    # Li disputes; the owner upholds it: the last item is accepted, the batch is complete.
    dispute = api.post(f"/submissions/{third}/dispute", cast.li, {"reason": "it is on the wheel"})
    assert dispute.status == 201, dispute.body
    decided = api.post(
        f"/disputes/{dispute.body['id']}/decision",
        cast.owner,
        {"decision": "uphold", "note": "right"},
    )
    assert decided.status == 200, decided.body
    deliver(app)

    [told] = received(webhook_receiver, "owner")[2:]
    assert (told["type"], told["data"]["status"]) == ("dispute.decided", "upheld")
    [ready] = received(webhook_receiver, "client")[1:]
    assert ready["type"] == "results.ready"
    assert ready["data"] == {
        "batch_id": batch_id,
        "order_id": order,
        "accepted_items": 3,
        "results_url": f"/api/v1/orders/{order}/results?batch_id={batch_id}",
    }
    # The rival team saw the batch on the board, and nothing of the work.
    assert types(webhook_receiver, "rival_owner") == []


def test_an_invoice_its_payment_and_the_payout_are_told_to_each_party_its_own_money(
    app, api, cast, frozen_clock, webhook_receiver, smtp_server
):
    endpoints(api, cast, webhook_receiver, "owner", "client")
    invoice = invoiced(api, cast)  # 1.00 of items (Li 0.60, Lotus 0.40) and the 0.05 fee
    paid = api.post(
        f"/invoices/{invoice['id']}/payments",
        cast.admin,
        {"amount": "1.05", "reference": "BANK-1", "received_on": "2026-03-02"},
    )
    assert paid.status == 201, paid.body
    assert api.post("/payout-runs", cast.admin, {"currency": "CNY"}).status == 201
    deliver(app)

    client = {event["type"]: event["data"] for event in received(webhook_receiver, "client")}
    assert client["invoice.issued"] == {
        "invoice_id": invoice["id"],
        "number": invoice["number"],
        "order_id": invoice["order_id"],
        "currency": "CNY",
        "total": "1.05",
        "outstanding": "1.05",
        "due_on": invoice["due_on"],
    }
    assert client["payment.settled"]["applied"] == "1.05"
    assert client["payment.settled"]["outstanding"] == "0.00"
    team = {event["type"]: event["data"] for event in received(webhook_receiver, "owner")}
    assert "invoice.issued" not in team
    assert team["payment.settled"] == {
        "order_id": invoice["order_id"],
        "currency": "CNY",
        "available": "0.40",
        "settled_at": frozen_clock.moment.isoformat(),
    }
    assert team["payout.paid"]["amount"] == "0.40"
    assert team["payout.paid"]["status"] == "sent"  # the manual gateway's bank file
    # The client's price, its lines and the fee never reach the team.
    sent_to_team = str(received(webhook_receiver, "owner"))
    for secret in ("0.10", "1.00", "1.05", "0.05", invoice["number"]):
        assert secret not in sent_to_team
    # Li is told by e-mail, in her locale (zh_CN, the default), of her own money only.
    with app.app_context():
        send_outbox(settings_for(smtp_server))
    to_li = [m.subject for m in smtp_server.messages if m.to == "li@example.com"]
    assert to_li == ["¥0.60 收入已可提现", "已向你支付 ¥0.60"]
