"""The e-mail outbox: written in the deciding unit of work, sent once by SMTP to a real server.

Every database test runs on SQLite and PostgreSQL; the server is aiosmtpd (tests/smtp_server.py).
"""

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from marketplace.db import db, unit_of_work
from marketplace.identity.models import User
from marketplace.notices.mail import MAX_ATTEMPTS, SmtpSettings, queue, requeue_failed, send_outbox
from marketplace.notices.models import OutboxMessage
from marketplace.receivables.mail import day_in, money_in
from tests.stripe_servers import free_port

SENDER = "billing@piecework.test"
NOTHING = {"sent": 0, "failed": 0}


def settings_for(server, **changes) -> SmtpSettings:
    values = {"host": server.host, "port": server.port, "sender": SENDER, "timeout": 10}
    return SmtpSettings(**(values | changes))


def queue_to(app, user_id: int, subject: str, body: str) -> int:
    """Queue one message to the user in a unit of work of its own; answers its id."""
    with app.app_context(), unit_of_work() as session:
        message = queue(session, session.get(User, user_id).email, subject, body)
        session.flush()
        return message.id


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def send(app, settings: SmtpSettings, **kwargs) -> dict[str, int]:
    with app.app_context():
        return send_outbox(settings, **kwargs)


class Boom(Exception):
    pass


def test_a_message_queued_in_a_unit_of_work_that_rolls_back_is_never_sent(app, cast, smtp_server):
    with pytest.raises(Boom), app.app_context(), unit_of_work() as session:
        queue(session, session.get(User, cast.user_ids["client"]).email, "Invoice overdue", "Pay.")
        session.flush()  # written to the database, then rolled back with the rest
        raise Boom

    assert outbox(app) == []
    assert send(app, settings_for(smtp_server)) == NOTHING
    assert smtp_server.messages == []


def test_a_committed_message_is_delivered_once_exactly_as_written(
    app, cast, smtp_server, frozen_clock
):
    with app.app_context(), unit_of_work() as session:
        session.get(User, cast.user_ids["owner"]).locale = "de_DE"
    due = date(2026, 3, 31)
    letters = {}
    for label in ("client", "owner"):  # client reads zh_CN (the default), owner de_DE
        with app.app_context():
            locale = db.session.get(User, cast.user_ids[label]).locale
        subject = f"Rechnung INV-7 überfällig — {money_in(locale, 123450, 'EUR')}"
        # A line of a single dot and one starting with a dot: SMTP's dot-stuffing must be
        # undone by the server, so the reader sees the text as written.
        body = (
            f"Offen: {money_in(locale, 123450, 'EUR')}, fällig {day_in(locale, due)}.\n"
            ".\n"
            "..und weiter\n"
            "未付 ¥ 年\n"
        )
        message_id = queue_to(app, cast.user_ids[label], subject, body)
        letters[label] = (message_id, subject, body)
    frozen_clock.step(minutes=5)

    assert send(app, settings_for(smtp_server)) == {"sent": 2, "failed": 0}

    assert [m.to for m in smtp_server.messages] == ["client@example.com", "owner@example.com"]
    for received, label in zip(smtp_server.messages, ("client", "owner"), strict=True):
        message_id, subject, body = letters[label]
        assert received.mail_from == SENDER
        assert received.rcpt_tos == [f"{label}@example.com"]
        assert received.sender == SENDER
        assert received.subject == subject
        assert received.body == body
        # Message-ID: the row's id and its created_at (the frozen 2026-03-02 10:00 UTC).
        assert received.message_id == f"<outbox-{message_id}.20260302100000@piecework>"
    # The locale forms reached the wire intact (de_DE's amount has a U+00A0 before €).
    assert "Offen: 1.234,50\xa0€, fällig 31. März 2026." in smtp_server.messages[1].body
    assert "Offen: €1,234.50, fällig 2026年3月31日." in smtp_server.messages[0].body

    rows = outbox(app)
    assert [row.sent_at for row in rows] == [datetime(2026, 3, 2, 10, 5, tzinfo=UTC)] * 2
    assert [(row.attempts, row.failed, row.last_error) for row in rows] == [(1, False, None)] * 2

    assert send(app, settings_for(smtp_server)) == NOTHING
    assert len(smtp_server.messages) == 2


def test_a_body_line_starting_with_from_arrives_unchanged(app, cast, smtp_server):
    body = "Your invoice is overdue.\nFrom 1 April your account is on hold.\n"
    queue_to(app, cast.user_ids["client"], "Account on hold", body)

    assert send(app, settings_for(smtp_server)) == {"sent": 1, "failed": 0}

    [received] = smtp_server.messages
    assert received.body == body


def test_a_refused_message_counts_its_attempts_and_is_sent_once_the_server_recovers(
    app, cast, smtp_server, frozen_clock
):
    message_id = queue_to(app, cast.user_ids["client"], "Invoice overdue", "Please pay.\n")
    smtp_server.refuse("451 Try again later")

    for attempt in (1, 2):
        frozen_clock.step(hours=1)
        assert send(app, settings_for(smtp_server)) == {"sent": 0, "failed": 1}
        [row] = outbox(app)
        assert (row.attempts, row.sent_at, row.failed) == (attempt, None, False)
        # smtplib raises SMTPDataError(451, b"Try again later") for the DATA reply.
        assert row.last_error == "SMTPDataError: (451, b'Try again later')"
    assert smtp_server.messages == []
    assert len(smtp_server.refused) == 2

    smtp_server.accept()
    frozen_clock.step(hours=1)
    assert send(app, settings_for(smtp_server)) == {"sent": 1, "failed": 0}
    assert send(app, settings_for(smtp_server)) == NOTHING

    [received] = smtp_server.messages
    assert received.body == "Please pay.\n"
    # Every attempt carried the same Message-ID, so a client shows a duplicate as one.
    expected_id = f"<outbox-{message_id}.20260302100000@piecework>"
    assert [m.message_id for m in smtp_server.refused + smtp_server.messages] == [expected_id] * 3
    [row] = outbox(app)
    assert (row.attempts, row.failed) == (3, False)
    assert row.sent_at == datetime(2026, 3, 2, 13, 0, tzinfo=UTC)


def test_a_permanent_refusal_fails_the_message_at_once(app, cast, smtp_server):
    queue_to(app, cast.user_ids["client"], "Invoice overdue", "Please pay.\n")
    smtp_server.refuse("550 Mailbox unavailable")

    assert send(app, settings_for(smtp_server)) == {"sent": 0, "failed": 1}
    smtp_server.accept()
    assert send(app, settings_for(smtp_server)) == NOTHING
    assert smtp_server.messages == []
    [row] = outbox(app)
    assert (row.attempts, row.failed, row.sent_at) == (1, True, None)
    assert row.last_error == "SMTPDataError: (550, b'Mailbox unavailable')"


def test_after_eight_failures_a_message_is_failed_and_never_tried_again(app, cast, smtp_server):
    assert MAX_ATTEMPTS == 8
    queue_to(app, cast.user_ids["client"], "Invoice overdue", "Please pay.\n")
    smtp_server.refuse("451 Try again later")

    for attempt in range(1, MAX_ATTEMPTS + 1):
        # One attempt per run: a run does not retry what it already tried.
        assert send(app, settings_for(smtp_server)) == {"sent": 0, "failed": 1}
        [row] = outbox(app)
        assert (row.attempts, row.failed) == (attempt, attempt == MAX_ATTEMPTS)
        assert row.last_error == "SMTPDataError: (451, b'Try again later')"
    assert len(smtp_server.refused) == MAX_ATTEMPTS

    smtp_server.accept()
    assert send(app, settings_for(smtp_server)) == NOTHING
    assert smtp_server.messages == []
    assert len(smtp_server.refused) == MAX_ATTEMPTS
    [row] = outbox(app)
    assert (row.attempts, row.failed, row.sent_at) == (MAX_ATTEMPTS, True, None)


def test_with_no_server_listening_a_message_stays_queued_with_the_error(app, cast, smtp_server):
    queue_to(app, cast.user_ids["client"], "Invoice overdue", "Please pay.\n")
    closed = settings_for(smtp_server, port=free_port())  # bound, then closed: nobody listens

    assert send(app, closed) == {"sent": 0, "failed": 1}

    [row] = outbox(app)
    assert (row.attempts, row.failed, row.sent_at) == (1, False, None)
    assert row.last_error.startswith("ConnectionRefusedError: ")

    assert send(app, settings_for(smtp_server)) == {"sent": 1, "failed": 0}
    assert [m.subject for m in smtp_server.messages] == ["Invoice overdue"]


def test_a_server_taken_down_and_brought_back_gets_the_message_once(app, cast, smtp_server):
    queue_to(app, cast.user_ids["client"], "Invoice overdue", "Please pay.\n")
    smtp_server.stop()

    assert send(app, settings_for(smtp_server)) == {"sent": 0, "failed": 1}
    smtp_server.start()
    assert send(app, settings_for(smtp_server)) == {"sent": 1, "failed": 0}
    assert send(app, settings_for(smtp_server)) == NOTHING

    assert len(smtp_server.messages) == 1
    [row] = outbox(app)
    assert row.attempts == 2 and row.sent_at is not None


def test_one_failing_message_does_not_hold_back_the_rest(app, cast, smtp_server):
    """Each message is its own unit of work: a refusal on one leaves the others sent."""
    for label in ("client", "owner", "li"):
        queue_to(app, cast.user_ids[label], f"For {label}", "Hello.\n")

    def on_each(message: OutboxMessage) -> None:
        # After the client's message, refuse the owner's; after that, accept again.
        if message.to_address == "client@example.com":
            smtp_server.refuse("451 Try again later")
        else:
            smtp_server.accept()

    assert send(app, settings_for(smtp_server), on_each=on_each) == {"sent": 2, "failed": 1}

    assert [m.to for m in smtp_server.messages] == ["client@example.com", "li@example.com"]
    assert [m.to for m in smtp_server.refused] == ["owner@example.com"]
    rows = outbox(app)
    assert [row.sent_at is not None for row in rows] == [True, False, True]
    assert [row.attempts for row in rows] == [1, 1, 1]


def test_settings_come_from_the_app_config(app, smtp_server):
    assert SmtpSettings.from_config({**app.config, "SMTP_HOST": None}) is None
    settings = SmtpSettings.from_config(
        {
            **app.config,
            "SMTP_HOST": smtp_server.host,
            "SMTP_PORT": str(smtp_server.port),
            "MAIL_FROM": SENDER,
            "SMTP_USERNAME": None,
            "SMTP_PASSWORD": None,
            "SMTP_STARTTLS": False,
        }
    )
    assert settings == SmtpSettings(host=smtp_server.host, port=smtp_server.port, sender=SENDER)


def test_settings_from_config_deliver_to_the_server(app, cast, smtp_server):
    queue_to(app, cast.user_ids["client"], "Invoice overdue", "Please pay.\n")
    config = {**app.config, "SMTP_HOST": smtp_server.host, "SMTP_PORT": smtp_server.port}
    config["MAIL_FROM"] = SENDER
    config["SMTP_USERNAME"] = None
    config["SMTP_STARTTLS"] = False

    assert send(app, SmtpSettings.from_config(config)) == {"sent": 1, "failed": 0}
    assert [m.mail_from for m in smtp_server.messages] == [SENDER]


# Exactly what babel 2.19 (CLDR 47) writes. Two characters are not what they look like:
# de_DE puts U+00A0 NO-BREAK SPACE between the amount and "€", and ja_JP writes the yen
# as U+FFE5 FULLWIDTH YEN SIGN; zh_CN's "¥" is U+00A5 YEN SIGN.
@pytest.mark.parametrize(
    ("locale", "amount_minor", "currency", "written"),
    [
        ("zh_CN", 123450, "CNY", "\u00a51,234.50"),
        ("zh_CN", 5, "CNY", "\u00a50.05"),
        ("de_DE", 123450, "EUR", "1.234,50\u00a0€"),
        ("de_DE", 100000000, "EUR", "1.000.000,00\u00a0€"),
        ("en_US", 123450, "USD", "$1,234.50"),
        # JPY has no minor unit: 123450 minor units are ¥123,450.
        ("ja_JP", 123450, "JPY", "\uffe5123,450"),
        ("en_US", 123450, "JPY", "\u00a5123,450"),
    ],
)
def test_money_is_written_in_the_readers_locale(locale, amount_minor, currency, written):
    assert money_in(locale, amount_minor, currency) == written


@pytest.mark.parametrize(
    ("locale", "written"),
    [
        ("zh_CN", "2026年3月2日"),
        ("de_DE", "2. März 2026"),
        ("en_US", "March 2, 2026"),
        ("ja_JP", "2026年3月2日"),
    ],
)
def test_days_are_written_in_the_readers_locale(locale, written):
    assert day_in(locale, date(2026, 3, 2)) == written


@pytest.mark.slow
@pytest.mark.only_engine("postgresql")
def test_two_concurrent_senders_deliver_each_of_twenty_messages_exactly_once(
    app, cast, smtp_server
):
    with app.app_context(), unit_of_work() as session:
        to = session.get(User, cast.user_ids["client"])
        for n in range(20):
            queue(session, to.email, f"Letter {n}", f"Letter number {n}.\n")
    # Each sender's first message waits here, still locked, until the other sender has one
    # too: so both really hold claims at once, which only SKIP LOCKED allows. (The timeout
    # only turns a deadlock into a failure instead of a hung run.)
    both_holding = threading.Barrier(2, timeout=60)
    counts, errors = [], []

    def sender():
        first = [True]

        def on_each(_message):
            if first[0]:
                first[0] = False
                both_holding.wait()

        try:
            counts.append(send(app, settings_for(smtp_server), on_each=on_each))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(counts) == 2 and all(c["sent"] >= 1 for c in counts)
    assert sum(c["sent"] for c in counts) == 20 and sum(c["failed"] for c in counts) == 0
    subjects = sorted(m.subject for m in smtp_server.messages)
    assert subjects == sorted(f"Letter {n}" for n in range(20))
    assert len({m.message_id for m in smtp_server.messages}) == 20
    rows = outbox(app)
    assert all(row.sent_at is not None and row.attempts == 1 for row in rows)
    with app.app_context():
        unsent = select(func.count()).where(OutboxMessage.sent_at.is_(None))
        assert db.session.scalar(unsent) == 0


def test_a_server_that_cannot_be_reached_stops_the_run_and_fails_nothing(app, cast, smtp_server):
    for label in ("client", "owner", "li"):
        queue_to(app, cast.user_ids[label], f"For {label}", "Hello.\n")
    closed = settings_for(smtp_server, port=free_port())

    # Down for longer than MAX_ATTEMPTS runs: the server's fault, so no message fails.
    for _ in range(MAX_ATTEMPTS + 2):
        assert send(app, closed) == {"sent": 0, "failed": 1}
    rows = outbox(app)
    assert [(row.attempts, row.failed) for row in rows] == [
        (MAX_ATTEMPTS + 2, False),
        (0, False),
        (0, False),
    ]

    assert send(app, settings_for(smtp_server)) == {"sent": 3, "failed": 0}
    assert [m.to for m in smtp_server.messages] == [
        "client@example.com",
        "owner@example.com",
        "li@example.com",
    ]


def test_failed_messages_are_queued_again_on_request(app, cast, smtp_server):
    queue_to(app, cast.user_ids["client"], "Invoice overdue", "Please pay.\n")
    smtp_server.refuse("550 Mailbox unavailable")
    assert send(app, settings_for(smtp_server)) == {"sent": 0, "failed": 1}
    smtp_server.accept()

    with app.app_context(), unit_of_work() as session:
        assert requeue_failed(session) == 1
    assert send(app, settings_for(smtp_server)) == {"sent": 1, "failed": 0}
    [row] = outbox(app)
    assert (row.attempts, row.failed) == (1, False) and row.sent_at is not None
