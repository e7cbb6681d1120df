"""Accepted work, counted the way money is made of it: by contract, annotator and rate."""

from collections import defaultdict
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from marketplace.orders.models import Batch
from marketplace.payments.models import Invoice, InvoiceItem
from marketplace.subcontract.chains import OwnWork
from marketplace.workers.models import Submission, SubmissionStatus


def accepted_at():
    """When a submission was accepted (rows from before decisions were timed: submitted)."""
    return func.coalesce(Submission.reviewed_at, Submission.submitted_at)


def unbilled():
    """The condition of an accepted submission that no invoice bills yet."""
    return and_(Submission.status == SubmissionStatus.ACCEPTED, Submission.invoice_id.is_(None))


def accepted_work(
    session: Session,
    *,
    invoice: Invoice | None = None,
    order_id: int | None = None,
    unbilled_only: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[int, OwnWork]:
    """The accepted items each contract's holder worked itself, by annotator and piece rate:
    those the invoice bills, or every accepted item of the order (not billed yet, with
    `unbilled_only`); only those accepted in [since, until), if given."""
    group = (Batch.contract_id, Submission.annotator_user_id, Submission.rate_micros)
    query = (
        select(*group, func.count()).join(Batch, Batch.id == Submission.batch_id).group_by(*group)
    )
    if invoice is not None:
        query = query.join(InvoiceItem, InvoiceItem.submission_id == Submission.id).where(
            InvoiceItem.invoice_id == invoice.id
        )
    else:
        accepted = unbilled() if unbilled_only else Submission.status == SubmissionStatus.ACCEPTED
        query = query.where(Submission.order_id == order_id, accepted)
    if since is not None:
        query = query.where(accepted_at() >= since)
    if until is not None:
        query = query.where(accepted_at() < until)
    work: dict[int, OwnWork] = defaultdict(lambda: defaultdict(dict))
    for contract_id, annotator, rate, count in session.execute(query):
        work[contract_id][annotator][rate] = count
    return work
