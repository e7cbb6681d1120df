"""Piece rates, tasks (one item in an annotator's hands) and submissions with their review."""

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, Entity, Id, UTCDateTime
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
    RETURNED = "returned"  # its batch failed review: the task went back for rework


class DecisionSource(enum.StrEnum):
    """How a decision on a submission came about."""

    REVIEW = "review"  # a reviewer decided it
    SAMPLE_PASSED = "sample_passed"  # its batch's sample passed; nobody looked at it
    REWORK = "rework"  # its batch's sample failed; it went back
    AUTO = "auto"  # nobody reviewed it within the order's review window
    DISPUTE = "dispute"  # a dispute of its rejection was decided


class DisputeStatus(enum.StrEnum):
    OPEN = "open"
    UPHELD = "upheld"  # the rejection is reversed: the item is accepted
    DISMISSED = "dismissed"  # the rejection stands


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
    # When a task in someone's hands goes back to the team's open tasks.
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Times its batch failed review and sent it back to its annotator.
    reworks: Mapped[int] = mapped_column(Integer, default=0)
    # The holder's level when she took it: its rate card prices the item.
    level_id: Mapped[int | None] = mapped_column(ForeignKey("levels.id"))
    item: Mapped[Item] = relationship(lazy="joined")


# A task still to be done: open, or in an annotator's hands.
UNFINISHED = Task.status.in_([TaskStatus.OPEN, TaskStatus.ASSIGNED])


class TaskSkip(Base):
    """An annotator put a task back, and why; she is not handed it again."""

    __tablename__ = "task_skips"
    __table_args__ = (UniqueConstraint("user_id", "task_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(500))
    skipped_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Submission(Entity, Base):
    """An annotator's result for a task and, once reviewed, the decision on it.

    Only accepted submissions are billable; `rate_micros` is the piece rate in
    force when it was accepted, so later rate changes never rewrite earnings.
    """

    __tablename__ = "submissions"
    __table_args__ = (
        Index("ix_submissions_team_status", "team_party_id", "status"),
        Index("ix_submissions_order_status", "order_id", "status"),
        Index("ix_submissions_annotator", "annotator_user_id", "status"),
        Index("ix_submissions_batch_status", "batch_id", "status"),
        Index("ix_submissions_waiting", "status", "submitted_at"),
        # The earnings view asks for an annotator's accepted, unbilled items, and invoicing
        # for an order's: both read only the few rows not billed yet.
        Index(
            "ix_submissions_unbilled",
            "annotator_user_id",
            "team_party_id",
            "status",
            postgresql_include=["order_id", "rate_micros"],
            postgresql_where=text("invoice_id IS NULL"),
            sqlite_where=text("invoice_id IS NULL"),
        ),
        Index(
            "ix_submissions_unbilled_by_order",
            "order_id",
            "status",
            postgresql_where=text("invoice_id IS NULL"),
            sqlite_where=text("invoice_id IS NULL"),
        ),
    )

    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    team_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    annotator_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The seconds she worked on it: taken to submitted, at most the idle limit (a longer
    # gap is an idle pause). None for work submitted before it was measured.
    work_seconds: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=SubmissionStatus.SUBMITTED)
    # The annotator's level when she did it: its rate card prices the item.
    level_id: Mapped[int | None] = mapped_column(ForeignKey("levels.id"))
    # The round of its batch's review sample it was drawn into (drawn when the batch's last
    # item comes in; a rework brings a new round), if any.
    sample_round: Mapped[int | None] = mapped_column(Integer)
    # The decision in force (the full history is in review_decisions).
    reason_code: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(500))
    reviewer_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The invoice that bills it, once billed (set by invoicing beside its invoice item).
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rate_micros: Mapped[int | None] = mapped_column(BigInteger)
    task: Mapped[Task] = relationship(lazy="joined")


class ReviewDecision(Base):
    """One decision on a submission: who (none for the platform's own), when, why. Never
    updated: the submission's status is the latest of them."""

    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # what the submission became
    source: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(500))
    decided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BatchReview(Entity, Base):
    """The outcome of a batch's review sample: passed (the rest accepted) or rework."""

    __tablename__ = "batch_reviews"
    __table_args__ = (UniqueConstraint("batch_id", "round"),)

    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    sample_size: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[int] = mapped_column(Integer)
    accuracy_bps: Mapped[int] = mapped_column(Integer)
    threshold_bps: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))  # passed or rework
    # Whose decision completed the sample.
    reviewer_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class Dispute(Entity, Base):
    """An annotator's challenge of a rejection, decided by someone other than its reviewer."""

    __tablename__ = "disputes"

    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), unique=True)
    team_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    annotator_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    reviewer_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The rejection's reason code, kept: an upheld dispute clears it from the submission.
    reason_code: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(16), default=DisputeStatus.OPEN)
    decided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(1000))
    submission: Mapped[Submission] = relationship(lazy="joined")


class Level(Entity, Base):
    """A step of a team's ladder (trainee, annotator, senior, quality inspector).

    `daily_quota` caps the items a member at this level submits in the team's
    day. The promotion rule (accuracy over the member's last reviewed items)
    says who is eligible to be raised to this level; the owner confirms.
    `reviews`: members at this level review their team's work.
    """

    __tablename__ = "levels"
    __table_args__ = (
        UniqueConstraint("team_party_id", "name"),
        UniqueConstraint("team_party_id", "rank"),
    )

    team_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    name: Mapped[str] = mapped_column(String(64))
    rank: Mapped[int] = mapped_column(Integer)
    daily_quota: Mapped[int | None] = mapped_column(Integer)
    reviews: Mapped[bool] = mapped_column(default=False)
    promote_min_accuracy_bps: Mapped[int | None] = mapped_column(Integer)
    promote_over_items: Mapped[int | None] = mapped_column(Integer)
    rates: Mapped[list["LevelRate"]] = relationship(
        lazy="selectin", order_by="LevelRate.id", cascade="all, delete-orphan"
    )


class LevelRate(Base):
    """What a level is paid per accepted item of a task type, in one currency."""

    __tablename__ = "level_rates"
    __table_args__ = (
        UniqueConstraint("level_id", "task_type", "currency"),
        CheckConstraint("unit_price_micros > 0", name="positive_rate"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    level_id: Mapped[int] = mapped_column(ForeignKey("levels.id"))
    task_type: Mapped[str] = mapped_column(ForeignKey("task_types.key"))
    currency: Mapped[str] = mapped_column(String(3))
    unit_price_micros: Mapped[int] = mapped_column(BigInteger)


class LevelChange(Entity, Base):
    """A member's move to a level: her history is these rows, her level the latest."""

    __tablename__ = "level_changes"
    __table_args__ = (Index("ix_level_changes_member", "team_party_id", "user_id", "id"),)

    team_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    level_id: Mapped[int] = mapped_column(ForeignKey("levels.id"))
    from_level_id: Mapped[int | None] = mapped_column(ForeignKey("levels.id"))
    changed_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(500))
    # The accuracy that made her eligible, when it was a promotion by the rule.
    accuracy_bps: Mapped[int | None] = mapped_column(Integer)


class DailyTally(Base):
    """A member's work on one day of her team, in one currency: a read model kept by every
    submit and decision, so earnings views read days, not items.

    `earned_micros` is exact (accepted items x their rates, unrounded): money is
    rounded once, on the invoice.
    """

    __tablename__ = "daily_tallies"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    team_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    submitted: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    earned_micros: Mapped[int] = mapped_column(BigInteger, default=0)


class InviteStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REVOKED = "revoked"
    EXPIRED = "expired"


class TeamInvite(Entity, Base):
    """A team owner's invitation of a person, by e-mail, to a role and a starting level.

    The e-mailed token is kept only as its SHA-256 digest; it is used once. The status is
    read from the moments: accepted, revoked, expired (past `expires_at`) or pending.
    """

    __tablename__ = "team_invites"
    __table_args__ = (Index("ix_team_invites_team_email", "team_party_id", "email"),)

    team_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(32))
    level_id: Mapped[int | None] = mapped_column(ForeignKey("levels.id"))
    # The language of the invitation mail, for an invitee who has no account yet.
    locale: Mapped[str] = mapped_column(String(35))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def status_at(self, now: datetime) -> InviteStatus:
        if self.accepted_at is not None:
            return InviteStatus.ACCEPTED
        if self.revoked_at is not None:
            return InviteStatus.REVOKED
        if self.expires_at <= now:
            return InviteStatus.EXPIRED
        return InviteStatus.PENDING
