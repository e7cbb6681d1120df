"""A real HTTP receiver for webhook tests: a ThreadingHTTPServer on 127.0.0.1, one per test.

`webhook_receiver` yields a `Receiver` with `.url` and `.received` (each a `Received`:
the headers and the raw body of one POST, in arrival order). It answers 200 until told
otherwise: `answer(500)` answers that status, `hang()` holds every request without an
answer (the sender's own timeout ends it) until `answer(...)` or the end of the test,
`drip()` sends the status line and headers at once and holds the body back. `arrived` is
set when a request has come in (a handshake for tests that act while one is held).
"""

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

# Longest a hung request is held; the sender gives up long before (its timeout in tests).
HOLD_SECONDS = 10.0


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict:
        return json.loads(self.body)


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.status = 200
        self.dripping = False
        self.arrived = threading.Event()
        self.lock = threading.Lock()
        self.released = threading.Event()
        self.released.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.received.append(Received(self.path, dict(self.headers), body))
                    status, dripping = receiver.status, receiver.dripping
                receiver.arrived.set()
                try:
                    if dripping:
                        # A body promised and held back: a sender that reads it waits.
                        self.send_response(status)
                        self.send_header("Content-Length", "1000000")
                        self.end_headers()
                        self.wfile.flush()
                    # Hung: hold the request until released (the sender times out first).
                    receiver.released.wait(HOLD_SECONDS)
                    if dripping:
                        return
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender hung up after its timeout

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}/hooks"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def answer(self, status: int) -> None:
        """Answer every request with `status` from now on (and let hung ones go)."""
        with self.lock:
            self.status = status
        self.released.set()

    def hang(self) -> None:
        """Hold every request from now on without answering."""
        self.released.clear()

    def drip(self) -> None:
        """Answer every request's headers at once and hold its body back from now on."""
        with self.lock:
            self.dripping = True
        self.released.clear()

    def events(self) -> list[dict]:
        with self.lock:
            return [received.event for received in self.received]

    def stop(self) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def webhook_receiver():
    receiver = Receiver()
    yield receiver
    receiver.stop()
