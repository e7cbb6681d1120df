"""Signed webhook deliveries to a real local HTTP receiver: signature, retries after a 500,
a timeout and a refused connection, the retry window, ordering, dedupe, rollback.

Events are published here as a use case publishes them (notices.events.publish inside
its unit of work); test_events.py drives the real use cases.
"""

from datetime import timedelta

import pytest

from marketplace.db import unit_of_work
from marketplace.notices.events import publish
from marketplace.notices.models import DeliveryStatus
from tests.notices.support import deliver, deliveries, events_of, register, verified
from tests.stripe_servers import free_port

# End to end through real servers: `make test` runs them, `make check` stays under a
# minute.
pytestmark = pytest.mark.slow


def announce(app, party_id: int, type_: str = "invoice.issued", **data) -> None:
    with app.app_context(), unit_of_work() as session:
        publish(session, type_, [party_id], data or {"invoice_id": 1})


def log(api, token, endpoint_id) -> list[dict]:
    answer = api.get(f"/webhook-endpoints/{endpoint_id}/deliveries", token)
    assert answer.status == 200, answer.body
    return answer.body


def test_an_event_arrives_signed_with_the_endpoint_secret(
    app, api, cast, frozen_clock, webhook_receiver
):
    endpoint = register(api, cast.client, webhook_receiver.url, ["invoice.issued"])
    announce(app, cast.party_ids["horizon"], invoice_id=7, number="INV-2026-000007")

    assert deliver(app) == {"delivered": 1, "retrying": 0, "failed": 0}

    [received] = webhook_receiver.received
    header = received.headers["Piecework-Signature"]
    assert verified(endpoint["secret"], header, received.body)
    assert not verified(endpoint["secret"], header, received.body + b" ")
    assert header.startswith(f"t={int(frozen_clock.moment.timestamp())},v1=")
    assert received.headers["Content-Type"] == "application/json"
    [event] = events_of(app, cast.party_ids["horizon"])
    assert received.event == {
        "id": event.public_id,
        "type": "invoice.issued",
        "created": int(frozen_clock.moment.timestamp()),
        "data": {"invoice_id": 7, "number": "INV-2026-000007"},
    }
    assert event.public_id.startswith("evt_")
    [entry] = log(api, cast.client, endpoint["id"])
    assert entry["status"] == "delivered" and entry["attempts"] == 1
    assert entry["last_status_code"] == 200 and entry["next_attempt_at"] is None
    assert entry["event"]["id"] == event.public_id
    # Delivered once: the next run sends nothing.
    assert deliver(app) == {"delivered": 0, "retrying": 0, "failed": 0}
    assert len(webhook_receiver.received) == 1


def test_a_500_is_retried_a_minute_later_with_the_same_event_id(
    app, api, cast, frozen_clock, webhook_receiver
):
    endpoint = register(api, cast.client, webhook_receiver.url)
    announce(app, cast.party_ids["horizon"])
    webhook_receiver.answer(500)

    assert deliver(app)["retrying"] == 1
    [entry] = log(api, cast.client, endpoint["id"])
    assert entry["status"] == "pending" and entry["attempts"] == 1
    assert entry["last_status_code"] == 500 and entry["last_error"].startswith("HTTP 500")
    # Not due before its minute is up.
    frozen_clock.step(seconds=59)
    assert deliver(app)["retrying"] == 0
    frozen_clock.step(seconds=1)
    webhook_receiver.answer(200)
    assert deliver(app)["delivered"] == 1

    first, second = webhook_receiver.received
    assert first.event["id"] == second.event["id"]
    assert first.body == second.body
    # Signed afresh at each attempt: a receiver's tolerance window holds for retries.
    assert verified(endpoint["secret"], second.headers["Piecework-Signature"], second.body)
    assert first.headers["Piecework-Signature"] != second.headers["Piecework-Signature"]
    [entry] = log(api, cast.client, endpoint["id"])
    assert (entry["status"], entry["attempts"], entry["last_error"]) == ("delivered", 2, None)


def test_a_receiver_that_does_not_answer_in_time_is_retried(
    app, api, cast, frozen_clock, webhook_receiver
):
    endpoint = register(api, cast.client, webhook_receiver.url)
    announce(app, cast.party_ids["horizon"])
    webhook_receiver.hang()

    assert deliver(app)["retrying"] == 1
    [entry] = log(api, cast.client, endpoint["id"])
    assert entry["last_status_code"] is None and "Timeout" in entry["last_error"]

    webhook_receiver.answer(200)
    frozen_clock.step(minutes=1)
    assert deliver(app)["delivered"] == 1
    assert len({r.event["id"] for r in webhook_receiver.received}) == 1


def test_a_refused_connection_is_retried(app, api, cast, frozen_clock):
    endpoint = register(api, cast.client, f"http://127.0.0.1:{free_port()}/hooks")
    announce(app, cast.party_ids["horizon"])

    assert deliver(app)["retrying"] == 1
    [entry] = log(api, cast.client, endpoint["id"])
    assert "ConnectionError" in entry["last_error"]


def test_retries_back_off_and_stop_three_days_after_the_event(
    app, api, cast, frozen_clock, webhook_receiver
):
    register(api, cast.client, webhook_receiver.url)
    announce(app, cast.party_ids["horizon"])
    happened = frozen_clock.moment
    webhook_receiver.answer(503)
    waits = []
    while True:
        deliver(app)
        [delivery] = deliveries(app)
        if delivery.status != DeliveryStatus.PENDING:
            break
        waits.append(delivery.next_attempt_at - frozen_clock.moment)
        frozen_clock.moment = delivery.next_attempt_at

    assert delivery.status == DeliveryStatus.FAILED
    minutes = [int(wait.total_seconds() // 60) for wait in waits]
    assert minutes[:9] == [1, 2, 4, 8, 16, 32, 64, 128, 256]
    assert set(minutes[9:]) == {360}  # at most 6 hours apart
    assert frozen_clock.moment <= happened + timedelta(days=3)
    assert frozen_clock.moment + timedelta(hours=6) > happened + timedelta(days=3)
    assert len(webhook_receiver.received) == delivery.attempts == len(waits) + 1


def test_deliveries_go_out_oldest_event_first_and_a_failing_endpoint_waits_its_turn(
    app, api, cast, frozen_clock, webhook_receiver
):
    register(api, cast.client, webhook_receiver.url)
    for number in (1, 2, 3):
        announce(app, cast.party_ids["horizon"], invoice_id=number)
        frozen_clock.step(seconds=1)
    webhook_receiver.answer(500)

    # The first failure ends this endpoint's run: its later events do not overtake.
    assert deliver(app) == {"delivered": 0, "retrying": 1, "failed": 0}
    frozen_clock.step(minutes=1)
    webhook_receiver.answer(200)
    assert deliver(app)["delivered"] == 3

    sent = [event["data"]["invoice_id"] for event in webhook_receiver.events()]
    assert sent == [1, 1, 2, 3]
    created = [event["created"] for event in webhook_receiver.events()[1:]]
    assert created == sorted(created)


def test_a_change_rolled_back_announces_nothing(app, api, cast, webhook_receiver):
    register(api, cast.client, webhook_receiver.url)

    with pytest.raises(RuntimeError), app.app_context(), unit_of_work() as session:
        publish(session, "invoice.issued", [cast.party_ids["horizon"]], {"invoice_id": 1})
        session.flush()  # written, then rolled back with the change it reports
        raise RuntimeError("the use case failed after publishing")

    assert events_of(app, cast.party_ids["horizon"]) == []
    assert deliver(app) == {"delivered": 0, "retrying": 0, "failed": 0}
    assert webhook_receiver.received == []


def test_only_enabled_endpoints_that_take_the_type_get_it(
    app, api, cast, frozen_clock, webhook_receiver
):
    invoices_only = register(
        api, cast.client, webhook_receiver.url + "/invoices", ["invoice.issued"]
    )
    drops_only = register(api, cast.client, webhook_receiver.url + "/drops", ["drop.held"])
    everything = register(api, cast.client, webhook_receiver.url + "/all")
    off = api.call(
        "PATCH", f"/webhook-endpoints/{everything['id']}", cast.client, json={"enabled": False}
    )
    assert off.status == 200 and off.body["enabled"] is False
    register(api, cast.rival_client, webhook_receiver.url + "/rival")

    announce(app, cast.party_ids["horizon"], "invoice.issued")
    deliver(app)

    assert [r.path for r in webhook_receiver.received] == ["/hooks/invoices"]
    assert log(api, cast.client, drops_only["id"]) == []
    assert len(log(api, cast.client, invoices_only["id"])) == 1


def test_a_rotated_secret_signs_the_next_attempts(app, api, cast, frozen_clock, webhook_receiver):
    endpoint = register(api, cast.client, webhook_receiver.url)
    announce(app, cast.party_ids["horizon"])
    rotated = api.post(f"/webhook-endpoints/{endpoint['id']}/rotate-secret", cast.client)
    assert rotated.status == 200 and rotated.body["secret"] != endpoint["secret"]

    deliver(app)

    [received] = webhook_receiver.received
    header = received.headers["Piecework-Signature"]
    assert verified(rotated.body["secret"], header, received.body)
    assert not verified(endpoint["secret"], header, received.body)


def test_an_operator_runs_the_deliveries_due_from_the_command_line(
    app, api, cast, frozen_clock, webhook_receiver
):
    register(api, cast.client, webhook_receiver.url)
    announce(app, cast.party_ids["horizon"])

    result = app.test_cli_runner().invoke(args=["deliver-webhooks"])

    assert result.exit_code == 0, result.output
    [event] = webhook_receiver.events()
    assert f"of {event['id']}: delivered (200)" in result.output
    assert result.output.endswith("1 delivered, 0 to retry, 0 failed\n")


def test_money_is_never_told_to_several_parties_in_one_payload(app, api, cast, webhook_receiver):
    register(api, cast.client, webhook_receiver.url)
    parties = [cast.party_ids["horizon"], cast.party_ids["lotus"]]

    with pytest.raises(ValueError, match="unit_price"), app.app_context(), unit_of_work() as s:
        publish(s, "batch.claimed", parties, {"batch_id": 1, "unit_price": "0.10"})

    assert events_of(app, cast.party_ids["horizon"]) == []
    announce(app, cast.party_ids["horizon"], amount="0.10")  # to its own party: told
    assert len(events_of(app, cast.party_ids["horizon"])) == 1
