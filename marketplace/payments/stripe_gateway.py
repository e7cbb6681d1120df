"""Stripe, through the official SDK: card payments in, Connect transfers out.

The rest of the application speaks to Stripe only through `StripeGateway`, so
what Stripe answers is turned into our words here: a refusal (`GatewayRefused`,
with Stripe's code and message) is final; an outage (`GatewayUnavailable`) is
worth retrying later with the same idempotency key, which Stripe answers with
its first answer, so a retried call never moves money twice.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import stripe

from marketplace.errors import Conflict, DomainError


class GatewayRefused(Exception):
    """The gateway answered no, for good (a closed account, a declined card, bad input)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class GatewayUnavailable(Exception):
    """The gateway could not be reached or failed on its side; try again later."""


class StripeNotConfigured(DomainError):
    status = 409
    code = "stripe_not_configured"


class StripeUnreachable(DomainError):
    """Stripe could not be reached (or failed on its side) in the middle of a request: what
    was done before stays done, and the same request again finishes it."""

    status = 503
    code = "gateway_unavailable"


@dataclass(frozen=True)
class Transfer:
    id: str  # tr_...


@dataclass(frozen=True)
class CardRefund:
    """A refund of a card payment, as Stripe made it."""

    id: str  # re_...
    amount_minor: int
    charge: str  # ch_...: the charge it gave money back from
    # The charge's refunded total with this refund in it: what the charge.refunded event
    # about this refund carries as `amount_refunded`.
    charge_refunded_minor: int


class StripeGateway:
    """The calls we make to Stripe. `api_base` points the SDK elsewhere (a test server)."""

    def __init__(self, secret_key: str, *, api_base: str | None = None) -> None:
        addresses = {"api": api_base} if api_base else None
        # The SDK retries network failures itself, with the same idempotency key.
        self.client = stripe.StripeClient(
            secret_key, base_addresses=addresses, max_network_retries=2
        )

    @classmethod
    def from_config(cls, config: Mapping) -> "StripeGateway | None":
        """The gateway, if a secret key is configured; None runs without Stripe."""
        key = config.get("STRIPE_SECRET_KEY")
        return cls(key, api_base=config.get("STRIPE_API_BASE")) if key else None

    def _call(self, method, params: dict, idempotency_key: str | None = None) -> Any:
        options = {"idempotency_key": idempotency_key} if idempotency_key else None
        try:
            return method(params=params, options=options)
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            raise GatewayUnavailable(str(exc)) from exc
        except stripe.StripeError as exc:
            if exc.http_status is None or exc.http_status >= 500:
                raise GatewayUnavailable(str(exc)) from exc
            error = exc.error
            code = (error.code if error else None) or type(exc).__name__
            raise GatewayRefused(code, (error.message if error else None) or str(exc)) from exc

    def create_account(self, *, email: str | None, country: str | None) -> str:
        """A Connect account for a payee; its id (acct_...)."""
        params = {"type": "express"}
        params.update({k: v for k, v in {"email": email, "country": country}.items() if v})
        return self._call(self.client.v1.accounts.create, params).id

    def transfer(
        self,
        *,
        amount_minor: int,
        currency: str,
        destination: str,
        transfer_group: str | None,
        source_charge: str | None,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> Transfer:
        """Send money to a connected account, once per idempotency key."""
        params: dict[str, Any] = {
            "amount": amount_minor,
            "currency": currency.lower(),
            "destination": destination,
            "metadata": metadata,
        }
        if transfer_group:
            params["transfer_group"] = transfer_group
        if source_charge:
            params["source_transaction"] = source_charge
        made = self._call(self.client.v1.transfers.create, params, idempotency_key)
        return Transfer(id=made.id)

    def find_transfer(self, *, destination: str, transfer_group: str | None, mark: str):
        """A transfer to `destination` (in `transfer_group`) whose metadata carries our
        `piecework_transfer` mark, if Stripe made one; None otherwise."""
        params: dict[str, Any] = {"destination": destination, "limit": 100}
        if transfer_group:
            params["transfer_group"] = transfer_group
        for made in self._call(self.client.v1.transfers.list, params).data:
            if made.to_dict().get("metadata", {}).get("piecework_transfer") == mark:
                return Transfer(id=made.id)
        return None

    def refund(
        self,
        *,
        payment_intent: str,
        amount_minor: int,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> CardRefund:
        """Give `amount_minor` of a card payment back to its card, once per idempotency key
        (the same key again answers the first refund; with another amount, Stripe refuses).
        The charge comes back expanded, so the answer says the charge's refunded total as
        the refund left it. A refund Stripe says failed is refused (`GatewayRefused`)."""
        params: dict[str, Any] = {
            "payment_intent": payment_intent,
            "amount": amount_minor,
            "metadata": metadata,
            "expand": ["charge"],
        }
        made = self._call(self.client.v1.refunds.create, params, idempotency_key).to_dict()
        if made.get("status") in ("failed", "canceled"):
            raise GatewayRefused(
                made.get("failure_reason") or "refund_failed",
                f"Stripe could not refund {made['id']} ({made['status']}).",
            )
        charge = made["charge"]
        return CardRefund(
            id=made["id"],
            amount_minor=made["amount"],
            charge=charge["id"],
            charge_refunded_minor=charge["amount_refunded"],
        )

    def find_refund(self, *, payment_intent: str, mark: str) -> CardRefund | None:
        """A refund of this PaymentIntent whose metadata carries our `piecework_refund` mark,
        if Stripe made one (for when Stripe may have forgotten the idempotency key); None
        otherwise. Its charge's refunded total is the charge's as it is now."""
        params: dict[str, Any] = {"payment_intent": payment_intent, "limit": 100}
        for made in self._call(self.client.v1.refunds.list, params).data:
            made = made.to_dict()
            if made.get("metadata", {}).get("piecework_refund") != mark:
                continue
            if made.get("status") in ("failed", "canceled"):
                return None
            charge = self.charge(made["charge"])
            return CardRefund(
                id=made["id"],
                amount_minor=made["amount"],
                charge=charge["id"],
                charge_refunded_minor=charge["amount_refunded"],
            )
        return None

    def charge_invoice(
        self,
        *,
        amount_minor: int,
        currency: str,
        payment_method: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> Any:
        """A PaymentIntent for an invoice, confirmed at once with the client's card."""
        params: dict[str, Any] = {
            "amount": amount_minor,
            "currency": currency.lower(),
            "payment_method": payment_method,
            "confirm": True,
            "metadata": metadata,
        }
        try:
            return self._call(self.client.v1.payment_intents.create, params, idempotency_key)
        except GatewayRefused as refused:
            raise Conflict(
                f"The card payment was refused: {refused.message}",
                code="card_refused",
                gateway_code=refused.code,
            ) from refused

    def _retrieve(self, service: Any, object_id: str) -> dict:
        return self._call(
            lambda params, options: service.retrieve(object_id, params=params, options=options),
            {},
        ).to_dict()

    def payment_intent(self, intent_id: str) -> dict:
        """A PaymentIntent as Stripe holds it now."""
        return self._retrieve(self.client.v1.payment_intents, intent_id)

    def charge(self, charge_id: str) -> dict:
        """A charge as Stripe holds it now (its refunded amount, its dispute)."""
        return self._retrieve(self.client.v1.charges, charge_id)

    def transfer_state(self, transfer_id: str) -> dict:
        """A transfer as Stripe holds it now (its amount, what was reversed of it)."""
        return self._retrieve(self.client.v1.transfers, transfer_id)

    @staticmethod
    def verify_event(payload: bytes, signature: str, secret: str) -> dict:
        """The event, if its signature is Stripe's and fresh (the SDK's check and tolerance);
        ValueError otherwise."""
        try:
            return stripe.Webhook.construct_event(payload, signature, secret).to_dict()
        except stripe.SignatureVerificationError as exc:
            raise ValueError(str(exc)) from exc
