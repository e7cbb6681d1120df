"""The app under gunicorn with one sync worker, for benchmarks/items.py's two halves.

The worker's memory is the request's: `Worker.sampling()` measures it around one
request (resident memory before; the peak during, from the high-water mark reset
through /proc/<pid>/clear_refs and from samples every 20 ms beside the request).
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from storm.cpu import children
from storm.server import free_port
from storm.source import BIN


@dataclass
class Memory:
    """The worker's resident memory around one request, in kB (peak set on leaving)."""

    before_kb: int
    peak_kb: int = 0

    def figures(self) -> dict[str, float]:
        return {
            "rss_before_mb": self.before_kb / 1024,
            "rss_peak_mb": self.peak_kb / 1024,
            "rss_growth_mb": (self.peak_kb - self.before_kb) / 1024,
        }


class Worker:
    """The app under gunicorn with one sync worker: its memory is the request's."""

    def __init__(self, url: str, source: Path) -> None:
        self.port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
        env["PYTHONPATH"] = str(source)
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "marketplace:create_app()",
                f"--bind=127.0.0.1:{self.port}",
                "--workers=1",
                "--log-level=warning",
                # A sync worker tells the arbiter it lives only between requests.
                "--timeout=1800",
            ],
            cwd=source,
            env=env,
        )
        # Ready once it answers: the socket is bound before the worker has built the app.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                conn.request("GET", "/api/openapi.json")
                conn.getresponse().read()
                break
            except OSError:
                time.sleep(0.2)
        self.pid = children(self.process.pid)[0]

    def connection(self) -> http.client.HTTPConnection:
        """A connection to the worker, patient enough for the largest request."""
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=1800)

    def memory_kb(self, field: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise RuntimeError(f"no {field} for {self.pid}")

    def reset_peak(self) -> bool:
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            return True
        except OSError:
            return False

    @contextmanager
    def sampling(self) -> Iterator[Memory]:
        """The worker's memory while the block runs (one request): before it, then
        the peak once the block is left (the larger of the samples and the reset
        high-water mark)."""
        memory = Memory(before_kb=self.memory_kb("VmRSS"))
        reset = self.reset_peak()
        sampled = [memory.before_kb]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.02):
                sampled.append(self.memory_kb("VmRSS"))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            yield memory
        finally:
            done.set()
            sampler.join()
        memory.peak_kb = max(max(sampled), self.memory_kb("VmHWM") if reset else 0)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
