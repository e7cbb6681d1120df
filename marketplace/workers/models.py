"""Piece rates, tasks (one item in an annotator's hands) and submissions with their review."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, Entity, UTCDateTime
from marketplace.orders.models import Item


class TaskStatus(enum.StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Decision(enum.StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"


class SubmissionStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class PieceRate(Entity, Base):
    """What a team pays its annotators per accepted item of one order."""

    __tablename__ = "piece_rates"
    __table_args__ = (
        UniqueConstraint("team_party_id", "order_id"),
        CheckConstraint("unit_price_micros > 0", name="positive_rate"),
    )

    team_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    unit_price_micros: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    set_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class Task(Entity, Base):
    """One item of a claimed batch, worked by one annotator of the claiming team."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_team_status", "team_party_id", "status", "id"),
        Index("ix_tasks_annotator_status", "annotator_user_id", "status"),
    )

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), unique=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    team_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.OPEN)
    annotator_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    item: Mapped[Item] = relationship(lazy="joined")


class Submission(Entity, Base):
    """An annotator's result for a task and, once reviewed, the decision on it.

    Only accepted submissions are billable; `rate_micros` is the piece rate in
    force when it was accepted, so later rate changes never rewrite earnings.
    """

    __tablename__ = "submissions"
    __table_args__ = (
        Index("ix_submissions_team_status", "team_party_id", "status"),
        Index("ix_submissions_order_status", "order_id", "status"),
        Index("ix_submissions_annotator", "annotator_user_id"),
    )

    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    team_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    annotator_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default=SubmissionStatus.SUBMITTED)
    reason: Mapped[str | None] = mapped_column(String(500))
    reviewer_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rate_micros: Mapped[int | None] = mapped_column(BigInteger)
    task: Mapped[Task] = relationship(lazy="joined")
