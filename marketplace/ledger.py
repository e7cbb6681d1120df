"""The double-entry ledger: accounts, balanced transactions, balances.

An entry's `amount_minor` is positive for a debit and negative for a credit;
every transaction's entries sum to zero. Entries are never updated or deleted:
a correction is a new, reversing transaction. Each transaction carries a unique
idempotency key, and posting a key again returns the first transaction.

Chart of accounts, per holder (a party, or an annotator inside a team) and currency:

- `receivable` (client, debit-normal): what the client owes for invoiced items.
- `credit` (client, credit-normal): money the client sent that no invoice has taken
  yet; every payment passes through it on its way to the invoices it pays.
- `reserved` (client, credit-normal): credit held for the work of funded orders (their
  drops), until accepted work posts it to a statement or a void gives it back.
- `bank` (platform, debit-normal): money that arrived from clients.
- `loss` (platform, debit-normal): what the platform gave up: a client's negative
  balance (funded work paid, its money then charged back) an admin wrote off.
- `pending` / `available` / `paid` (earners, credit-normal): earnings waiting on
  the client's money, settled and payable, and sent out. `paid` is the outflow
  side of the bank: the platform's cash is `bank` minus all `paid`.
"""

import enum
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    func,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from marketplace import clock
from marketplace.db import Base, Entity, Id, UTCDateTime, insert_integer_rows, upsert
from marketplace.errors import Conflict
from marketplace.money import check_currency


class AccountKind(enum.StrEnum):
    RECEIVABLE = "receivable"
    CREDIT = "credit"
    RESERVED = "reserved"
    BANK = "bank"
    LOSS = "loss"
    PENDING = "pending"
    AVAILABLE = "available"
    PAID = "paid"

    @property
    def credit_normal(self) -> bool:
        return self in (
            AccountKind.CREDIT,
            AccountKind.RESERVED,
            AccountKind.PENDING,
            AccountKind.AVAILABLE,
            AccountKind.PAID,
        )


EARNING_KINDS = (AccountKind.PENDING, AccountKind.AVAILABLE, AccountKind.PAID)


class Account(Entity, Base):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        # One account per holder, kind and currency. Two partial indexes because a
        # NULL user_id (the party itself) is never equal to another NULL.
        Index(
            "uq_ledger_accounts_party_holder",
            "party_id",
            "kind",
            "currency",
            unique=True,
            sqlite_where=text("user_id IS NULL"),
            postgresql_where=text("user_id IS NULL"),
        ),
        Index(
            "uq_ledger_accounts_member_holder",
            "party_id",
            "user_id",
            "kind",
            "currency",
            unique=True,
            sqlite_where=text("user_id IS NOT NULL"),
            postgresql_where=text("user_id IS NOT NULL"),
        ),
    )

    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    # Set for an annotator's own earnings inside a team; NULL for the party's.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))


class LedgerTransaction(Entity, Base):
    __tablename__ = "ledger_transactions"

    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3))
    memo: Mapped[str] = mapped_column(String(500), default="")
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    entries: Mapped[list["Entry"]] = relationship(
        back_populates="transaction", order_by="Entry.id", lazy="selectin"
    )


class Entry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (CheckConstraint("amount_minor <> 0", name="nonzero_amount"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")


class AccountRef(NamedTuple):
    """An account by id, as bulk look-ups give it (no ORM object per account)."""

    id: int
    currency: str


@dataclass(frozen=True)
class Leg:
    """One side of a movement: a debit (positive) or credit (negative) on an account."""

    account: Account | AccountRef
    amount_minor: int


def debit(account: Account | AccountRef, amount_minor: int) -> Leg:
    return Leg(account, amount_minor)


def credit(account: Account | AccountRef, amount_minor: int) -> Leg:
    return Leg(account, -amount_minor)


def account(
    session: Session, *, party_id: int, kind: AccountKind, currency: str, user_id: int | None = None
) -> Account:
    """The holder's account of that kind and currency, opened on first use (safe under races)."""
    query = select(Account).where(
        Account.party_id == party_id,
        Account.kind == kind,
        Account.currency == currency,
        Account.user_id.is_(None) if user_id is None else Account.user_id == user_id,
    )
    found = session.scalar(query)
    if found:
        return found
    opened = Account(
        party_id=party_id, user_id=user_id, kind=kind, currency=check_currency(currency)
    )
    try:
        with session.begin_nested():
            session.add(opened)
    except IntegrityError:
        return session.scalars(query).one()
    return opened


Holder = tuple[int, int | None]  # (party id, annotator's user id or None)


def accounts(
    session: Session, holders: set[Holder], *, kind: AccountKind, currency: str
) -> dict[Holder, AccountRef]:
    """Each holder's account of that kind and currency, the missing ones opened, in a
    few statements whatever the number of holders (a settlement may touch thousands).
    Safe under races: an account opened meanwhile by another unit of work is found."""
    found = _held(session, holders, kind, currency)
    missing = sorted(holders - found.keys(), key=lambda holder: (holder[0], holder[1] or 0))
    if missing:
        check_currency(currency)
        now = clock.now()
        rows = [
            {"party_id": p, "user_id": u, "kind": kind, "currency": currency, "created_at": now}
            for p, u in missing
        ]
        for chunk in range(0, len(rows), 1000):
            session.execute(
                upsert(session, Account).on_conflict_do_nothing(), rows[chunk : chunk + 1000]
            )
        found |= _held(session, set(missing), kind, currency)
    return found


def _held(
    session: Session, holders: set[Holder], kind: AccountKind, currency: str
) -> dict[Holder, AccountRef]:
    found: dict[Holder, AccountRef] = {}
    party_ids = sorted({party_id for party_id, _ in holders})
    for chunk in range(0, len(party_ids), 1000):
        for party_id, user_id, account_id in session.execute(
            select(Account.party_id, Account.user_id, Account.id).where(
                Account.kind == kind,
                Account.currency == currency,
                Account.party_id.in_(party_ids[chunk : chunk + 1000]),
            )
        ):
            if (party_id, user_id) in holders:
                found[(party_id, user_id)] = AccountRef(account_id, currency)
    return found


def post(
    session: Session, *, key: str, kind: str, currency: str, legs: list[Leg], memo: str = ""
) -> LedgerTransaction:
    """Record one balanced movement, exactly once per idempotency key.

    Legs on the same account are added up, and what nets to zero is dropped; what
    remains must be non-empty, in one currency and sum to zero. Posting a key that
    exists returns the first transaction; posting it with different legs raises
    Conflict, because that is a different movement. The entries are written in a
    few multi-row statements, whatever their number (a settlement has thousands).
    """
    if any(leg.account.currency != currency for leg in legs):
        raise ValueError(f"ledger transaction {key!r} mixes currencies")
    movement: dict[int, int] = defaultdict(int)
    for leg in legs:
        movement[leg.account.id] += leg.amount_minor
    movement = {account_id: amount for account_id, amount in movement.items() if amount}
    if not movement or sum(movement.values()) != 0:
        raise ValueError(f"unbalanced or empty ledger transaction {key!r}")
    existing = _transaction_by_key(session, key)
    if existing is None:
        transaction = LedgerTransaction(
            idempotency_key=key, kind=kind, currency=currency, memo=memo, posted_at=clock.now()
        )
        try:
            with session.begin_nested():
                session.add(transaction)
        except IntegrityError:
            existing = _transaction_by_key(session, key)
            if existing is None:
                raise
        else:
            insert_integer_rows(
                session,
                Entry,
                [
                    {
                        "transaction_id": transaction.id,
                        "account_id": account,
                        "amount_minor": amount,
                    }
                    for account, amount in sorted(movement.items())
                ],
            )
            session.expire(transaction, ["entries"])
            return transaction
    if _movement(session, existing) != movement:
        raise Conflict(
            "this idempotency key was already used for a different movement",
            code="idempotency_conflict",
            key=key,
        )
    return existing


def _transaction_by_key(session: Session, key: str) -> LedgerTransaction | None:
    return session.scalar(select(LedgerTransaction).where(LedgerTransaction.idempotency_key == key))


def _movement(session: Session, transaction: LedgerTransaction) -> dict[int, int]:
    """What a posted transaction moved, per account."""
    return {
        account_id: int(total)
        for account_id, total in session.execute(
            select(Entry.account_id, func.sum(Entry.amount_minor))
            .where(Entry.transaction_id == transaction.id)
            .group_by(Entry.account_id)
        )
    }


@dataclass
class Earnings:
    """A holder's earnings in one currency, in minor units."""

    currency: str
    pending: int = 0
    available: int = 0
    paid: int = 0


def earnings(
    session: Session, *, party_id: int, user_id: int | None = None, before: datetime | None = None
) -> list[Earnings]:
    """The holder's pending, available and paid earnings per currency: now, or as they
    stood just before the moment `before`."""
    query = (
        select(Account.currency, Account.kind, func.coalesce(func.sum(Entry.amount_minor), 0))
        .join(Entry, Entry.account_id == Account.id)
        .where(
            Account.party_id == party_id,
            Account.user_id.is_(None) if user_id is None else Account.user_id == user_id,
            Account.kind.in_(EARNING_KINDS),
        )
        .group_by(Account.currency, Account.kind)
    )
    if before is not None:
        query = query.join(LedgerTransaction, LedgerTransaction.id == Entry.transaction_id).where(
            LedgerTransaction.posted_at < before
        )
    rows = session.execute(query)
    by_currency: dict[str, Earnings] = {}
    for currency, kind, total in rows:
        holding = by_currency.setdefault(currency, Earnings(currency))
        setattr(holding, kind, -int(total))
    return [by_currency[c] for c in sorted(by_currency)]


def balance(session: Session, account_: Account) -> int:
    """The account's balance in its normal direction (credit-normal accounts read positive)."""
    total = session.scalar(
        select(func.coalesce(func.sum(Entry.amount_minor), 0)).where(
            Entry.account_id == account_.id
        )
    )
    return -int(total) if AccountKind(account_.kind).credit_normal else int(total)


def totals_by_currency(session: Session) -> dict[str, int]:
    """Sum of all entries per currency: zero for every currency in a sound ledger."""
    rows = session.execute(
        select(Account.currency, func.sum(Entry.amount_minor))
        .join(Entry, Entry.account_id == Account.id)
        .group_by(Account.currency)
    )
    return {currency: int(total) for currency, total in rows}
