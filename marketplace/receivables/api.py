"""Receivables: aging, the dunning schedule, casework on invoices, credit holds, payment
records, the outbox and the audit log."""

from flask import current_app
from flask.views import MethodView

from marketplace.db import db, unit_of_work
from marketplace.identity import audit
from marketplace.identity.auth import BEARER_AUTH, current_actor
from marketplace.payments.schemas import CreditNoteOut
from marketplace.receivables import aging, casework, dunning, holds, mail, record
from marketplace.receivables.days import business_today
from marketplace.receivables.schemas import (
    AgingArgs,
    AgingOut,
    AuditArgs,
    AuditEntryOut,
    CollectionOut,
    EmailOut,
    HoldIn,
    HoldOut,
    InvoiceDisputeIn,
    InvoiceDisputeOut,
    LiftIn,
    NoteIn,
    NoteOut,
    OutboxArgs,
    PaymentRecordOut,
    PromiseIn,
    PromiseOut,
    ResolutionIn,
    ScheduleIn,
    StepOut,
    WriteOffIn,
)
from marketplace.web import Blueprint, csv_download

blp = Blueprint(
    "receivables",
    __name__,
    url_prefix="/api/v1",
    description="Aging, dunning, promises, disputes, write-offs, credit holds, payment records",
)


def timezone() -> str:
    return current_app.config["BUSINESS_TIMEZONE"]


def today():
    return business_today(timezone())


@blp.route("/receivables/aging")
class Aging(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(AgingArgs, location="query")
    @blp.response(200, AgingOut)
    @blp.alt_response(200, content_type="text/csv", description="With `format=csv`.")
    def get(self, args):
        """Who owes what, by days past due, as of a day (platform admins)"""
        report = aging.aging_report(
            db.session,
            current_actor(),
            as_of=args.get("as_of") or today(),
            timezone=timezone(),
            currency=args.get("currency"),
        )
        if args["format"] == "csv":
            return csv_download(aging.aging_csv(report), f"aging-{report['as_of']}.csv")
        return report


@blp.route("/dunning/steps")
class DunningSchedule(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, StepOut(many=True))
    def get(self):
        """The dunning schedule in force (platform admins)"""
        return dunning.schedule(db.session, current_actor())

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(ScheduleIn)
    @blp.response(200, StepOut(many=True))
    def put(self, data):
        """Replace the dunning schedule (platform admins)

        Steps that stay keep their id, so no invoice has them twice; a new step applies
        to every open invoice, even one past its day."""
        with unit_of_work() as session:
            return dunning.replace_schedule(session, current_actor(), data["steps"])


@blp.route("/invoices/<int:invoice_id>/collection")
class InvoiceCollection(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, CollectionOut)
    def get(self, invoice_id):
        """What was done to collect the invoice: steps, e-mails, promises, disputes, notes"""
        return casework.invoice_collection(
            db.session, current_actor(), invoice_id, today=today(), timezone=timezone()
        )


@blp.route("/invoices/<int:invoice_id>/promises")
class InvoicePromises(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(PromiseIn)
    @blp.response(201, PromiseOut)
    def post(self, data, invoice_id):
        """Record the client's promise to pay by a day: dunning pauses until then (admins)"""
        with unit_of_work() as session:
            return casework.record_promise(
                session, current_actor(), invoice_id, today=today(), **data
            )


@blp.route("/invoices/<int:invoice_id>/disputes")
class InvoiceDisputes(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(InvoiceDisputeIn)
    @blp.response(201, InvoiceDisputeOut)
    def post(self, data, invoice_id):
        """Flag the invoice as disputed: dunning pauses until it is resolved (admins)"""
        with unit_of_work() as session:
            return casework.open_dispute(session, current_actor(), invoice_id, **data)


@blp.route("/invoice-disputes/<int:dispute_id>/resolution")
class DisputeResolution(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(ResolutionIn)
    @blp.response(200, InvoiceDisputeOut)
    def post(self, data, dispute_id):
        """Resolve a dispute; dunning resumes if money is still owed (platform admins)"""
        with unit_of_work() as session:
            return casework.resolve_dispute(session, current_actor(), dispute_id, **data)


@blp.route("/invoices/<int:invoice_id>/notes")
class InvoiceNotes(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(NoteIn)
    @blp.response(201, NoteOut)
    def post(self, data, invoice_id):
        """Note a call or an answer on the invoice (platform admins)"""
        with unit_of_work() as session:
            return casework.add_note(session, current_actor(), invoice_id, **data)


@blp.route("/invoices/<int:invoice_id>/write-offs")
class InvoiceWriteOffs(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(WriteOffIn)
    @blp.response(201, CreditNoteOut)
    def post(self, data, invoice_id):
        """Write off what the client will not pay (platform admins)

        A credit note of kind write_off: the receivable and every holder's pending share
        drop by an exact part, as pay-when-paid says."""
        with unit_of_work() as session:
            return casework.write_off(
                session,
                current_actor(),
                invoice_id,
                amount=data.get("amount"),
                reason=data["reason"],
                timezone=timezone(),
            )


@blp.route("/credit-holds")
class HoldsInForce(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, HoldOut(many=True))
    def get(self):
        """Every client on credit hold now (platform admins)"""
        return holds.holds_in_force(db.session, current_actor())


@blp.route("/clients/<int:client_id>/credit-holds")
class ClientHolds(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, HoldOut(many=True))
    def get(self, client_id):
        """The client's credit holds, in force and past, newest first (platform admins)"""
        return holds.client_holds(db.session, current_actor(), client_id)

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(HoldIn)
    @blp.response(201, HoldOut)
    def post(self, data, client_id):
        """Put the client on credit hold: no new orders, no drops released (admins)"""
        with unit_of_work() as session:
            return holds.put_on_hold(session, current_actor(), client_id, **data)


@blp.route("/clients/<int:client_id>/credit-holds/lift")
class LiftHold(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(LiftIn)
    @blp.response(200, HoldOut)
    def post(self, data, client_id):
        """Lift the client's credit hold now (platform admins)"""
        with unit_of_work() as session:
            return holds.lift_client_hold(session, current_actor(), client_id, **data)


@blp.route("/clients/<int:client_id>/payment-record")
class ClientPaymentRecord(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, PaymentRecordOut)
    def get(self, client_id):
        """How the client pays: on time, days late, overdue now, oldest unpaid"""
        return record.payment_record(
            db.session, client_id, reader=current_actor(), today=today(), timezone=timezone()
        )


@blp.route("/payment-records")
class PaymentRecords(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, PaymentRecordOut(many=True))
    def get(self):
        """The payment record of every client with published orders, before you claim"""
        return record.payment_records(
            db.session, reader=current_actor(), today=today(), timezone=timezone()
        )


@blp.route("/outbox")
class Outbox(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(OutboxArgs, location="query")
    @blp.response(200, EmailOut(many=True))
    def get(self, args):
        """E-mails written by the dunning schedule, queued, sent or failed (admins)"""
        return mail.outbox_page(db.session, current_actor(), **args)


@blp.route("/audit-log")
class AuditLog(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(AuditArgs, location="query")
    @blp.response(200, AuditEntryOut(many=True))
    def get(self, args):
        """Every admin action: who, when, what (platform admins)"""
        return audit.audit_page(db.session, current_actor(), **args)
