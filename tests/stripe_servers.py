"""Fixtures and helpers for the two fake Stripes the payment tests talk to.

- `localstripe_url` (session): a real localstripe process for collection (Customers,
  PaymentIntents) and the signed webhooks it sends about one second after each event;
  `configure_localstripe_webhook` points those at a URL, such as a `WebhookReceiver`'s.
- `stripe_standin` (per test): our stand-in (tests/stripe_standin/) for Connect,
  Idempotency-Key, refunds, chargebacks and test-driven webhook delivery; one server for
  the session, emptied for each test. `stripe_standin_url` (session) is its URL, for a
  session-scoped app's config.

tests/conftest.py imports the fixtures, as it does `cast`.
"""

import queue
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.stripe_standin import StripeStandin

LOCALSTRIPE = Path(sys.executable).parent / "localstripe"
STARTUP_DEADLINE = 20.0  # seconds; it answers in about half a second on this machine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(f"{url}/v1/customers", timeout=1)
    except urllib.error.HTTPError:
        return True  # 401 without a key: it is up and routing
    except OSError:
        return False
    return True


def start_localstripe(log_path: Path) -> tuple[subprocess.Popen, str]:
    """Start localstripe on a free port; answers the process and its base URL once it answers.

    `--from-scratch` keeps it from loading /tmp/localstripe.pickle, the state file every
    localstripe on the machine writes after each change: without it a run would start with
    objects from an earlier one.
    """
    if not LOCALSTRIPE.exists():
        raise RuntimeError(f"{LOCALSTRIPE} is missing: install the test extra (make .venv/...)")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(LOCALSTRIPE), "--port", str(port), "--from-scratch"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + STARTUP_DEADLINE
    while not _answers(url):
        exited = process.poll() is not None
        if exited or time.monotonic() > deadline:
            stop(process)
            why = f"did not answer within {STARTUP_DEADLINE:.0f} s"
            if exited:
                why = f"exited with code {process.returncode}"
            tail = log_path.read_text()[-2000:]
            raise RuntimeError(f"localstripe at {url} {why}; its log:\n{tail}")
        time.sleep(0.05)
    return process, url


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def configure_localstripe_webhook(base_url: str, webhook_id: str, url: str, secret: str) -> None:
    """Make localstripe POST its events, signed with `secret`, to `url` (under `webhook_id`)."""
    body = urllib.parse.urlencode({"url": url, "secret": secret}).encode()
    request = urllib.request.Request(
        f"{base_url}/_config/webhooks/{webhook_id}", data=body, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        if response.status != 200:
            raise RuntimeError(f"localstripe refused the webhook config: {response.status}")


class WebhookReceiver:
    """A webhook endpoint at `.url` on 127.0.0.1 that queues (body, Stripe-Signature) pairs in
    `.received`, for localstripe (which only sends to a URL) or the stand-in's URL delivery."""

    def __init__(self):
        received = self.received = queue.Queue()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.put((body, self.headers.get("Stripe-Signature")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/webhook"

    def __enter__(self):
        serve = self._server.serve_forever
        threading.Thread(target=serve, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="session")
def localstripe_url(tmp_path_factory):
    """The base URL of a localstripe started for this session: `http://127.0.0.1:<port>`."""
    process, url = start_localstripe(tmp_path_factory.mktemp("localstripe") / "localstripe.log")
    yield url
    stop(process)


_standin: StripeStandin | None = None


def _standin_server(config) -> StripeStandin:
    """One stand-in for the whole session, started on first use and stopped at the end, so
    that its URL can go into a session-wide app's config and one imported name is enough."""
    global _standin
    if _standin is None:
        _standin = StripeStandin().start()
        config.add_cleanup(_stop_standin)
    return _standin


def _stop_standin() -> None:
    global _standin
    if _standin is not None:
        _standin.stop()
        _standin = None


@pytest.fixture(scope="session")
def stripe_standin_url(pytestconfig) -> str:
    """The stand-in's base URL, for a session-scoped app's config (`http://127.0.0.1:<port>`)."""
    return _standin_server(pytestconfig).url


@pytest.fixture
def stripe_standin(pytestconfig) -> StripeStandin:
    """The stand-in (`.url`, `.client()`, the controls), emptied at the start of each test."""
    standin = _standin_server(pytestconfig)
    standin.reset()
    return standin
