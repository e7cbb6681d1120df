from flask import current_app, request
from flask.views import MethodView

from marketplace import ledger
from marketplace.db import db, unit_of_work
from marketplace.identity.auth import BEARER_AUTH, current_actor
from marketplace.identity.models import Role
from marketplace.payments import (
    collection,
    credit_notes,
    invoice_files,
    invoices,
    payouts,
    reconciliation,
    reversals,
    stripe_collection,
    transfers,
)
from marketplace.payments.schemas import (
    BankTransferIn,
    CardPaymentIn,
    CardPaymentOut,
    ClientTransferIn,
    CreditNoteIn,
    CreditNoteOut,
    FileFormat,
    GatewayEventOut,
    InvoiceOut,
    InvoicePageArgs,
    LedgerTotalsOut,
    PaymentOut,
    PayoutRunIn,
    PayoutRunOut,
    ReconciliationArgs,
    ReconciliationOut,
    ReversalIn,
    ReversalOut,
)
from marketplace.web import Blueprint, PageArgs, csv_download


def stripe_gateway():
    """The app's Stripe gateway, or None when no key is configured."""
    return current_app.extensions["stripe_gateway"]


blp = Blueprint(
    "payments",
    __name__,
    url_prefix="/api/v1",
    description="Invoices, payments, settlement, refunds, payouts and reconciliation",
)


@blp.route("/orders/<int:order_id>/invoices")
class OrderInvoices(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(201, InvoiceOut)
    def post(self, order_id):
        """Invoice the client for the order's accepted, unbilled items (platform admins)"""
        with unit_of_work() as session:
            return invoices.invoice_accepted_items(
                session, current_actor(), order_id, invoices.Terms.from_config(current_app.config)
            )


@blp.route("/invoices")
class Invoices(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(InvoicePageArgs, location="query")
    @blp.response(200, InvoiceOut(many=True))
    @blp.alt_response(200, content_type="text/csv", description="With `format=csv`.")
    def get(self, args):
        """Your client's invoices (all, for platform admins)"""
        file_format = args.pop("format")
        found = invoices.list_invoices(db.session, current_actor(), **args)
        if file_format == "csv":
            return csv_download(invoice_files.invoices_csv(found), "invoices.csv")
        return found


@blp.route("/invoices/<int:invoice_id>")
class InvoiceById(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(FileFormat, location="query")
    @blp.response(200, InvoiceOut)
    @blp.alt_response(200, content_type="text/csv", description="With `format=csv`.")
    def get(self, args, invoice_id):
        """One invoice with its lines"""
        invoice = invoices.get_invoice(db.session, current_actor(), invoice_id)
        if args["format"] == "csv":
            return csv_download(invoice_files.invoice_csv(invoice), f"{invoice.number}.csv")
        return invoice


@blp.route("/invoices/<int:invoice_id>/credit-notes")
class InvoiceCreditNotes(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, CreditNoteOut(many=True))
    def get(self, invoice_id):
        """The invoice's credit notes"""
        return credit_notes.invoice_credit_notes(db.session, current_actor(), invoice_id)

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(CreditNoteIn)
    @blp.response(201, CreditNoteOut)
    def post(self, data, invoice_id):
        """Correct an issued invoice with a credit note (platform admins)

        It lowers what the client owes, at most what is outstanding, and each share's
        pending earnings by an exact part of it, down every chain."""
        with unit_of_work() as session:
            return credit_notes.issue_credit_note(
                session,
                current_actor(),
                invoice_id,
                timezone=current_app.config["BUSINESS_TIMEZONE"],
                **data,
            )


@blp.route("/invoices/<int:invoice_id>/payments")
class InvoicePayments(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, PaymentOut(many=True))
    def get(self, invoice_id):
        """Payments recorded against the invoice"""
        return collection.invoice_payments(db.session, current_actor(), invoice_id)

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(BankTransferIn)
    @blp.response(201, PaymentOut)
    @blp.alt_response(
        200, schema=PaymentOut, description="This bank reference was recorded before."
    )
    def post(self, data, invoice_id):
        """Record a client's bank transfer naming this invoice (platform admins)

        It pays this invoice first, all or part of it, and settles at once; what is
        left pays the client's oldest due invoices, then stays its credit."""
        with unit_of_work() as session:
            payment, created = collection.record_bank_transfer(
                session, current_actor(), invoice_id=invoice_id, **data
            )
        return payment, 201 if created else 200


@blp.route("/payments")
class Payments(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, PaymentOut(many=True))
    def get(self, page):
        """Your client's payments (all, for platform admins), with the invoices each paid"""
        return collection.list_payments(db.session, current_actor(), **page)

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(ClientTransferIn)
    @blp.response(201, PaymentOut)
    @blp.alt_response(
        200, schema=PaymentOut, description="This bank reference was recorded before."
    )
    def post(self, data):
        """Record a client's bank transfer (platform admins)

        It pays the invoice it names, if any, then the client's oldest due invoices in
        its currency, settling each at once; what is left is the client's credit."""
        with unit_of_work() as session:
            payment, created = collection.record_bank_transfer(session, current_actor(), **data)
        return payment, 201 if created else 200


@blp.route("/invoices/<int:invoice_id>/card-payments")
class InvoiceCardPayments(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(CardPaymentIn)
    @blp.response(201, CardPaymentOut)
    def post(self, data, invoice_id):
        """Pay what is outstanding on your invoice by card, through Stripe (clients)"""
        with unit_of_work() as session:
            return stripe_collection.pay_invoice_by_card(
                session, current_actor(), stripe_gateway(), invoice_id, **data
            )


@blp.route("/payments/stripe/webhook")
class StripeWebhook(MethodView):
    @blp.doc(
        requestBody={
            "description": "A Stripe event, signed in the `Stripe-Signature` header.",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    )
    @blp.response(200, GatewayEventOut)
    def post(self):
        """Stripe's events: payments, refunds and chargebacks (signed; each acted on once)"""
        with unit_of_work() as session:
            return stripe_collection.receive_webhook(
                session,
                stripe_gateway(),
                payload=request.get_data(),
                signature=request.headers.get("Stripe-Signature"),
                secret=current_app.config["STRIPE_WEBHOOK_SECRET"],
            )


@blp.route("/payments/<int:payment_id>")
class PaymentById(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, PaymentOut)
    def get(self, payment_id):
        """One payment, with the invoices it paid and what it left as credit"""
        return collection.get_payment(db.session, current_actor(), payment_id)


@blp.route("/payments/<int:payment_id>/reversals")
class PaymentReversals(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, ReversalOut(many=True))
    def get(self, payment_id):
        """The payment's refunds and chargebacks"""
        return reversals.payment_reversals(db.session, current_actor(), payment_id)

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(ReversalIn)
    @blp.response(201, ReversalOut)
    @blp.alt_response(200, schema=ReversalOut, description="This reference was recorded before.")
    def post(self, data, payment_id):
        """Record a refund or chargeback of a payment (platform admins)

        The client's credit from the payment goes back first, then what it paid of its
        invoices, the latest first: they are owed again, and the shares they settled go
        back from available to pending down every chain. What annotators were already
        paid out is never clawed back: their team absorbs it. Work a funded order's
        reservation paid for is never taken back: the client's balance goes below zero
        instead, and the client on credit hold."""
        with unit_of_work() as session:
            reversal, created = reversals.record_reversal(
                session, current_actor(), payment_id, **data
            )
        return reversal, 201 if created else 200


@blp.route("/payout-runs")
class PayoutRuns(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, PayoutRunOut(many=True))
    def get(self, page):
        """Past payout runs (platform admins)"""
        return payouts.list_runs(db.session, current_actor(), **page)

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(PayoutRunIn)
    @blp.response(201, PayoutRunOut)
    def post(self, data):
        """Pay every team and annotator what is available in a currency (platform admins)

        With `gateway: stripe` its transfers are sent before the answer; a transfer
        Stripe refuses is `failed` and its money is available again; one that could
        not be sent yet (Stripe unreachable) stays `pending` for
        POST /payout-runs/{id}/send."""
        actor = current_actor()
        run_id = transfers.pay_out(actor, stripe_gateway(), **data)
        return payouts.get_run(db.session, actor, run_id)


@blp.route("/payout-runs/<int:run_id>")
class PayoutRunById(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, PayoutRunOut)
    def get(self, run_id):
        """One payout run with its payouts"""
        return payouts.get_run(db.session, current_actor(), run_id)


@blp.route("/payout-runs/<int:run_id>/send")
class PayoutRunSend(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, PayoutRunOut)
    def post(self, run_id):
        """Send the run's transfers still pending, each exactly once (platform admins)"""
        actor = current_actor()
        transfers.resume_run(actor, stripe_gateway(), run_id)
        return payouts.get_run(db.session, actor, run_id)


@blp.route("/payout-runs/<int:run_id>/bank-file")
class PayoutRunFile(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, content_type="text/csv")
    def get(self, run_id):
        """The run's bank file (CSV) for the manual gateway"""
        run = payouts.get_run(db.session, current_actor(), run_id)
        return csv_download(payouts.bank_file(run), f"payout-run-{run.id}.csv")


@blp.route("/reconciliation")
class Reconciliation(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(ReconciliationArgs, location="query")
    @blp.response(200, ReconciliationOut)
    def get(self, args):
        """What the gateways say arrived against what the ledger settled (platform admins)

        For the payments received in the period: each receipt and refund in the
        ledger's bank, each application settled and split to the fen, each invoice's
        paid amount, and, when Stripe is configured, Stripe's own view of each card
        payment and transfer. Every disagreement is listed in `mismatches`."""
        return reconciliation.reconcile(db.session, current_actor(), stripe_gateway(), **args)


@blp.route("/ledger/totals")
class LedgerTotals(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, LedgerTotalsOut)
    def get(self):
        """Sum of all ledger entries per currency, for audit (platform admins)"""
        current_actor().require(Role.PLATFORM_ADMIN)
        return {"totals": ledger.totals_by_currency(db.session)}
