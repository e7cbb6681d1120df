"""Billing periods: which accepted items an invoice covers, by the order's payment terms.

Periods are weeks (Monday to Sunday) or calendar months in the platform's business
time zone, or, for orders billed on completion, the whole order. An item belongs to
the period in which it was accepted.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from marketplace.orders.models import BillingPeriod


@dataclass(frozen=True)
class Period:
    """[starts, ends) as moments, and the days it spans, first and last included."""

    starts: datetime | None
    ends: datetime | None
    first_day: date | None
    last_day: date | None

    def label(self) -> str:
        if self.first_day is None:
            return "All accepted items"
        return f"{self.first_day.isoformat()} to {self.last_day.isoformat()}"


WHOLE_ORDER = Period(None, None, None, None)


def _period_start(billing_period: str, day: date) -> date:
    if billing_period == BillingPeriod.WEEKLY:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _next_start(billing_period: str, start: date) -> date:
    if billing_period == BillingPeriod.WEEKLY:
        return start + timedelta(days=7)
    return (start + timedelta(days=32)).replace(day=1)


def _moment(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone)


def current_period_starts(billing_period: str, now: datetime, timezone: str) -> datetime:
    """When the period `now` falls in began: items accepted before it are due for invoicing."""
    zone = ZoneInfo(timezone)
    return _moment(_period_start(billing_period, now.astimezone(zone).date()), zone)


def periods_between(
    billing_period: str, first: datetime, last: datetime, timezone: str
) -> list[Period]:
    """The periods from the one holding `first` to the one holding `last`, in order
    (the whole order, once, for orders billed on completion)."""
    if billing_period == BillingPeriod.ON_COMPLETION:
        return [WHOLE_ORDER]
    zone = ZoneInfo(timezone)
    start = _period_start(billing_period, first.astimezone(zone).date())
    last_day = last.astimezone(zone).date()
    periods = []
    while start <= last_day:
        end = _next_start(billing_period, start)
        periods.append(Period(_moment(start, zone), _moment(end, zone), start, end - timedelta(1)))
        start = end
    return periods
