"""An annotator's money by day: her work from the daily tallies, her money's movements
from the ledger, and the per-member view of a team owner. Read-only; amounts of work
are exact (unrounded micros), ledger amounts are minor units."""

import csv
import io
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal, get_decimal_symbol
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import clock, ledger
from marketplace.errors import Invalid
from marketplace.identity.actor import Actor
from marketplace.identity.models import Membership, Party, Role, User
from marketplace.ledger import Account, AccountKind, Entry, LedgerTransaction
from marketplace.money import exponent, from_minor
from marketplace.workers.levels import team_of
from marketplace.workers.models import DailyTally

WORK = ("submitted", "accepted", "rejected", "earned_micros")
MOVES = {
    AccountKind.PENDING: "accrued",
    AccountKind.AVAILABLE: "settled",
    AccountKind.PAID: "paid_out",
}
MAX_DAYS = 366
# Far enough from the calendar's ends that a period's edges, in any zone, stay dates.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)


def team_today(team: Party) -> date:
    return clock.now().astimezone(ZoneInfo(team.timezone)).date()


def work_totals(session: Session, team_id: int, user_ids, since: date, until: date) -> dict:
    """{(user, currency): {submitted, accepted, rejected, earned_micros}} over the days."""
    rows = session.execute(
        select(
            DailyTally.user_id,
            DailyTally.currency,
            *(func.sum(getattr(DailyTally, c)) for c in WORK),
        )
        .where(
            DailyTally.user_id.in_(user_ids),
            DailyTally.team_party_id == team_id,
            DailyTally.day.between(since, until),
        )
        .group_by(DailyTally.user_id, DailyTally.currency)
    )
    return {
        (user, currency): dict(zip(WORK, map(int, sums), strict=True))
        for user, currency, *sums in rows
    }


def work_days(session: Session, team_id: int, user_id: int, since: date, until: date) -> list:
    """The member's tallies day by day (days without work left out), oldest first."""
    return list(
        session.scalars(
            select(DailyTally)
            .where(
                DailyTally.user_id == user_id,
                DailyTally.team_party_id == team_id,
                DailyTally.day.between(since, until),
            )
            .order_by(DailyTally.day, DailyTally.currency)
        )
    )


def check_period(since: date | None, until: date | None, today: date) -> tuple[date, date]:
    """The period asked for (by default, this month to today), at most MAX_DAYS long."""
    since = since or today.replace(day=1)
    until = until or today
    if (
        since > until
        or (until - since).days >= MAX_DAYS
        or not (FIRST_DAY <= since <= until <= LAST_DAY)
    ):
        raise Invalid(
            f"A period runs forward, spans at most {MAX_DAYS} days, and lies between "
            f"{FIRST_DAY} and {LAST_DAY}.",
            code="invalid_period",
            **{"from": since.isoformat(), "to": until.isoformat()},
        )
    return since, until


def her_team(session: Session, actor: Actor, team_id: int | None) -> Party:
    """The team whose work the annotator asks about (403 for anyone not an annotator; 422
    `team_required` if she works for several and names none)."""
    actor.require(Role.ANNOTATOR)
    return session.get(Party, actor.acting_for(Role.ANNOTATOR, team_id, "team"))


def annotator_days(session: Session, actor: Actor, team_id, since, until) -> dict[str, Any]:
    """The annotator's own work per day in one of her teams, for a chart."""
    team = her_team(session, actor, team_id)
    since, until = check_period(since, until, team_today(team))
    return {
        "team_id": team.id,
        "from": since,
        "to": until,
        "days": work_days(session, team.id, actor.user_id, since, until),
    }


def statement(session: Session, actor: Actor, team_id, since, until) -> dict[str, Any]:
    """The annotator's statement of a period: per day and currency, her work (items and
    exact earnings) and her money's movements: accrued (invoiced, pending), settled
    (available) and paid out, with the balances at the end of the period."""
    team = her_team(session, actor, team_id)
    since, until = check_period(since, until, team_today(team))
    zone = ZoneInfo(team.timezone)
    rows: dict[tuple[date, str], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys((*WORK, *MOVES.values()), 0)
    )
    for tally in work_days(session, team.id, actor.user_id, since, until):
        rows[(tally.day, tally.currency)].update({c: getattr(tally, c) for c in WORK})
    start = datetime.combine(since, time.min, zone)
    end = datetime.combine(until + timedelta(days=1), time.min, zone)
    moves = session.execute(
        select(LedgerTransaction.posted_at, Account.kind, Account.currency, Entry.amount_minor)
        .join(Entry, Entry.transaction_id == LedgerTransaction.id)
        .join(Account, Account.id == Entry.account_id)
        .where(
            Account.party_id == team.id,
            Account.user_id == actor.user_id,
            Entry.amount_minor < 0,  # credits: money coming into that kind of earnings
            LedgerTransaction.posted_at >= start,
            LedgerTransaction.posted_at < end,
        )
    )
    for posted_at, kind, currency, amount in moves:
        rows[(posted_at.astimezone(zone).date(), currency)][MOVES[AccountKind(kind)]] -= amount
    return {
        "team_id": team.id,
        "from": since,
        "to": until,
        "rows": [
            {"day": day, "currency": currency, **rows[(day, currency)]}
            for day, currency in sorted(rows)
        ],
        "balances": ledger.earnings(session, party_id=team.id, user_id=actor.user_id, before=end),
    }


def team_members_earnings(session: Session, actor: Actor, team_id: int) -> list[dict[str, Any]]:
    """Per member of the owner's team and currency: today's and this month's work, and her
    pending, available and paid money. A few set-based queries, whatever the team's size."""
    team = team_of(session, actor, team_id, manage=True)
    today = team_today(team)
    members = session.execute(
        select(User.id, User.name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.party_id == team_id, Membership.role == Role.ANNOTATOR)
        .order_by(User.id)
    ).all()
    ids = [user_id for user_id, _ in members]
    day = work_totals(session, team_id, ids, today, today)
    month = work_totals(session, team_id, ids, today.replace(day=1), today)
    money: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(MOVES, 0))
    for user_id, currency, kind, total in session.execute(
        select(Account.user_id, Account.currency, Account.kind, func.sum(Entry.amount_minor))
        .join(Entry, Entry.account_id == Account.id)
        .where(Account.party_id == team_id, Account.user_id.in_(ids), Account.kind.in_(MOVES))
        .group_by(Account.user_id, Account.currency, Account.kind)
    ):
        money[(user_id, currency)][AccountKind(kind)] = -int(total)
    empty = dict.fromkeys(WORK, 0)
    return [
        {
            "user_id": user_id,
            "name": name,
            "currency": currency,
            "today": day.get((user_id, currency), empty),
            "this_month": month.get((user_id, currency), empty),
            "pending_minor": money[(user_id, currency)][AccountKind.PENDING],
            "available_minor": money[(user_id, currency)][AccountKind.AVAILABLE],
            "paid_minor": money[(user_id, currency)][AccountKind.PAID],
        }
        for user_id, name in members
        for currency in sorted({c for (u, c) in (*day, *month, *money) if u == user_id})
    ]


STATEMENT_COLUMNS = ("day", "currency", *WORK[:3], "earned", *MOVES.values())


def statement_locale(session: Session, actor: Actor, asked: str | None) -> Locale:
    """The locale a CSV statement is written in: the one asked for, else the user's own
    (422 `invalid_locale` for a name CLDR does not know)."""
    name = asked or session.get(User, actor.user_id).locale
    try:
        return Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError) as exc:
        raise Invalid(f"No locale {name!r}.", code="invalid_locale", locale=name) from exc


def statement_csv(report: dict[str, Any], locale: Locale) -> str:
    """The statement as a spreadsheet reads it in that locale: numbers with its decimal
    sign and no grouping, and `;` between fields where the decimal sign is a comma (as
    spreadsheets there expect). Pay per item stays exact; money has its currency's digits."""

    def money(minor: int, currency: str) -> str:
        digits = exponent(currency)
        pattern = "0." + "0" * digits if digits else "0"
        return format_decimal(from_minor(minor, currency), format=pattern, locale=locale)

    out = io.StringIO()
    delimiter = ";" if get_decimal_symbol(locale) == "," else ","
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(STATEMENT_COLUMNS)
    for row in report["rows"]:
        currency = row["currency"]
        writer.writerow(
            [
                row["day"].isoformat(),
                currency,
                *(row[c] for c in WORK[:3]),
                format_decimal(
                    Decimal(row["earned_micros"]).scaleb(-6), format="0.######", locale=locale
                ),
                *(money(row[c], currency) for c in MOVES.values()),
            ]
        )
    return out.getvalue()
