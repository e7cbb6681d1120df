"""Collection: customers, PaymentIntents and their charges, refunds, and chargebacks raised from
the test side (mixed into Book).

A succeeded charge's money goes straight into the available balance (the stand-in has no
pending period); refunds and chargebacks take it out again, and never touch a transfer.
"""

import copy

from tests.stripe_standin.wire import (
    StripeError,
    amount_param,
    bool_param,
    check_known,
    currency_param,
    metadata_param,
    new_id,
    no_such,
)

# Stripe's test payment methods that decline, with the decline code each gives.
DECLINES = {
    "pm_card_chargeDeclined": "generic_decline",
    "pm_card_visa_chargeDeclined": "generic_decline",
    "pm_card_chargeDeclinedInsufficientFunds": "insufficient_funds",
}


class Collection:
    def create_customer(self, params: dict) -> dict:
        check_known(
            params, {"email", "name", "description", "metadata", "phone", "preferred_locales"}
        )
        customer = self._new(
            "cus",
            "customer",
            email=params.get("email"),
            name=params.get("name"),
            description=params.get("description"),
            metadata=metadata_param(params),
        )
        self.emit("customer.created", customer)
        return customer

    def create_payment_intent(self, params: dict) -> dict:
        check_known(
            params,
            {"amount", "currency", "customer", "metadata", "description", "payment_method"}
            | {"payment_method_types", "confirm", "receipt_email", "statement_descriptor"}
            | {"transfer_group", "automatic_payment_methods", "return_url", "off_session"},
        )
        amount = amount_param(params)
        currency = currency_param(params)
        confirm = bool_param(params, "confirm")
        if confirm and not params.get("payment_method"):
            raise StripeError(
                400,
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                code="payment_intent_unexpected_state",
                param="payment_method",
                saved=False,
            )
        if params.get("customer"):
            self._find("customer", params["customer"], "customer")
        intent = self._new(
            "pi",
            "payment_intent",
            amount=amount,
            amount_received=0,
            currency=currency,
            customer=params.get("customer"),
            description=params.get("description"),
            metadata=metadata_param(params),
            payment_method=params.get("payment_method"),
            payment_method_types=params.get("payment_method_types") or ["card"],
            receipt_email=params.get("receipt_email"),
            transfer_group=params.get("transfer_group"),
            capture_method="automatic",
            confirmation_method="automatic",
            last_payment_error=None,
            latest_charge=None,
        )
        intent["client_secret"] = f"{intent['id']}_secret_{new_id('x')[2:]}"
        intent["status"] = (
            "requires_confirmation" if intent["payment_method"] else "requires_payment_method"
        )
        self.emit("payment_intent.created", intent)
        if confirm:
            self._confirm(intent)
        return intent

    def confirm_payment_intent(self, params: dict, intent_id: str) -> dict:
        check_known(params, {"payment_method", "return_url", "off_session"})
        intent = self._find("payment_intent", intent_id)
        if intent["status"] not in ("requires_payment_method", "requires_confirmation"):
            raise StripeError(
                400,
                "You cannot confirm this PaymentIntent because it has a status of"
                f" {intent['status']}.",
                code="payment_intent_unexpected_state",
            )
        if params.get("payment_method"):
            intent["payment_method"] = params["payment_method"]
        self._confirm(intent)
        return intent

    def _confirm(self, intent: dict) -> None:
        method = intent["payment_method"]
        if not method:
            raise StripeError(
                400,
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                code="payment_intent_unexpected_state",
                param="payment_method",
            )
        if not method.startswith("pm_"):
            raise no_such("PaymentMethod", method, "payment_method")
        declined = DECLINES.get(method)
        charge = self._new(
            "ch",
            "charge",
            amount=intent["amount"],
            amount_captured=0 if declined else intent["amount"],
            amount_refunded=0,
            balance_transaction=None if declined else new_id("txn"),
            captured=not declined,
            currency=intent["currency"],
            customer=intent["customer"],
            description=intent["description"],
            disputed=False,
            failure_code="card_declined" if declined else None,
            failure_message="Your card was declined." if declined else None,
            metadata=dict(intent["metadata"]),
            paid=not declined,
            payment_intent=intent["id"],
            payment_method=method,
            refunded=False,
            status="failed" if declined else "succeeded",
            transfer_group=intent["transfer_group"],
        )
        intent["latest_charge"] = charge["id"]
        if declined:
            error = StripeError(
                402,
                "Your card was declined.",
                type="card_error",
                code="card_declined",
                decline_code=declined,
                charge=charge["id"],
            )
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = copy.deepcopy(error.body)
            self.emit("charge.failed", charge)
            self.emit("payment_intent.payment_failed", intent)
            error.body["payment_intent"] = copy.deepcopy(intent)
            raise error
        intent["status"] = "succeeded"
        intent["amount_received"] = intent["amount"]
        # Straight into the available balance: the stand-in has no pending period.
        self._move(intent["currency"], intent["amount"])
        self.emit("charge.succeeded", charge)
        self.emit("payment_intent.succeeded", intent)

    def create_refund(self, params: dict) -> dict:
        check_known(params, {"payment_intent", "charge", "amount", "reason", "metadata"})
        metadata = metadata_param(params)
        if params.get("charge"):
            charge = self._find("charge", params["charge"], "charge")
        elif params.get("payment_intent"):
            intent = self._find("payment_intent", params["payment_intent"], "payment_intent")
            charge = self.objects.get(intent["latest_charge"] or "")
            if charge is None:
                raise StripeError(
                    400,
                    f"This PaymentIntent ({intent['id']}) does not have a successful charge to"
                    " refund.",
                    param="payment_intent",
                )
        else:
            raise StripeError(
                400,
                "One of the following params should be provided for this request:"
                " payment_intent or charge.",
                saved=False,
            )
        left = charge["amount"] - charge["amount_refunded"]
        if charge["status"] != "succeeded":
            raise StripeError(400, f"Charge {charge['id']} has not succeeded; nothing to refund.")
        if charge["disputed"]:
            raise StripeError(
                400,
                f"Charge {charge['id']} has been charged back; cannot issue a refund.",
                code="charge_disputed",
            )
        if left == 0:
            raise StripeError(
                400,
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = amount_param(params, required=False) or left
        if amount > left:
            raise StripeError(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                code="amount_too_large",
                param="amount",
            )
        refund = self._new(
            "re",
            "refund",
            amount=amount,
            currency=charge["currency"],
            charge=charge["id"],
            payment_intent=charge["payment_intent"],
            balance_transaction=new_id("txn"),
            metadata=metadata,
            reason=params.get("reason"),
            status="succeeded",
        )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        # A refund comes out of the available balance, even below zero (Stripe then debits
        # the platform's bank account).
        self._move(charge["currency"], -amount)
        self.emit("refund.created", refund)
        self.emit("charge.refunded", charge)
        return refund

    def list_refunds(self, params: dict) -> dict:
        """Refunds, newest first, of one charge or PaymentIntent if named, as Stripe's list is
        (no paging: a test's charges have few)."""
        check_known(params, {"charge", "payment_intent", "limit"})
        found = [
            obj
            for obj in reversed(list(self.objects.values()))
            if obj["object"] == "refund"
            and all(
                obj.get(key) == params[key] for key in ("charge", "payment_intent") if key in params
            )
        ]
        return {"object": "list", "url": "/v1/refunds", "has_more": False, "data": found}

    # -- chargebacks (raised from the test side) -----------------------------------------

    def open_dispute(self, charge_id: str, amount: int | None, reason: str) -> dict:
        charge = self._find("charge", charge_id)
        dispute = self._new(
            "dp",
            "dispute",
            amount=charge["amount"] if amount is None else amount,
            currency=charge["currency"],
            charge=charge_id,
            payment_intent=charge["payment_intent"],
            reason=reason,
            status="needs_response",
            is_charge_refundable=False,
            metadata={},
        )
        charge["disputed"] = True
        self._move(charge["currency"], -dispute["amount"])
        self.emit("charge.dispute.created", dispute)
        self.emit("charge.dispute.funds_withdrawn", dispute)
        return dispute

    def close_dispute(self, dispute_id: str, won: bool) -> dict:
        dispute = self._find("dispute", dispute_id)
        dispute["status"] = "won" if won else "lost"
        if won:
            self._move(dispute["currency"], dispute["amount"])
            self.emit("charge.dispute.funds_reinstated", dispute)
        self.emit("charge.dispute.closed", dispute)
        return dispute
