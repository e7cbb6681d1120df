"""Who may read which figure of the story, and so what each reader must never read.

A secret is a figure and the readers who may see it: the two parties of a link see its
price and line; a team's owner sees its margin (its members do not); an annotator and
her team's owner see her earnings; the client alone sees its money: invoices, payments,
credit notes, refunds, chargebacks, write-offs, the fee (not even its prime
contractor, whose line is the invoice's items line). Platform admins see everything.
Figures of the moment under 1.00 are left out: a few fen happen to be many things at
once (the story's prices, all under 1.00, are kept).

The figures of the moment are read from the database, so a payment, a reversal or a
ledger entry the story adds is a secret the day it is made.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.identity.models import Party, PartyKind
from marketplace.ledger import EARNING_KINDS, Account, Entry
from marketplace.payments.models import (
    Application,
    BalanceWriteOff,
    CreditNote,
    Invoice,
    Payment,
    Reversal,
)

LEAST = Decimal("1.00")


@dataclass(frozen=True)
class Reader:
    label: str  # "bridge reviewer"
    token: str
    party: str  # the party's label: horizon, apex, bridge, crane, acme, tiger, platform
    role: str  # client, owner, reviewer, annotator, admin
    user_id: int


@dataclass(frozen=True)
class Secret:
    figure: Decimal
    what: str
    seen_by: Callable[[Reader], bool]


def parties(*labels: str) -> Callable[[Reader], bool]:
    return lambda reader: reader.party in labels


def owner_of(team: str) -> Callable[[Reader], bool]:
    return lambda reader: reader.party == team and reader.role == "owner"


def earner(team: str, user_id: int) -> Callable[[Reader], bool]:
    return lambda reader: reader.user_id == user_id or owner_of(team)(reader)


# The client's money (invoices, payments, the fee) is the client's alone to see.
CLIENT_SIDE = parties("horizon")

# The story's links: (parties that see it, price, line).
LINKS = [
    (("horizon", "apex"), "0.10", "196.00", "Horizon's price to Apex"),
    (("apex", "bridge"), "0.08", "156.80", "Apex's price to Bridge"),
    (("bridge", "crane"), "0.055", "107.80", "Bridge's price to Crane"),
    (("crane",), "0.04", "78.40", "Crane's piece rate"),
]
MARGINS = {"apex": "39.20", "bridge": "49.00", "crane": "29.40"}
# An hour's pay at each link's price, at the story's 17 s a box: (who sees it, figure).
# The client reads the pass-through's hour: the share of her line that reaches Crane.
HOURS = [
    (("horizon", "apex"), "21.18", "an hour at Horizon's price"),
    (("apex", "bridge"), "16.94", "an hour at Apex's price to Bridge"),
    (("bridge", "crane", "horizon"), "11.65", "an hour at Bridge's price to Crane"),
    (("crane",), "8.47", "an hour at Crane's piece rate"),
]


def story_secrets() -> list[Secret]:
    """The chain's prices, lines, margins and hours, worked out by hand
    (tests/privacy/story.py)."""
    secrets = []
    for seen, price, line, what in LINKS:
        secrets.append(Secret(Decimal(price), what, parties(*seen)))
        secrets.append(Secret(Decimal(line), f"the line of {what}", parties(*seen)))
    secrets += [
        Secret(Decimal(amount), f"{team.title()}'s margin", owner_of(team))
        for team, amount in MARGINS.items()
    ]
    secrets += [Secret(Decimal(hour), what, parties(*seen)) for seen, hour, what in HOURS]
    return secrets


# The client's money: each row's figures (the `_minor` attributes), by model.
CLIENT_FIGURES = [
    (Invoice, "number", ("items", "fee", "total", "credited", "paid", "outstanding")),
    (Payment, "reference", ("amount", "applied", "returned", "unapplied")),
    (Application, "id", ("amount",)),
    (CreditNote, "number", ("amount",)),
    (Reversal, "reference", ("amount", "uncovered")),
    (BalanceWriteOff, "id", ("amount",)),
]


def money_secrets(session: Session, labels: dict[int, str]) -> list[Secret]:
    """Every figure of the client's money and every holder's ledger, as it stands now.
    `labels` names each party id of the story (horizon, apex, ...)."""
    secrets = [
        Secret(
            _major(getattr(row, f"{attribute}_minor")),
            f"{model.__name__} {getattr(row, name)} {attribute}",
            CLIENT_SIDE,
        )
        for model, name, attributes in CLIENT_FIGURES
        for row in session.scalars(select(model))
        for attribute in attributes
    ]
    return [s for s in secrets + _ledger_secrets(session, labels) if s.figure >= LEAST]


def _ledger_secrets(session: Session, labels: dict[int, str]) -> list[Secret]:
    kinds = {party.id: party.kind for party in session.scalars(select(Party))}
    amounts = defaultdict(set)
    for account, entry in session.execute(select(Account, Entry).join(Entry)).all():
        amounts[account.id].add(entry.amount_minor)
    balances = dict(
        session.execute(
            select(Entry.account_id, func.sum(Entry.amount_minor)).group_by(Entry.account_id)
        ).all()
    )
    secrets = []
    for account in session.scalars(select(Account)):
        team = labels.get(account.party_id, str(account.party_id))
        if kinds[account.party_id] == PartyKind.TEAM and account.kind in EARNING_KINDS:
            if account.user_id is None:
                seen, whose = owner_of(team), f"{team.title()}'s {account.kind} margin"
            else:
                seen = earner(team, account.user_id)
                whose = f"user {account.user_id}'s {account.kind} earnings"
        else:
            seen, whose = CLIENT_SIDE, f"{team}'s {account.kind} account"
        for minor in amounts[account.id] | {balances.get(account.id, 0)}:
            secrets.append(Secret(_major(minor), whose, seen))
    return secrets


def _major(minor: int) -> Decimal:
    return abs(Decimal(minor).scaleb(-2))


def forbidden(reader: Reader, secrets: list[Secret]) -> dict[Decimal, str]:
    """The figures `reader` must not read, each with what it is. A figure the reader may
    see as one thing (its own line) is not forbidden for being another's too."""
    if reader.role == "admin":
        return {}
    allowed = {s.figure for s in secrets if s.seen_by(reader)}
    banned: dict[Decimal, str] = {}
    for s in secrets:
        if not s.seen_by(reader) and s.figure not in allowed:
            banned.setdefault(s.figure, s.what)  # the first name: the story's, the invoice's
    return banned


def shadowed(reader: Reader, secrets: list[Secret]) -> set[tuple[Decimal, str]]:
    """The secrets `forbidden` cannot check for `reader`: figures it may see as something
    else. Each is a place the crawl is blind, so the story keeps them few and known."""
    if reader.role == "admin":
        return set()
    allowed = {s.figure for s in secrets if s.seen_by(reader)}
    return {(s.figure, s.what) for s in secrets if not s.seen_by(reader) and s.figure in allowed}
