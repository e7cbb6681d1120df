"""Browser tests: the app served on a free port by a thread, with the suite's database
(SQLite file, PostgreSQL per session), and Debian's Chromium driven by Playwright.

Playwright's own browser download is not reachable here, so the tests launch Debian's
/usr/bin/chromium (`make test` installs it as root). Without it the browser tests are
skipped saying why, except with CI=true, where that fails the run.
"""

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# Headless in a container, as root, offline: no sandbox (root), no GPU, and none of the
# calls home that would wait on a network that is not there.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Written by the tests, read by people (and kept out of git).
SCREENSHOTS = Path(os.environ.get("SCREENSHOTS", Path(__file__).parent / "screenshots"))
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}


@pytest.fixture(scope="session")
def live_server(_app):
    """The suite's app (on this session's database) on a free port, until the session ends."""
    server = make_server("127.0.0.1", 0, _app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium under Playwright, one for the whole session."""
    if not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM} (`make test` installs Debian's chromium as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs Chromium for the browser tests: {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_browser(chromium, live_server):
    """`open_browser(language, viewport, **options)`: a fresh browser profile (no cookies)
    whose pages start at the live server, speak `language` and refuse to break the
    Content-Security-Policy unnoticed: each violation fails the test. `options` go to
    Playwright's new_context (has_touch=True for a phone's finger)."""
    contexts, violations = [], []

    def open_(language: str = "zh-CN", viewport: dict = DESKTOP, **options):
        context = chromium.new_context(
            base_url=live_server, locale=language, viewport=viewport, timezone_id="UTC", **options
        )
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda message: (
                violations.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not violations, violations
