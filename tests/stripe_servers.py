"""Fixtures for the two fake Stripes the payment tests talk to.

- `localstripe_url`: a real localstripe process (collection: Customers, PaymentIntents, and
  the signed webhooks it sends about one second after each event).
- `stripe_standin`: our stand-in (tests/stripe_standin/) for Connect, Idempotency-Key,
  refunds, chargebacks and test-driven webhook delivery; one server, emptied for each test.
  `stripe_standin_url` is its URL for session-scoped fixtures.

A test module uses them by importing them (`from tests.stripe_servers import stripe_standin`),
as conftest.py does with `cast`.
"""

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
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
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise RuntimeError(
                f"localstripe did not answer at {url} within {STARTUP_DEADLINE:.0f} s"
                f" (exit code {process.returncode}); its log:\n{log_path.read_text()[-2000:]}"
            )
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
