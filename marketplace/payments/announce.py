"""What the payments package tells people and their systems (notices/events.py, mail.py).

Each party is told only its own money: the client its invoice, each team its own part of
a settlement or its own payout. Annotators are told by e-mail, unless they opted out.
"""

from datetime import date
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.identity.models import User
from marketplace.ledger import Holder
from marketplace.money import format_minor
from marketplace.notices.events import publish
from marketplace.notices.letters import earnings_available, earnings_paid
from marketplace.notices.mail import queue
from marketplace.notices.models import NoticePreference
from marketplace.payments.models import Application, Invoice, Payout, TransferStatus


def _invoice(invoice: Invoice) -> dict:
    return {
        "invoice_id": invoice.id,
        "number": invoice.number,
        "order_id": invoice.order_id,
        "currency": invoice.currency,
        "total": format_minor(invoice.total_minor, invoice.currency),
        "outstanding": format_minor(invoice.outstanding_minor, invoice.currency),
        "due_on": invoice.due_on.isoformat(),
    }


def invoice_issued(session: Session, invoice: Invoice) -> None:
    """A new invoice, to its client."""
    publish(session, "invoice.issued", [invoice.client_party_id], _invoice(invoice))


def invoice_overdue(session: Session, invoice: Invoice, step: str, today: date) -> None:
    """A dunning step taken on an invoice past due, to its client."""
    data = _invoice(invoice) | {"days_past_due": (today - invoice.due_on).days, "step": step}
    publish(session, "invoice.overdue", [invoice.client_party_id], data)


def payment_settled(
    session: Session, application: Application, by_holder: dict[Holder, int]
) -> None:
    """Money applied to an invoice: to the client, what it paid and what is left; to each
    team of the chain, its own part made available; to each annotator who has not opted
    out, an e-mail of her own part."""
    invoice = application.invoice
    currency = invoice.currency
    settled_at = clock.now().isoformat()
    publish(
        session,
        "payment.settled",
        [invoice.client_party_id],
        _invoice(invoice)
        | {
            "payment_id": application.payment_id,
            "applied": format_minor(application.amount_minor, currency),
        },
    )
    for (party_id, user_id), amount in sorted(
        by_holder.items(), key=lambda h: (h[0][0], h[0][1] or 0)
    ):
        if not amount:
            continue
        if user_id is None:
            data = {
                "order_id": invoice.order_id,
                "currency": currency,
                "available": format_minor(amount, currency),
                "settled_at": settled_at,
            }
            publish(session, "payment.settled", [party_id], data)
        else:
            _mail_annotator(session, user_id, earnings_available, amount, currency)


def payout_paid(session: Session, payout: Payout, gateway: str) -> None:
    """A payout made: to the party it pays, or by e-mail to the annotator it pays. Told
    when the run makes it, so its `status` says how far the money is: `sent` (the bank
    file is written) or `pending` (Stripe transfers queued, sent after the run commits): then
    the e-mail says the money is on its way, not that it was paid."""
    status = payout.status
    if payout.user_id is not None:
        letter = partial(earnings_paid, sent=status == TransferStatus.SENT)
        _mail_annotator(session, payout.user_id, letter, payout.amount_minor, payout.currency)
        return
    data = {
        "payout_id": payout.id,
        "run_id": payout.run_id,
        "currency": payout.currency,
        "amount": format_minor(payout.amount_minor, payout.currency),
        "gateway": gateway,
        "status": str(status),
    }
    publish(session, "payout.paid", [payout.party_id], data)


def _mail_annotator(session: Session, user_id: int, letter, amount: int, currency: str) -> None:
    opted_out = session.scalar(
        select(NoticePreference.id).where(
            NoticePreference.user_id == user_id, NoticePreference.earnings_email.is_(False)
        )
    )
    if opted_out:
        return
    reader = session.get(User, user_id)
    subject, body = letter(reader, amount_minor=amount, currency=currency)
    queue(session, reader.email, subject, body)
