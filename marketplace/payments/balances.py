"""A client's money on the platform: its balance, what its funded orders hold reserved,
the history of both, and the credit lines admins give trusted clients.

Read by the client's own admins and platform admins only: it is the client's money.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from marketplace.db import find
from marketplace.errors import Invalid, NotFound
from marketplace.identity import audit
from marketplace.identity.actor import Actor
from marketplace.identity.models import CreditLine, Party, PartyKind, Role
from marketplace.ledger import Account, AccountKind, Entry, LedgerTransaction
from marketplace.money import check_currency, format_minor
from marketplace.orders.funding import credit_exposure
from marketplace.orders.models import Order, Reservation, ReservationKind
from marketplace.payments.amounts import minor_units


@dataclass
class OrderReservation:
    """One funded order's reservation: what it holds now, and what went where."""

    order_id: int
    title: str
    funding: str
    currency: str
    held_minor: int = 0
    reserved_minor: int = 0
    posted_minor: int = 0
    voided_minor: int = 0
    items_posted: int = 0


@dataclass
class Balance:
    """A client's money in one currency."""

    currency: str
    available_minor: int = 0  # its balance: sent, and neither applied nor reserved
    reserved_minor: int = 0  # held for its funded orders' released work
    credit_line_minor: int | None = None
    credit_used_minor: int = 0
    orders: list[OrderReservation] = field(default_factory=list)


def client_balances(session: Session, actor: Actor, client_id: int | None) -> list[Balance]:
    """The client's balance per currency (every currency it has money, a reservation or a
    credit line in), with each funded order's reservation."""
    client = _client(session, actor, client_id)
    balances: dict[str, Balance] = {}

    def in_(currency: str) -> Balance:
        return balances.setdefault(currency, Balance(currency))

    for currency, kind, total in session.execute(
        select(Account.currency, Account.kind, func.coalesce(func.sum(Entry.amount_minor), 0))
        .join(Entry, Entry.account_id == Account.id)
        .where(
            Account.party_id == client,
            Account.user_id.is_(None),
            Account.kind.in_([AccountKind.CREDIT, AccountKind.RESERVED]),
        )
        .group_by(Account.currency, Account.kind)
    ):
        name = "available_minor" if kind == AccountKind.CREDIT else "reserved_minor"
        setattr(in_(currency), name, -int(total))
    for line in session.scalars(select(CreditLine).where(CreditLine.party_id == client)):
        in_(line.currency).credit_line_minor = line.limit_minor
        in_(line.currency).credit_used_minor = credit_exposure(session, client, line.currency)
    for reservation in _reservations(session, client):
        in_(reservation.currency).orders.append(reservation)
    return [balances[currency] for currency in sorted(balances)]


def _reservations(session: Session, client: int) -> list[OrderReservation]:
    totals: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = session.execute(
        select(
            Reservation.order_id,
            Reservation.kind,
            func.sum(Reservation.amount_minor),
            func.sum(case((Reservation.kind == ReservationKind.POST, Reservation.items), else_=0)),
        )
        .join(Order, Order.id == Reservation.order_id)
        .where(Order.client_party_id == client)
        .group_by(Reservation.order_id, Reservation.kind)
    )
    for order_id, kind, amount, items in rows:
        totals[order_id][kind] = int(amount)
        totals[order_id]["items"] += int(items)
    held = []
    for order in session.scalars(select(Order).where(Order.id.in_(totals)).order_by(Order.id)):
        moved = totals[order.id]
        reserved = moved[ReservationKind.RESERVE]
        posted, voided = moved[ReservationKind.POST], moved[ReservationKind.VOID]
        view = OrderReservation(
            order_id=order.id,
            title=order.title,
            funding=order.funding,
            currency=order.currency,
            held_minor=reserved - posted - voided,
            reserved_minor=reserved,
            posted_minor=posted,
            voided_minor=voided,
            items_posted=moved["items"],
        )
        held.append(view)
    return held


@dataclass(frozen=True)
class Movement:
    """One change of the client's balance or reservations, as the ledger recorded it."""

    id: int
    at: object
    kind: str
    memo: str
    account: str  # "balance" or "reserved"
    change_minor: int  # + in, - out
    currency: str


def balance_history(
    session: Session, actor: Actor, client_id: int | None, currency: str, *, limit: int, after: int
) -> list[Movement]:
    """Every movement of the client's balance and reservations in `currency`, oldest first
    (a page of them, by entry id): top-ups, invoices paid, reservations, posts, voids,
    refunds and chargebacks, and write-offs of a negative balance (kind
    `balance_write_off`, the admin's reason in the memo)."""
    client = _client(session, actor, client_id)
    rows = session.execute(
        select(
            Entry.id,
            LedgerTransaction.posted_at,
            LedgerTransaction.kind,
            LedgerTransaction.memo,
            Account.kind,
            Entry.amount_minor,
        )
        .join(Account, Account.id == Entry.account_id)
        .join(LedgerTransaction, LedgerTransaction.id == Entry.transaction_id)
        .where(
            Account.party_id == client,
            Account.user_id.is_(None),
            Account.currency == check_currency(currency),
            Account.kind.in_([AccountKind.CREDIT, AccountKind.RESERVED]),
            Entry.id > after,
        )
        .order_by(Entry.id)
        .limit(limit)
    )
    return [
        Movement(
            id=entry_id,
            at=posted_at,
            kind=kind,
            memo=memo,
            account="balance" if account == AccountKind.CREDIT else "reserved",
            change_minor=-amount,
            currency=currency,
        )
        for entry_id, posted_at, kind, memo, account, amount in rows
    ]


def set_credit_line(
    session: Session, actor: Actor, client_id: int, currency: str, *, limit: Decimal, reason: str
) -> CreditLine:
    """Give the client (or change) a credit line in `currency` (platform admins): it may post
    invoiced orders, released while what it owes and its released work stay within it."""
    actor.require(Role.PLATFORM_ADMIN)
    client = _client(session, actor, client_id)
    limit_minor = minor_units(limit, currency, "limit")
    line = session.scalar(
        select(CreditLine).where(CreditLine.party_id == client, CreditLine.currency == currency)
    )
    if line is None:
        line = CreditLine(party_id=client, currency=currency, limit_minor=0)
        session.add(line)
    line.limit_minor, line.reason, line.set_by_user_id = limit_minor, reason, actor.user_id
    session.flush()
    audit.record(
        session,
        actor,
        "credit_line.set",
        ("party", client),
        currency=currency,
        limit=format_minor(limit_minor, currency),
        reason=reason,
    )
    return line


def remove_credit_line(session: Session, actor: Actor, client_id: int, currency: str) -> None:
    """End the client's credit line in `currency` (platform admins): its invoiced orders'
    drops wait from now on; what it owes is owed as before. 404 if it has none."""
    actor.require(Role.PLATFORM_ADMIN)
    client = _client(session, actor, client_id)
    line = session.scalar(
        select(CreditLine).where(CreditLine.party_id == client, CreditLine.currency == currency)
    )
    if line is None:
        raise NotFound(f"No credit line in {currency}.", code="credit_line_not_found")
    session.delete(line)
    audit.record(session, actor, "credit_line.removed", ("party", client), currency=currency)


def _client(session: Session, actor: Actor, client_id: int | None) -> int:
    """The client the actor reads or manages: its own (client admins), any (admins)."""
    if not actor.is_platform_admin:
        actor.require(Role.CLIENT_ADMIN)
        return actor.acting_for(Role.CLIENT_ADMIN, client_id, "client")
    if client_id is None:
        raise Invalid("Name the client: client_id.", code="client_required")
    client = find(session, Party, client_id)
    if client is None or client.kind != PartyKind.CLIENT:
        raise NotFound(f"No client {client_id}.", code="client_not_found")
    return client.id
