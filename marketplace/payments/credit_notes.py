"""Credit notes: corrections of issued invoices, which are never edited.

A credit note lowers what the client owes on one invoice. The amount comes off the
invoice's shares as settlement would pay them (over the lines, then down each chain,
by largest remainder over what each share still waits for), so every holder's
pending earnings drop by an exact part and the parts add up to the note.
"""

from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace import clock, ledger
from marketplace.errors import Conflict
from marketplace.identity import audit
from marketplace.identity.actor import Actor
from marketplace.identity.models import Role
from marketplace.ledger import AccountKind
from marketplace.money import format_minor
from marketplace.payments.accounts import client_books
from marketplace.payments.amounts import minor_units
from marketplace.payments.credit import hold_client
from marketplace.payments.invoices import get_invoice, next_number
from marketplace.payments.models import (
    CreditNote,
    CreditNoteCounter,
    CreditNoteKind,
    Invoice,
    InvoiceStatus,
)
from marketplace.payments.settlement import (
    invoice_shares,
    per_holder,
    record_parts,
    split,
)

# How each kind of note reads: its ledger memo's label, its ledger transaction kind, and
# its action in the audit log.
KINDS = {
    CreditNoteKind.CORRECTION: ("Credit note", "credit_note", "credit_note.issued"),
    CreditNoteKind.WRITE_OFF: ("Write-off", "write_off", "invoice.written_off"),
}


def issue_credit_note(
    session: Session,
    actor: Actor,
    invoice_id: int,
    *,
    amount: Decimal,
    reason: str,
    timezone: str,
) -> CreditNote:
    """Take `amount` off what the client owes on the invoice (platform admins).

    Numbered without gaps per year (CN-2026-000001) in the business time zone. No
    more than what is outstanding: money already paid goes back by a refund. One
    balanced ledger transaction lowers the receivable and each holder's pending
    earnings; an invoice with nothing left outstanding is closed.
    """
    invoice = get_invoice(session, actor, invoice_id)
    actor.require(Role.PLATFORM_ADMIN)
    amount_minor = minor_units(amount, invoice.currency, "amount")
    return take_off(
        session,
        actor,
        invoice,
        amount_minor,
        kind=CreditNoteKind.CORRECTION,
        reason=reason,
        timezone=timezone,
    )


def take_off(
    session: Session,
    actor: Actor,
    invoice: Invoice,
    amount_minor: int | None,
    *,
    kind: CreditNoteKind,
    reason: str,
    timezone: str,
) -> CreditNote:
    """Take `amount_minor` (None: all that is owed) off what the client owes on `invoice`
    by a numbered credit note of `kind`: a correction, or a write-off of money that will
    never come. 409 if nothing is owed, or for more than is.

    Either way each holder's pending earnings on the invoice drop by an exact part, as
    the payment would have raised them: pay-when-paid means the loss of an unpaid
    invoice is borne down the chain in proportion to what each share waited for. An
    invoice with nothing left outstanding is closed (paid, or written off). The audit
    log records the actor's action in the same unit of work.
    """
    hold_client(session, invoice.client_party_id)
    session.execute(select(Invoice.id).where(Invoice.id == invoice.id).with_for_update())
    session.refresh(invoice)
    if invoice.outstanding_minor <= 0:
        raise Conflict(
            f"Invoice {invoice.number} is {invoice.status}: nothing is owed on it.",
            code="invoice_not_open",
        )
    if amount_minor is None:  # all that is owed, as it stands under the lock
        amount_minor = invoice.outstanding_minor
    if amount_minor > invoice.outstanding_minor:
        raise Conflict(
            "A credit note cannot take off more than is outstanding; refund what was paid.",
            code="credit_exceeds_outstanding",
            outstanding=format_minor(invoice.outstanding_minor, invoice.currency),
        )
    year = clock.now().astimezone(ZoneInfo(timezone)).year
    note = CreditNote(
        number=next_number(session, CreditNoteCounter, "CN", year),
        invoice_id=invoice.id,
        amount_minor=amount_minor,
        reason=reason,
        kind=kind,
        issued_by_user_id=actor.user_id,
    )
    session.add(note)
    session.flush()
    shares = invoice_shares(session, invoice.id, settled=False)
    parts = split(amount_minor, shares.lines)
    record_parts(session, parts, credit_note_id=note.id)
    by_holder = per_holder(shares.holders, parts)
    pending = ledger.accounts(
        session,
        {h for h, a in by_holder.items() if a},
        kind=AccountKind.PENDING,
        currency=invoice.currency,
    )
    receivable = client_books(session, invoice.client_party_id, invoice.currency).receivable
    label, ledger_kind, action = KINDS[kind]
    ledger.post(
        session,
        key=f"{ledger_kind.replace('_', '-')}:{note.id}",
        kind=ledger_kind,
        currency=invoice.currency,
        legs=[
            ledger.credit(receivable, amount_minor),
            *(
                ledger.debit(pending[holder], part)
                for holder, part in sorted(
                    by_holder.items(), key=lambda item: (item[0][0], item[0][1] or 0)
                )
            ),
        ],
        memo=f"{label} {note.number} on {invoice.number}: {reason}"[:500],
    )
    invoice.credited_minor += amount_minor
    if invoice.outstanding_minor == 0:
        if kind == CreditNoteKind.WRITE_OFF:
            invoice.status = InvoiceStatus.WRITTEN_OFF
        else:
            invoice.status, invoice.paid_at = InvoiceStatus.PAID, clock.now()
    audit.record(
        session,
        actor,
        action,
        ("invoice", invoice.id),
        credit_note=note.number,
        amount=format_minor(amount_minor, invoice.currency),
        currency=invoice.currency,
        reason=reason,
    )
    return note


def invoice_credit_notes(session: Session, actor: Actor, invoice_id: int) -> list[CreditNote]:
    """The invoice's credit notes, for its client and admins."""
    invoice = get_invoice(session, actor, invoice_id)
    return list(
        session.scalars(
            select(CreditNote).where(CreditNote.invoice_id == invoice.id).order_by(CreditNote.id)
        )
    )
