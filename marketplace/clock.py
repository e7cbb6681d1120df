"""The one clock. Services ask `now()`; tests stand the clock wherever they need.

Every timestamp is timezone-aware UTC. Business dates (due dates, "today") are
derived from it in the business time zone by the code that needs them.

For drills and tests a real process can run on a controlled clock: with the
`CLOCK_FILE` setting the scheduler installs `file_source(path)`, and `now()`
then reads the moment from that file on every call (see `file_source`).
"""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

_source: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """The current moment, timezone-aware, in UTC."""
    return _source().astimezone(UTC)


def set_source(source: Callable[[], datetime]) -> Callable[[], datetime]:
    """Replace where the time comes from; returns the previous source so it can be restored."""
    global _source
    previous, _source = _source, source
    return previous


def file_source(path: str | Path) -> Callable[[], datetime]:
    """A source that reads the moment from a file on every call: one ISO-8601 timestamp
    with its offset, e.g. `2026-03-03T03:00:00+08:00`. Whoever drives the clock steps it
    by replacing the file (write a new file, then rename it over the old one, so a reader
    never sees half a timestamp). A missing file, or one without a valid, aware
    timestamp, is an error at that call; the clock never falls back to real time."""
    clock_file = Path(path)

    def read() -> datetime:
        text = clock_file.read_text().strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"clock file {clock_file}: not an ISO-8601 time: {text!r}") from exc
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"clock file {clock_file}: {text!r} has no UTC offset")
        return moment

    return read
