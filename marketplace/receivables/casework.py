"""What admins record on an invoice they chase: promises, disputes, notes, write-offs.

Each is one admin action, logged in the audit log in the same unit of work.
"""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.db import find
from marketplace.errors import Conflict, Invalid, NotFound
from marketplace.identity import audit
from marketplace.identity.actor import Actor
from marketplace.identity.models import Role
from marketplace.notices.mail import recipients
from marketplace.notices.models import OutboxMessage
from marketplace.payments.amounts import minor_units
from marketplace.payments.credit import hold_client
from marketplace.payments.credit_notes import take_off
from marketplace.payments.invoices import get_invoice
from marketplace.payments.models import CreditNote, CreditNoteKind, Invoice, InvoiceStatus
from marketplace.receivables.dunning import pauses
from marketplace.receivables.models import (
    Dispute,
    DunningAction,
    InvoiceNote,
    Promise,
    StepAction,
)
from marketplace.receivables.record import paid_days

# How far ahead a promise may be dated.
LONGEST_PROMISE = timedelta(days=366)


def _admin_invoice(session: Session, actor: Actor, invoice_id: int) -> Invoice:
    invoice = get_invoice(session, actor, invoice_id)
    actor.require(Role.PLATFORM_ADMIN)
    return invoice


def _owing(invoice: Invoice) -> None:
    if invoice.status != InvoiceStatus.OPEN or invoice.outstanding_minor <= 0:
        raise Conflict(
            f"Invoice {invoice.number} is {invoice.status}: nothing is owed on it.",
            code="invoice_not_open",
        )


def record_promise(
    session: Session, actor: Actor, invoice_id: int, *, promised_on: date, note: str, today: date
) -> Promise:
    """Record the client's promise to pay the invoice by `promised_on` (platform admins).

    Dunning pauses until that day; if the invoice is still owed the day after, the
    promise is broken and dunning resumes. 422 for a day already past or over a year
    away; 409 for an invoice with nothing owed.
    """
    invoice = _admin_invoice(session, actor, invoice_id)
    _owing(invoice)
    if promised_on < today or promised_on > today + LONGEST_PROMISE:
        raise Invalid(
            "A promise is dated from today to a year ahead.",
            code="promise_out_of_range",
            today=today.isoformat(),
        )
    promise = Promise(
        invoice_id=invoice.id,
        promised_on=promised_on,
        note=note,
        recorded_by_user_id=actor.user_id,
    )
    session.add(promise)
    session.flush()
    audit.record(
        session,
        actor,
        "promise.recorded",
        ("invoice", invoice.id),
        promise_id=promise.id,
        promised_on=promised_on.isoformat(),
        note=note,
    )
    return promise


def open_dispute(session: Session, actor: Actor, invoice_id: int, *, reason: str) -> Dispute:
    """Flag the invoice as disputed by its client (platform admins): dunning pauses until
    the dispute is resolved. A credit hold already in force stays: an admin who finds
    the client right lifts it. 409 if one is open already or nothing is owed."""
    invoice = _admin_invoice(session, actor, invoice_id)
    _owing(invoice)
    hold_client(session, invoice.client_party_id)
    session.execute(select(Invoice.id).where(Invoice.id == invoice.id).with_for_update())
    if session.scalar(
        select(Dispute.id).where(Dispute.invoice_id == invoice.id, Dispute.resolved_at.is_(None))
    ):
        raise Conflict("The invoice is disputed already.", code="already_disputed")
    dispute = Dispute(invoice_id=invoice.id, reason=reason, opened_by_user_id=actor.user_id)
    session.add(dispute)
    session.flush()
    audit.record(
        session,
        actor,
        "dispute.opened",
        ("invoice", invoice.id),
        dispute_id=dispute.id,
        reason=reason,
    )
    return dispute


def resolve_dispute(session: Session, actor: Actor, dispute_id: int, *, resolution: str) -> Dispute:
    """Close the dispute (platform admins); dunning resumes if money is still owed. What
    was agreed is recorded as its resolution (a credit note or write-off is its own
    action). 409 if it was resolved already."""
    actor.require(Role.PLATFORM_ADMIN)
    dispute = find(session, Dispute, dispute_id)
    if dispute is None:
        raise NotFound(f"No dispute {dispute_id}.", code="dispute_not_found")
    session.execute(select(Dispute.id).where(Dispute.id == dispute.id).with_for_update())
    session.refresh(dispute)
    if dispute.resolved_at is not None:
        raise Conflict("The dispute is resolved already.", code="dispute_resolved")
    dispute.resolved_at = clock.now()
    dispute.resolved_by_user_id = actor.user_id
    dispute.resolution = resolution
    audit.record(
        session,
        actor,
        "dispute.resolved",
        ("invoice", dispute.invoice_id),
        dispute_id=dispute.id,
        resolution=resolution,
    )
    return dispute


def add_note(session: Session, actor: Actor, invoice_id: int, *, text: str) -> InvoiceNote:
    """Note something on the invoice: a call, an answer (platform admins)."""
    invoice = _admin_invoice(session, actor, invoice_id)
    note = InvoiceNote(invoice_id=invoice.id, user_id=actor.user_id, text=text)
    session.add(note)
    session.flush()
    audit.record(session, actor, "invoice.noted", ("invoice", invoice.id), note_id=note.id)
    return note


def write_off(
    session: Session,
    actor: Actor,
    invoice_id: int,
    *,
    amount: Decimal | None,
    reason: str,
    timezone: str,
) -> CreditNote:
    """Write off what the client will not pay (platform admins): all that is outstanding,
    or `amount` of it.

    One balanced ledger transaction (kind `write_off`) lowers the client's receivable
    and, as pay-when-paid says, the pending earnings of every holder on the invoice by
    an exact part: nobody was paid this money, so nobody is paid it now. The invoice
    closes as written off when nothing is left. 409 if nothing is owed, or for more
    than is.
    """
    invoice = _admin_invoice(session, actor, invoice_id)
    _owing(invoice)  # before the amount's form: a closed invoice takes no write-off at all
    amount_minor = None if amount is None else minor_units(amount, invoice.currency, "amount")
    return take_off(
        session,
        actor,
        invoice,
        amount_minor,
        kind=CreditNoteKind.WRITE_OFF,
        reason=reason,
        timezone=timezone,
    )


def invoice_collection(
    session: Session, actor: Actor, invoice_id: int, *, today: date, timezone: str
) -> dict[str, Any]:
    """Everything done to collect the invoice: steps taken, e-mails, promises (kept,
    broken or pending), disputes, write-offs and, for admins, notes. For its client
    and platform admins; the client sees neither the admins' notes nor what was written
    to them (escalations)."""
    invoice = get_invoice(session, actor, invoice_id)
    internal = not actor.is_platform_admin

    def rows(model, order=None):
        return list(
            session.scalars(
                select(model).where(model.invoice_id == invoice.id).order_by(order or model.id)
            )
        )

    paused = pauses(session, [invoice.id], today).get(invoice.id)
    paid_on = paid_days(session, [invoice], timezone).get(invoice.id)
    # The client reads what was written to its own admins, not to ours.
    readers = {
        user.email for user in recipients(session, invoice.client_party_id, Role.CLIENT_ADMIN)
    }
    return {
        "invoice_id": invoice.id,
        "number": invoice.number,
        "status": invoice.status,
        "paused": paused,
        "disputed": any(d.resolved_at is None for d in rows(Dispute)),
        "steps": [
            step
            for step in rows(DunningAction)
            if not (internal and step.step.action == StepAction.ESCALATION)
        ],
        "emails": [
            email for email in rows(OutboxMessage) if not internal or email.to_address in readers
        ],
        "promises": [
            {"promise": p, "state": promise_state(p, invoice, paid_on, today)}
            for p in rows(Promise)
        ],
        "disputes": rows(Dispute),
        "write_offs": [note for note in rows(CreditNote) if note.kind == CreditNoteKind.WRITE_OFF],
        "notes": rows(InvoiceNote) if actor.is_platform_admin else [],
    }


def promise_state(promise: Promise, invoice: Invoice, paid_on: date | None, today: date) -> str:
    """kept (the invoice's money arrived by the promised day), broken (the day passed
    without it), or pending."""
    if paid_on is not None:
        return "kept" if paid_on <= promise.promised_on else "broken"
    return "broken" if today > promise.promised_on else "pending"
