from datetime import date, timedelta

from marshmallow import Schema, ValidationError, fields, validate

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


class WaitingOn(Schema):
    invoice_id = fields.Integer()
    invoice_number = fields.String()
    due_on = fields.Date()
    items = fields.Integer()
    amount = Amount(attribute="amount_minor")
    days_late = fields.Integer(metadata={"description": "Days past its due date; 0 if not due."})


class Unbilled(Schema):
    items = fields.Integer()
    amount = Amount(attribute="amount_minor")


class WorkOut(Schema):
    submitted = fields.Integer()
    accepted = fields.Integer()
    rejected = fields.Integer()
    earned = Price(
        attribute="earned_micros",
        metadata={
            "description": "Accepted items x their rates, exact (rounded once, on the invoice)."
        },
    )


class HoldingOut(Schema):
    holder = fields.String(metadata={"description": "annotator (you), team or platform"})
    party_id = fields.Integer()
    party_name = fields.String()
    currency = fields.String()
    pending = Amount(
        attribute="pending_minor",
        metadata={"description": "Invoiced, waiting on the client's money."},
    )
    available = Amount(
        attribute="available_minor",
        metadata={"description": "Arrived and settled; paid in the next run."},
    )
    paid = Amount(attribute="paid_minor")
    waiting_on = fields.List(fields.Nested(WaitingOn))
    unbilled = fields.Nested(
        Unbilled,
        allow_none=True,
        metadata={
            "description": "Accepted work not invoiced yet: an annotator's pay, or a team's "
            "margins on every link it holds."
        },
    )

    today = fields.Nested(
        WorkOut,
        metadata={"description": "Your items and exact pay today, in your team's day."},
    )
    this_month = fields.Nested(WorkOut)


class EarningsOut(Schema):
    holdings = fields.List(fields.Nested(HoldingOut))


class PeriodArgs(Schema):
    team_id = fields.Integer(
        load_default=None, metadata={"description": "Needed if you annotate for several teams."}
    )
    from_ = fields.Date(
        data_key="from",
        attribute="from",
        load_default=None,
        metadata={"description": "Default: the 1st of this month."},
    )
    to = fields.Date(load_default=None, metadata={"description": "Default: today."})


class StatementArgs(PeriodArgs):
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(["json", "csv"]),
        metadata={"description": "`csv` answers text/csv, numbers written for your locale."},
    )
    locale = fields.String(
        load_default=None,
        validate=validate.Length(min=2, max=35),
        metadata={"description": "A CLDR locale such as de_DE; default: your own."},
    )


class DayOut(WorkOut):
    day = fields.Date()
    currency = fields.String()


class WorkDaysOut(Schema):
    team_id = fields.Integer()
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()
    days = fields.List(fields.Nested(DayOut))


class StatementRowOut(DayOut):
    accrued = Amount(metadata={"description": "Invoiced to the client: pending from now."})
    settled = Amount(metadata={"description": "The client's money arrived: available."})
    paid_out = Amount()


class BalanceOut(Schema):
    currency = fields.String()
    pending = Amount()
    available = Amount()
    paid = Amount()


class StatementOut(Schema):
    team_id = fields.Integer()
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()
    rows = fields.List(fields.Nested(StatementRowOut))
    balances = fields.List(fields.Nested(BalanceOut))


class MemberEarningsOut(Schema):
    user_id = fields.Integer()
    name = fields.String()
    currency = fields.String()
    today = fields.Nested(WorkOut)
    this_month = fields.Nested(WorkOut)
    pending = Amount(attribute="pending_minor")
    available = Amount(attribute="available_minor")
    paid = Amount(attribute="paid_minor")


class LedgerTotalsOut(Schema):
    totals = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "Sum of all entries per currency; always 0."},
    )


class MarginArgs(Schema):
    team_id = fields.Integer(
        load_default=None,
        metadata={"description": "Needed if you own several teams; admins name any team."},
    )
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(["json", "csv"]),
        metadata={"description": "`csv` answers text/csv: a row per link, then the totals."},
    )


class SubcontractLineOut(Schema):
    contract_id = fields.Integer()
    downstream_name = fields.String()
    unit_price = Price(attribute="unit_price_micros")
    items = fields.Integer()
    line = Amount()


class AnnotatorLinesOut(Schema):
    items = fields.Integer(metadata={"description": "Items your own annotators did."})
    line = Amount(metadata={"description": "What your annotators earn on them."})


class MarginLinkOut(Schema):
    contract_id = fields.Integer()
    depth = fields.Integer()
    upstream_name = fields.String()
    unit_price = Price(attribute="unit_price_micros")
    items = fields.Integer(metadata={"description": "Accepted under this link and below it."})
    upstream_line = Amount(metadata={"description": "items x your price, rounded once."})
    subcontracts = fields.List(fields.Nested(SubcontractLineOut))
    annotators = fields.Nested(AnnotatorLinesOut)
    downstream_lines = Amount()
    margin = Amount(metadata={"description": "upstream_line - downstream_lines"})
    invoiced_items = fields.Integer(metadata={"description": "Items invoiced so far."})
    invoiced_margin = Amount(
        metadata={"description": "The margin the invoices so far credited (the ledger's)."}
    )


class MarginTotalsOut(Schema):
    items = fields.Integer()
    upstream_line = Amount()
    downstream_lines = Amount()
    margin = Amount()
    invoiced_items = fields.Integer()
    invoiced_margin = Amount()


class MarginReportOut(Schema):
    order_id = fields.Integer()
    order_title = fields.String()
    team_id = fields.Integer()
    team_name = fields.String()
    currency = fields.String()
    links = fields.List(fields.Nested(MarginLinkOut))
    totals = fields.Nested(MarginTotalsOut)
