"""A client's balance and its history, card top-ups (the test app has no Stripe configured),
and the credit lines platform admins give clients.

A balance is its client's money: its client admins read it (naming no client, or their
own) and platform admins read it naming the client (naming none: 422 client_required);
another client's balance answers 404, and teams, annotators and the stranger, who hold no
client role, get 403. Top-ups are the client admins' own; credit lines are the platform
admins'. In the world Horizon's money is the 20.00 USD it sent (it has no CNY), and
Acme's is what is left of its 5.00 CNY after the 1.00 refunded.

Refund requests are client admins' and platform admins' to read, as payments are (anyone
else reads an empty list); client admins ask, no more than their balance less their open
requests (Acme has asked for 1.00 of its 4.00), and platform admins alone record the
transfer that sent one, or refuse it: its client admins get 403, anyone else 404."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest

from tests.authorization.matrix import (
    CREATED,
    FORBIDDEN,
    LOTUS,
    NO_CONTENT,
    OK,
    Matrix,
    Row,
    Want,
    World,
    by_endpoint,
    conflict,
    field_is,
    ids_are,
    missing,
    per_caller,
    table,
)
from tests.support import Response

pytestmark = pytest.mark.slow

HORIZON = "{cast.party_ids[horizon]}"
ACME = "{cast.party_ids[acme]}"
NOT_THE_CLIENT = missing("client")
CLIENT_REQUIRED: Want = (422, "client_required")
NO_STRIPE = conflict("stripe_not_configured")
NOT_THE_REFUND = missing("refund")
TOO_MUCH = conflict("refund_exceeds_balance")

# What each client's balance holds (available, reserved), per currency: nothing is reserved
# (the world's orders are invoiced, released against the cast's credit lines).
BALANCES = {
    "horizon": {"CNY": ("0.00", "0.00"), "USD": ("20.00", "0.00")},
    "acme": {"CNY": ("4.00", "0.00"), "USD": ("0.00", "0.00")},
}
# Every movement of a client's balance in a currency, oldest first: (account, kind, change).
HISTORIES = {
    ("horizon", "CNY"): [],
    ("horizon", "USD"): [("balance", "payment_received", "20.00")],
    ("acme", "CNY"): [("balance", "payment_received", "5.00"), ("balance", "refund", "-1.00")],
}
ZERO = ("0.00", "0.00")


def balances_of(whose: Callable[[str], str]) -> Callable:
    """The caller sees `whose(caller)`'s balance in CNY and USD (a currency it has no row
    in holds nothing) and no order's reservation."""

    def check(matrix: Matrix, caller: str, answer: Response) -> str | None:
        client = whose(caller)
        rows = {b["currency"]: b for b in answer.body}
        got = {
            currency: (rows[currency]["available"], rows[currency]["reserved"])
            if currency in rows
            else ZERO
            for currency in ("CNY", "USD")
        }
        held = [o for b in answer.body for o in b["orders"]]
        money = [
            b["currency"] for b in answer.body if Decimal(b["available"]) or Decimal(b["reserved"])
        ]
        ok = got == BALANCES[client] and not held and set(money) <= {"CNY", "USD"}
        return None if ok else f"balance {answer.body}, expected {client}'s {BALANCES[client]}"

    return check


def own(caller: str) -> str:
    return "acme" if caller == "rival_client" else "horizon"


def history_of(whose: Callable[[str], str], currency: str, count: int | None = None) -> Callable:
    """The caller sees `whose(caller)`'s movements in `currency` (the first `count`)."""

    def check(matrix: Matrix, caller: str, answer: Response) -> str | None:
        got = [(m["account"], m["kind"], m["change"]) for m in answer.body]
        want = HISTORIES[(whose(caller), currency)][:count]
        ok = got == want and all(m["currency"] == currency for m in answer.body)
        return None if ok else f"history {answer.body}, expected {want}"

    return check


def top_up(client: str | None = None) -> Callable[[World, str], dict]:
    def body(world: World, caller: str) -> dict:
        named = {"client_id": world.party(client)} if client else {}
        return {
            "amount": "100.00",
            "currency": "CNY",
            "payment_method": "pm_card_visa",
            "attempt": "top-up-1",
            **named,
        }

    return body


@dataclass(frozen=True)
class LineRow(Row):
    """A row on a credit line, whose path ends in its currency's code (the app's rule has
    a placeholder there): its route names the endpoint, whatever the currency."""

    @property
    def route(self) -> str:
        return re.sub(r"/credit-lines/[A-Z]{3}$", "/credit-lines/{}", super().route)


def ask(amount: str, client: str | None = None) -> Callable[[World, str], dict]:
    """A request for `amount` CNY of the balance back, naming `client` if given."""

    def body(world: World, caller: str) -> dict:
        named = {"client_id": world.party(client)} if client else {}
        return {"amount": amount, "currency": "CNY", **named}

    return body


def acme_asked(amount: str) -> Callable:
    """A new request of Acme's for `amount` CNY, open."""

    def check(matrix: Matrix, caller: str, answer: Response) -> str | None:
        body = answer.body
        got = (body["client_id"], body["currency"], body["amount"], body["status"])
        want = (matrix.world.party("acme"), "CNY", amount, "requested")
        ok = got == want and body["id"] != matrix.world.acme_balance_refund
        return None if ok else f"refund {body}, expected {want}"

    return check


def decided(status: str, **fields: str) -> Callable:
    """Acme's request, now `status`, with `fields` as sent."""

    def check(matrix: Matrix, caller: str, answer: Response) -> str | None:
        body = answer.body
        want = {"id": matrix.world.acme_balance_refund, "amount": "1.00", "status": status}
        want |= fields
        ok = {key: body.get(key) for key in want} == want and body["decided_at"]
        return None if ok else f"refund {body}, expected {want}"

    return check


ACME_ASKED = per_caller(
    admin=lambda w: {w.acme_balance_refund}, rival_client=lambda w: {w.acme_balance_refund}
)
LINE = {"limit": "50000.00", "reason": "Pays every invoice on time."}

READS = [
    # Naming no client: a client admin's own; a platform admin must name one.
    Row(
        "GET",
        "/balance",
        table(FORBIDDEN, client=OK, rival_client=OK, admin=CLIENT_REQUIRED),
        check=balances_of(own),
    ),
    Row(
        "GET",
        f"/balance?client_id={HORIZON}",
        table(FORBIDDEN, client=OK, admin=OK, rival_client=NOT_THE_CLIENT),
        check=balances_of(lambda caller: "horizon"),
    ),
    Row(
        "GET",
        f"/balance?client_id={ACME}",
        table(FORBIDDEN, rival_client=OK, admin=OK, client=NOT_THE_CLIENT),
        check=balances_of(lambda caller: "acme"),
    ),
    # A team is no client, even to a platform admin.
    Row(
        "GET",
        f"/balance?client_id={LOTUS}",
        table(FORBIDDEN, client=NOT_THE_CLIENT, rival_client=NOT_THE_CLIENT, admin=NOT_THE_CLIENT),
    ),
    Row(
        "GET",
        "/balance/history?currency=CNY",
        table(FORBIDDEN, client=OK, rival_client=OK, admin=CLIENT_REQUIRED),
        check=history_of(own, "CNY"),
    ),
    Row(
        "GET",
        f"/balance/history?currency=USD&client_id={HORIZON}",
        table(FORBIDDEN, client=OK, admin=OK, rival_client=NOT_THE_CLIENT),
        check=history_of(lambda caller: "horizon", "USD"),
    ),
    Row(
        "GET",
        f"/balance/history?currency=CNY&client_id={ACME}",
        table(FORBIDDEN, rival_client=OK, admin=OK, client=NOT_THE_CLIENT),
        check=history_of(lambda caller: "acme", "CNY"),
    ),
    Row(
        "GET",
        f"/balance/history?currency=CNY&client_id={ACME}&limit=1",
        table(FORBIDDEN, rival_client=OK, admin=OK, client=NOT_THE_CLIENT),
        check=history_of(lambda caller: "acme", "CNY", 1),
    ),
    # Refund requests: Acme's, for its client admins and platform admins; nobody else's.
    Row("GET", "/balance/refunds", table(OK), check=ids_are(ACME_ASKED)),
    Row("GET", "/balance/refunds?limit=1", table(OK), check=ids_are(ACME_ASKED)),
    Row(
        "GET",
        "/balance/refunds?after={acme_balance_refund}",
        table(OK),
        check=ids_are(lambda w, c: set()),
    ),
]

WRITES = [
    # A client admin tops up its own balance by card: without Stripe, refused, nothing
    # written; platform admins record transfers instead (POST /payments), not cards.
    Row(
        "POST",
        "/balance/top-ups",
        table(FORBIDDEN, client=NO_STRIPE, rival_client=NO_STRIPE),
        body=top_up(),
    ),
    Row(
        "POST",
        "/balance/top-ups",
        table(FORBIDDEN, client=NOT_THE_CLIENT, rival_client=NO_STRIPE),
        body=top_up("acme"),
        label="naming Acme",
    ),
    # A refund request: Acme's 4.00 CNY less the 1.00 it asked for leaves 3.00; Horizon
    # has no CNY; nobody but a client admin asks.
    Row(
        "POST",
        "/balance/refunds",
        table(FORBIDDEN, client=TOO_MUCH, rival_client=CREATED),
        body=ask("3.00"),
        check=acme_asked("3.00"),
    ),
    Row(
        "POST",
        "/balance/refunds",
        table(FORBIDDEN, client=TOO_MUCH, rival_client=TOO_MUCH),
        body=ask("3.01"),
        label="more than is left",
    ),
    Row(
        "POST",
        "/balance/refunds",
        table(FORBIDDEN, client=NOT_THE_CLIENT, rival_client=CREATED),
        body=ask("0.01", "acme"),
        check=acme_asked("0.01"),
        label="naming Acme",
    ),
    # Deciding one: platform admins; Acme's client admins see it but may not.
    Row(
        "POST",
        "/balance/refunds/{acme_balance_refund}/paid",
        table(NOT_THE_REFUND, admin=OK, rival_client=FORBIDDEN),
        body={"reference": "ICBC-OUT-1"},
        check=decided("refunded", reference="ICBC-OUT-1"),
    ),
    Row(
        "POST",
        "/balance/refunds/{acme_balance_refund}/refused",
        table(NOT_THE_REFUND, admin=OK, rival_client=FORBIDDEN),
        body={"reason": "It funds Acme's next order."},
        check=decided("refused", note="It funds Acme's next order."),
    ),
    # Credit lines: platform admins only, on a client (a team is none).
    LineRow(
        "PUT",
        f"/clients/{HORIZON}/credit-lines/CNY",
        table(FORBIDDEN, admin=OK),
        body=LINE,
        check=field_is("limit", lambda w, c: "50000.00"),
    ),
    LineRow(
        "PUT",
        f"/clients/{ACME}/credit-lines/EUR",
        table(FORBIDDEN, admin=OK),
        body=LINE,
        check=field_is("client_id", lambda w, c: w.party("acme")),
        label="a new one",
    ),
    LineRow(
        "PUT",
        f"/clients/{LOTUS}/credit-lines/CNY",
        table(FORBIDDEN, admin=NOT_THE_CLIENT),
        body=LINE,
    ),
    LineRow("DELETE", f"/clients/{HORIZON}/credit-lines/CNY", table(FORBIDDEN, admin=NO_CONTENT)),
    LineRow(
        "DELETE",
        f"/clients/{ACME}/credit-lines/EUR",
        table(FORBIDDEN, admin=missing("credit_line")),
    ),
    LineRow("DELETE", f"/clients/{LOTUS}/credit-lines/CNY", table(FORBIDDEN, admin=NOT_THE_CLIENT)),
]


@pytest.mark.parametrize("rows", by_endpoint(WRITES))
def test_writes(app, api, world, rows):
    """Every write endpoint, by every caller, each call on a fresh world."""
    matrix = Matrix(app, api, world)
    wrong = matrix.run_rows(rows)
    assert not wrong, "\n".join(wrong)
