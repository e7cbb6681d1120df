"""The dunning schedule: steps relative to each invoice's due date, each taken once.

The schedule is data (`dunning_steps`). `take_due_steps` walks every open invoice
with money owed and takes each step whose day has come and that the invoice has
not had: a `dunning_actions` row, unique per invoice and step, is written first,
so a second run (or a second scheduler) finds it and does nothing. After downtime
every missed step is taken on the next run, but of the e-mails only the latest is
sent (the earlier ones are recorded as superseded): a client gets one letter, not
three. Escalations and credit holds always take effect.

An invoice under an open dispute, or with a promise to pay whose day has not
passed, is paused: its steps wait. A broken promise resumes it, and whatever came
due meanwhile is taken then.
"""

from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.errors import Invalid
from marketplace.identity import audit
from marketplace.identity.actor import Actor
from marketplace.identity.models import Role, User
from marketplace.identity.standing import active_hold, place_hold
from marketplace.notices.mail import platform_admins, queue, recipients
from marketplace.payments.announce import invoice_overdue
from marketplace.payments.credit import hold_client
from marketplace.payments.models import Invoice, InvoiceStatus
from marketplace.receivables import letters
from marketplace.receivables.models import (
    EMAIL_ACTIONS,
    Dispute,
    DunningAction,
    DunningStep,
    Promise,
    StepAction,
    StepOutcome,
)

MAX_STEPS = 20
# How far from the due date a step may be, in days (the table's check says the same).
EARLIEST, LATEST = -365, 3650


def current_schedule(session: Session) -> list[DunningStep]:
    """The steps in force, earliest first."""
    return list(
        session.scalars(
            select(DunningStep)
            .where(DunningStep.retired_at.is_(None))
            .order_by(DunningStep.offset_days, DunningStep.id)
        )
    )


def schedule(session: Session, actor: Actor) -> list[DunningStep]:
    """The schedule in force, for platform admins."""
    actor.require(Role.PLATFORM_ADMIN)
    return current_schedule(session)


def replace_schedule(session: Session, actor: Actor, steps: list[dict]) -> list[DunningStep]:
    """Make `steps` (each an offset in days from the due date and an action) the schedule
    (platform admins).

    A step that stays keeps its id, so invoices that had it do not have it again; a
    step that goes is retired, not deleted; a new step applies to every open invoice,
    including those already past its day (but a letter earlier than one the invoice
    already had goes unsent). Two steps on one day with one action are refused (422).
    """
    actor.require(Role.PLATFORM_ADMIN)
    wanted = [(step["offset_days"], StepAction(step["action"])) for step in steps]
    if any(not EARLIEST <= offset <= LATEST for offset, _ in wanted):
        raise Invalid(
            f"A step is from {EARLIEST} to {LATEST} days from the due date.",
            code="step_out_of_range",
        )
    if len(set(wanted)) != len(wanted):
        raise Invalid("A step is listed twice.", code="duplicate_step")
    if len(wanted) > MAX_STEPS:
        raise Invalid(f"At most {MAX_STEPS} steps.", code="too_many_steps")
    now = clock.now()
    kept = set()
    for step in current_schedule(session):
        if (step.offset_days, step.action) in wanted:
            kept.add((step.offset_days, step.action))
        else:
            step.retired_at = now
    for offset, action in wanted:
        if (offset, action) not in kept:
            session.add(DunningStep(offset_days=offset, action=action))
    session.flush()
    audit.record(
        session,
        actor,
        "dunning.schedule_replaced",
        ("dunning_schedule", None),
        steps=[{"offset_days": offset, "action": str(action)} for offset, action in sorted(wanted)],
    )
    return current_schedule(session)


def pauses(session: Session, invoice_ids: list[int], today: date) -> dict[int, str]:
    """Why each paused invoice among `invoice_ids` waits: an open dispute, or a promise
    whose day has not passed."""
    if not invoice_ids:
        return {}
    why = {
        invoice_id: "disputed"
        for invoice_id in session.scalars(
            select(Dispute.invoice_id).where(
                Dispute.invoice_id.in_(invoice_ids), Dispute.resolved_at.is_(None)
            )
        )
    }
    for invoice_id, promised_on in session.execute(
        select(Promise.invoice_id, Promise.promised_on).where(
            Promise.invoice_id.in_(invoice_ids), Promise.promised_on >= today
        )
    ):
        why.setdefault(invoice_id, f"promised for {promised_on.isoformat()}")
    return why


def owing(today_limit: date):
    """True for an open invoice with money owed, due on or before `today_limit`."""
    return and_(
        Invoice.status == InvoiceStatus.OPEN,
        Invoice.total_minor > Invoice.paid_minor + Invoice.credited_minor,
        Invoice.due_on <= today_limit,
    )


def take_due_steps(session: Session, *, today: date) -> list[DunningAction]:
    """Take, once, every step whose day has come on each open invoice that is not paused.

    Safe to run at any time, as often as wanted, by several processes at once: each
    (invoice, step) is taken by whoever writes its row first. Each client is locked
    before its invoices are read, as payments lock it, so a pass and a payment queue
    and the pass never chases what was paid while it waited. The e-mails a step sends
    are written to the outbox in this same unit of work.
    """
    steps = current_schedule(session)
    if not steps:
        return []
    limit = today - timedelta(days=steps[0].offset_days)
    clients = session.scalars(
        select(Invoice.client_party_id)
        .where(owing(limit))
        .distinct()
        .order_by(Invoice.client_party_id)
    ).all()
    actions = []
    for client_id in clients:
        hold_client(session, client_id)
        invoices = session.scalars(
            select(Invoice)
            .where(Invoice.client_party_id == client_id, owing(limit))
            .order_by(Invoice.id)
            .execution_options(populate_existing=True)
        ).all()
        actions += _chase_client(session, invoices, steps, today)
    return actions


def _chase_client(
    session: Session, invoices: list[Invoice], steps: list[DunningStep], today: date
) -> list[DunningAction]:
    """Take the due steps on one client's invoices, its lock held."""
    ids = [invoice.id for invoice in invoices]
    paused = pauses(session, ids, today)
    taken: dict[int, dict[int, DunningStep]] = defaultdict(dict)
    for invoice_id, step in session.execute(
        select(DunningAction.invoice_id, DunningStep)
        .join(DunningStep, DunningStep.id == DunningAction.step_id)
        .where(DunningAction.invoice_id.in_(ids))
    ):
        taken[invoice_id][step.id] = step
    actions = []
    for invoice in invoices:
        if invoice.id in paused:
            continue
        had = taken[invoice.id]
        due = [
            step
            for step in steps
            if invoice.due_on + timedelta(days=step.offset_days) <= today and step.id not in had
        ]
        # One letter per pass: the latest due. A letter the invoice is already past (a
        # step added to the schedule later) goes unsent too.
        sent_until = max(
            (s.offset_days for s in had.values() if s.action in EMAIL_ACTIONS), default=None
        )
        letters_due = [step for step in due if step.action in EMAIL_ACTIONS]
        for step in due:
            superseded = step.action in EMAIL_ACTIONS and (
                step is not letters_due[-1]
                or (sent_until is not None and step.offset_days < sent_until)
            )
            action = _take(session, invoice, step, today, superseded=superseded)
            if action is not None:
                actions.append(action)
    return actions


def _take(
    session: Session, invoice: Invoice, step: DunningStep, today: date, *, superseded: bool
) -> DunningAction | None:
    """Record the step on the invoice and act on it; None if another run took it."""
    action = DunningAction(
        invoice_id=invoice.id,
        step_id=step.id,
        due_on=invoice.due_on + timedelta(days=step.offset_days),
        outcome=StepOutcome.SUPERSEDED if superseded else _outcome(session, invoice, step),
    )
    try:
        with session.begin_nested():
            session.add(action)
    except IntegrityError:
        return None
    if superseded:
        return action
    if step.offset_days > 0:
        invoice_overdue(session, invoice, step.action, today)
    client_admins = recipients(session, invoice.client_party_id, Role.CLIENT_ADMIN)
    if step.action in EMAIL_ACTIONS:
        letter = partial(letters.client_letter, action=StepAction(step.action))
        _write(session, client_admins, invoice, action, letter, today)
    elif step.action == StepAction.ESCALATION:
        _write(session, platform_admins(session), invoice, action, letters.escalation_letter, today)
    elif action.outcome == StepOutcome.HELD and _hold(session, invoice, today):
        _write(session, client_admins, invoice, action, letters.hold_letter, today)
    else:
        action.outcome = StepOutcome.ALREADY_HELD
    return action


def _write(
    session: Session,
    readers: list[User],
    invoice: Invoice,
    action: DunningAction,
    letter: Callable[[User, Invoice, date], tuple[str, str]],
    today: date,
) -> None:
    """Queue `letter` (its subject and body, for one reader) to each reader."""
    for reader in readers:
        subject, body = letter(reader, invoice, today)
        queue(
            session, reader.email, subject, body, invoice_id=invoice.id, dunning_action_id=action.id
        )


def _outcome(session: Session, invoice: Invoice, step: DunningStep) -> StepOutcome:
    if step.action in EMAIL_ACTIONS:
        readers = recipients(session, invoice.client_party_id, Role.CLIENT_ADMIN)
        return StepOutcome.SENT if readers else StepOutcome.NO_RECIPIENT
    if step.action == StepAction.ESCALATION:
        return StepOutcome.ESCALATED
    if active_hold(session, invoice.client_party_id) is not None:
        return StepOutcome.ALREADY_HELD
    return StepOutcome.HELD


def _hold(session: Session, invoice: Invoice, today: date) -> bool:
    """Put the invoice's client on a self-lifting hold; False if it is held already."""
    hold = place_hold(
        session,
        invoice.client_party_id,
        reason=f"invoice {invoice.number} is {(today - invoice.due_on).days} days past due",
        by_user_id=None,
        lifts_when_paid=True,
    )
    if hold is None:
        return False
    session.flush()
    audit.record(
        session,
        None,
        "credit_hold.placed",
        ("client", invoice.client_party_id),
        hold_id=hold.id,
        reason=hold.reason,
        invoice=invoice.number,
    )
    return True
