"""What the earnings page shows of her work over time, per team and currency: her last
31 days as bars (items and pay), and what an hour of her work paid per task type, over
those days and week by week, beside the reference wage.

Read through the services of GET /me/earnings/days and GET /me/earnings/hourly, with the
session's actor: the same numbers the API gives, the same 403/404.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from marketplace.identity.actor import Actor
from marketplace.identity.models import Party
from marketplace.pages.charts import DayBars, daily, day_bars
from marketplace.payments.hourly_pay import annotator_hours
from marketplace.payments.work_days import annotator_days, team_today

CHART_DAYS = 31
WEEKS = 4


@dataclass(frozen=True)
class WorkRecord:
    """One team and currency of her work: bars of her days and her hourly pay."""

    since: date
    until: date
    items: DayBars
    earned: DayBars
    hours: list[dict[str, Any]]  # per task type over the chart's days
    weeks: list[dict[str, Any]]  # per week (Monday first) and task type

    @property
    def worked_days(self) -> list[tuple[date, int, int]]:
        """The days with work: day, items, pay in micros (the charts' table)."""
        return [
            (i.day, i.value, e.value)
            for i, e in zip(self.items.bars, self.earned.bars, strict=True)
            if i.value or e.value
        ]


def work_records(session: Session, actor: Actor, holdings: list[dict]) -> dict[tuple, WorkRecord]:
    """Her record for each holding (team and currency), keyed (party_id, currency)."""
    records = {}
    for team_id in dict.fromkeys(h["party_id"] for h in holdings):
        until = team_today(session.get(Party, team_id))
        since = until - timedelta(days=CHART_DAYS - 1)
        days = annotator_days(session, actor, team_id, since, until)["days"]
        hours = annotator_hours(session, actor, team_id, since, until)["task_types"]
        weeks = _weeks(session, actor, team_id, until)
        for currency in {h["currency"] for h in holdings if h["party_id"] == team_id}:
            records[(team_id, currency)] = WorkRecord(
                since,
                until,
                day_bars(daily(days, currency, "submitted"), since, until),
                day_bars(daily(days, currency, "earned_micros"), since, until),
                [row for row in hours if row["currency"] == currency],
                [row for row in weeks if row["currency"] == currency],
            )
    return records


def _weeks(session: Session, actor: Actor, team_id: int, today: date) -> list[dict]:
    """Her hourly pay in each of the last weeks (this one so far), each week measured on
    its own: the median of that week's items, not a slice of a longer period's."""
    monday = today - timedelta(days=today.weekday())
    rows = []
    for n in range(WEEKS):
        start = monday - timedelta(weeks=n)
        end = min(start + timedelta(days=6), today)
        for row in annotator_hours(session, actor, team_id, start, end)["task_types"]:
            rows.append({"week_of": start, **row})
    return rows
