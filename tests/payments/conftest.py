"""Fixtures for the Stripe tests: the app pointed at a Stripe server for one test.

The app is session-scoped, so its Stripe gateway (`app.extensions["stripe_gateway"]`) and
webhook secret (`STRIPE_WEBHOOK_SECRET`) are set here for one test and put back after it:
configuration, as an operator would set STRIPE_SECRET_KEY / STRIPE_API_BASE, not a mock.
"""

from dataclasses import dataclass, field

import pytest

from marketplace.payments.stripe_gateway import StripeGateway

WEBHOOK_SECRET = "whsec_piecework_test"
WEBHOOK_PATH = "/api/v1/payments/stripe/webhook"


@pytest.fixture
def stripe_config(app):
    """`configure(api_base, webhook_secret)`: the app talks to that Stripe for this test
    (None for either leaves it unconfigured); the app's own settings come back afterwards."""
    saved = app.extensions["stripe_gateway"], app.config["STRIPE_WEBHOOK_SECRET"]

    def configure(api_base: str | None, webhook_secret: str | None = WEBHOOK_SECRET):
        gateway = StripeGateway("sk_test_piecework", api_base=api_base) if api_base else None
        app.extensions["stripe_gateway"] = gateway
        app.config["STRIPE_WEBHOOK_SECRET"] = webhook_secret
        return gateway

    yield configure
    app.extensions["stripe_gateway"], app.config["STRIPE_WEBHOOK_SECRET"] = saved


@dataclass
class Webhook:
    """The app's webhook endpoint as a delivery target: `post(body, headers) -> status`,
    keeping every answer's JSON body in `answers`."""

    app: object
    answers: list = field(default_factory=list)

    def post(self, body: bytes, headers: dict[str, str]) -> int:
        answer = self.app.test_client().post(WEBHOOK_PATH, data=body, headers=headers)
        self.answers.append(answer.get_json(silent=True))
        return answer.status_code


@pytest.fixture
def webhook(app) -> Webhook:
    return Webhook(app)


@pytest.fixture
def standin(app, stripe_standin, stripe_config, webhook):
    """The stand-in, as the app's Stripe; its events go to the app's webhook endpoint
    (through the Flask test client) when the test delivers them."""
    stripe_config(stripe_standin.url)
    stripe_standin.webhook_endpoint(webhook.post, WEBHOOK_SECRET)
    return stripe_standin
