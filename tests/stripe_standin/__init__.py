"""A small Stripe stand-in for what localstripe lacks: Connect, Idempotency-Key, refunds' and
transfers' events, chargebacks, and webhooks sent when (and as often as) a test says.

It speaks Stripe's wire format, so the real `stripe` SDK drives it:

    with StripeStandin() as standin:              # or the `stripe_standin` fixture
        client = standin.client()                 # StripeClient(..., base_addresses={"api": url})
        account = client.v1.accounts.create(params={"type": "express"})
        standin.set_balance("usd", 10_000)
        client.v1.transfers.create(params={"amount": 500, "currency": "usd",
                                           "destination": account.id})

Endpoints: POST /v1/accounts, /v1/customers, /v1/payment_intents (confirm=true with
pm_card_visa succeeds; pm_card_chargeDeclined answers 402), /v1/payment_intents/{id}/confirm,
/v1/refunds, /v1/transfers, /v1/transfers/{id}/reversals; GET of each object, of
/v1/refunds (by charge or payment_intent), /v1/transfers/{id}/reversals, /v1/events/{id}
and /v1/balance. Unknown parameters answer 400 `parameter_unknown`, as Stripe does.

Controls (plain methods; the server runs in the test's process):
    set_balance(currency, amount)    balance(currency) -> int    object(id) -> dict
    fail_transfers_to(account_id, code="account_closed", message=None)
    fail_next(path_prefix, status=500, error=None, *, method="POST", drop=False, processed=False)
    open_dispute(charge_id, *, amount=None, reason="fraudulent") -> dispute
    close_dispute(dispute_id, *, won) -> dispute
    requests: list[Request]          events: list[dict]          events_of(type) -> list[dict]
    webhook_endpoint(url_or_post, secret)
    deliver(event_or_id, *, times=1, timestamp=None, secret=None, post=None) -> [status, ...]
    deliver_pending(*, order="created"|"reverse"|"random", seed=0, post=None) -> [Delivery]
    deliveries: list[Delivery]       payload(event) -> bytes      sign(body, *, secret, timestamp)
    reset()

Nothing is delivered unless the test calls deliver or deliver_pending; `post` is a callable
`post(body, headers) -> status`, so a Flask test client can receive events directly.
"""

from tests.stripe_standin.book import API_VERSION
from tests.stripe_standin.server import Request, StripeStandin
from tests.stripe_standin.webhooks import Delivery

__all__ = ["API_VERSION", "Delivery", "Request", "StripeStandin"]
