"""The stand-in's Stripe account: its objects, its balance, the events it emits, and the rules.

Every endpoint is a method taking the decoded parameters (and the ids in the path) and
returning the object to answer; a refusal is a `StripeError`. The money rules are Stripe's
as the design brief records them: a transfer is paid from the available balance unless it
names a `source_transaction`, reversals and refunds never exceed what is left, and neither a
refund nor a chargeback touches a transfer.
"""

import copy
import time

from tests.stripe_standin.wire import (
    StripeError,
    amount_param,
    bool_param,
    check_known,
    currency_param,
    metadata_param,
    missing,
    new_id,
    no_such,
)

API_VERSION = "2024-06-20"

# Stripe's test payment methods that decline, with the decline code each gives.
DECLINES = {
    "pm_card_chargeDeclined": "generic_decline",
    "pm_card_visa_chargeDeclined": "generic_decline",
    "pm_card_chargeDeclinedInsufficientFunds": "insufficient_funds",
}

# Method, path pattern, Book method: the whole API the stand-in speaks.
ROUTES = [
    ("POST", r"/v1/accounts", "create_account"),
    ("GET", r"/v1/accounts/(acct_\w+)", "retrieve"),
    ("POST", r"/v1/customers", "create_customer"),
    ("GET", r"/v1/customers/(cus_\w+)", "retrieve"),
    ("POST", r"/v1/payment_intents", "create_payment_intent"),
    ("GET", r"/v1/payment_intents/(pi_\w+)", "retrieve"),
    ("POST", r"/v1/payment_intents/(pi_\w+)/confirm", "confirm_payment_intent"),
    ("GET", r"/v1/charges/(ch_\w+)", "retrieve"),
    ("POST", r"/v1/refunds", "create_refund"),
    ("GET", r"/v1/refunds/(re_\w+)", "retrieve"),
    ("POST", r"/v1/transfers", "create_transfer"),
    ("GET", r"/v1/transfers/(tr_\w+)", "retrieve"),
    ("POST", r"/v1/transfers/(tr_\w+)/reversals", "create_reversal"),
    ("GET", r"/v1/transfers/(tr_\w+)/reversals", "list_reversals"),
    ("GET", r"/v1/disputes/(dp_\w+)", "retrieve"),
    ("GET", r"/v1/events/(evt_\w+)", "retrieve"),
    ("GET", r"/v1/balance", "retrieve_balance"),
]


def _list(url: str, data: list) -> dict:
    return {"object": "list", "data": data, "has_more": False, "url": url}


class Book:
    def __init__(self):
        self.objects: dict[str, dict] = {}
        self.events: list[dict] = []
        self.available: dict[str, int] = {}
        self.funded: dict[str, int] = {}  # charge id -> transfers that named it as their source
        self.failing_destinations: dict[str, tuple[str, str]] = {}  # account -> (code, message)
        # The request being answered, named in the events it causes (as Stripe's `request`).
        self.request = {"id": None, "idempotency_key": None}

    # -- helpers -------------------------------------------------------------------------

    def _new(self, prefix: str, kind: str, **fields) -> dict:
        obj = {"id": new_id(prefix), "object": kind, "created": int(time.time()), "livemode": False}
        obj.update(fields)
        self.objects[obj["id"]] = obj
        return obj

    def _find(self, kind: str, object_id: str, param: str = "id") -> dict:
        obj = self.objects.get(object_id)
        if obj is None or obj["object"] != kind:
            raise no_such(kind, object_id, param)
        return obj

    def emit(self, event_type: str, obj: dict) -> dict:
        """Record an event; its `data.object` is a snapshot, as Stripe's events are."""
        event = self._new(
            "evt",
            "event",
            api_version=API_VERSION,
            type=event_type,
            data={"object": copy.deepcopy(obj)},
            request=dict(self.request),
        )
        self.events.append(event)
        return event

    def expand(self, obj: dict, params: dict) -> dict:
        """`expand[]=latest_charge`: an id field answered as the whole object (one level)."""
        answer = copy.deepcopy(obj)
        for index, field in enumerate(params.get("expand") or []):
            value = answer.get(field)
            if not isinstance(value, str) or value not in self.objects:
                raise StripeError(
                    400, f"This property cannot be expanded ({field}).", param=f"expand[{index}]"
                )
            answer[field] = copy.deepcopy(self.objects[value])
        return answer

    def retrieve(self, params: dict, object_id: str) -> dict:
        obj = self.objects.get(object_id)
        if obj is None:
            raise no_such(object_id.split("_")[0], object_id)
        return obj

    def retrieve_balance(self, params: dict) -> dict:
        return {
            "object": "balance",
            "livemode": False,
            "available": [
                {"amount": amount, "currency": currency, "source_types": {"card": amount}}
                for currency, amount in sorted(self.available.items())
            ],
            "pending": [],
        }

    # -- Connect -------------------------------------------------------------------------

    def create_account(self, params: dict) -> dict:
        check_known(
            params,
            {"type", "country", "email", "metadata", "business_type", "capabilities"}
            | {"business_profile", "default_currency", "controller", "tos_acceptance"},
        )
        if not params.get("type") and not params.get("controller"):
            raise missing("type")
        return self._new(
            "acct",
            "account",
            type=params.get("type", "custom"),
            country=params.get("country", "US"),
            email=params.get("email"),
            business_type=params.get("business_type"),
            default_currency=params.get("default_currency", "usd"),
            metadata=metadata_param(params),
            # Ready to receive transfers at once; `fail_transfers_to` makes one refuse them.
            charges_enabled=True,
            payouts_enabled=True,
            details_submitted=True,
            capabilities={"transfers": "active"},
        )

    def create_transfer(self, params: dict) -> dict:
        check_known(
            params,
            {"amount", "currency", "destination", "transfer_group", "source_transaction"}
            | {"description", "metadata"},
        )
        amount = amount_param(params)
        currency = currency_param(params)
        metadata = metadata_param(params)
        destination = params.get("destination") or ""
        if not destination:
            raise missing("destination")
        if self.objects.get(destination, {}).get("object") != "account":
            raise no_such("destination", destination, "destination")
        if destination in self.failing_destinations:
            code, message = self.failing_destinations[destination]
            raise StripeError(400, message, code=code, param="destination")
        source = params.get("source_transaction")
        if source:
            self._fund_from_charge(source, amount, currency)
        elif self.available.get(currency, 0) < amount:
            raise StripeError(
                400,
                "You have insufficient available funds in your Stripe account. Try adding funds"
                " directly to your available balance by creating Charges using the"
                " 4000000000000077 test card.",
                code="balance_insufficient",
            )
        # A transfer funded by a charge takes that charge's money, which the stand-in put
        # into the available balance at once; so both kinds leave the available balance.
        self.available[currency] = self.available.get(currency, 0) - amount
        transfer = self._new(
            "tr",
            "transfer",
            amount=amount,
            amount_reversed=0,
            currency=currency,
            destination=destination,
            destination_payment=new_id("py"),
            balance_transaction=new_id("txn"),
            description=params.get("description"),
            metadata=metadata,
            reversed=False,
            source_transaction=source or None,
            source_type="card",
            transfer_group=params.get("transfer_group"),
        )
        transfer["reversals"] = _list(f"/v1/transfers/{transfer['id']}/reversals", [])
        transfer["reversals"]["total_count"] = 0
        self.emit("transfer.created", transfer)
        return transfer

    def _fund_from_charge(self, charge_id: str, amount: int, currency: str) -> None:
        charge = self._find("charge", charge_id, "source_transaction")
        if charge["currency"] != currency:
            raise StripeError(
                400,
                f"The currency of source_transaction's balance transaction ({charge['currency']})"
                f" must be the same as the transfer currency ({currency}).",
                param="currency",
            )
        left = charge["amount"] - self.funded.get(charge_id, 0)
        if amount > left:
            raise StripeError(
                400,
                f"Transfer amount ({amount}) exceeds what is left of source_transaction"
                f" {charge_id} ({left}).",
                code="amount_too_large",
                param="amount",
            )
        self.funded[charge_id] = self.funded.get(charge_id, 0) + amount

    def create_reversal(self, params: dict, transfer_id: str) -> dict:
        check_known(params, {"amount", "description", "metadata", "refund_application_fee"})
        transfer = self._find("transfer", transfer_id)
        metadata = metadata_param(params)
        left = transfer["amount"] - transfer["amount_reversed"]
        amount = amount_param(params, required=False) or left
        if left == 0:
            raise StripeError(400, f"Transfer {transfer_id} is already fully reversed.")
        if amount > left:
            raise StripeError(
                400,
                f"You have requested to reverse {amount}, which is more than the {left} left to"
                f" reverse on transfer {transfer_id}.",
                param="amount",
            )
        reversal = self._new(
            "trr",
            "transfer_reversal",
            amount=amount,
            currency=transfer["currency"],
            transfer=transfer_id,
            balance_transaction=new_id("txn"),
            destination_payment_refund=new_id("pyr"),
            metadata=metadata,
            source_refund=None,
        )
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
        transfer["reversals"]["data"].insert(0, reversal)  # Stripe lists newest first
        transfer["reversals"]["total_count"] += 1
        self.available[transfer["currency"]] += amount
        self.emit("transfer.reversed", transfer)  # partial reversals too, as Stripe does
        return reversal

    def list_reversals(self, params: dict, transfer_id: str) -> dict:
        check_known(params, {"limit", "starting_after", "ending_before"})
        return self._find("transfer", transfer_id)["reversals"]

    # -- collection ----------------------------------------------------------------------

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
        self.available[intent["currency"]] = (
            self.available.get(intent["currency"], 0) + (intent["amount"])
        )
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
            if charge is None or charge["status"] != "succeeded":
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
        self.available[charge["currency"]] -= amount
        self.emit("refund.created", refund)
        self.emit("charge.refunded", charge)
        return refund

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
        self.available[charge["currency"]] -= dispute["amount"]
        self.emit("charge.dispute.created", dispute)
        self.emit("charge.dispute.funds_withdrawn", dispute)
        return dispute

    def close_dispute(self, dispute_id: str, won: bool) -> dict:
        dispute = self._find("dispute", dispute_id)
        dispute["status"] = "won" if won else "lost"
        if won:
            self.available[dispute["currency"]] += dispute["amount"]
            self.emit("charge.dispute.funds_reinstated", dispute)
        self.emit("charge.dispute.closed", dispute)
        return dispute
