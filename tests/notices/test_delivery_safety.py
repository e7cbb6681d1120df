"""What a delivery never does: hold a transaction while a receiver answers, read a
receiver's body, or go to an address on our own network (unless allowed).

The receiver is real (tests/notices/receiver.py); a held request is released by the test
through threading.Event handshakes, never by waiting out a time.
"""

import threading
from datetime import timedelta

import pytest

from marketplace.db import unit_of_work
from marketplace.notices.models import DeliveryStatus
from marketplace.notices.webhooks import LEASE_TIMEOUTS, Answer, _claim_next, _record
from tests.notices.support import TIMEOUT, deliver, deliveries, register
from tests.notices.test_delivery import announce, log

# End to end through real servers: `make test` runs them, `make check` stays under a
# minute.
pytestmark = pytest.mark.slow

# Longer than the receiver ever holds a request: only the test's release ends one.
PATIENT = 30.0


@pytest.fixture
def private_urls_refused(app):
    """WEBHOOK_ALLOW_PRIVATE_URLS as it is in production: off."""
    app.config["WEBHOOK_ALLOW_PRIVATE_URLS"] = False
    yield
    app.config["WEBHOOK_ALLOW_PRIVATE_URLS"] = True


def test_other_writers_commit_while_a_receiver_is_holding_a_delivery(
    app, api, cast, frozen_clock, webhook_receiver
):
    register(api, cast.client, webhook_receiver.url)
    announce(app, cast.party_ids["horizon"], invoice_id=1)
    webhook_receiver.hang()
    counts = []
    sender = threading.Thread(target=lambda: counts.append(deliver(app, timeout=PATIENT)))
    sender.start()
    assert webhook_receiver.arrived.wait(PATIENT)

    # The receiver holds the POST: another use case writes and commits meanwhile (on
    # SQLite it would wait for the write lock if the sender held a transaction).
    announce(app, cast.party_ids["horizon"], invoice_id=2)
    # The attempt is committed as leased before the POST: counted, not due for 2 timeouts.
    first, second = deliveries(app)
    assert (first.status, first.attempts) == (DeliveryStatus.PENDING, 1)
    assert first.next_attempt_at == frozen_clock.moment + timedelta(
        seconds=PATIENT * LEASE_TIMEOUTS
    )
    assert (second.attempts, second.next_attempt_at) == (0, frozen_clock.moment)

    webhook_receiver.answer(200)
    sender.join()
    assert counts == [{"delivered": 2, "retrying": 0, "failed": 0}]
    assert [e["data"]["invoice_id"] for e in webhook_receiver.events()] == [1, 2]


def test_a_sender_that_dies_mid_attempt_leaves_the_delivery_to_the_next_run_after_its_lease(
    app, api, cast, frozen_clock, webhook_receiver
):
    endpoint = register(api, cast.client, webhook_receiver.url)
    announce(app, cast.party_ids["horizon"])
    lease = timedelta(seconds=TIMEOUT * LEASE_TIMEOUTS)
    with app.app_context(), unit_of_work() as session:
        lost = _claim_next(session, set(), lease)  # then the sender crashed

    assert deliver(app)["delivered"] == 0  # still leased
    frozen_clock.step(seconds=TIMEOUT * LEASE_TIMEOUTS)
    assert deliver(app)["delivered"] == 1

    # The dead sender's answer, were it recorded late, no longer counts.
    with app.app_context(), unit_of_work() as session:
        assert _record(session, lost, Answer(500, "HTTP 500: Internal Server Error")) is None
    [entry] = log(api, cast.client, endpoint["id"])
    assert (entry["status"], entry["attempts"], entry["last_error"]) == ("delivered", 2, None)
    assert len(webhook_receiver.received) == 1


def test_the_answer_s_body_is_not_read_nor_shown(app, api, cast, frozen_clock, webhook_receiver):
    endpoint = register(api, cast.client, webhook_receiver.url)
    announce(app, cast.party_ids["horizon"], invoice_id=1)
    announce(app, cast.party_ids["horizon"], invoice_id=2)
    # Headers at once, then a body that never comes: a sender that read it would wait.
    webhook_receiver.drip()
    assert deliver(app, timeout=PATIENT)["delivered"] == 2

    webhook_receiver.answer(500)
    announce(app, cast.party_ids["horizon"], invoice_id=3)
    assert deliver(app)["retrying"] == 1
    *_, entry = log(api, cast.client, endpoint["id"])
    # Our own words for the status, nothing the receiver wrote.
    assert entry["last_error"] == "HTTP 500: Internal Server Error"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/hooks",
        "http://localhost:{port}/hooks",
        "http://[::1]:{port}/hooks",
        "http://10.1.2.3/hooks",
        "http://192.168.0.1/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://224.0.0.1/hooks",
        "http://0.0.0.0/hooks",
    ],
)
def test_a_private_address_is_refused_at_registration(
    app, api, cast, private_urls_refused, webhook_receiver, url
):
    url = url.format(port=webhook_receiver.url.split(":")[2].split("/")[0])
    answer = api.post("/webhook-endpoints", cast.client, {"url": url, "events": ["*"]})

    assert (answer.status, answer.error_code) == (422, "url_not_public")
    assert answer.body["error"]["details"]["field"] == "url"
    assert api.get("/webhook-endpoints", cast.client).body == []


def test_a_url_cannot_be_changed_to_a_private_address(
    app, api, cast, private_urls_refused, webhook_receiver
):
    endpoint = register(api, cast.client, "https://hooks.example.com/in")
    answer = api.call(
        "PATCH",
        f"/webhook-endpoints/{endpoint['id']}",
        cast.client,
        json={"url": webhook_receiver.url},
    )

    assert (answer.status, answer.error_code) == (422, "url_not_public")
    found = api.get(f"/webhook-endpoints/{endpoint['id']}", cast.client).body
    assert found["url"] == "https://hooks.example.com/in"


def test_a_delivery_to_a_private_address_fails_without_connecting(
    app, api, cast, frozen_clock, webhook_receiver
):
    # Registered while allowed (or its name resolved elsewhere then); refused now.
    endpoint = register(api, cast.client, webhook_receiver.url)
    announce(app, cast.party_ids["horizon"])
    app.config["WEBHOOK_ALLOW_PRIVATE_URLS"] = False
    try:
        assert deliver(app) == {"delivered": 0, "retrying": 1, "failed": 0}
    finally:
        app.config["WEBHOOK_ALLOW_PRIVATE_URLS"] = True

    assert webhook_receiver.received == []
    [entry] = log(api, cast.client, endpoint["id"])
    assert entry["status"] == "pending" and entry["last_status_code"] is None
    assert entry["last_error"] == "Refused: 127.0.0.1 resolves to 127.0.0.1, not a public address"
