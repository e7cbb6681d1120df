"""A dunning pass and bank transfers for the same client at the same moment queue on the
client instead of deadlocking (PostgreSQL).

Both lock the client first (`payments.credit.hold_client`), then its invoices, so they
take turns. Which turn each gets is up to the race, so each round asserts what holds
whichever went first, and the round is played several times with fresh invoices.

The pass finds the clients with overdue invoices, locks each, and only then reads its
invoices: a transfer that took the client first and committed is seen, and the pass
leaves that invoice alone (the last test pins that order down).

The schedule is the one the migration seeds (six steps, the last a credit hold 45 days
past due); the clock stands at 09:00 Shanghai 45 days after the round's invoices were
due, so every step is due on each of them.
"""

import threading
from collections import Counter

import pytest
from sqlalchemy import select

from marketplace.db import db
from marketplace.identity.models import CreditHold
from marketplace.notices.models import OutboxMessage
from marketplace.payments.credit import hold_client
from marketplace.payments.models import Invoice, InvoiceStatus
from marketplace.receivables import dunning
from marketplace.receivables.models import DunningAction
from tests.flows import invoiced, ledger_totals
from tests.receivables.worlds import SCHEDULE, Chased, chase, stand_on, use_schedule
from tests.support import ApiClient

# SQLite serializes writers; the queueing is real only on PostgreSQL.
pytestmark = [pytest.mark.slow, pytest.mark.only_engine("postgresql")]

ROUNDS = 5
INVOICES = 5  # per round
PAID = 3  # the first three of a round's invoices are paid while the pass runs
STEPS = len(SCHEDULE)
# Only turns a hang into a failure; a round takes well under a second.
HANG = 60


class Watched:
    """What the pass saw: the ids it read as owing (once it held the client), and the
    invoices already paid when it took the lock."""

    def __init__(self, monkeypatch) -> None:
        self.read: list[int] | None = None
        self.paid_when_locked: set[int] | None = None
        real_pauses = dunning.pauses

        def pauses(session, invoice_ids, today):
            self.read = list(invoice_ids)
            return real_pauses(session, invoice_ids, today)

        def lock(session, client_id):
            hold_client(session, client_id)
            if self.paid_when_locked is None:
                self.paid_when_locked = set(
                    session.scalars(
                        select(Invoice.id).where(
                            Invoice.client_party_id == client_id,
                            Invoice.status == InvoiceStatus.PAID,
                        )
                    )
                )

        monkeypatch.setattr(dunning, "pauses", pauses)
        monkeypatch.setattr(dunning, "hold_client", lock)


def transfer(client: ApiClient, admin_token: str, invoice: dict, reference: str, day):
    return client.post(
        f"/invoices/{invoice['id']}/payments",
        admin_token,
        {"amount": invoice["total"], "reference": reference, "received_on": day.isoformat()},
    )


def steps_taken(app, invoice_ids: list[int]) -> list[tuple[int, int, str]]:
    """Every step taken on the invoices, as (invoice, step, outcome)."""
    with app.app_context():
        return [
            tuple(row)
            for row in db.session.execute(
                select(DunningAction.invoice_id, DunningAction.step_id, DunningAction.outcome)
                .where(DunningAction.invoice_id.in_(invoice_ids))
                .order_by(DunningAction.id)
            )
        ]


def letters_about(app, invoice_ids: list[int]) -> Counter:
    """How many outbox messages were written about each invoice."""
    with app.app_context():
        return Counter(
            db.session.scalars(
                select(OutboxMessage.invoice_id).where(OutboxMessage.invoice_id.in_(invoice_ids))
            )
        )


def holds_in_force(app, party_id: int) -> int:
    with app.app_context():
        return len(
            db.session.scalars(
                select(CreditHold.id).where(
                    CreditHold.party_id == party_id, CreditHold.lifted_at.is_(None)
                )
            ).all()
        )


def race(app, cast, to_pay: list[dict], day, round_no: int):
    """One chasing pass and one transfer per invoice in `to_pay`, each on its own thread
    and connection, released together. Answers the pass's result and the transfers'."""
    start = threading.Barrier(1 + len(to_pay), timeout=HANG)
    chased: list[Chased] = []
    answers: dict[int, object] = {}
    errors: list[BaseException] = []

    def run_pass():
        try:
            start.wait()
            chased.append(chase(app))
        except BaseException as exc:
            errors.append(exc)

    def run_transfer(invoice):
        try:
            client = ApiClient(app.test_client())
            start.wait()
            answers[invoice["id"]] = transfer(
                client, cast.admin, invoice, f"ICBC-{round_no}-{invoice['id']}", day
            )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run_pass)]
    threads += [threading.Thread(target=run_transfer, args=(i,)) for i in to_pay]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=HANG)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    assert errors == []
    return chased[0], answers


def test_a_pass_and_transfers_for_one_client_at_once_queue_and_never_deadlock(
    app, api, cast, frozen_clock, monkeypatch
):
    use_schedule(api, cast.admin)
    horizon = cast.party_ids["horizon"]

    for round_no in range(1, ROUNDS + 1):
        # Fresh invoices, issued on the day the last round ended (the client's hold lifted).
        invoices = [invoiced(api, cast, items=1) for _ in range(INVOICES)]
        assert len({i["due_on"] for i in invoices}) == 1
        ids = [i["id"] for i in invoices]
        day = stand_on(frozen_clock, invoices[0], 45)
        paying, unpaid = invoices[:PAID], invoices[PAID:]
        watched = Watched(monkeypatch)

        result, answers = race(app, cast, paying, day, round_no)

        # Nobody failed: no deadlock, no 500; every transfer recorded once and paid in full.
        assert sorted(a.status for a in answers.values()) == [201] * PAID, [
            a.text[:300] for a in answers.values()
        ]
        assert all(a.body["unapplied"] == "0.00" for a in answers.values())
        for invoice in invoices:
            now = api.get(f"/invoices/{invoice['id']}", cast.admin).body
            expected = ("paid", "0.00") if invoice in paying else ("open", invoice["total"])
            assert (now["status"], now["outstanding"]) == expected, (round_no, now)
        assert ledger_totals(api, cast.admin) == {"CNY": 0}

        # Each step was taken at most once on each invoice, as the pass reports them.
        taken = steps_taken(app, ids)
        pairs = [(invoice_id, step_id) for invoice_id, step_id, _ in taken]
        assert len(pairs) == len(set(pairs))
        assert sorted((s.invoice_id, s.outcome) for s in result.steps) == sorted(
            (invoice_id, outcome) for invoice_id, _, outcome in taken
        )
        per_invoice = Counter(invoice_id for invoice_id, _ in pairs)

        # An invoice has every step or none, never some. One the pass did not read as owing
        # (paid before the pass held the client) has none; one unpaid when the pass held the
        # client (the pass went first, the transfer queued behind it) has all.
        assert watched.read is not None and watched.paid_when_locked is not None
        read = set(watched.read)
        for invoice in invoices:
            had = per_invoice[invoice["id"]]
            if invoice["id"] not in read:
                assert invoice in paying and had == 0, (round_no, invoice["id"])
            else:
                assert invoice["id"] not in watched.paid_when_locked, (round_no, invoice["id"])
                assert had == STEPS, (round_no, invoice["id"])

        # Letters only about invoices the pass stepped on: one notice and one escalation
        # each, and one hold letter; one hold, placed by the first credit-hold step.
        stepped = [invoice_id for invoice_id in ids if per_invoice[invoice_id]]
        letters = letters_about(app, ids)
        assert set(letters) == set(stepped)
        assert sum(letters.values()) == 2 * len(stepped) + 1
        outcomes = Counter(outcome for _, _, outcome in taken)
        assert (outcomes["held"], outcomes["already_held"]) == (1, len(stepped) - 1)

        # Some invoices are still overdue: the hold stays, and another pass changes nothing.
        assert holds_in_force(app, horizon) == 1
        monkeypatch.undo()
        assert chase(app) == Chased(steps=[], lifted=[])
        assert holds_in_force(app, horizon) == 1

        # Paid up, the next pass lifts the hold and takes no step; the client may order again.
        for invoice in unpaid:
            late = transfer(api, cast.admin, invoice, f"ICBC-{round_no}-{invoice['id']}", day)
            assert late.status == 201, late.body
        assert chase(app) == Chased(steps=[], lifted=[horizon])
        assert holds_in_force(app, horizon) == 0
        assert ledger_totals(api, cast.admin) == {"CNY": 0}


def test_a_transfer_between_the_passs_read_and_its_lock_is_seen_by_the_pass(
    app, api, cast, frozen_clock, monkeypatch
):
    """The pass reads the overdue invoices, then locks the client. A transfer that pays one
    in between (it held the client and committed first) must leave it unchased: the pass
    sends no letter about a paid invoice and puts no hold on a client that owes nothing."""
    use_schedule(api, cast.admin)
    invoice = invoiced(api, cast, items=1)
    day = stand_on(frozen_clock, invoice, 45)
    horizon = cast.party_ids["horizon"]
    read, paid = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def lock_once_paid(session, client_id):
        read.set()
        assert paid.wait(HANG)
        hold_client(session, client_id)

    monkeypatch.setattr(dunning, "hold_client", lock_once_paid)
    results: list[Chased] = []

    def run_pass():
        try:
            results.append(chase(app))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run_pass)
    thread.start()
    try:
        assert read.wait(HANG)
        answer = transfer(api, cast.admin, invoice, "ICBC-between", day)
    finally:
        paid.set()
        thread.join(HANG)
    assert not thread.is_alive() and errors == []
    assert answer.status == 201, answer.body
    assert api.get(f"/invoices/{invoice['id']}", cast.admin).body["status"] == "paid"

    assert results == [Chased(steps=[], lifted=[])]
    assert steps_taken(app, [invoice["id"]]) == []
    assert letters_about(app, [invoice["id"]]) == Counter()
    assert holds_in_force(app, horizon) == 0
