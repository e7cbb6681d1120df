"""Write-offs of a client's negative balance: platform admins record them; the client's own
admins and platform admins read them.

A client's write-offs are its money: its client admins and platform admins read them,
another client gets 404, and teams, annotators and the stranger, who hold no client role,
get 403. Writing one off is the platform admins' alone: the client's own admins get 403,
another client 404, teams 403. In the world nobody's balance is below zero, so an admin's
write-off is refused (409 `balance_not_negative`), writing nothing; for the write rows
Horizon's CNY balance is first taken 0.50 below zero, as a chargeback of money its funded
work was paid from leaves it."""

import pytest

from marketplace import ledger
from marketplace.db import unit_of_work
from marketplace.payments.accounts import client_books, platform_bank
from tests.authorization.matrix import (
    CREATED,
    FORBIDDEN,
    LOTUS,
    OK,
    Matrix,
    Row,
    World,
    by_endpoint,
    conflict,
    field_is,
    ids_are,
    missing,
    table,
)
from tests.support import ApiClient

pytestmark = pytest.mark.slow

HORIZON = "{cast.party_ids[horizon]}"
ACME = "{cast.party_ids[acme]}"
NOT_THE_CLIENT = missing("client")
NONE = ids_are(lambda w, c: set())


def below_zero(api: ApiClient, world: World) -> None:
    """Horizon's CNY balance 0.50 below zero: the ledger's movement of a chargeback that took
    back money its funded work had been paid from (the bank gives it back; nothing covers
    it)."""
    with api.client.application.app_context(), unit_of_work() as session:
        horizon = world.party("horizon")
        ledger.post(
            session,
            key="test:horizon-charged-back",
            kind="chargeback",
            currency="CNY",
            legs=[
                ledger.credit(platform_bank(session, "CNY"), 50),
                ledger.debit(client_books(session, horizon, "CNY").credit, 50),
            ],
        )


def write_off(amount: str, currency: str = "CNY") -> dict:
    return {"currency": currency, "amount": amount, "reason": "The card issuer upheld it."}


READS = [
    Row(
        "GET",
        f"/clients/{HORIZON}/write-offs",
        table(FORBIDDEN, client=OK, admin=OK, rival_client=NOT_THE_CLIENT),
        check=NONE,
    ),
    Row(
        "GET",
        f"/clients/{ACME}/write-offs?currency=CNY",
        table(FORBIDDEN, rival_client=OK, admin=OK, client=NOT_THE_CLIENT),
        check=NONE,
    ),
    # A team is no client, even to a platform admin.
    Row(
        "GET",
        f"/clients/{LOTUS}/write-offs",
        table(FORBIDDEN, client=NOT_THE_CLIENT, rival_client=NOT_THE_CLIENT, admin=NOT_THE_CLIENT),
    ),
]

WRITES = [
    Row(
        "POST",
        f"/clients/{HORIZON}/write-offs",
        table(FORBIDDEN, admin=CREATED, rival_client=NOT_THE_CLIENT),
        body=write_off("0.50"),
        check=field_is("amount", lambda w, c: "0.50"),
        prepare=below_zero,
    ),
    Row(
        "POST",
        f"/clients/{HORIZON}/write-offs",
        table(FORBIDDEN, admin=conflict("write_off_exceeds_debt"), rival_client=NOT_THE_CLIENT),
        body=write_off("0.51"),
        label="more than owed",
        prepare=below_zero,
    ),
    Row(
        "POST",
        f"/clients/{HORIZON}/write-offs",
        table(FORBIDDEN, admin=conflict("balance_not_negative"), rival_client=NOT_THE_CLIENT),
        body=write_off("20.00", "USD"),
        label="in USD, where it holds 20.00",
        prepare=below_zero,
    ),
    Row(
        "POST",
        f"/clients/{ACME}/write-offs",
        table(FORBIDDEN, admin=conflict("balance_not_negative"), client=NOT_THE_CLIENT),
        body=write_off("0.50"),
        prepare=below_zero,
    ),
    Row(
        "POST",
        f"/clients/{LOTUS}/write-offs",
        table(FORBIDDEN, client=NOT_THE_CLIENT, rival_client=NOT_THE_CLIENT, admin=NOT_THE_CLIENT),
        body=write_off("0.50"),
        prepare=below_zero,
    ),
]


@pytest.mark.parametrize("rows", by_endpoint(WRITES))
def test_writes(app, api, world, rows):
    """Every write endpoint, by every caller, each call on a fresh world."""
    [prepare] = {row.prepare for row in rows}
    matrix = Matrix(app, api, world, prepare=prepare)
    wrong = matrix.run_rows(rows)
    assert not wrong, "\n".join(wrong)
