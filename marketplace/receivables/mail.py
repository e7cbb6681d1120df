"""The dunning letters' mail: amounts and dates in each recipient's locale, and the
outbox as the admins list it. Sending is notices/mail.py's."""

from datetime import date

from babel.dates import format_date
from babel.numbers import format_currency
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.db import keyset_page
from marketplace.identity.actor import Actor
from marketplace.identity.models import Role
from marketplace.money import from_minor
from marketplace.notices.models import OutboxMessage


def money_in(locale: str, amount_minor: int, currency: str) -> str:
    """An amount as the reader writes money: ¥1,234.50 in zh_CN, 1.234,50 € in de_DE."""
    return format_currency(from_minor(amount_minor, currency), currency, locale=locale)


def day_in(locale: str, day: date) -> str:
    return format_date(day, format="long", locale=locale)


# What each status filter of the outbox's listing means.
OUTBOX_STATUS = {
    "queued": (OutboxMessage.sent_at.is_(None), OutboxMessage.failed.is_(False)),
    "sent": (OutboxMessage.sent_at.is_not(None),),
    "failed": (OutboxMessage.failed.is_(True),),
}


def outbox_page(
    session: Session, actor: Actor, *, limit: int, after: int, status: str | None = None
) -> list[OutboxMessage]:
    """A page of the outbox, oldest first, all or those queued, sent or failed
    (platform admins)."""
    actor.require(Role.PLATFORM_ADMIN)
    query = select(OutboxMessage).where(*OUTBOX_STATUS.get(status, ()))
    return keyset_page(session, query, limit=limit, after=after)
