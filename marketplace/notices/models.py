"""The outbox's tables: e-mails waiting for SMTP."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, Entity, UTCDateTime


class OutboxMessage(Entity, Base):
    """An e-mail written in the same unit of work as what it tells, sent later by SMTP.

    The sender claims a message, sends it, and marks it sent in one unit of work per
    message (notices/mail.py `send_outbox` says how failures are retried).
    """

    __tablename__ = "outbox_messages"

    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # What it is about, for the invoice's collection history.
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    dunning_action_id: Mapped[int | None] = mapped_column(ForeignKey("dunning_actions.id"))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # Set when the sender gave up (too many failed attempts).
    failed: Mapped[bool] = mapped_column(Boolean, default=False)
