"""Connect: connected accounts, transfers to them, and reversals of transfers (mixed into Book).

A transfer is paid from the platform's available balance, unless it names a charge as its
`source_transaction`: then Stripe accepts it at once and pays it from that charge's funds,
never more than the charge brought. A reversal never exceeds what is left of its transfer.
"""

from tests.stripe_standin.wire import (
    StripeError,
    amount_param,
    check_known,
    currency_param,
    metadata_param,
    missing,
    new_id,
    no_such,
)


def _list(url: str, data: list) -> dict:
    return {"object": "list", "data": data, "has_more": False, "total_count": len(data), "url": url}


class Connect:
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
        self._move(currency, -amount)
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
        self.emit("transfer.created", transfer)
        return transfer

    def _fund_from_charge(self, charge_id: str, amount: int, currency: str) -> None:
        charge = self._find("charge", charge_id, "source_transaction")
        if charge["status"] != "succeeded":
            raise StripeError(
                400, f"Charge {charge_id} has not succeeded.", param="source_transaction"
            )
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
        self._move(transfer["currency"], amount)
        self.emit("transfer.reversed", transfer)  # partial reversals too, as Stripe does
        return reversal

    def list_transfers(self, params: dict) -> dict:
        """Transfers, newest first, filtered by destination and transfer_group as Stripe's
        list is (no paging: a test's account holds few)."""
        check_known(params, {"destination", "transfer_group", "limit"})
        found = [
            obj
            for obj in reversed(list(self.objects.values()))
            if obj["object"] == "transfer"
            and all(
                obj.get(key) == params[key]
                for key in ("destination", "transfer_group")
                if key in params
            )
        ]
        return {"object": "list", "url": "/v1/transfers", "has_more": False, "data": found}

    def list_reversals(self, params: dict, transfer_id: str) -> dict:
        check_known(params, {"limit", "starting_after", "ending_before"})
        return self._find("transfer", transfer_id)["reversals"]
