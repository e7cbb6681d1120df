"""Collection: clients' payments and what went back of them, card payments and Stripe's
webhook (the test app has no Stripe configured), credit notes, invoices as CSV, the
reconciliation, and sending a payout run's transfers.

A client's payments are its client admins' and the platform admins' to read: a rival
client, a team or an annotator gets 404 for one (and an empty list), as for invoices."""

import csv
import io
from collections.abc import Callable
from decimal import Decimal

import pytest

from tests.authorization.matrix import (
    ANONYMOUS,
    CALLERS,
    CREATED,
    FORBIDDEN,
    OK,
    PEOPLE,
    REVOKED,
    UNKNOWN,
    Matrix,
    Row,
    World,
    by_endpoint,
    conflict,
    field_is,
    id_is,
    ids_are,
    missing,
    per_caller,
    table,
)
from tests.support import ApiClient, Response

pytestmark = pytest.mark.slow

NOT_THE_PAYMENT = missing("payment")
NOT_THE_INVOICE = missing("invoice")
NO_STRIPE = conflict("stripe_not_configured")
PERIOD = "currency=CNY&from=2026-03-01&to=2026-03-02"


def reconciled(matrix: Matrix, caller: str, answer: Response) -> str | None:
    """Acme's 5.00 CNY arrived today, 1.00 of it went back; the ledger agrees."""
    body = answer.body
    got = (body["payments"], body["gateways"], body["ledger"]["received"], body["mismatches"])
    want = (1, {"manual": {"arrived": "5.00", "returned": "1.00"}}, "5.00", [])
    return None if got == want else f"reconciliation {body}"


def csv_rows(answer: Response) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(answer.text))
    return list(reader.fieldnames or []), list(reader)


def invoices_csv_is(credited: str):
    """The list as CSV: Horizon's one invoice for its admins and platform admins, nothing
    for anybody else."""

    def check(matrix: Matrix, caller: str, answer: Response) -> str | None:
        w = matrix.world
        header, rows = csv_rows(answer)
        got = [(r["client"], r["total"], r["credited"]) for r in rows]
        want = [("Horizon", w.invoice_total, credited)] if caller in ("admin", "client") else []
        ok = header[:2] == ["invoice", "client"] and got == want
        return None if ok else f"invoices csv {answer.text!r}"

    return check


def invoice_csv_is(matrix: Matrix, caller: str, answer: Response) -> str | None:
    """One invoice as CSV: its items line and its fee line, summing to its total."""
    header, rows = csv_rows(answer)
    kinds = sorted(r["kind"] for r in rows)
    total = sum(Decimal(r["amount"]) for r in rows)
    ok = header[:2] == ["invoice", "issued_at"] and len(kinds) == 2
    return None if ok and total == Decimal(matrix.world.invoice_total) else f"csv {answer.text!r}"


def forged_payment_event(world: World, caller: str) -> dict:
    """Stripe's word that the world's invoice was paid by card, unsigned."""
    intent = {
        "id": "pi_forged",
        "object": "payment_intent",
        "status": "succeeded",
        "amount": 11,
        "currency": "cny",
        "created": 1772445600,
        "metadata": {"invoice_id": str(world.invoice), "client_id": str(world.party("horizon"))},
    }
    return {"id": "evt_forged", "type": "payment_intent.succeeded", "data": {"object": intent}}


def transfer(client: str, amount: str, **more: str) -> Callable[[World, str], dict]:
    """A transfer from `client` in CNY; `more` names World fields to send as fields."""

    def body(world: World, caller: str) -> dict:
        return {
            "client_id": world.party(client),
            "currency": "CNY",
            "amount": amount,
            "reference": "ICBC-20260302-0002",
            "received_on": "2026-03-02",
            **{key: getattr(world, value) for key, value in more.items()},
        }

    return body


READS = [
    Row(
        "GET",
        "/payments",
        table(OK),
        check=ids_are(
            per_caller(
                admin=lambda w: {w.horizon_payment, w.acme_payment},
                client=lambda w: {w.horizon_payment},
                rival_client=lambda w: {w.acme_payment},
            )
        ),
    ),
    Row(
        "GET",
        "/payments/{horizon_payment}",
        table(NOT_THE_PAYMENT, admin=OK, client=OK),
        check=id_is("horizon_payment"),
    ),
    Row(
        "GET",
        "/payments/{acme_payment}",
        table(NOT_THE_PAYMENT, admin=OK, rival_client=OK),
        check=id_is("acme_payment"),
    ),
    Row(
        "GET",
        "/payments/{acme_payment}/reversals",
        table(NOT_THE_PAYMENT, admin=OK, rival_client=OK),
        check=ids_are(lambda w, c: {w.acme_refund}),
    ),
    Row(
        "GET",
        "/payments/{horizon_payment}/reversals",
        table(NOT_THE_PAYMENT, admin=OK, client=OK),
        check=ids_are(lambda w, c: set()),
    ),
    Row(
        "GET",
        "/invoices/{invoice}/credit-notes",
        table(NOT_THE_INVOICE, admin=OK, client=OK),
        check=ids_are(lambda w, c: set()),
    ),
    Row("GET", "/invoices?format=csv", table(OK), check=invoices_csv_is("0.00")),
    Row(
        "GET",
        "/invoices/{invoice}?format=csv",
        table(NOT_THE_INVOICE, admin=OK, client=OK),
        check=invoice_csv_is,
    ),
    Row("GET", f"/reconciliation?{PERIOD}", table(FORBIDDEN, admin=OK), check=reconciled),
]

WRITES = [
    # A client's transfer, recorded by platform admins; naming an invoice, it is found first.
    Row(
        "POST",
        "/payments",
        table(NOT_THE_INVOICE, admin=CREATED, client=FORBIDDEN),
        body=transfer("horizon", "0.11", invoice_id="invoice"),
        check=field_is("invoice_id", lambda w, c: w.invoice),
    ),
    Row(
        "POST",
        "/payments",
        table(FORBIDDEN, admin=CREATED),
        body=transfer("acme", "2.00"),
        check=field_is("client_id", lambda w, c: w.party("acme")),
        label="naming no invoice",
    ),
    # The client pays its own invoice by card; the admin sees it but may not pay it.
    Row(
        "POST",
        "/invoices/{invoice}/card-payments",
        table(NOT_THE_INVOICE, admin=FORBIDDEN, client=NO_STRIPE),
        body={"payment_method": "pm_card_visa"},
    ),
    # Stripe's webhook takes no token: without its secret, nobody's event is acted on.
    Row(
        "POST",
        "/payments/stripe/webhook",
        {caller: NO_STRIPE for caller in CALLERS},
        body=forged_payment_event,
    ),
    Row(
        "POST",
        "/payments/{acme_payment}/reversals",
        table(NOT_THE_PAYMENT, admin=CREATED, rival_client=FORBIDDEN),
        body={"kind": "refund", "amount": "1.00", "reference": "RF-ACME-2", "reason": ""},
        check=field_is("amount", lambda w, c: "1.00"),
    ),
    Row(
        "POST",
        "/payments/{horizon_payment}/reversals",
        table(NOT_THE_PAYMENT, admin=conflict("reversal_exceeds_payment"), client=FORBIDDEN),
        body={"kind": "chargeback", "amount": "20.01", "reference": "CB-1", "reason": "Fraud."},
        label="more than it was",
    ),
    Row(
        "POST",
        "/invoices/{invoice}/credit-notes",
        table(NOT_THE_INVOICE, admin=CREATED, client=FORBIDDEN),
        body={"amount": "0.01", "reason": "One box was drawn twice."},
        check=field_is("invoice_id", lambda w, c: w.invoice),
    ),
    Row(
        "POST",
        "/invoices/{invoice}/credit-notes",
        table(NOT_THE_INVOICE, admin=conflict("credit_exceeds_outstanding"), client=FORBIDDEN),
        body={"amount": "1.00", "reason": "More than it billed."},
        label="more than is outstanding",
    ),
    Row(
        "POST",
        "/payout-runs/{payout_run}/send",
        table(FORBIDDEN, admin=NO_STRIPE),
    ),
]


@pytest.mark.parametrize("rows", by_endpoint(WRITES))
def test_writes(app, api, world, rows):
    """Every write endpoint, by every caller, each call on a fresh world."""
    [prepare] = {row.prepare for row in rows}
    matrix = Matrix(app, api, world, prepare=prepare)
    wrong = matrix.run_rows(rows)
    assert not wrong, "\n".join(wrong)


# -- a payout run through Stripe, which is not configured ----------------------------------

STRIPE_RUN = Row(
    "POST",
    "/payout-runs",
    table(FORBIDDEN, admin=NO_STRIPE),
    body={"currency": "CNY", "gateway": "stripe"},
    label="through Stripe",
)
NOT_ADMINS = [person for person in PEOPLE if person != "admin"]


def test_a_stripe_run_without_stripe_is_refused_and_writes_nothing(app, api, world):
    matrix = Matrix(app, api, world)
    wrong = [
        w
        for caller in ("admin", ANONYMOUS, UNKNOWN, REVOKED)
        for w in matrix.run(STRIPE_RUN, caller)
    ]
    assert not wrong, "\n".join(wrong)


def test_a_stripe_run_asked_by_anyone_but_an_admin_is_forbidden(app, api, world):
    matrix = Matrix(app, api, world)
    wrong = [w for caller in NOT_ADMINS for w in matrix.run(STRIPE_RUN, caller)]
    assert not wrong, "\n".join(wrong)


# -- an invoice with a credit note ------------------------------------------------------------


def credit_a_fen(api: ApiClient, world: World) -> None:
    note = {"amount": "0.01", "reason": "One box was drawn twice."}
    created = api.post(f"/invoices/{world.invoice}/credit-notes", world.cast.admin, note)
    assert created.status == 201, created.text[:500]


def one_note_of_a_fen(matrix: Matrix, caller: str, answer: Response) -> str | None:
    got = [(n["invoice_id"], n["amount"]) for n in answer.body]
    return None if got == [(matrix.world.invoice, "0.01")] else f"credit notes {answer.body}"


CREDITED_READS = [
    Row(
        "GET",
        "/invoices/{invoice}/credit-notes",
        table(NOT_THE_INVOICE, admin=OK, client=OK),
        check=one_note_of_a_fen,
    ),
    Row("GET", "/invoices?format=csv", table(OK), check=invoices_csv_is("0.01")),
    Row(
        "GET",
        "/invoices/{invoice}",
        table(NOT_THE_INVOICE, admin=OK, client=OK),
        check=field_is("credited", lambda w, c: "0.01"),
    ),
]


def test_an_invoices_credit_notes_are_read_by_its_client_and_admins_only(app, api, world):
    """The invoice's client and platform admins see its credit note, in JSON and in the
    CSV list; a rival client, a team or an annotator gets 404 (and an empty list)."""
    matrix = Matrix(app, api, world, prepare=credit_a_fen)
    wrong = matrix.run_rows(CREDITED_READS)
    assert not wrong, "\n".join(wrong)
