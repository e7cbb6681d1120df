import pytest

from tests.notices.receiver import webhook_receiver  # noqa: F401  (fixture)


@pytest.fixture(autouse=True)
def private_urls_allowed(request):
    """These tests' receiver listens on 127.0.0.1: let webhooks go to private addresses
    (test_private_urls.py turns it off again)."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    previous = app.config["WEBHOOK_ALLOW_PRIVATE_URLS"]
    app.config["WEBHOOK_ALLOW_PRIVATE_URLS"] = True
    yield
    app.config["WEBHOOK_ALLOW_PRIVATE_URLS"] = previous
