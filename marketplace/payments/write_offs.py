"""Writing off a client's negative balance: the platform's loss, recorded with its reason.

A refund or chargeback of a top-up never takes back work its funded orders were already
paid for (payments/reversals.py): what the client's balance and reservations cannot
cover leaves its balance below zero, and the reversal says how much (`uncovered_minor`).
That balance is money the client owes: its next top-up repays it first (the balance is
its `credit` account), and the client stays on credit hold until an admin lifts it.

A platform admin who gives up on (part of) it writes it off, saying why: one balanced
ledger transaction debits the platform's `loss` account and credits the client's
`credit` account, never beyond bringing the balance back to zero. The write-off does not
lift the hold: lifting it is a decision of its own (receivables/holds.py).
"""

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.db import find, keyset_page
from marketplace.errors import Conflict, Invalid, NotFound
from marketplace.identity import audit
from marketplace.identity.actor import Actor
from marketplace.identity.models import Party, PartyKind, Role
from marketplace.identity.service import platform_party
from marketplace.identity.standing import hold_client
from marketplace.ledger import Account, AccountKind
from marketplace.money import format_minor
from marketplace.orders.funding import client_balance
from marketplace.payments.accounts import client_books
from marketplace.payments.amounts import minor_units
from marketplace.payments.models import BalanceWriteOff, Payment, Reversal

# The ledger transaction of a write-off: its kind (shown in the client's balance history)
# and its idempotency key's prefix. Not `write-off:`, which an invoice's write-off (a
# credit note of kind write_off, on the receivable) already keys.
LEDGER_KIND = "balance_write_off"
KEY_PREFIX = "balance-write-off:"


def platform_loss(session: Session, currency: str) -> Account:
    """Where the platform books what it gave up of clients' negative balances."""
    return ledger.account(
        session, party_id=platform_party(session).id, kind=AccountKind.LOSS, currency=currency
    )


def write_off_balance(
    session: Session,
    actor: Actor,
    client_id: int,
    *,
    currency: str,
    amount: Decimal,
    reason: str,
    reversal_id: int | None = None,
) -> BalanceWriteOff:
    """Write off `amount` of the client's negative balance in `currency` (platform admins).

    At most what the client owes (409 `write_off_exceeds_debt`); 409
    `balance_not_negative` if it owes nothing. A `reversal_id` names the refund or
    chargeback that left the balance below zero (422 `unknown_reversal` unless it is one
    of this client's payments in `currency`); what write-offs naming it add up to stays
    within what it left uncovered (409 `write_off_exceeds_uncovered`). The client's
    credit hold stays.
    """
    client = _client(session, actor, client_id)
    actor.require(Role.PLATFORM_ADMIN)
    amount_minor = minor_units(amount, currency, "amount")
    reversal = None if reversal_id is None else _reversal(session, client, currency, reversal_id)
    hold_client(session, client)
    owed = -client_balance(session, client, currency)
    if owed <= 0:
        raise Conflict(
            "The client's balance is not below zero: it owes nothing to write off.",
            code="balance_not_negative",
            balance=format_minor(-owed, currency),
        )
    if amount_minor > owed:
        raise Conflict(
            "A write-off brings the client's balance back to zero at most.",
            code="write_off_exceeds_debt",
            owed=format_minor(owed, currency),
        )
    if reversal is not None:
        left = reversal.uncovered_minor - _written_off_against(session, reversal.id)
        if amount_minor > left:
            raise Conflict(
                f"Refund or chargeback {reversal.id} left less than that uncovered.",
                code="write_off_exceeds_uncovered",
                uncovered=format_minor(max(left, 0), currency),
            )
    write_off = BalanceWriteOff(
        client_party_id=client,
        currency=currency,
        amount_minor=amount_minor,
        reason=reason,
        reversal_id=reversal_id,
        recorded_by_user_id=actor.user_id,
    )
    session.add(write_off)
    session.flush()
    ledger.post(
        session,
        key=f"{KEY_PREFIX}{write_off.id}",
        kind=LEDGER_KIND,
        currency=currency,
        legs=[
            ledger.debit(platform_loss(session, currency), amount_minor),
            ledger.credit(client_books(session, client, currency).credit, amount_minor),
        ],
        memo=f"written off: {reason}"[:500],
    )
    audit.record(
        session,
        actor,
        "balance.written_off",
        ("balance_write_off", write_off.id),
        client_id=client,
        amount=format_minor(amount_minor, currency),
        currency=currency,
        reason=reason,
        reversal_id=reversal_id,
    )
    return write_off


def client_write_offs(
    session: Session,
    actor: Actor,
    client_id: int,
    *,
    currency: str | None = None,
    limit: int,
    after: int,
) -> list[BalanceWriteOff]:
    """The write-offs of the client's negative balance, oldest first (a page of them): for
    its client admins and platform admins; 404 for another client, 403 for a team."""
    client = _client(session, actor, client_id)
    query = select(BalanceWriteOff).where(BalanceWriteOff.client_party_id == client)
    if currency is not None:
        query = query.where(BalanceWriteOff.currency == currency)
    return keyset_page(session, query, limit=limit, after=after)


def _client(session: Session, actor: Actor, client_id: int) -> int:
    """The client, as the actor may see it: any (platform admins), its own (client admins:
    404 for another), none (403: a team holds no client role)."""
    if actor.is_platform_admin:
        client = find(session, Party, client_id)
        if client is None or client.kind != PartyKind.CLIENT:
            raise NotFound(f"No client {client_id}.", code="client_not_found")
        return client.id
    actor.require(Role.CLIENT_ADMIN)
    return actor.acting_for(Role.CLIENT_ADMIN, client_id, "client")


def _reversal(session: Session, client: int, currency: str, reversal_id: int) -> Reversal:
    reversal = session.scalar(
        select(Reversal)
        .join(Payment, Payment.id == Reversal.payment_id)
        .where(
            Reversal.id == reversal_id,
            Payment.client_party_id == client,
            Payment.currency == currency,
        )
    )
    if reversal is None:
        raise Invalid(
            f"No refund or chargeback {reversal_id} of this client's {currency} payments.",
            code="unknown_reversal",
            field="reversal_id",
        )
    return reversal


def _written_off_against(session: Session, reversal_id: int) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(BalanceWriteOff.amount_minor), 0)).where(
                BalanceWriteOff.reversal_id == reversal_id
            )
        )
    )
