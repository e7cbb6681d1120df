"""Charts the server draws: the geometry of an SVG, computed here and drawn by a macro.

No chart library and no script: a page's chart is plain SVG in the HTML, readable
without JavaScript, and every chart comes with the table of its numbers beside it.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

WIDTH, HEIGHT = 620, 140
TOP = 12  # room above the tallest bar for its value


@dataclass(frozen=True)
class Bar:
    day: date
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class DayBars:
    """A bar a day over a period, scaled to the tallest; days without work are bars of
    zero height, so the axis is the calendar and a gap reads as a day off."""

    bars: list[Bar]
    peak: int
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def empty(self) -> bool:
        return self.peak == 0


def day_bars(values: dict[date, int], since: date, until: date) -> DayBars:
    """Bars for each day from `since` to `until` (both included), from `values` per day."""
    days = [since + timedelta(days=n) for n in range((until - since).days + 1)]
    peak = max((values.get(d, 0) for d in days), default=0)
    slot = WIDTH / len(days)
    bars = []
    for n, d in enumerate(days):
        value = values.get(d, 0)
        height = (HEIGHT - TOP) * value / peak if peak else 0
        bars.append(Bar(d, value, n * slot + slot * 0.15, HEIGHT - height, slot * 0.7, height))
    return DayBars(bars, peak)


def daily(days: list[Any], currency: str, field: str) -> dict[date, int]:
    """One field of the daily tallies of one currency, by day."""
    return {t.day: getattr(t, field) for t in days if t.currency == currency}
