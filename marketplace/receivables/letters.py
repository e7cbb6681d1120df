"""What the dunning e-mails say, in the reader's locale for amounts and dates.

The words are English for now; amounts and dates follow the reader's CLDR locale
(`users.locale`) and the invoice's currency. Each letter is a function of the
reader, the invoice and the business day, giving the subject and the body.
"""

from datetime import date

from marketplace.identity.models import User
from marketplace.payments.models import Invoice
from marketplace.receivables.mail import day_in, money_in
from marketplace.receivables.models import StepAction

PAY_BY = (
    "Pay by bank transfer quoting the invoice number, or by card through the API "
    "(POST /api/v1/invoices/{id}/card-payments). If you have paid already, thank you: "
    "please send us the bank reference."
)


def client_letter(
    reader: User, invoice: Invoice, today: date, *, action: StepAction
) -> tuple[str, str]:
    """A reminder before the due date, or a notice after it."""
    owed = money_in(reader.locale, invoice.outstanding_minor, invoice.currency)
    due = day_in(reader.locale, invoice.due_on)
    late = (today - invoice.due_on).days
    if action == StepAction.REMINDER:
        subject = f"Reminder: invoice {invoice.number} for {owed} is due on {due}"
        opening = f"Invoice {invoice.number} is due on {due}; {owed} is still open."
    else:
        subject = f"Overdue: invoice {invoice.number}, {owed}, {_days(late)} past due"
        opening = (
            f"Invoice {invoice.number} was due on {due} and is {_days(late)} past due; "
            f"{owed} is still owed. The teams who did this work are paid only when it is."
        )
    return subject, _to_client(reader, opening, invoice)


def hold_letter(reader: User, invoice: Invoice, today: date) -> tuple[str, str]:
    """Tells the client it is on credit hold, and how the hold ends."""
    owed = money_in(reader.locale, invoice.outstanding_minor, invoice.currency)
    late = (today - invoice.due_on).days
    subject = f"Credit hold: invoice {invoice.number} is {_days(late)} past due"
    opening = (
        f"Invoice {invoice.number} ({owed} open) is {_days(late)} past due, so your account "
        "is on credit hold: you cannot post new orders and your scheduled drops are not "
        "released. The hold lifts itself once your overdue invoices are paid."
    )
    return subject, _to_client(reader, opening, invoice)


def escalation_letter(reader: User, invoice: Invoice, today: date) -> tuple[str, str]:
    """Tells a platform admin the schedule has done what it can."""
    owed = money_in(reader.locale, invoice.outstanding_minor, invoice.currency)
    late = (today - invoice.due_on).days
    subject = (
        f"Escalation: {invoice.client.name} owes {owed} on {invoice.number}, {_days(late)} late"
    )
    body = (
        f"{invoice.client.name} has not paid invoice {invoice.number} ({owed} open), "
        f"due on {day_in(reader.locale, invoice.due_on)}: {_days(late)} past due. The "
        "dunning schedule has sent its notices; it needs a person now: call the client, "
        f"record a promise or a dispute (POST /api/v1/invoices/{invoice.id}/promises or "
        "/disputes), or put it on credit hold.\n"
    )
    return subject, body


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"


def _to_client(reader: User, opening: str, invoice: Invoice) -> str:
    return (
        f"Dear {reader.name},\n\n{opening}\n\n{PAY_BY.format(id=invoice.id)}\n\nPiecework billing\n"
    )
