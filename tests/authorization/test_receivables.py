"""Receivables: the aging report, the dunning schedule, an invoice's collection and what
admins record on it (promises, disputes and their resolution, notes, write-offs), credit
holds, payment records, the outbox and the audit log.

Platform admins run all of it. An invoice's collection is read, like the invoice, by its
client's admins and platform admins (anybody else gets 404); its client may record nothing
on it (403). Everything else is the platform admins' alone (403 for anybody signed in),
but payment records: a team weighs a client's before taking its work, so anybody signed in
reads them, the stranger too."""

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest

from marketplace.db import unit_of_work
from marketplace.receivables.chase import chase_receivables
from marketplace.receivables.days import business_today
from tests.authorization.matrix import (
    CREATED,
    FORBIDDEN,
    OK,
    Matrix,
    Row,
    World,
    by_endpoint,
    conflict,
    expect_status,
    field_is,
    ids_are,
    missing,
    table,
)
from tests.support import ApiClient, Response

pytestmark = pytest.mark.slow

NOT_THE_INVOICE = missing("invoice")
NOT_A_CLIENT = missing("client")
HORIZON = "{cast.party_ids[horizon]}"
ACME = "{cast.party_ids[acme]}"
LOTUS = "{cast.party_ids[lotus]}"
ACTIONS = {"reminder", "notice", "escalation", "credit_hold"}


def check(test: Callable[[World, str, Any], bool], what: str):
    """A check that `test(world, caller, body)` holds of a successful answer."""

    def run(matrix: Matrix, caller: str, answer: Response) -> str | None:
        return None if test(matrix.world, caller, answer.body) else f"{what}: {answer.text[:300]}"

    return run


def horizon_owes_the_invoice(world: World, caller: str, body: dict) -> bool:
    """As of today Horizon owes its one invoice, not yet due; nobody else owes anything."""
    rows = [(r["client_id"], r["invoices"], r["buckets"]["current"]) for r in body["clients"]]
    return rows == [(world.party("horizon"), 1, world.invoice_total)]


def aging_csv_is(matrix: Matrix, caller: str, answer: Response) -> str | None:
    reader = csv.DictReader(io.StringIO(answer.text))
    rows = [(r["client"], r["total"]) for r in reader if r["client_id"]]
    ok = (reader.fieldnames or [])[:2] == ["as_of", "client_id"]
    ok = ok and rows == [("Horizon", matrix.world.invoice_total)]
    return None if ok else f"aging csv {answer.text!r}"


def steps_are_steps(world: World, caller: str, body: list) -> bool:
    return all(isinstance(s["offset_days"], int) and s["action"] in ACTIONS for s in body)


def record_of(party: str, issued: int) -> Callable[[World, str, dict], bool]:
    def test(world: World, caller: str, body: dict) -> bool:
        return (body["client_id"], body["invoices_issued"]) == (world.party(party), issued)

    return test


def clients_are(*parties: str) -> Callable[[World, str, list], bool]:
    def test(world: World, caller: str, body: list) -> bool:
        return [r["client_id"] for r in body] == [world.party(p) for p in parties]

    return test


def collection_of_the_invoice(world: World, caller: str, body: dict) -> bool:
    return (body["invoice_id"], body["status"], body["paused"]) == (world.invoice, "open", None)


READS = [
    Row(
        "GET",
        "/receivables/aging",
        table(FORBIDDEN, admin=OK),
        check=check(horizon_owes_the_invoice, "aging"),
    ),
    Row("GET", "/receivables/aging?format=csv", table(FORBIDDEN, admin=OK), check=aging_csv_is),
    Row(
        "GET",
        "/dunning/steps",
        table(FORBIDDEN, admin=OK),
        check=check(steps_are_steps, "schedule"),
    ),
    Row(
        "GET",
        "/invoices/{invoice}/collection",
        table(NOT_THE_INVOICE, admin=OK, client=OK),
        check=check(collection_of_the_invoice, "collection"),
    ),
    Row("GET", "/credit-holds", table(FORBIDDEN, admin=OK), check=ids_are(lambda w, c: set())),
    Row(
        "GET",
        f"/clients/{HORIZON}/credit-holds",
        table(FORBIDDEN, admin=OK),
        check=ids_are(lambda w, c: set()),
    ),
    # Only an admin learns that Lotus is no client.
    Row(
        "GET",
        f"/clients/{LOTUS}/credit-holds",
        table(FORBIDDEN, admin=NOT_A_CLIENT),
        label="not a client",
    ),
    Row(
        "GET",
        f"/clients/{HORIZON}/payment-record",
        table(OK),
        check=check(record_of("horizon", 1), "Horizon's record"),
    ),
    # Acme has published nothing; its record is there all the same.
    Row(
        "GET",
        f"/clients/{ACME}/payment-record",
        table(OK),
        check=check(record_of("acme", 0), "Acme's record"),
    ),
    Row("GET", f"/clients/{LOTUS}/payment-record", table(NOT_A_CLIENT), label="not a client"),
    # The clients with published orders: Horizon (Acme has a draft only).
    Row("GET", "/payment-records", table(OK), check=check(clients_are("horizon"), "records")),
    Row("GET", "/outbox", table(FORBIDDEN, admin=OK), check=ids_are(lambda w, c: set())),
    Row(
        "GET",
        "/audit-log",
        table(FORBIDDEN, admin=OK),
        check=check(lambda w, c, body: bool(body), "the world's admin actions"),
    ),
]


# -- writes ---------------------------------------------------------------------------------

SCHEDULE = {
    "steps": [
        {"offset_days": -3, "action": "reminder"},
        {"offset_days": 14, "action": "credit_hold"},
    ]
}
PROMISE = {"promised_on": "2026-03-20", "note": "Paying on the 20th."}
DISPUTE = {"reason": "The fee is charged twice."}
RESOLUTION = {"resolution": "The fee was charged once; explained by phone."}
HOLD = {"reason": "Sixty days late.", "lifts_when_paid": True}
LIFT = {"reason": "Paid everything."}


def schedule_is(world: World, caller: str, body: list) -> bool:
    return [(s["offset_days"], s["action"]) for s in body] == [
        (-3, "reminder"),
        (14, "credit_hold"),
    ]


def open_a_dispute(api: ApiClient, world: World) -> None:
    """An admin flags Horizon's invoice as disputed and resolves it (`resolved_dispute`),
    then flags it again: `invoice_dispute`, open."""
    admin, disputes = world.cast.admin, f"/invoices/{world.invoice}/disputes"
    resolved = expect_status(api.post(disputes, admin, {"reason": "Two boxes missing."}), 201)
    ruling = {"resolution": "Both boxes were delivered."}
    expect_status(api.post(f"/invoice-disputes/{resolved['id']}/resolution", admin, ruling), 200)
    opened = expect_status(api.post(disputes, admin, DISPUTE), 201)
    # Fields of this module's worlds only, for the rows' paths.
    world.resolved_dispute = resolved["id"]  # type: ignore[attr-defined]
    world.invoice_dispute = opened["id"]  # type: ignore[attr-defined]


def hold_acme(api: ApiClient, world: World) -> None:
    """An admin puts Acme on credit hold; Horizon is not on hold."""
    held = api.post(f"/clients/{world.party('acme')}/credit-holds", world.cast.admin, HOLD)
    expect_status(held, 201)


WRITES = [
    Row(
        "PUT",
        "/dunning/steps",
        table(FORBIDDEN, admin=OK),
        body=SCHEDULE,
        check=check(schedule_is, "schedule"),
    ),
    Row(
        "PUT",
        "/dunning/steps",
        table(FORBIDDEN, admin=(422, "duplicate_step")),
        body={"steps": [*SCHEDULE["steps"], SCHEDULE["steps"][0]]},
        label="a step twice",
    ),
    # The invoice's client sees it but records nothing on it; nobody else sees it.
    Row(
        "POST",
        "/invoices/{invoice}/promises",
        table(NOT_THE_INVOICE, admin=CREATED, client=FORBIDDEN),
        body=PROMISE,
        check=field_is("invoice_id", lambda w, c: w.invoice),
    ),
    Row(
        "POST",
        "/invoices/{invoice}/promises",
        table(NOT_THE_INVOICE, admin=(422, "promise_out_of_range"), client=FORBIDDEN),
        body=PROMISE | {"promised_on": "2026-03-01"},
        label="yesterday",
    ),
    Row(
        "POST",
        "/invoices/{invoice}/disputes",
        table(NOT_THE_INVOICE, admin=CREATED, client=FORBIDDEN),
        body=DISPUTE,
        check=field_is("invoice_id", lambda w, c: w.invoice),
    ),
    # Only platform admins resolve: nobody else learns whether a dispute exists.
    Row(
        "POST",
        "/invoice-disputes/{invoice_dispute}/resolution",
        table(FORBIDDEN, admin=OK),
        body=RESOLUTION,
        check=field_is("resolution", lambda w, c: RESOLUTION["resolution"]),
        prepare=open_a_dispute,
    ),
    Row(
        "POST",
        "/invoice-disputes/{resolved_dispute}/resolution",
        table(FORBIDDEN, admin=conflict("dispute_resolved")),
        body=RESOLUTION,
        label="resolved already",
        prepare=open_a_dispute,
    ),
    Row(
        "POST",
        "/invoices/{invoice}/notes",
        table(NOT_THE_INVOICE, admin=CREATED, client=FORBIDDEN),
        body={"text": "Called Horizon's accounts."},
        check=field_is("invoice_id", lambda w, c: w.invoice),
    ),
    Row(
        "POST",
        "/invoices/{invoice}/write-offs",
        table(NOT_THE_INVOICE, admin=CREATED, client=FORBIDDEN),
        body={"amount": "0.01", "reason": "Horizon will not pay for the fee."},
        check=check(
            lambda w, c, body: (
                (body["invoice_id"], body["amount"], body["kind"])
                == (w.invoice, "0.01", "write_off")
            ),
            "write-off",
        ),
    ),
    Row(
        "POST",
        "/invoices/{invoice}/write-offs",
        table(NOT_THE_INVOICE, admin=conflict("credit_exceeds_outstanding"), client=FORBIDDEN),
        body={"amount": "1000.00", "reason": "More than it billed."},
        label="more than is outstanding",
    ),
    # Credit holds, on a world where Acme is held already.
    Row(
        "POST",
        f"/clients/{HORIZON}/credit-holds",
        table(FORBIDDEN, admin=CREATED),
        body=HOLD,
        check=field_is("client_id", lambda w, c: w.party("horizon")),
        prepare=hold_acme,
    ),
    Row(
        "POST",
        f"/clients/{ACME}/credit-holds",
        table(FORBIDDEN, admin=conflict("already_on_hold")),
        body=HOLD,
        label="held already",
        prepare=hold_acme,
    ),
    Row(
        "POST",
        f"/clients/{LOTUS}/credit-holds",
        table(FORBIDDEN, admin=NOT_A_CLIENT),
        body=HOLD,
        label="not a client",
        prepare=hold_acme,
    ),
    Row(
        "POST",
        f"/clients/{ACME}/credit-holds/lift",
        table(FORBIDDEN, admin=OK),
        body=LIFT,
        check=field_is("lift_reason", lambda w, c: LIFT["reason"]),
        prepare=hold_acme,
    ),
    Row(
        "POST",
        f"/clients/{HORIZON}/credit-holds/lift",
        table(FORBIDDEN, admin=conflict("not_on_hold")),
        body=LIFT,
        label="not on hold",
        prepare=hold_acme,
    ),
    Row(
        "POST",
        f"/clients/{LOTUS}/credit-holds/lift",
        table(FORBIDDEN, admin=NOT_A_CLIENT),
        body=LIFT,
        label="not a client",
        prepare=hold_acme,
    ),
]


@pytest.mark.parametrize("rows", by_endpoint(WRITES))
def test_writes(app, api, world, rows):
    """Every write endpoint, by every caller, each call on a fresh world."""
    [prepare] = {row.prepare for row in rows}
    matrix = Matrix(app, api, world, prepare=prepare)
    wrong = matrix.run_rows(rows)
    assert not wrong, "\n".join(wrong)


# -- a chased invoice -----------------------------------------------------------------------

NOTE = "Called Horizon's accounts."


def chase(app, api: ApiClient, world: World) -> None:
    """The schedule reminds a client of an invoice a year ahead of its due date; the daily
    pass reminds Horizon's admin of its invoice. Then an admin flags the invoice as
    disputed, records Horizon's promise to pay by 2026-03-20, notes the call, and puts
    Acme on credit hold."""
    admin, invoice = world.cast.admin, f"/invoices/{world.invoice}"
    reminder = {"steps": [{"offset_days": -365, "action": "reminder"}]}
    expect_status(api.put("/dunning/steps", admin, reminder), 200)
    with app.app_context(), unit_of_work() as session:
        today = business_today(app.config["BUSINESS_TIMEZONE"])
        assert len(chase_receivables(session, today=today).steps) == 1
    expect_status(api.post(f"{invoice}/disputes", admin, DISPUTE), 201)
    expect_status(api.post(f"{invoice}/promises", admin, {"promised_on": "2026-03-20"}), 201)
    expect_status(api.post(f"{invoice}/notes", admin, {"text": NOTE}), 201)
    hold_acme(api, world)


def chased_collection(world: World, caller: str, body: dict) -> bool:
    """The step taken, its e-mail, the promise and the dispute, for the client and the
    admins; the note for the admins only."""
    got = (
        body["paused"],
        body["disputed"],
        [(s["action"], s["outcome"]) for s in body["steps"]],
        [e["to"] for e in body["emails"]],
        [(p["promise"]["promised_on"], p["state"]) for p in body["promises"]],
        [d["reason"] for d in body["disputes"]],
        [n["text"] for n in body["notes"]],
    )
    return got == (
        "disputed",
        True,
        [("reminder", "sent")],
        ["client@example.com"],
        [("2026-03-20", "pending")],
        [DISPUTE["reason"]],
        [NOTE] if caller == "admin" else [],
    )


def acme_held(world: World, caller: str, body: list) -> bool:
    return [(h["client_id"], h["reason"]) for h in body] == [(world.party("acme"), HOLD["reason"])]


def acmes_record_shows_the_hold(world: World, caller: str, body: dict) -> bool:
    # An admin's words are for Acme's people and the admins; everyone else reads who.
    own = caller in ("rival_client", "admin")
    return (body["credit_hold"] or {}).get("reason") == (
        HOLD["reason"] if own else "placed by a platform admin"
    )


def actions_on_the_invoice(world: World, caller: str, body: list) -> bool:
    got = [(e["action"], e["subject_type"], e["subject_id"]) for e in body]
    want = ["dispute.opened", "promise.recorded", "invoice.noted"]
    return [a for a, _, _ in got if a in want] == want and all(
        (t, i) == ("invoice", world.invoice) for _, t, i in got
    )


CHASED_READS = [
    Row(
        "GET",
        "/invoices/{invoice}/collection",
        table(NOT_THE_INVOICE, admin=OK, client=OK),
        check=check(chased_collection, "collection"),
    ),
    Row(
        "GET",
        "/outbox",
        table(FORBIDDEN, admin=OK),
        check=check(
            lambda w, c, body: (
                [(m["to"], m["invoice_id"]) for m in body] == [("client@example.com", w.invoice)]
            ),
            "outbox",
        ),
    ),
    Row(
        "GET",
        "/outbox?status=queued",
        table(FORBIDDEN, admin=OK),
        check=check(lambda w, c, body: len(body) == 1, "queued"),
    ),
    Row(
        "GET", "/outbox?status=sent", table(FORBIDDEN, admin=OK), check=ids_are(lambda w, c: set())
    ),
    Row("GET", "/credit-holds", table(FORBIDDEN, admin=OK), check=check(acme_held, "holds")),
    Row(
        "GET",
        f"/clients/{ACME}/credit-holds",
        table(FORBIDDEN, admin=OK),
        check=check(acme_held, "Acme's holds"),
    ),
    Row(
        "GET",
        f"/clients/{ACME}/payment-record",
        table(OK),
        check=check(acmes_record_shows_the_hold, "Acme's record"),
    ),
    Row(
        "GET",
        "/audit-log?subject_type=invoice&subject_id={invoice}",
        table(FORBIDDEN, admin=OK),
        check=check(actions_on_the_invoice, "the invoice's audit log"),
    ),
    Row(
        "GET",
        "/dunning/steps",
        table(FORBIDDEN, admin=OK),
        check=check(
            lambda w, c, body: (
                [(s["offset_days"], s["action"]) for s in body] == [(-365, "reminder")]
            ),
            "schedule",
        ),
    ),
]


def test_a_chased_invoice_is_read_by_its_client_and_admins_and_its_notes_by_admins(app, api, world):
    """The collection of a chased invoice, the e-mail it sent, Acme's hold and the audit
    log: the client reads its invoice's collection but not the admins' notes; the
    outbox, the holds and the audit log are the admins'; Acme's hold is on its record,
    for anybody signed in."""
    matrix = Matrix(app, api, world, prepare=lambda api, world: chase(app, api, world))
    wrong = matrix.run_rows(CHASED_READS)
    assert not wrong, "\n".join(wrong)
