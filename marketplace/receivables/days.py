"""Business days: due dates, lateness and aging all count in the platform's time zone."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from marketplace import clock


def business_today(timezone: str) -> date:
    """Today in the business time zone (the injected clock's moment there)."""
    return clock.now().astimezone(ZoneInfo(timezone)).date()


def day_of(moment: datetime, timezone: str) -> date:
    return moment.astimezone(ZoneInfo(timezone)).date()


def end_of_day(day: date, timezone: str) -> datetime:
    """The first moment after `day` in the business time zone: "as of" a day includes
    everything that happened on it."""
    return datetime.combine(day + timedelta(days=1), time(), ZoneInfo(timezone))


def days_late(due_on: date, on: date) -> int:
    """Whole days past the due date on `on`; 0 on or before it."""
    return max((on - due_on).days, 0)
