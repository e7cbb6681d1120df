"""The app under gunicorn, on a free loopback port."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from .api import probe
from .cpu import children
from .source import BIN, ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """The app of `source` under gunicorn, on a free loopback port."""

    def __init__(
        self, url: str, source: Path, *, workers: int, worker_class: str, threads: int
    ) -> None:
        self.port = free_port()
        self.args = [
            str(BIN / "gunicorn"),
            "marketplace:create_app()",
            f"--bind=127.0.0.1:{self.port}",
            f"--workers={workers}",
            f"--worker-class={worker_class}",
            f"--threads={threads}",
            "--backlog=2048",
            "--keep-alive=75",
            "--log-level=warning",
            "--graceful-timeout=5",
            "--timeout=120",
        ]
        env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
        if source != ROOT:
            env["PYTHONPATH"] = str(source)
        self.process = subprocess.Popen(self.args, cwd=source, env=env)

    def wait_ready(self, token: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                if probe(conn, token) == 200:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer in time")

    def worker_pids(self) -> list[int]:
        return children(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
