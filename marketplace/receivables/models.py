"""The dunning schedule, what it did to each invoice, promises, disputes, notes, e-mails."""

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, Entity, UTCDateTime


class StepAction(enum.StrEnum):
    REMINDER = "reminder"  # an e-mail to the client before the due date
    NOTICE = "notice"  # an e-mail to the client: the invoice is overdue
    ESCALATION = "escalation"  # an e-mail to the platform admins
    CREDIT_HOLD = "credit_hold"  # the client goes on credit hold


EMAIL_ACTIONS = (StepAction.REMINDER, StepAction.NOTICE)


class DunningStep(Entity, Base):
    """One step of the schedule, `offset_days` after an invoice's due date (before, if
    negative). The schedule is data: admins replace it; a replaced step is retired, not
    deleted, so what was taken still says which step it was."""

    __tablename__ = "dunning_steps"
    __table_args__ = (CheckConstraint("offset_days BETWEEN -365 AND 3650", name="offset_range"),)

    offset_days: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StepOutcome(enum.StrEnum):
    SENT = "sent"  # its e-mails were written to the outbox
    NO_RECIPIENT = "no_recipient"  # the client has no admin to write to
    SUPERSEDED = "superseded"  # a later e-mail step was due as well: only that one went
    ESCALATED = "escalated"
    HELD = "held"  # the client was put on credit hold
    ALREADY_HELD = "already_held"


class DunningAction(Entity, Base):
    """A step taken on an invoice: at most once, whatever reruns or downtime did."""

    __tablename__ = "dunning_actions"
    __table_args__ = (UniqueConstraint("invoice_id", "step_id"),)

    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("dunning_steps.id"))
    # The business day it was due, and the outcome.
    due_on: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(16))
    step: Mapped[DunningStep] = relationship(lazy="joined")


class Promise(Entity, Base):
    """A client's promise to pay an invoice by a date: dunning pauses until then.

    Kept when the invoice is settled by that day; broken when the day passes with
    money still owed, and dunning resumes. Whether it was kept is read from the
    invoice, never stored twice.
    """

    __tablename__ = "payment_promises"

    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    promised_on: Mapped[date] = mapped_column(Date)
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(500), default="")


class Dispute(Entity, Base):
    """A client contests an invoice: dunning pauses and the invoice is flagged until an
    admin resolves it."""

    __tablename__ = "invoice_disputes"

    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    opened_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[str | None] = mapped_column(String(500))


class InvoiceNote(Entity, Base):
    """An admin's note on an invoice: a call made, what the client said."""

    __tablename__ = "invoice_notes"

    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(String(2000))
