"""Invoices, payments, refunds, payout runs and reconciliation, as the API reads and writes them."""

from datetime import date, timedelta

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from marketplace import clock
from marketplace.db import MAX_ID
from marketplace.payments.models import ApplicationKind
from marketplace.web import Amount, Currency, DecimalString, PageArgs, Price, not_blank


class InvoiceLineOut(Schema):
    kind = fields.String()
    description = fields.String()
    contract_id = fields.Integer(allow_none=True)
    quantity = fields.Integer(allow_none=True)
    unit_price = Price(attribute="unit_price_micros", allow_none=True)
    amount = Amount(attribute="amount_minor", currency_attribute="invoice.currency")
    period_start = fields.Date(allow_none=True, metadata={"description": "First day billed."})
    period_end = fields.Date(allow_none=True, metadata={"description": "Last day billed."})


class FileFormat(Schema):
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(["json", "csv"]),
        metadata={"description": "`csv` answers text/csv, for accounts payable."},
    )


class InvoicePageArgs(PageArgs, FileFormat):
    pass


class CreditNoteIn(Schema):
    amount = DecimalString(required=True, metadata={"type": "string", "example": "10.00"})
    reason = fields.String(required=True, validate=[validate.Length(min=1, max=500), not_blank])


class CreditNoteOut(Schema):
    id = fields.Integer()
    number = fields.String()
    invoice_id = fields.Integer()
    invoice_number = fields.String(attribute="invoice.number")
    amount = Amount(attribute="amount_minor", currency_attribute="invoice.currency")
    reason = fields.String()
    kind = fields.String(
        metadata={"description": "correction, or write_off: money the client will not pay."}
    )
    created_at = fields.DateTime()


class InvoiceOut(Schema):
    id = fields.Integer()
    number = fields.String()
    client_id = fields.Integer(attribute="client_party_id")
    client_name = fields.String(attribute="client.name")
    order_id = fields.Integer()
    currency = fields.String()
    status = fields.String()
    issued_at = fields.DateTime()
    due_on = fields.Date()
    items_amount = Amount(attribute="items_minor")
    fee = Amount(attribute="fee_minor")
    total = Amount(attribute="total_minor")
    credited = Amount(attribute="credited_minor", metadata={"description": "By credit notes."})
    paid = Amount(attribute="paid_minor", metadata={"description": "Settled so far."})
    outstanding = Amount(attribute="outstanding_minor")
    paid_at = fields.DateTime(allow_none=True)
    lines = fields.List(fields.Nested(InvoiceLineOut))


def _not_in_the_future(day: date) -> None:
    # It is already tomorrow somewhere: the latest date on Earth is UTC+14's.
    if day > (clock.now() + timedelta(hours=14)).date():
        raise ValidationError("A transfer cannot have been received in the future.")


class BankTransferIn(Schema):
    """A transfer naming the invoice of the URL; it pays that invoice first."""

    amount = DecimalString(required=True, metadata={"type": "string", "example": "206.12"})
    reference = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=200), not_blank],
        metadata={"description": "The bank's reference; recording it twice records one payment."},
    )
    received_on = fields.Date(required=True, validate=_not_in_the_future)


class ClientTransferIn(BankTransferIn):
    """A transfer from a client; without `invoice_id` it pays the oldest due invoices first."""

    client_id = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID))
    currency = Currency(required=True, metadata={"example": "CNY"})
    invoice_id = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "The invoice the client named: paid first."},
    )


class ApplicationOut(Schema):
    invoice_id = fields.Integer()
    invoice_number = fields.String(attribute="invoice.number")
    kind = fields.String(metadata={"description": "payment, refund or chargeback"})
    amount = Amount(attribute="amount_minor", currency_attribute="invoice.currency")
    created_at = fields.DateTime()


class PaymentOut(Schema):
    id = fields.Integer()
    client_id = fields.Integer(attribute="client_party_id")
    invoice_id = fields.Integer(allow_none=True, metadata={"description": "The invoice named."})
    gateway = fields.String()
    reference = fields.String()
    amount = Amount(attribute="amount_minor")
    currency = fields.String()
    received_on = fields.Date()
    created_at = fields.DateTime()
    applied = Amount(attribute="applied_minor")
    returned = Amount(
        attribute="returned_minor", metadata={"description": "Refunded or charged back."}
    )
    unapplied = Amount(
        attribute="unapplied_minor", metadata={"description": "The client's credit from it."}
    )
    applications = fields.List(fields.Nested(ApplicationOut))


class CardPaymentIn(Schema):
    payment_method = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=255), not_blank],
        metadata={"description": "A Stripe PaymentMethod id (pm_...).", "example": "pm_card_visa"},
    )
    attempt = fields.String(
        load_default=None,
        validate=[validate.Length(min=1, max=64), validate.Regexp(r"^[A-Za-z0-9_-]+$")],
        metadata={
            "description": "Your id for this try (a new one per click of Pay): the same id "
            "never charges twice. Default: the card, so the same card is one try until the "
            "invoice's paid amount changes."
        },
    )


class CardPaymentOut(Schema):
    payment_intent = fields.String(metadata={"description": "Stripe's PaymentIntent id."})
    status = fields.String(metadata={"description": "Stripe's status of the PaymentIntent."})
    payment = fields.Nested(
        PaymentOut,
        allow_none=True,
        metadata={"description": "Recorded and settled, if the card payment succeeded at once."},
    )


class GatewayEventOut(Schema):
    id = fields.String()
    type = fields.String()
    received_at = fields.DateTime()
    outcome = fields.String(metadata={"description": "What was made of it."})


class ReversalIn(Schema):
    kind = fields.String(
        required=True,
        validate=validate.OneOf([ApplicationKind.REFUND, ApplicationKind.CHARGEBACK]),
    )
    amount = DecimalString(required=True, metadata={"type": "string", "example": "50.00"})
    reference = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=200), not_blank],
        metadata={"description": "The bank's or gateway's id of it; recorded once."},
    )
    reason = fields.String(load_default="", validate=validate.Length(max=300))


class ReversalOut(Schema):
    id = fields.Integer()
    payment_id = fields.Integer()
    kind = fields.String()
    reference = fields.String()
    amount = Amount(attribute="amount_minor", currency_attribute="payment.currency")
    absorbed = Amount(
        attribute="absorbed_minor",
        currency_attribute="payment.currency",
        metadata={
            "description": "Of it, what annotators had been paid out already: "
            "taken from their teams instead."
        },
    )
    uncovered = Amount(
        attribute="uncovered_minor",
        currency_attribute="payment.currency",
        metadata={
            "description": "Of it, what nothing covered: how far below zero it took the "
            "client's balance (funded work already paid is never taken back), the platform's "
            "loss until the client pays it back or an admin writes it off."
        },
    )
    reason = fields.String()
    created_at = fields.DateTime()


class PayoutRunIn(Schema):
    currency = Currency(required=True, metadata={"example": "CNY"})
    minimum = DecimalString(
        load_default=None,
        metadata={
            "type": "string",
            "example": "1.00",
            "description": "Pay only balances of at least this much (default: the minor unit).",
        },
    )
    gateway = fields.String(
        load_default="manual",
        validate=validate.OneOf(["manual", "stripe"]),
        metadata={
            "description": "manual: a bank file; stripe: Connect transfers to payees with "
            "a connected account (the others wait for a manual run)."
        },
    )


class PayoutTransferOut(Schema):
    id = fields.Integer()
    invoice_id = fields.Integer(
        allow_none=True, metadata={"description": "The invoice whose settled money it pays."}
    )
    amount = Amount(attribute="amount_minor", currency_attribute="payout.currency")
    status = fields.String(metadata={"description": "pending, sent or failed"})
    transfer_group = fields.String(allow_none=True)
    source_charge = fields.String(allow_none=True)
    gateway_id = fields.String(allow_none=True)
    failure = fields.String(
        allow_none=True, metadata={"description": "Why it failed; its money is available again."}
    )


class PayoutOut(Schema):
    id = fields.Integer()
    party_id = fields.Integer()
    user_id = fields.Integer(allow_none=True)
    payee_name = fields.String()
    bank_account = fields.String(allow_none=True)
    stripe_account = fields.String(allow_none=True)
    currency = fields.String()
    amount = Amount(attribute="amount_minor")
    failed = Amount(attribute="failed_minor")
    status = fields.String(metadata={"description": "pending, sent or failed"})
    transfers = fields.List(fields.Nested(PayoutTransferOut))


class PayoutRunOut(Schema):
    id = fields.Integer()
    currency = fields.String()
    gateway = fields.String()
    minimum = Amount(attribute="minimum_minor")
    created_at = fields.DateTime()
    payouts = fields.List(fields.Nested(PayoutOut))
    total = Amount(attribute="total_minor")
    failed = Amount(attribute="failed_minor")


class LedgerTotalsOut(Schema):
    totals = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "Sum of all entries per currency; always 0."},
    )


class ReconciliationArgs(Schema):
    currency = Currency(required=True, metadata={"example": "CNY"})
    from_ = fields.Date(data_key="from", attribute="since", required=True)
    to = fields.Date(attribute="until", required=True)

    @validates_schema
    def _a_period(self, data, **_kwargs) -> None:
        if data["until"] < data["since"]:
            raise ValidationError("`to` must not be before `from`.", "to")
        if (data["until"] - data["since"]).days > 366:
            raise ValidationError("At most 366 days at a time.", "to")


class MismatchOut(Schema):
    kind = fields.String(
        metadata={
            "description": "receipt_not_in_ledger, application_not_settled_in_ledger, "
            "application_parts_differ, applications_differ_from_payment, invoice_paid_differs, "
            "reversal_not_in_ledger, write_off_not_in_ledger, loss_without_write_off, "
            "not_succeeded_at_stripe, amount_differs_at_stripe, refunds_differ_at_stripe, "
            "transfer_differs_at_stripe, transfer_reversed_at_stripe, unchecked_at_gateway"
        }
    )
    expected = fields.String(allow_none=True)
    found = fields.String(allow_none=True)
    payment_id = fields.Integer(allow_none=True)
    invoice_id = fields.Integer(allow_none=True)
    reversal_id = fields.Integer(allow_none=True)
    transfer_id = fields.Integer(allow_none=True)
    write_off_id = fields.Integer(allow_none=True)
    reference = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    amount_reversed = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)


class ReconciliationOut(Schema):
    currency = fields.String()
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()
    payments = fields.Integer(metadata={"description": "Payments received in the period."})
    gateways = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.String()),
        metadata={"description": "Per gateway, what we recorded as arrived and returned."},
    )
    ledger = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={
            "description": "`received`: the bank's receipts of these payments; `settled`: what "
            "they applied to invoices (each application, before refunds took any back)."
        },
    )
    losses = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={
            "description": "`uncovered`: what the refunds and chargebacks of these payments "
            "took below zero of their clients' balances; `written_off`: what admins wrote "
            "off of negative balances in the period (the platform's `loss` account)."
        },
    )
    stripe_checked = fields.Boolean(
        metadata={"description": "Whether Stripe was asked (a key is configured)."}
    )
    mismatches = fields.List(fields.Nested(MismatchOut))


class BalanceWriteOffIn(Schema):
    currency = Currency(required=True, metadata={"example": "CNY"})
    amount = DecimalString(
        required=True,
        metadata={
            "type": "string",
            "example": "0.63",
            "description": "At most what the client owes: its balance back to zero.",
        },
    )
    reason = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=480), not_blank],
        metadata={"description": "Why the platform gives it up; the client reads it."},
    )
    reversal_id = fields.Integer(
        strict=True,
        load_default=None,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={
            "description": "The refund or chargeback that left the balance below zero: "
            "what write-offs naming it add up to stays within what it left uncovered."
        },
    )


class BalanceWriteOffArgs(PageArgs):
    currency = Currency(metadata={"example": "CNY", "description": "Only this currency's."})


class BalanceWriteOffOut(Schema):
    id = fields.Integer()
    client_id = fields.Integer(attribute="client_party_id")
    currency = fields.String()
    amount = Amount(attribute="amount_minor")
    reason = fields.String()
    reversal_id = fields.Integer(allow_none=True)
    recorded_by_user_id = fields.Integer()
    created_at = fields.DateTime()
