"""Threads that get ready on their own, then start together: the shape of every race here."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

Ready = Callable[[], float]


def race(
    count: int,
    runner: Callable[[int, Ready], float],
    on_start: Callable[[], None] | None = None,
) -> float:
    """Run `runner(index, ready)` in `count` threads; return the seconds the race took.

    Each runner gets ready (connects, warms up), then calls `ready()`, which
    blocks until every runner is waiting, runs `on_start` once and returns the
    start time (`time.perf_counter()`). A runner returns the time it finished;
    the race took from the start to the last finish.
    """
    state: dict[str, float] = {}

    def begin() -> None:  # run once, when every runner is ready and waiting
        if on_start is not None:
            on_start()
        state["start"] = time.perf_counter()

    barrier = threading.Barrier(count + 1, action=begin)
    ended = [0.0] * count

    def ready() -> float:
        barrier.wait()
        return state["start"]

    def run(index: int) -> None:
        ended[index] = runner(index, ready)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait()
    for thread in threads:
        thread.join()
    return max(ended) - state["start"]
