"""Receivables as the API reads and writes them: aging, dunning, casework, holds, records."""

from datetime import date, timedelta

from marshmallow import Schema, fields, validate

from marketplace.db import MAX_ID
from marketplace.payments.schemas import CreditNoteOut, FileFormat
from marketplace.receivables.aging import BUCKET_NAMES
from marketplace.receivables.dunning import EARLIEST, LATEST, MAX_STEPS
from marketplace.receivables.models import StepAction
from marketplace.web import Currency, DecimalString, PageArgs, not_blank


def _text(max_length: int, **kwargs) -> fields.String:
    return fields.String(validate=[validate.Length(min=1, max=max_length), not_blank], **kwargs)


class AgingArgs(FileFormat):
    as_of = fields.Date(
        # The report reads up to the end of the day: the calendar's last day has none.
        validate=validate.Range(max=date.max - timedelta(days=1)),
        metadata={"description": "The day to report as of (default: today, business time)."},
    )
    currency = Currency(metadata={"example": "CNY"})


class AgingRowOut(Schema):
    client_id = fields.Integer()
    client_name = fields.String()
    currency = fields.String()
    invoices = fields.Integer(metadata={"description": "Invoices with money owed."})
    buckets = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": f"Owed per bucket of days past due: {', '.join(BUCKET_NAMES)}."},
    )
    total = fields.String()


class AgingTotalOut(Schema):
    currency = fields.String()
    buckets = fields.Dict(keys=fields.String(), values=fields.String())
    total = fields.String()


class AgingOut(Schema):
    as_of = fields.Date()
    buckets = fields.List(fields.String())
    clients = fields.List(fields.Nested(AgingRowOut))
    totals = fields.List(fields.Nested(AgingTotalOut))


class StepIn(Schema):
    offset_days = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=EARLIEST, max=LATEST),
        metadata={"description": "Days after the due date (negative: before it)."},
    )
    action = fields.String(required=True, validate=validate.OneOf([a.value for a in StepAction]))


class ScheduleIn(Schema):
    steps = fields.List(
        fields.Nested(StepIn), required=True, validate=validate.Length(max=MAX_STEPS)
    )


class StepOut(Schema):
    id = fields.Integer()
    offset_days = fields.Integer()
    action = fields.String()


class StepTakenOut(Schema):
    step_id = fields.Integer()
    offset_days = fields.Integer(attribute="step.offset_days")
    action = fields.String(attribute="step.action")
    due_on = fields.Date()
    outcome = fields.String(
        metadata={
            "description": "sent, no_recipient, superseded (a later letter went instead), "
            "escalated, held or already_held."
        }
    )
    taken_at = fields.DateTime(attribute="created_at")


class EmailOut(Schema):
    id = fields.Integer()
    to = fields.String(attribute="to_address")
    subject = fields.String()
    body = fields.String()
    invoice_id = fields.Integer(allow_none=True)
    queued_at = fields.DateTime(attribute="created_at")
    sent_at = fields.DateTime(allow_none=True)
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    failed = fields.Boolean()


class OutboxArgs(PageArgs):
    status = fields.String(
        validate=validate.OneOf(["queued", "sent", "failed"]),
        metadata={"description": "Only queued, sent or failed messages."},
    )


class PromiseIn(Schema):
    promised_on = fields.Date(required=True)
    note = fields.String(load_default="", validate=validate.Length(max=500))


class PromiseOut(Schema):
    id = fields.Integer()
    invoice_id = fields.Integer()
    promised_on = fields.Date()
    note = fields.String()
    recorded_by_user_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class PromiseStateOut(Schema):
    promise = fields.Nested(PromiseOut)
    state = fields.String(metadata={"description": "pending, kept or broken."})


class InvoiceDisputeIn(Schema):
    reason = _text(500, required=True)


class ResolutionIn(Schema):
    resolution = _text(500, required=True)


class InvoiceDisputeOut(Schema):
    id = fields.Integer()
    invoice_id = fields.Integer()
    reason = fields.String()
    opened_by_user_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)
    resolved_by_user_id = fields.Integer(allow_none=True)
    resolution = fields.String(allow_none=True)


class NoteIn(Schema):
    text = _text(2000, required=True)


class NoteOut(Schema):
    id = fields.Integer()
    invoice_id = fields.Integer()
    user_id = fields.Integer(allow_none=True)
    text = fields.String()
    created_at = fields.DateTime()


class WriteOffIn(Schema):
    amount = DecimalString(
        metadata={"type": "string", "example": "10.00", "description": "Default: all owed."}
    )
    reason = _text(500, required=True)


class CollectionOut(Schema):
    invoice_id = fields.Integer()
    number = fields.String()
    status = fields.String()
    paused = fields.String(
        allow_none=True,
        metadata={"description": "Why dunning waits: disputed, or promised for a day."},
    )
    disputed = fields.Boolean()
    steps = fields.List(fields.Nested(StepTakenOut))
    emails = fields.List(fields.Nested(EmailOut))
    promises = fields.List(fields.Nested(PromiseStateOut))
    disputes = fields.List(fields.Nested(InvoiceDisputeOut))
    write_offs = fields.List(fields.Nested(CreditNoteOut))
    notes = fields.List(fields.Nested(NoteOut), metadata={"description": "Admins only."})


class HoldIn(Schema):
    reason = _text(
        500,
        required=True,
        metadata={
            "description": "Shown to every team on the client's payment record: name "
            "invoices and days, never amounts (they would give away the client's price)."
        },
    )
    lifts_when_paid = fields.Boolean(
        load_default=False,
        metadata={"description": "Lift by itself once nothing the client owes is overdue."},
    )


class LiftIn(Schema):
    reason = _text(500, required=True)


class HoldOut(Schema):
    id = fields.Integer()
    client_id = fields.Integer(attribute="party_id")
    reason = fields.String()
    placed_by_user_id = fields.Integer(
        allow_none=True, metadata={"description": "None: the dunning schedule placed it."}
    )
    lifts_when_paid = fields.Boolean()
    placed_at = fields.DateTime(attribute="created_at")
    lifted_at = fields.DateTime(allow_none=True)
    lifted_by_user_id = fields.Integer(allow_none=True)
    lift_reason = fields.String(allow_none=True)


class HoldSummaryOut(Schema):
    since = fields.DateTime()
    reason = fields.String()


class OverdueOut(Schema):
    currency = fields.String()
    at_least = fields.String(
        metadata={
            "description": "The band of the overdue invoices' issued totals: 0, 100, "
            "1000, ... (money arriving does not move it)."
        }
    )
    below = fields.String(metadata={"description": "The band's end: 100, 1000, 10000, ..."})
    amount = fields.String(
        allow_none=True,
        metadata={
            "description": "What they still owe, for the client's own people and platform "
            "admins only: with an order's quantity it would give away the client's price."
        },
    )


class PaymentRecordOut(Schema):
    client_id = fields.Integer()
    client_name = fields.String()
    invoices_issued = fields.Integer()
    invoices_paid = fields.Integer()
    paid_on_time = fields.Integer(metadata={"description": "Paid by their due date."})
    average_days_late = fields.String(
        allow_none=True,
        metadata={
            "description": "Over invoices paid or past due: a paid one to the day it was "
            "paid, an unpaid one to today. One decimal."
        },
    )
    worst_days_late = fields.Integer(allow_none=True)
    overdue_invoices = fields.Integer(metadata={"description": "Past due and unpaid now."})
    overdue_now = fields.List(
        fields.Nested(OverdueOut),
        metadata={"description": "What those invoices owe, per currency."},
    )
    oldest_unpaid_days = fields.Integer(
        allow_none=True, metadata={"description": "Age of the oldest unpaid invoice, in days."}
    )
    credit_hold = fields.Nested(HoldSummaryOut, allow_none=True)


# Actions and subjects are named in lower case with dots and underscores.
AUDIT_NAME = validate.Regexp(r"^[a-z_.]+$", error="Lower-case letters, dots and underscores.")


class AuditArgs(PageArgs):
    action = fields.String(validate=[validate.Length(max=64), AUDIT_NAME])
    subject_type = fields.String(validate=[validate.Length(max=32), AUDIT_NAME])
    subject_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


class AuditEntryOut(Schema):
    id = fields.Integer()
    at = fields.DateTime(attribute="created_at")
    user_id = fields.Integer(allow_none=True)
    source = fields.String(metadata={"description": "api, cli or scheduler."})
    action = fields.String()
    subject_type = fields.String()
    subject_id = fields.Integer(allow_none=True)
    details = fields.Dict()
