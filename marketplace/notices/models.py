"""The outbox's tables: e-mails waiting for SMTP, and events waiting for webhook endpoints;
what people chose to be told."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

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


class WebhookEndpoint(Entity, Base):
    """Where a party wants its events: a URL, the event types it takes, and the secret its
    deliveries are signed with (shown to the party once, when made or rotated)."""

    __tablename__ = "webhook_endpoints"

    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    # Event types from notices/events.py CATALOGUE, or ["*"] for every type.
    events: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class Event(Entity, Base):
    """Something that happened, as one party is told it: the same change told to two
    parties is two events, each with only what its party may read."""

    __tablename__ = "webhook_events"

    # evt_...: what a receiver dedupes on; the same on every attempt.
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    type: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    DELIVERED = "delivered"  # the endpoint answered 2xx
    FAILED = "failed"  # no 2xx within the retry window


class Delivery(Entity, Base):
    """One event on its way to one endpoint: attempts until a 2xx or the window ends."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_events.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    event: Mapped[Event] = relationship(lazy="selectin")


class NoticePreference(Entity, Base):
    """What a user wants by e-mail. Without a row: the defaults of the columns."""

    __tablename__ = "notice_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    # A team owner's e-mail ahead of each drop her team may claim, this long before it.
    drop_released_email: Mapped[bool] = mapped_column(Boolean, default=False)
    lead_minutes: Mapped[int] = mapped_column(Integer, default=30)
    # An annotator's e-mail when her earnings become available and when they are paid.
    earnings_email: Mapped[bool] = mapped_column(Boolean, default=True)


class NoticeSent(Entity, Base):
    """A notice told once about a moment (a drop ahead of time, a lease about to end):
    the scheduler pass that finds it inserts this row first, so no run tells it twice."""

    __tablename__ = "notices_sent"
    __table_args__ = (UniqueConstraint("kind", "key"),)

    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))
