"""Casework on an invoice (notes, promises, disputes) and credit holds: each admin action
is written to the audit log (who, when, what) in its own unit of work; a refused one
writes nothing."""

from datetime import date

import pytest

from marketplace.db import unit_of_work
from marketplace.receivables.holds import lift_paid_holds
from tests.flows import claim, order_body, post_order, review, set_rate, submit
from tests.support import all_at_once, row_counts

# End-to-end walks through the money's life: `make test` runs them, `make check`
# leaves them out.
pytestmark = pytest.mark.slow

NO_ORDER = order_body(items=1)


def invoice_for(api, cast, *, client="client", items=10, terms=30) -> dict:
    """An order of `items` at 0.10 posted by `client` (a cast label) with `terms` days to
    pay, done by Li at 0.06 and accepted, invoiced now (10 items: 1.05)."""
    order_id = post_order(
        api, cast.tokens[client], items=items, batch_size=items, payment_terms_days=terms
    )
    claim(api, cast.owner, order_id)
    set_rate(api, cast.owner, order_id, "0.06")
    review(api, cast.reviewer, accept=submit(api, cast.li, items))
    answer = api.post(f"/orders/{order_id}/invoices", cast.admin)
    assert answer.status == 201, answer.body
    return answer.body


def pay(api, cast, invoice: dict, amount: str, received_on: str, reference: str) -> None:
    answer = api.post(
        f"/invoices/{invoice['id']}/payments",
        cast.admin,
        {"amount": amount, "reference": reference, "received_on": received_on},
    )
    assert answer.status == 201, answer.body


def log(api, cast, query: str) -> list[dict]:
    """Audit entries matching `query`, without their ids."""
    answer = api.get(f"/audit-log?{query}", cast.admin)
    assert answer.status == 200, answer.body
    return [{k: v for k, v in entry.items() if k != "id"} for entry in answer.body]


def entry(cast, at: str, action: str, subject: tuple[str, int], by="admin", **details) -> dict:
    subject_type, subject_id = subject
    return {
        "at": at,
        "user_id": cast.user_ids[by] if by else None,
        "source": "api" if by else "scheduler",
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "details": details,
    }


def run_lift_paid_holds(app, today: date) -> list[int]:
    """What the scheduler's lift-paid-holds job does on `today`; the ids of holds lifted."""
    with app.app_context(), unit_of_work() as session:
        return [hold.id for hold in lift_paid_holds(session, today=today)]


# Notes and casework.


def test_notes_are_written_by_admins_and_read_by_admins_only(app, api, cast, frozen_clock):
    invoice = invoice_for(api, cast)
    frozen_clock.stand_at("2026-04-03T15:30:00+08:00")

    noted = api.post(
        f"/invoices/{invoice['id']}/notes", cast.admin, {"text": "Called Ms Chen: pays Friday"}
    )

    assert noted.status == 201, noted.body
    assert noted.body == {
        "id": noted.body["id"],
        "invoice_id": invoice["id"],
        "user_id": cast.user_ids["admin"],
        "text": "Called Ms Chen: pays Friday",
        "created_at": "2026-04-03T07:30:00+00:00",
    }
    admin_view = api.get(f"/invoices/{invoice['id']}/collection", cast.admin).body
    assert admin_view["notes"] == [noted.body]
    client_view = api.get(f"/invoices/{invoice['id']}/collection", cast.client)
    assert client_view.status == 200
    assert client_view.body["notes"] == []
    assert "Ms Chen" not in client_view.text
    assert api.get(f"/invoices/{invoice['id']}/collection", cast.rival_client).status == 404
    assert log(api, cast, "action=invoice.noted") == [
        entry(
            cast,
            "2026-04-03T07:30:00+00:00",
            "invoice.noted",
            ("invoice", invoice["id"]),
            note_id=noted.body["id"],
        )
    ]

    counts = row_counts(app)
    for who, body, status in [
        ("client", {"text": "We paid!"}, 403),
        ("owner", {"text": "x"}, 404),
        ("rival_client", {"text": "x"}, 404),
        ("admin", {"text": "   "}, 422),
        ("admin", {"text": ""}, 422),
        ("admin", {"text": "x" * 2001}, 422),
        ("admin", {}, 422),
    ]:
        refused = api.post(f"/invoices/{invoice['id']}/notes", cast.tokens[who], body)
        assert refused.status == status, (who, body, refused.body)
    assert api.post("/invoices/999999/notes", cast.admin, {"text": "x"}).status == 404
    assert row_counts(app) == counts


def test_every_casework_action_is_logged_with_who_when_and_what(app, api, cast, frozen_clock):
    invoice = invoice_for(api, cast, terms=0)  # 1.05, due 2026-03-02
    subject = ("invoice", invoice["id"])
    query = f"subject_type=invoice&subject_id={invoice['id']}"

    frozen_clock.stand_at("2026-03-05T09:00:00+08:00")
    note = api.post(f"/invoices/{invoice['id']}/notes", cast.admin, {"text": "Left a message"})
    frozen_clock.stand_at("2026-03-05T10:00:00+08:00")
    promise = api.post(
        f"/invoices/{invoice['id']}/promises",
        cast.admin,
        {"promised_on": "2026-03-10", "note": "Finance promised by phone"},
    )
    frozen_clock.stand_at("2026-03-06T11:00:00+08:00")
    dispute = api.post(
        f"/invoices/{invoice['id']}/disputes", cast.admin, {"reason": "Two boxes wrong"}
    )
    frozen_clock.stand_at("2026-03-07T12:00:00+08:00")
    resolved = api.post(
        f"/invoice-disputes/{dispute.body['id']}/resolution",
        cast.admin,
        {"resolution": "Boxes were fine"},
    )
    frozen_clock.stand_at("2026-03-08T13:00:00+08:00")
    written_off = api.post(
        f"/invoices/{invoice['id']}/write-offs",
        cast.admin,
        {"amount": "0.05", "reason": "Goodwill"},
    )
    assert [a.status for a in (note, promise, dispute, resolved, written_off)] == [201] * 3 + [
        200,
        201,
    ]
    assert promise.body == {
        "id": promise.body["id"],
        "invoice_id": invoice["id"],
        "promised_on": "2026-03-10",
        "note": "Finance promised by phone",
        "recorded_by_user_id": cast.user_ids["admin"],
        "created_at": "2026-03-05T02:00:00+00:00",
    }
    assert resolved.body == {
        "id": dispute.body["id"],
        "invoice_id": invoice["id"],
        "reason": "Two boxes wrong",
        "opened_by_user_id": cast.user_ids["admin"],
        "created_at": "2026-03-06T03:00:00+00:00",
        "resolved_at": "2026-03-07T04:00:00+00:00",
        "resolved_by_user_id": cast.user_ids["admin"],
        "resolution": "Boxes were fine",
    }

    assert log(api, cast, query) == [
        entry(
            cast,
            "2026-03-02T10:00:00+00:00",
            "invoice.issued",
            subject,
            number=invoice["number"],
            order_id=invoice["order_id"],
            total="1.05",
            currency="CNY",
        ),
        entry(cast, "2026-03-05T01:00:00+00:00", "invoice.noted", subject, note_id=note.body["id"]),
        entry(
            cast,
            "2026-03-05T02:00:00+00:00",
            "promise.recorded",
            subject,
            promise_id=promise.body["id"],
            promised_on="2026-03-10",
            note="Finance promised by phone",
        ),
        entry(
            cast,
            "2026-03-06T03:00:00+00:00",
            "dispute.opened",
            subject,
            dispute_id=dispute.body["id"],
            reason="Two boxes wrong",
        ),
        entry(
            cast,
            "2026-03-07T04:00:00+00:00",
            "dispute.resolved",
            subject,
            dispute_id=dispute.body["id"],
            resolution="Boxes were fine",
        ),
        entry(
            cast,
            "2026-03-08T05:00:00+00:00",
            "invoice.written_off",
            subject,
            credit_note="CN-2026-000001",
            amount="0.05",
            currency="CNY",
            reason="Goodwill",
        ),
    ]
    collection = api.get(f"/invoices/{invoice['id']}/collection", cast.admin).body
    assert [(p["promise"]["id"], p["state"]) for p in collection["promises"]] == [
        (promise.body["id"], "pending")
    ]
    assert collection["paused"] == "promised for 2026-03-10"
    assert collection["disputed"] is False
    assert [d["resolution"] for d in collection["disputes"]] == ["Boxes were fine"]
    assert [w["amount"] for w in collection["write_offs"]] == ["0.05"]

    # Refused casework writes nothing, in the log or anywhere.
    counts = row_counts(app)
    refusals = [
        ("client", "notes", {"text": "x"}, 403, None),
        ("client", "promises", {"promised_on": "2026-03-10"}, 403, None),
        ("client", "disputes", {"reason": "x"}, 403, None),
        ("admin", "promises", {"promised_on": "2026-03-07"}, 422, "promise_out_of_range"),
        ("admin", "promises", {"promised_on": "2027-03-10"}, 422, "promise_out_of_range"),
        ("admin", "disputes", {"reason": " "}, 422, None),
    ]
    for who, what, body, status, code in refusals:
        refused = api.post(f"/invoices/{invoice['id']}/{what}", cast.tokens[who], body)
        assert refused.status == status, (who, what, refused.body)
        if code:
            assert refused.error_code == code
    again = api.post(
        f"/invoice-disputes/{dispute.body['id']}/resolution", cast.admin, {"resolution": "again"}
    )
    assert (again.status, again.error_code) == (409, "dispute_resolved")
    by_client = api.post(
        f"/invoice-disputes/{dispute.body['id']}/resolution", cast.client, {"resolution": "x"}
    )
    assert by_client.status == 403
    assert (
        api.post("/invoice-disputes/999999/resolution", cast.admin, {"resolution": "x"}).status
        == 404
    )
    assert row_counts(app) == counts

    # A second open dispute is refused; so is casework on an invoice paid in full.
    assert (
        api.post(f"/invoices/{invoice['id']}/disputes", cast.admin, {"reason": "a"}).status == 201
    )
    counts = row_counts(app)
    twice = api.post(f"/invoices/{invoice['id']}/disputes", cast.admin, {"reason": "b"})
    assert (twice.status, twice.error_code) == (409, "already_disputed")
    assert row_counts(app) == counts
    pay(api, cast, invoice, "1.00", "2026-03-08", "ICBC-1")
    counts = row_counts(app)
    for what, body in [("promises", {"promised_on": "2026-03-10"}), ("disputes", {"reason": "c"})]:
        refused = api.post(f"/invoices/{invoice['id']}/{what}", cast.admin, body)
        assert (refused.status, refused.error_code) == (409, "invoice_not_open"), what
    assert row_counts(app) == counts


def test_the_audit_log_pages_by_id_and_filters(app, api, cast, frozen_clock):
    horizon, acme = cast.party_ids["horizon"], cast.party_ids["acme"]
    for party in (horizon, acme):
        placed = api.post(f"/clients/{party}/credit-holds", cast.admin, {"reason": "check"})
        assert placed.status == 201
        frozen_clock.step(minutes=1)
        lifted = api.post(f"/clients/{party}/credit-holds/lift", cast.admin, {"reason": "ok"})
        assert lifted.status == 200
        frozen_clock.step(minutes=1)
    everything = api.get("/audit-log", cast.admin).body
    assert [(e["action"], e["subject_id"]) for e in everything] == [
        ("credit_hold.placed", horizon),
        ("credit_hold.lifted", horizon),
        ("credit_hold.placed", acme),
        ("credit_hold.lifted", acme),
    ]
    assert [e["at"] for e in everything] == [
        "2026-03-02T10:00:00+00:00",
        "2026-03-02T10:01:00+00:00",
        "2026-03-02T10:02:00+00:00",
        "2026-03-02T10:03:00+00:00",
    ]
    first = api.get("/audit-log?limit=3", cast.admin).body
    rest = api.get(f"/audit-log?limit=3&after={first[-1]['id']}", cast.admin).body
    assert first + rest == everything
    assert api.get(f"/audit-log?after={everything[-1]['id']}", cast.admin).body == []
    placed = api.get("/audit-log?action=credit_hold.placed&subject_type=client", cast.admin).body
    assert [e["subject_id"] for e in placed] == [horizon, acme]
    assert api.get("/audit-log?subject_type=invoice", cast.admin).body == []
    for query in ("limit=0", "limit=1001", "after=-1", "subject_id=0", "subject_id=x"):
        assert api.get(f"/audit-log?{query}", cast.admin).status == 422, query


@pytest.mark.parametrize("who", ["client", "owner", "li", "rival_client"])
def test_only_platform_admins_read_the_audit_log(app, api, cast, who):
    answer = api.get("/audit-log", cast.tokens[who])
    assert answer.status == 403
    assert api.get("/audit-log").status == 401


# Credit holds.


def test_a_manual_hold_is_placed_listed_obeyed_and_lifted_by_an_admin(app, api, cast, frozen_clock):
    horizon = cast.party_ids["horizon"]
    frozen_clock.stand_at("2026-03-02T09:00:00+08:00")

    placed = api.post(f"/clients/{horizon}/credit-holds", cast.admin, {"reason": "Fraud check"})

    assert placed.status == 201, placed.body
    hold = placed.body
    assert hold == {
        "id": hold["id"],
        "client_id": horizon,
        "reason": "Fraud check",
        "placed_by_user_id": cast.user_ids["admin"],
        "lifts_when_paid": False,
        "placed_at": "2026-03-02T01:00:00+00:00",
        "lifted_at": None,
        "lifted_by_user_id": None,
        "lift_reason": None,
    }
    assert api.get("/credit-holds", cast.admin).body == [hold]
    assert api.get(f"/clients/{horizon}/credit-holds", cast.admin).body == [hold]
    refused = api.post("/orders", cast.client, NO_ORDER)
    assert (refused.status, refused.error_code) == (409, "client_on_credit_hold")
    assert api.post("/orders", cast.rival_client, NO_ORDER).status == 201

    # Nothing is overdue, but a manual hold does not lift itself.
    assert run_lift_paid_holds(app, date(2026, 3, 2)) == []
    assert run_lift_paid_holds(app, date(2026, 6, 1)) == []
    assert api.get("/credit-holds", cast.admin).body == [hold]

    counts = row_counts(app)
    twice = api.post(f"/clients/{horizon}/credit-holds", cast.admin, {"reason": "again"})
    assert (twice.status, twice.error_code) == (409, "already_on_hold")
    assert row_counts(app) == counts

    frozen_clock.stand_at("2026-03-03T10:00:00+08:00")
    lifted = api.post(f"/clients/{horizon}/credit-holds/lift", cast.admin, {"reason": "Cleared"})
    assert lifted.status == 200, lifted.body
    assert lifted.body == hold | {
        "lifted_at": "2026-03-03T02:00:00+00:00",
        "lifted_by_user_id": cast.user_ids["admin"],
        "lift_reason": "Cleared",
    }
    assert api.get("/credit-holds", cast.admin).body == []
    assert api.post("/orders", cast.client, NO_ORDER).status == 201
    counts = row_counts(app)
    not_held = api.post(f"/clients/{horizon}/credit-holds/lift", cast.admin, {"reason": "x"})
    assert (not_held.status, not_held.error_code) == (409, "not_on_hold")
    assert row_counts(app) == counts

    # A second hold: the history lists it first.
    frozen_clock.stand_at("2026-03-04T11:00:00+08:00")
    second = api.post(
        f"/clients/{horizon}/credit-holds",
        cast.admin,
        {"reason": "Overdue again", "lifts_when_paid": True},
    )
    assert (second.status, second.body["lifts_when_paid"]) == (201, True)
    history = api.get(f"/clients/{horizon}/credit-holds", cast.admin).body
    assert [(h["id"], h["reason"], h["lifted_at"]) for h in history] == [
        (second.body["id"], "Overdue again", None),
        (hold["id"], "Fraud check", "2026-03-03T02:00:00+00:00"),
    ]
    assert api.get(f"/clients/{cast.party_ids['acme']}/credit-holds", cast.admin).body == []

    client = ("client", horizon)
    assert log(api, cast, f"subject_type=client&subject_id={horizon}") == [
        entry(
            cast,
            "2026-03-02T01:00:00+00:00",
            "credit_hold.placed",
            client,
            hold_id=hold["id"],
            reason="Fraud check",
            lifts_when_paid=False,
        ),
        entry(
            cast,
            "2026-03-03T02:00:00+00:00",
            "credit_hold.lifted",
            client,
            hold_id=hold["id"],
            reason="Cleared",
        ),
        entry(
            cast,
            "2026-03-04T03:00:00+00:00",
            "credit_hold.placed",
            client,
            hold_id=second.body["id"],
            reason="Overdue again",
            lifts_when_paid=True,
        ),
    ]
    assert log(api, cast, "action=credit_hold.lifted") == log(
        api, cast, f"action=credit_hold.lifted&subject_type=client&subject_id={horizon}"
    )
    assert log(api, cast, f"subject_type=client&subject_id={cast.party_ids['acme']}") == []


def test_holds_are_placed_and_read_by_platform_admins_on_clients_only(app, api, cast):
    horizon = cast.party_ids["horizon"]
    counts = row_counts(app)
    for who in ("client", "owner", "li", "rival_client"):
        token = cast.tokens[who]
        placed = api.post(f"/clients/{horizon}/credit-holds", token, {"reason": "x"})
        assert placed.status == 403, who
        assert (
            api.post(f"/clients/{horizon}/credit-holds/lift", token, {"reason": "x"}).status == 403
        )
        assert api.get(f"/clients/{horizon}/credit-holds", token).status == 403
        assert api.get("/credit-holds", token).status == 403
    for party_id in (cast.party_ids["lotus"], cast.party_ids["platform"], 999_999, 2**63):
        for answer in (
            api.post(f"/clients/{party_id}/credit-holds", cast.admin, {"reason": "x"}),
            api.post(f"/clients/{party_id}/credit-holds/lift", cast.admin, {"reason": "x"}),
            api.get(f"/clients/{party_id}/credit-holds", cast.admin),
        ):
            assert (answer.status, answer.error_code) == (404, "client_not_found"), party_id
    for body in ({}, {"reason": ""}, {"reason": "  "}, {"reason": "x" * 501}):
        assert api.post(f"/clients/{horizon}/credit-holds", cast.admin, body).status == 422
    bad_flag = {"reason": "x", "lifts_when_paid": "sometimes"}
    assert api.post(f"/clients/{horizon}/credit-holds", cast.admin, bad_flag).status == 422
    assert api.post(f"/clients/{horizon}/credit-holds").status == 401
    assert row_counts(app) == counts


def test_a_self_lifting_hold_lifts_once_nothing_is_overdue(app, api, cast, frozen_clock):
    horizon = cast.party_ids["horizon"]
    overdue = invoice_for(api, cast, terms=0)  # 1.05, due 2026-03-02
    not_due = invoice_for(api, cast, items=1, terms=30)  # 0.11, due 2026-04-01
    frozen_clock.stand_at("2026-03-05T09:00:00+08:00")
    placed = api.post(
        f"/clients/{horizon}/credit-holds",
        cast.admin,
        {"reason": "INV overdue", "lifts_when_paid": True},
    )
    assert placed.status == 201, placed.body
    hold_id = placed.body["id"]
    record = api.get(f"/clients/{horizon}/payment-record", cast.li).body
    assert record["credit_hold"] == {
        "since": "2026-03-05T01:00:00+00:00",
        "reason": "placed by a platform admin",  # an admin's words are not for teams
    }

    # On its due day it was not overdue yet; from the next day it is, until paid in full.
    assert run_lift_paid_holds(app, date(2026, 3, 5)) == []
    pay(api, cast, overdue, "1.00", "2026-03-05", "ICBC-1")
    assert run_lift_paid_holds(app, date(2026, 3, 5)) == []
    assert [h["id"] for h in api.get("/credit-holds", cast.admin).body] == [hold_id]
    assert api.post("/orders", cast.client, NO_ORDER).error_code == "client_on_credit_hold"

    frozen_clock.stand_at("2026-03-06T10:00:00+08:00")
    pay(api, cast, overdue, "0.05", "2026-03-06", "ICBC-2")
    # The invoice not yet due does not keep the hold on.
    assert run_lift_paid_holds(app, date(2026, 3, 6)) == [hold_id]
    assert run_lift_paid_holds(app, date(2026, 3, 6)) == []  # once

    assert api.get("/credit-holds", cast.admin).body == []
    [lifted] = api.get(f"/clients/{horizon}/credit-holds", cast.admin).body
    assert (lifted["lifted_at"], lifted["lifted_by_user_id"], lifted["lift_reason"]) == (
        "2026-03-06T02:00:00+00:00",
        None,
        "nothing it owes is overdue any more",
    )
    assert log(api, cast, "action=credit_hold.lifted") == [
        entry(
            cast,
            "2026-03-06T02:00:00+00:00",
            "credit_hold.lifted",
            ("client", horizon),
            by=None,
            hold_id=hold_id,
            reason="nothing it owes is overdue any more",
        )
    ]
    assert api.get(f"/clients/{horizon}/payment-record", cast.li).body["credit_hold"] is None
    assert api.post("/orders", cast.client, NO_ORDER).status == 201
    assert api.get(f"/invoices/{not_due['id']}", cast.client).body["status"] == "open"


def test_a_dispute_keeps_a_self_lifting_hold_and_a_write_off_lifts_it(app, api, cast, frozen_clock):
    horizon, acme = cast.party_ids["horizon"], cast.party_ids["acme"]
    overdue = invoice_for(api, cast, terms=0)  # 1.05, due 2026-03-02
    acme_overdue = invoice_for(api, cast, client="rival_client", terms=0)
    frozen_clock.stand_at("2026-03-10T09:00:00+08:00")
    holds = {}
    for party in (horizon, acme):
        answer = api.post(
            f"/clients/{party}/credit-holds",
            cast.admin,
            {"reason": "overdue", "lifts_when_paid": True},
        )
        assert answer.status == 201, answer.body
        holds[party] = answer.body["id"]
    assert run_lift_paid_holds(app, date(2026, 3, 10)) == []

    # A dispute pauses the letters, but only the money, a credit note, a write-off or an
    # admin ends a hold.
    disputed = api.post(f"/invoices/{overdue['id']}/disputes", cast.admin, {"reason": "wrong"})
    assert disputed.status == 201, disputed.body
    assert run_lift_paid_holds(app, date(2026, 3, 10)) == []
    assert [h["id"] for h in api.get("/credit-holds", cast.admin).body] == [
        holds[horizon],
        holds[acme],
    ]

    frozen_clock.stand_at("2026-03-11T09:00:00+08:00")
    written_off = api.post(f"/invoices/{overdue['id']}/write-offs", cast.admin, {"reason": "gone"})
    assert written_off.status == 201, written_off.body
    assert run_lift_paid_holds(app, date(2026, 3, 11)) == [holds[horizon]]
    [lifted] = api.get(f"/clients/{horizon}/credit-holds", cast.admin).body
    assert (lifted["lifted_at"], lifted["lifted_by_user_id"]) == ("2026-03-11T01:00:00+00:00", None)
    # Acme still owes its own overdue invoice: its hold stays.
    assert [h["client_id"] for h in api.get("/credit-holds", cast.admin).body] == [acme]
    assert api.get(f"/invoices/{acme_overdue['id']}", cast.rival_client).body["status"] == "open"


@pytest.mark.only_engine("postgresql")
def test_admins_placing_a_hold_at_once_place_one(app, api, cast, frozen_clock):
    horizon = cast.party_ids["horizon"]
    answers = all_at_once(
        app,
        [
            lambda c, n=n: c.post(
                f"/clients/{horizon}/credit-holds", cast.admin, {"reason": f"reason {n}"}
            )
            for n in range(5)
        ],
    )
    assert sorted(a.status for a in answers) == [201] + [409] * 4
    assert {a.error_code for a in answers if a.status == 409} == {"already_on_hold"}
    [placed] = [a.body for a in answers if a.status == 201]
    assert api.get("/credit-holds", cast.admin).body == [placed]
    assert [e["details"]["hold_id"] for e in log(api, cast, "action=credit_hold.placed")] == [
        placed["id"]
    ]
