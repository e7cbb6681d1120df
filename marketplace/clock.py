"""The one clock. Services ask `now()`; tests stand the clock wherever they need.

Every timestamp is timezone-aware UTC. Business dates (due dates, "today") are
derived from it in the business time zone by the code that needs them.
"""

from collections.abc import Callable
from datetime import UTC, datetime

_source: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """The current moment, timezone-aware, in UTC."""
    return _source().astimezone(UTC)


def set_source(source: Callable[[], datetime]) -> Callable[[], datetime]:
    """Replace where the time comes from; returns the previous source so it can be restored."""
    global _source
    previous, _source = _source, source
    return previous
