"""The dunning schedule walked day by day on the injected clock: reminders, notices,
escalation, a self-lifting credit hold; downtime, locales, promises, disputes, schedule
changes, real SMTP delivery, and two passes racing on PostgreSQL.

The schedule is the one the migration seeds (tests/receivables/worlds.py: SCHEDULE);
the pass runs at 09:00 Shanghai, as the daily job does. `invoiced` issues INV-2026-000001
at 2026-03-02 18:00 Shanghai on 30-day terms: 1.05 CNY due on 2026-04-01.
"""

import threading
from datetime import date

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from babel.numbers import format_currency
from sqlalchemy import select

from marketplace import scheduler
from marketplace.db import db, unit_of_work
from marketplace.identity.models import CreditHold, Role
from marketplace.notices.mail import SmtpSettings, send_outbox
from marketplace.notices.models import OutboxMessage
from marketplace.payments.credit import hold_client
from marketplace.receivables import dunning
from marketplace.receivables.days import business_today
from marketplace.receivables.holds import lift_paid_holds
from marketplace.receivables.models import DunningAction
from tests.flows import invoiced, order_body
from tests.receivables.worlds import (
    SCHEDULE,
    Chased,
    Taken,
    add_member,
    chase,
    count,
    day_of_step,
    set_locale,
    stand_on,
    use_schedule,
)
from tests.support import row_counts

# End-to-end walks through the money's life: `make test` runs them, `make check`
# leaves them out.
pytestmark = pytest.mark.slow

NUMBER = "INV-2026-000001"
NOTHING = Chased(steps=[], lifted=[])
# babel 2.19 (CLDR 47): zh_CN writes the yuan as U+00A5 YEN SIGN before the amount.
ZH_AMOUNT = "\u00a51.05"
ZH_DUE = "2026年4月1日"
REMINDER = f"Reminder: invoice {NUMBER} for {ZH_AMOUNT} is due on {ZH_DUE}"


def overdue(days: int, amount: str = ZH_AMOUNT) -> str:
    late = "1 day" if days == 1 else f"{days} days"
    return f"Overdue: invoice {NUMBER}, {amount}, {late} past due"


def mail(api, admin_token: str, status: str | None = None) -> list[tuple[str, str]]:
    """The dunning letters in the outbox as (to, subject), oldest first (annotators' e-mails
    of their earnings are about no invoice)."""
    query = f"?status={status}" if status else ""
    answer = api.get(f"/outbox{query}", admin_token)
    assert answer.status == 200, answer.body
    return [(m["to"], m["subject"]) for m in answer.body if m["invoice_id"] is not None]


def collection(api, token: str, invoice: dict) -> dict:
    answer = api.get(f"/invoices/{invoice['id']}/collection", token)
    assert answer.status == 200, answer.body
    return answer.body


def steps_of(api, token: str, invoice: dict) -> list[tuple[int, str, str, str]]:
    """The invoice's steps taken as (offset, action, day due, outcome)."""
    return [
        (s["offset_days"], s["action"], s["due_on"], s["outcome"])
        for s in collection(api, token, invoice)["steps"]
    ]


def audit(api, admin_token: str, action: str) -> list[dict]:
    answer = api.get(f"/audit-log?action={action}", admin_token)
    assert answer.status == 200, answer.body
    return [
        {k: e[k] for k in ("user_id", "source", "subject_type", "subject_id", "details")}
        for e in answer.body
    ]


def pay(api, admin_token: str, invoice: dict, amount: str, on: date) -> None:
    answer = api.post(
        f"/invoices/{invoice['id']}/payments",
        admin_token,
        {"amount": amount, "reference": f"ICBC-{on.isoformat()}", "received_on": on.isoformat()},
    )
    assert answer.status == 201, answer.body


def lift_holds(app) -> list[int]:
    """What the lift-paid-holds job does every five minutes; answers the clients lifted."""
    with app.app_context(), unit_of_work() as session:
        today = business_today(app.config["BUSINESS_TIMEZONE"])
        return [hold.party_id for hold in lift_paid_holds(session, today=today)]


def taken(invoice: dict, *steps: tuple[int, str, str]) -> Chased:
    return Chased(steps=[Taken(invoice["id"], *step) for step in steps], lifted=[])


def test_an_unpaid_invoice_walks_the_whole_schedule_and_payment_lifts_the_hold(
    app, api, cast, frozen_clock
):
    use_schedule(api, cast.admin)
    add_member(app, cast.party_ids["platform"], Role.PLATFORM_ADMIN, "admin2")
    invoice = invoiced(api, cast)
    assert (invoice["number"], invoice["total"], invoice["due_on"]) == (
        NUMBER,
        "1.05",
        "2026-04-01",
    )
    horizon = cast.party_ids["horizon"]

    stand_on(frozen_clock, invoice, -4)
    assert chase(app) == NOTHING
    assert mail(api, cast.admin) == []

    stand_on(frozen_clock, invoice, -3)
    assert chase(app) == taken(invoice, (-3, "reminder", "sent"))
    assert mail(api, cast.admin) == [("client@example.com", REMINDER)]
    # The same day again, later: nothing more.
    frozen_clock.step(hours=8)
    assert chase(app) == NOTHING
    assert chase(app) == NOTHING
    assert len(mail(api, cast.admin)) == 1

    for offset in (-2, -1, 0):
        stand_on(frozen_clock, invoice, offset)
        assert chase(app) == NOTHING
    for offset in (1, 7, 14):
        stand_on(frozen_clock, invoice, offset)
        assert chase(app) == taken(invoice, (offset, "notice", "sent"))
        assert mail(api, cast.admin)[-1] == ("client@example.com", overdue(offset))
        assert chase(app) == NOTHING
    assert len(mail(api, cast.admin)) == 4

    stand_on(frozen_clock, invoice, 30)
    assert chase(app) == taken(invoice, (30, "escalation", "escalated"))
    escalation = f"Escalation: Horizon owes {ZH_AMOUNT} on {NUMBER}, 30 days late"
    assert mail(api, cast.admin)[4:] == [
        ("admin@example.com", escalation),
        ("admin2@example.com", escalation),
    ]
    assert api.post("/orders", cast.client, order_body()).status == 201  # not held yet

    stand_on(frozen_clock, invoice, 44)
    assert chase(app) == NOTHING
    stand_on(frozen_clock, invoice, 45)
    assert chase(app) == taken(invoice, (45, "credit_hold", "held"))
    assert mail(api, cast.admin)[6:] == [
        ("client@example.com", f"Credit hold: invoice {NUMBER} is 45 days past due")
    ]
    reason = f"invoice {NUMBER} is 45 days past due"
    [hold] = api.get("/credit-holds", cast.admin).body
    assert {
        k: hold[k] for k in ("client_id", "reason", "placed_by_user_id", "lifts_when_paid")
    } == {
        "client_id": horizon,
        "reason": reason,
        "placed_by_user_id": None,
        "lifts_when_paid": True,
    }
    assert (hold["placed_at"], hold["lifted_at"]) == ("2026-05-16T01:00:00+00:00", None)
    assert audit(api, cast.admin, "credit_hold.placed") == [
        {
            "user_id": None,
            "source": "scheduler",
            "subject_type": "client",
            "subject_id": horizon,
            "details": {"hold_id": hold["id"], "reason": reason, "invoice": NUMBER},
        }
    ]
    counts = row_counts(app)
    refused = api.post("/orders", cast.client, order_body())
    assert (refused.status, refused.error_code) == (409, "client_on_credit_hold")
    assert refused.body["error"]["details"]["reason"] == reason
    assert row_counts(app) == counts
    # Another client is not affected.
    assert api.post("/orders", cast.rival_client, order_body()).status == 201
    stand_on(frozen_clock, invoice, 46)
    assert chase(app) == NOTHING  # the hold stays while the invoice is owed

    # The client pays in full on day 46; five minutes later the job lifts the hold.
    pay(api, cast.admin, invoice, "1.05", day_of_step(invoice, 46))
    assert api.get(f"/invoices/{invoice['id']}", cast.client).body["status"] == "paid"
    frozen_clock.step(minutes=5)
    assert lift_holds(app) == [horizon]
    assert lift_holds(app) == []
    assert api.get("/credit-holds", cast.admin).body == []
    [past] = api.get(f"/clients/{horizon}/credit-holds", cast.admin).body
    assert (past["id"], past["lifted_at"]) == (hold["id"], "2026-05-17T01:05:00+00:00")
    assert past["lift_reason"] == "nothing it owes is overdue any more"
    assert audit(api, cast.admin, "credit_hold.lifted") == [
        {
            "user_id": None,
            "source": "scheduler",
            "subject_type": "client",
            "subject_id": horizon,
            "details": {"hold_id": hold["id"], "reason": "nothing it owes is overdue any more"},
        }
    ]
    assert api.post("/orders", cast.client, order_body()).status == 201

    # Nothing more is ever taken on a paid invoice.
    for offset in (47, 60, 400):
        stand_on(frozen_clock, invoice, offset)
        assert chase(app) == NOTHING
    assert len(mail(api, cast.admin)) == 7
    taken_steps = [
        (-3, "reminder", "2026-03-29", "sent"),
        (1, "notice", "2026-04-02", "sent"),
        (7, "notice", "2026-04-08", "sent"),
        (14, "notice", "2026-04-15", "sent"),
        (30, "escalation", "2026-05-01", "escalated"),
        (45, "credit_hold", "2026-05-16", "held"),
    ]
    assert steps_of(api, cast.admin, invoice) == taken_steps
    # The client sees what was sent to it, not the escalation written to the admins.
    assert steps_of(api, cast.client, invoice) == [s for s in taken_steps if s[1] != "escalation"]
    seen = api.get(f"/invoices/{invoice['id']}/collection", cast.client).body["emails"]
    assert {e["to"] for e in seen} == {"client@example.com"} and len(seen) == 5


def test_the_business_day_in_shanghai_decides_when_a_step_is_due(app, api, cast, frozen_clock):
    use_schedule(api, cast.admin)
    invoice = invoiced(api, cast)
    # 2026-03-28 23:59 in Shanghai (15:59 UTC): the reminder's day (03-29) has not come.
    frozen_clock.stand_at("2026-03-28T23:59:00+08:00")
    assert chase(app) == NOTHING
    # One minute later it is 03-29 in Shanghai, still 03-28 in UTC.
    frozen_clock.step(minutes=1)
    assert chase(app) == taken(invoice, (-3, "reminder", "sent"))


def test_the_scheduler_jobs_chase_and_lift_as_the_helpers_do(app, api, cast, frozen_clock):
    use_schedule(api, cast.admin)
    invoice = invoiced(api, cast)
    scheduler.configure(BackgroundScheduler(), app)  # not started: the jobs are called here

    stand_on(frozen_clock, invoice, -3)
    scheduler.chase_overdue_invoices()
    scheduler.chase_overdue_invoices()
    assert mail(api, cast.admin) == [("client@example.com", REMINDER)]
    stand_on(frozen_clock, invoice, 45)
    scheduler.chase_overdue_invoices()
    assert [s[3] for s in steps_of(api, cast.admin, invoice)] == [
        "sent",
        "superseded",
        "superseded",
        "sent",
        "escalated",
        "held",
    ]
    assert len(api.get("/credit-holds", cast.admin).body) == 1
    pay(api, cast.admin, invoice, "1.05", day_of_step(invoice, 45))
    scheduler.lift_holds_paid_off()
    assert api.get("/credit-holds", cast.admin).body == []


def test_after_downtime_the_missed_letters_are_recorded_but_only_the_latest_is_sent(
    app, api, cast, frozen_clock
):
    use_schedule(api, cast.admin)
    invoice = invoiced(api, cast)

    stand_on(frozen_clock, invoice, 20)  # the first pass since the invoice was issued
    assert chase(app) == taken(
        invoice,
        (-3, "reminder", "superseded"),
        (1, "notice", "superseded"),
        (7, "notice", "superseded"),
        (14, "notice", "sent"),
    )
    assert mail(api, cast.admin) == [("client@example.com", overdue(20))]
    assert chase(app) == NOTHING
    body = collection(api, cast.client, invoice)
    assert [(s["offset_days"], s["due_on"], s["outcome"]) for s in body["steps"]] == [
        (-3, "2026-03-29", "superseded"),
        (1, "2026-04-02", "superseded"),
        (7, "2026-04-08", "superseded"),
        (14, "2026-04-15", "sent"),
    ]
    assert [e["subject"] for e in body["emails"]] == [overdue(20)]
    assert count(app, OutboxMessage) == 1

    # A longer outage: the escalation and the hold always take effect, with one letter.
    stand_on(frozen_clock, invoice, 50)
    assert chase(app) == taken(
        invoice, (30, "escalation", "escalated"), (45, "credit_hold", "held")
    )
    assert [subject for _, subject in mail(api, cast.admin)[1:]] == [
        f"Escalation: Horizon owes {ZH_AMOUNT} on {NUMBER}, 50 days late",
        f"Credit hold: invoice {NUMBER} is 50 days past due",
    ]


def test_each_client_admin_reads_the_amount_in_their_own_locale(app, api, cast, frozen_clock):
    use_schedule(api, cast.admin)
    # Horizon's client admin reads de_DE; a second one keeps the default zh_CN.
    set_locale(app, cast.user_ids["client"], "de_DE")
    add_member(app, cast.party_ids["horizon"], Role.CLIENT_ADMIN, "client2")
    invoice = invoiced(api, cast)
    # babel 2.19 (CLDR 47): de_DE writes the amount first, U+00A0 NO-BREAK SPACE, "CN¥".
    de_amount = "1,05\u00a0CN¥"
    assert format_currency("1.05", "CNY", locale="de_DE") == de_amount
    assert format_currency("1.05", "CNY", locale="zh_CN") == ZH_AMOUNT

    stand_on(frozen_clock, invoice, -3)
    chase(app)
    stand_on(frozen_clock, invoice, 1)
    chase(app)

    assert mail(api, cast.admin) == [
        (
            "client@example.com",
            f"Reminder: invoice {NUMBER} for {de_amount} is due on 1. April 2026",
        ),
        ("client2@example.com", REMINDER),
        ("client@example.com", overdue(1, de_amount)),
        ("client2@example.com", overdue(1)),
    ]
    german = api.get("/outbox?limit=1", cast.admin).body[0]["body"]
    assert f"Invoice {NUMBER} is due on 1. April 2026; {de_amount} is still open." in german


def test_a_letter_states_what_is_still_owed_after_a_part_payment(app, api, cast, frozen_clock):
    use_schedule(api, cast.admin)
    invoice = invoiced(api, cast)
    stand_on(frozen_clock, invoice, 3)
    pay(api, cast.admin, invoice, "0.50", day_of_step(invoice, 3))
    chase(app)
    assert mail(api, cast.admin) == [("client@example.com", overdue(3, "\u00a50.55"))]


def promise(api, token: str, invoice: dict, on: date, note: str = "Promised on the phone"):
    return api.post(
        f"/invoices/{invoice['id']}/promises",
        token,
        {"promised_on": on.isoformat(), "note": note},
    )


def promise_states(api, token: str, invoice: dict) -> list[tuple[str, str]]:
    return [
        (p["promise"]["promised_on"], p["state"])
        for p in collection(api, token, invoice)["promises"]
    ]


def test_a_promise_pauses_dunning_until_its_day_and_a_broken_one_resumes_it(
    app, api, cast, frozen_clock
):
    use_schedule(api, cast.admin)
    invoice = invoiced(api, cast)
    for offset in (-3, 1):
        stand_on(frozen_clock, invoice, offset)
        chase(app)
    assert len(mail(api, cast.admin)) == 2

    stand_on(frozen_clock, invoice, 2)
    promised = promise(api, cast.admin, invoice, day_of_step(invoice, 10))
    assert promised.status == 201, promised.body
    assert (promised.body["promised_on"], promised.body["note"]) == (
        "2026-04-11",
        "Promised on the phone",
    )
    assert promised.body["recorded_by_user_id"] == cast.user_ids["admin"]
    for offset in (2, 7, 10):  # the promised day itself still waits
        stand_on(frozen_clock, invoice, offset)
        assert chase(app) == NOTHING
        body = collection(api, cast.client, invoice)
        assert (body["paused"], body["disputed"]) == ("promised for 2026-04-11", False)
        assert promise_states(api, cast.client, invoice) == [("2026-04-11", "pending")]
    assert len(mail(api, cast.admin)) == 2

    # The day after, still unpaid: the promise is broken and the +7 notice goes now.
    stand_on(frozen_clock, invoice, 11)
    assert collection(api, cast.admin, invoice)["paused"] is None
    assert promise_states(api, cast.admin, invoice) == [("2026-04-11", "broken")]
    assert chase(app) == taken(invoice, (7, "notice", "sent"))
    assert mail(api, cast.admin)[2:] == [("client@example.com", overdue(11))]
    assert steps_of(api, cast.admin, invoice)[-1] == (7, "notice", "2026-04-08", "sent")
    assert chase(app) == NOTHING
    stand_on(frozen_clock, invoice, 14)
    assert chase(app) == taken(invoice, (14, "notice", "sent"))
    assert audit(api, cast.admin, "promise.recorded") == [
        {
            "user_id": cast.user_ids["admin"],
            "source": "api",
            "subject_type": "invoice",
            "subject_id": invoice["id"],
            "details": {
                "promise_id": promised.body["id"],
                "promised_on": "2026-04-11",
                "note": "Promised on the phone",
            },
        }
    ]


def test_a_long_broken_promise_sends_only_the_latest_letter_that_came_due(
    app, api, cast, frozen_clock
):
    use_schedule(api, cast.admin)
    invoice = invoiced(api, cast)
    stand_on(frozen_clock, invoice, 1)
    chase(app)  # the reminder superseded, the +1 notice sent
    stand_on(frozen_clock, invoice, 2)
    assert promise(api, cast.admin, invoice, day_of_step(invoice, 15)).status == 201
    stand_on(frozen_clock, invoice, 15)
    assert chase(app) == NOTHING

    stand_on(frozen_clock, invoice, 16)
    assert chase(app) == taken(invoice, (7, "notice", "superseded"), (14, "notice", "sent"))
    assert mail(api, cast.admin) == [
        ("client@example.com", overdue(1)),
        ("client@example.com", overdue(16)),
    ]


def test_a_promise_paid_by_its_day_is_kept_and_dunning_ends(app, api, cast, frozen_clock):
    use_schedule(api, cast.admin)
    invoice = invoiced(api, cast)
    stand_on(frozen_clock, invoice, 2)
    assert promise(api, cast.admin, invoice, day_of_step(invoice, 10)).status == 201
    stand_on(frozen_clock, invoice, 9)
    pay(api, cast.admin, invoice, "1.05", day_of_step(invoice, 9))
    assert promise_states(api, cast.admin, invoice) == [("2026-04-11", "kept")]

    for offset in (11, 50):
        stand_on(frozen_clock, invoice, offset)
        assert chase(app) == NOTHING
        assert promise_states(api, cast.client, invoice) == [("2026-04-11", "kept")]
    assert steps_of(api, cast.admin, invoice) == []
    assert mail(api, cast.admin) == []

    # Nothing is owed: no promise can be recorded on it.
    counts = row_counts(app)
    paid = promise(api, cast.admin, invoice, day_of_step(invoice, 60))
    assert (paid.status, paid.error_code) == (409, "invoice_not_open")
    assert row_counts(app) == counts


def test_a_promise_paid_after_its_day_stays_broken(app, api, cast, frozen_clock):
    use_schedule(api, cast.admin)
    invoice = invoiced(api, cast)
    stand_on(frozen_clock, invoice, 2)
    assert promise(api, cast.admin, invoice, day_of_step(invoice, 10)).status == 201
    stand_on(frozen_clock, invoice, 12)
    pay(api, cast.admin, invoice, "1.05", day_of_step(invoice, 12))
    assert promise_states(api, cast.admin, invoice) == [("2026-04-11", "broken")]


def test_a_promise_is_dated_from_today_to_a_year_ahead_by_a_platform_admin(
    app, api, cast, frozen_clock
):
    use_schedule(api, cast.admin)
    invoice = invoiced(api, cast)
    stand_on(frozen_clock, invoice, 5)  # today is 2026-04-06 in Shanghai
    counts = row_counts(app)

    past = promise(api, cast.admin, invoice, date(2026, 4, 5))
    assert (past.status, past.error_code) == (422, "promise_out_of_range")
    assert past.body["error"]["details"] == {"today": "2026-04-06"}
    too_far = promise(api, cast.admin, invoice, date(2027, 4, 8))  # 367 days ahead
    assert (too_far.status, too_far.error_code) == (422, "promise_out_of_range")
    assert promise(api, cast.client, invoice, date(2026, 4, 10)).status == 403
    assert promise(api, cast.rival_client, invoice, date(2026, 4, 10)).status == 404
    malformed = api.post(f"/invoices/{invoice['id']}/promises", cast.admin, {"note": "soon"})
    assert (malformed.status, malformed.error_code) == (422, "validation_failed")
    assert row_counts(app) == counts

    # Today and a year ahead are both fine.
    assert promise(api, cast.admin, invoice, date(2026, 4, 6)).status == 201
    assert promise(api, cast.admin, invoice, date(2027, 4, 7)).status == 201


def dispute(api, token: str, invoice: dict, reason: str = "Boxes 3 to 5 miss the cars"):
    return api.post(f"/invoices/{invoice['id']}/disputes", token, {"reason": reason})


def resolve(api, token: str, dispute_id: int, resolution: str = "The boxes are right"):
    return api.post(f"/invoice-disputes/{dispute_id}/resolution", token, {"resolution": resolution})


def test_a_disputed_invoice_is_not_chased_until_the_dispute_is_resolved(
    app, api, cast, frozen_clock
):
    use_schedule(api, cast.admin)
    invoice = invoiced(api, cast)
    for offset in (-3, 1):
        stand_on(frozen_clock, invoice, offset)
        chase(app)

    stand_on(frozen_clock, invoice, 2)
    opened = dispute(api, cast.admin, invoice)
    assert opened.status == 201, opened.body
    assert (opened.body["reason"], opened.body["resolved_at"]) == (
        "Boxes 3 to 5 miss the cars",
        None,
    )
    body = collection(api, cast.client, invoice)
    assert (body["paused"], body["disputed"]) == ("disputed", True)
    counts = row_counts(app)
    again = dispute(api, cast.admin, invoice, "And the labels")
    assert (again.status, again.error_code) == (409, "already_disputed")
    assert row_counts(app) == counts

    for offset in (7, 30, 45, 50):
        stand_on(frozen_clock, invoice, offset)
        assert chase(app) == NOTHING
    assert api.get("/credit-holds", cast.admin).body == []
    assert api.post("/orders", cast.client, order_body()).status == 201
    assert len(mail(api, cast.admin)) == 2

    resolved = resolve(api, cast.admin, opened.body["id"])
    assert resolved.status == 200, resolved.body
    assert (resolved.body["resolution"], resolved.body["resolved_by_user_id"]) == (
        "The boxes are right",
        cast.user_ids["admin"],
    )
    assert resolved.body["resolved_at"] == "2026-05-21T01:00:00+00:00"
    twice = resolve(api, cast.admin, opened.body["id"], "Changed my mind")
    assert (twice.status, twice.error_code) == (409, "dispute_resolved")
    assert resolve(api, cast.admin, 999999).error_code == "dispute_not_found"
    assert resolve(api, cast.client, opened.body["id"]).status == 403
    body = collection(api, cast.client, invoice)
    assert (body["paused"], body["disputed"]) == (None, False)

    # The next pass takes everything that came due meanwhile: one letter, the escalation,
    # the hold.
    assert chase(app) == taken(
        invoice,
        (7, "notice", "superseded"),
        (14, "notice", "sent"),
        (30, "escalation", "escalated"),
        (45, "credit_hold", "held"),
    )
    assert [subject for _, subject in mail(api, cast.admin)[2:]] == [
        overdue(50),
        f"Escalation: Horizon owes {ZH_AMOUNT} on {NUMBER}, 50 days late",
        f"Credit hold: invoice {NUMBER} is 50 days past due",
    ]
    assert len(api.get("/credit-holds", cast.admin).body) == 1
    assert [(e["source"], e["details"]) for e in audit(api, cast.admin, "dispute.opened")] == [
        ("api", {"dispute_id": opened.body["id"], "reason": "Boxes 3 to 5 miss the cars"})
    ]
    assert [(e["source"], e["details"]) for e in audit(api, cast.admin, "dispute.resolved")] == [
        ("api", {"dispute_id": opened.body["id"], "resolution": "The boxes are right"})
    ]


def test_a_dispute_keeps_a_hold_in_force_until_the_invoice_is_paid(app, api, cast, frozen_clock):
    use_schedule(api, cast.admin)
    invoice = invoiced(api, cast)
    stand_on(frozen_clock, invoice, 45)
    chase(app)
    assert len(api.get("/credit-holds", cast.admin).body) == 1

    # A dispute pauses the letters, but an unpaid invoice keeps the hold on: only an admin
    # (who weighs the dispute) or the money lifts it.
    stand_on(frozen_clock, invoice, 46)
    opened = dispute(api, cast.admin, invoice)
    assert chase(app).lifted == []
    assert len(api.get("/credit-holds", cast.admin).body) == 1

    stand_on(frozen_clock, invoice, 50)
    assert resolve(api, cast.admin, opened.body["id"]).status == 200
    chase(app)
    assert len(api.get("/credit-holds", cast.admin).body) == 1
    refused = api.post("/orders", cast.client, order_body())
    assert (refused.status, refused.error_code) == (409, "client_on_credit_hold")


def test_a_replaced_schedule_keeps_the_steps_that_stay_and_never_repeats_them(
    app, api, cast, frozen_clock
):
    first = use_schedule(api, cast.admin)
    ids = {(s["offset_days"], s["action"]): s["id"] for s in first}
    invoice = invoiced(api, cast)
    stand_on(frozen_clock, invoice, -3)
    assert chase(app) == taken(invoice, (-3, "reminder", "sent"))

    # +7 and +14 go; a notice on +10 and a reminder on -5 (already past) come.
    wanted = [
        {"offset_days": 45, "action": "credit_hold"},
        {"offset_days": -5, "action": "reminder"},
        {"offset_days": -3, "action": "reminder"},
        {"offset_days": 1, "action": "notice"},
        {"offset_days": 10, "action": "notice"},
        {"offset_days": 30, "action": "escalation"},
    ]
    replaced = api.put("/dunning/steps", cast.admin, {"steps": wanted})
    assert replaced.status == 200, replaced.body
    steps = [(s["offset_days"], s["action"], s["id"]) for s in replaced.body]
    kept = [(-3, "reminder"), (1, "notice"), (30, "escalation"), (45, "credit_hold")]
    assert [(o, a) for o, a, _ in steps] == [
        (-5, "reminder"),
        (-3, "reminder"),
        (1, "notice"),
        (10, "notice"),
        (30, "escalation"),
        (45, "credit_hold"),
    ]
    by_step = {(o, a): i for o, a, i in steps}
    assert {k: by_step[k] for k in kept} == {k: ids[k] for k in kept}
    assert {by_step[(-5, "reminder")], by_step[(10, "notice")]}.isdisjoint(ids.values())
    assert api.get("/dunning/steps", cast.admin).body == replaced.body
    entries = audit(api, cast.admin, "dunning.schedule_replaced")
    assert entries[-1] == {
        "user_id": cast.user_ids["admin"],
        "source": "api",
        "subject_type": "dunning_schedule",
        "subject_id": None,
        "details": {"steps": sorted(wanted, key=lambda s: (s["offset_days"], s["action"]))},
    }
    assert len(entries) == 2

    # The same day: the kept -3 reminder is not taken again; the new -5 one applies to
    # this invoice although its day has passed, but goes unsent: the -3 letter, later in
    # the schedule, went already.
    assert chase(app) == taken(invoice, (-5, "reminder", "superseded"))
    assert chase(app) == NOTHING
    stand_on(frozen_clock, invoice, 1)
    assert chase(app) == taken(invoice, (1, "notice", "sent"))
    stand_on(frozen_clock, invoice, 7)  # retired: nothing
    assert chase(app) == NOTHING
    stand_on(frozen_clock, invoice, 10)
    assert chase(app) == taken(invoice, (10, "notice", "sent"))
    stand_on(frozen_clock, invoice, 14)  # retired: nothing
    assert chase(app) == NOTHING
    assert [(o, a, outcome) for o, a, _, outcome in steps_of(api, cast.admin, invoice)] == [
        (-3, "reminder", "sent"),
        (-5, "reminder", "superseded"),
        (1, "notice", "sent"),
        (10, "notice", "sent"),
    ]

    # Putting the same schedule again changes no id.
    assert use_schedule(api, cast.admin, wanted) == replaced.body
    # An empty schedule takes nothing at all.
    assert use_schedule(api, cast.admin, []) == []
    stand_on(frozen_clock, invoice, 60)
    assert chase(app) == NOTHING


def test_a_bad_schedule_is_refused_and_the_one_in_force_stays(app, api, cast):
    in_force = use_schedule(api, cast.admin)
    counts = row_counts(app)

    twice = api.put(
        "/dunning/steps", cast.admin, {"steps": [*SCHEDULE, {"offset_days": 7, "action": "notice"}]}
    )
    # The service refuses a duplicate: its own code, no field details.
    assert (twice.status, twice.error_code) == (422, "duplicate_step")
    assert twice.body["error"] == {
        "code": "duplicate_step",
        "message": "A step is listed twice.",
        "details": {},
    }
    # The schema refuses what is malformed: validation_failed, with the fields.
    fax = api.put("/dunning/steps", cast.admin, {"steps": [{"offset_days": 1, "action": "fax"}]})
    assert (fax.status, fax.error_code) == (422, "validation_failed")
    assert fax.body["error"]["details"] == {
        "fields": {
            "json": {
                "steps": {
                    "0": {"action": ["Must be one of: reminder, notice, escalation, credit_hold."]}
                }
            }
        }
    }
    for steps in (
        [{"offset_days": 3651, "action": "notice"}],
        [{"offset_days": "7", "action": "notice"}],
        [{"offset_days": 1.5, "action": "notice"}],
        [{"action": "notice"}],
        [{"offset_days": n, "action": "notice"} for n in range(21)],
    ):
        answer = api.put("/dunning/steps", cast.admin, {"steps": steps})
        assert (answer.status, answer.error_code) == (422, "validation_failed"), steps
    assert api.put("/dunning/steps", cast.admin, {}).error_code == "validation_failed"
    assert api.put("/dunning/steps", cast.client, {"steps": SCHEDULE}).status == 403
    assert api.get("/dunning/steps", cast.client).status == 403
    assert api.put("/dunning/steps", None, {"steps": SCHEDULE}).status == 401
    assert row_counts(app) == counts
    assert api.get("/dunning/steps", cast.admin).body == in_force


def test_the_reminder_reaches_a_real_smtp_server_and_is_listed_as_sent(
    app, api, cast, frozen_clock, smtp_server
):
    use_schedule(api, cast.admin)
    invoice = invoiced(api, cast)
    stand_on(frozen_clock, invoice, -3)
    chase(app)
    [queued] = api.get("/outbox?status=queued", cast.admin).body
    assert (queued["to"], queued["subject"], queued["sent_at"]) == (
        "client@example.com",
        REMINDER,
        None,
    )
    assert api.get("/outbox?status=sent", cast.admin).body == []

    frozen_clock.step(minutes=1)
    sender = "billing@piecework.localhost"
    with app.app_context():
        sent = send_outbox(SmtpSettings(smtp_server.host, smtp_server.port, sender=sender))
    assert sent == {"sent": 1, "failed": 0}

    [received] = smtp_server.messages
    assert (received.mail_from, received.rcpt_tos) == (sender, ["client@example.com"])
    assert (received.sender, received.to, received.subject) == (
        sender,
        "client@example.com",
        REMINDER,
    )
    assert received.body == queued["body"]
    assert received.message_id == f"<outbox-{queued['id']}.20260329010000@piecework>"
    [listed] = api.get("/outbox?status=sent", cast.admin).body
    assert (listed["id"], listed["sent_at"], listed["attempts"]) == (
        queued["id"],
        "2026-03-29T01:01:00+00:00",
        1,
    )
    assert api.get("/outbox?status=queued", cast.admin).body == []
    assert [e["sent_at"] for e in collection(api, cast.client, invoice)["emails"]] == [
        "2026-03-29T01:01:00+00:00"
    ]
    with app.app_context():
        assert send_outbox(SmtpSettings(smtp_server.host, smtp_server.port, sender=sender)) == {
            "sent": 0,
            "failed": 0,
        }
    assert len(smtp_server.messages) == 1


@pytest.mark.only_engine("postgresql")
def test_two_passes_at_once_take_each_step_on_ten_invoices_exactly_once(
    app, api, cast, frozen_clock, monkeypatch
):
    use_schedule(api, cast.admin)
    invoices = [invoiced(api, cast, items=1) for _ in range(10)]
    assert {i["due_on"] for i in invoices} == {"2026-04-01"}
    stand_on(frozen_clock, invoices[0], 45)  # every step is due on every invoice

    # Each pass waits, before it locks the client, for the other to get there too: both
    # have read that nothing was taken yet, and both go for the same steps. (The timeout
    # only turns a deadlock into a failure instead of a hung run.)
    both_read = threading.Barrier(2, timeout=60)
    racers: dict[int, bool] = {}
    results: list[Chased] = []
    errors: list[BaseException] = []

    def lock_after_the_other_read(session, client_id):
        ident = threading.get_ident()
        if racers.get(ident) is False:
            racers[ident] = True
            both_read.wait()
        hold_client(session, client_id)

    def run_pass():
        racers[threading.get_ident()] = False
        try:
            results.append(chase(app))
        except BaseException as exc:
            errors.append(exc)

    monkeypatch.setattr(dunning, "hold_client", lock_after_the_other_read)
    threads = [threading.Thread(target=run_pass) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert list(racers.values()) == [True, True]
    # The loser waited on the winner's lock on the client, then found every step taken.
    assert sorted(len(result.steps) for result in results) == [0, 60]
    # Together the passes took 6 steps on each of 10 invoices, each once.
    taken_steps = [step for result in results for step in result.steps]
    assert len(taken_steps) == 60
    assert len({(s.invoice_id, s.offset_days) for s in taken_steps}) == 60
    assert count(app, DunningAction) == 60
    with app.app_context():
        pairs = db.session.execute(select(DunningAction.invoice_id, DunningAction.step_id)).all()
        outcomes = sorted(db.session.scalars(select(DunningAction.outcome)))
    assert len(set(pairs)) == 60
    assert outcomes == sorted(
        ["superseded"] * 30 + ["sent"] * 10 + ["escalated"] * 10 + ["held"] + ["already_held"] * 9
    )
    # One notice per invoice, one escalation per invoice to the one admin, one hold letter.
    assert count(app, OutboxMessage) == 21
    assert count(app, OutboxMessage, OutboxMessage.subject.like("Overdue: %")) == 10
    assert count(app, OutboxMessage, OutboxMessage.subject.like("Escalation: %")) == 10
    assert count(app, OutboxMessage, OutboxMessage.subject.like("Credit hold: %")) == 1
    assert count(app, CreditHold) == 1
    assert len(audit(api, cast.admin, "credit_hold.placed")) == 1

    # A third pass finds nothing left.
    assert chase(app) == NOTHING
