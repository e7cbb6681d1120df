"""Orders, their items, and the batches they are released in."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, Entity, Id, UTCDateTime
from marketplace.identity.models import Party


class OrderStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class BatchStatus(enum.StrEnum):
    SCHEDULED = "scheduled"  # cut, waiting for its drop
    RELEASED = "released"
    CLAIMED = "claimed"  # held by a team, being worked
    FINISHED = "finished"  # every item submitted
    EXPIRED = "expired"  # the lease ran out; unfinished items went back to the board


class BatchKind(enum.StrEnum):
    REGULAR = "regular"
    TRIAL = "trial"


class ClaimMode(enum.StrEnum):
    FIRST_COME = "first_come"
    LOTTERY = "lottery"


class Sourcing(enum.StrEnum):
    """How teams get an order's work."""

    CLAIMS = "claims"  # any team claims released batches at the posted price
    BIDS = "bids"  # teams bid; only holders of an awarded (or sub-) contract claim batches


class BillingPeriod(enum.StrEnum):
    """When the client is invoiced for the order's accepted items (its payment terms)."""

    WEEKLY = "weekly"  # each Monday, for the week before (Monday to Sunday)
    MONTHLY = "monthly"  # on the 1st, for the month before
    ON_COMPLETION = "on_completion"  # once every item is accepted


class Funding(enum.StrEnum):
    """Where the money for an order's work is before the work is done (docs/money.md)."""

    PREFUNDED = "prefunded"  # the whole order reserved from the client's balance first
    MILESTONES = "milestones"  # each drop's batches reserved before that drop
    INVOICED = "invoiced"  # pay-when-paid on credit terms, for clients an admin trusts


class DropStatus(enum.StrEnum):
    RELEASED = "released"
    SKIPPED = "skipped"  # missed while the scheduler was down, past the plan's grace
    HELD = "held"  # not released: the client was on credit hold, or its money was short


class TaskType(Entity, Base):
    """What a task's result looks like and the rules it must keep, held as data.

    `result_schema` (JSON Schema) gives the result's shape; `rules` are checks
    across the result, the item (`item_schema`: what each item's payload holds)
    and the order (`options_schema`: what the client sets per order), written in
    the expression language of `orders/result_rules.py`. `reason_codes` are the
    reasons a reviewer may reject a result for. Built-in types belong to no
    client; a client's own type is for its own orders.
    """

    __tablename__ = "task_types"

    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    result_schema: Mapped[dict[str, Any]] = mapped_column(JSON)
    item_schema: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    options_schema: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    reason_codes: Mapped[list[str]] = mapped_column(JSON)
    client_party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"), index=True)


class Order(Entity, Base):
    """A client's posting: what to label, at what price per item, on what terms."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("unit_price_micros > 0", name="positive_price"),
        CheckConstraint("quantity > 0", name="positive_quantity"),
        CheckConstraint("batch_size > 0", name="positive_batch_size"),
        CheckConstraint("review_sample_bps BETWEEN 1 AND 10000", name="review_sample_in_range"),
        CheckConstraint(
            "accuracy_threshold_bps BETWEEN 0 AND 10000", name="accuracy_threshold_in_range"
        ),
        CheckConstraint("review_window_days BETWEEN 1 AND 21", name="review_window_in_range"),
        CheckConstraint("task_lease_minutes > 0", name="positive_task_lease"),
    )

    client_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    task_type: Mapped[str] = mapped_column(ForeignKey("task_types.key"))
    instructions: Mapped[str] = mapped_column(Text, default="")
    unit_price_micros: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    quantity: Mapped[int] = mapped_column(Integer)
    payment_terms_days: Mapped[int] = mapped_column(Integer)
    billing_period: Mapped[str] = mapped_column(
        String(16), default=BillingPeriod.WEEKLY, server_default=BillingPeriod.WEEKLY.value
    )
    batch_size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=OrderStatus.DRAFT)
    funding: Mapped[str] = mapped_column(
        String(16), default=Funding.INVOICED, server_default=Funding.INVOICED.value
    )
    # The client's estimate of one item's work, until enough items are measured.
    estimated_seconds_per_item: Mapped[int | None] = mapped_column(Integer)
    # Items its invoices have billed so far (counted by invoicing): what an invoiced order
    # has released beyond them is work on the client's credit line not yet on an invoice.
    billed_items: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_mode: Mapped[str] = mapped_column(String(16), default=ClaimMode.FIRST_COME)
    sourcing: Mapped[str] = mapped_column(String(16), default=Sourcing.CLAIMS)
    # The client's caps on its chains: links from the client to a performer, and the
    # least share of the client's price (basis points) a link may be passed on at.
    max_chain_depth: Mapped[int | None] = mapped_column(Integer)
    min_pass_through_bps: Mapped[int | None] = mapped_column(Integer)
    # Per team: batches held at once, and batches claimed from one drop (None: no limit).
    max_batches_held: Mapped[int | None] = mapped_column(Integer)
    max_batches_per_drop: Mapped[int | None] = mapped_column(Integer)
    # A claimed batch must be finished this long after its claim (None: no lease).
    lease_hours: Mapped[int | None] = mapped_column(Integer)
    # Trial batches, cut first and released at publication; one per team.
    trial_batches: Mapped[int] = mapped_column(Integer, default=0)
    trial_batch_size: Mapped[int | None] = mapped_column(Integer)
    trial_pass_score: Mapped[int | None] = mapped_column(Integer)
    # What the task type lets the client set per order (a rating's error types).
    task_options: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Review: the share of each finished batch a reviewer checks, the sample's accuracy
    # below which the batch goes back for rework, and the days an item may wait for a
    # review (then it is accepted) or a rejection may be disputed.
    review_sample_bps: Mapped[int] = mapped_column(Integer, default=10_000)
    accuracy_threshold_bps: Mapped[int] = mapped_column(Integer, default=0)
    review_window_days: Mapped[int] = mapped_column(Integer, default=3)
    # An annotator holds a task this long; then it goes back to her team's open tasks.
    task_lease_minutes: Mapped[int] = mapped_column(Integer, default=120)
    client: Mapped[Party] = relationship(lazy="joined")
    # Loaded when asked for (or by selectinload where orders are listed), not on every
    # join from a batch: a claim never needs it.
    release_plan: Mapped["ReleasePlan | None"] = relationship(lazy="select")

    @property
    def listed_price_micros(self) -> int | None:
        """The price teams see: the posted price of a claims order; none for a bids order,
        whose posted price is the client's private budget (teams bid their own)."""
        return self.unit_price_micros if self.sourcing == Sourcing.CLAIMS else None


class Item(Base):
    """One thing to label (an image, an answer, a clip), by reference."""

    __tablename__ = "items"
    __table_args__ = (UniqueConstraint("order_id", "seq"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    seq: Mapped[int] = mapped_column(Integer)
    ref: Mapped[str] = mapped_column(String(2048))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"), index=True)


class Batch(Entity, Base):
    """A slice of an order's items that one team claims and works."""

    __tablename__ = "batches"
    __table_args__ = (
        UniqueConstraint("order_id", "seq"),
        Index("ix_batches_status_order", "status", "order_id"),
        Index("ix_batches_holder", "order_id", "claimed_by_party_id", "status"),
        Index("ix_batches_lease", "status", "lease_expires_at"),
    )

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    seq: Mapped[int] = mapped_column(Integer)
    item_count: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16), default=BatchKind.REGULAR)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    drop_id: Mapped[int | None] = mapped_column(ForeignKey("drops.id"), index=True)
    claimed_by_party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Items sent back to the board when the lease expired, and the batch they went to.
    returned_items: Mapped[int] = mapped_column(Integer, default=0)
    returned_from_batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    # The contract the batch is worked under: its performer's link of the chain. Set by
    # the subcontract package when the batch is claimed or passed down.
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), index=True)
    order: Mapped[Order] = relationship(lazy="joined")


class ReleasePlan(Entity, Base):
    """When an order's batches drop: a cron schedule in a time zone, so many batches a drop.

    Cron semantics follow classic cron (through cronsim): a time that a
    daylight-saving change skips fires right after the gap (02:30 -> 03:00), a
    time it repeats fires once, at its first occurrence.
    """

    __tablename__ = "release_plans"
    __table_args__ = (
        CheckConstraint("batches_per_drop > 0", name="positive_batches"),
        CheckConstraint("grace_seconds >= 0", name="nonnegative_grace"),
    )

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    cron: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64))
    batches_per_drop: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A drop missed (scheduler down) by up to this long is released late; later, skipped.
    grace_seconds: Mapped[int] = mapped_column(Integer)


class Drop(Entity, Base):
    """One occurrence of a release plan, taken exactly once: released (maybe late) or skipped."""

    __tablename__ = "drops"
    __table_args__ = (UniqueConstraint("order_id", "scheduled_at"),)

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lateness_seconds: Mapped[int] = mapped_column(Integer)
    batch_count: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(300))
    # Published with the allotment, so any team can re-run it (orders/lottery.py).
    lottery_seed: Mapped[str | None] = mapped_column(String(64))
    lottery_algorithm: Mapped[str | None] = mapped_column(String(64))
    allotments: Mapped[list["Allotment"]] = relationship(
        lazy="selectin", order_by="Allotment.rank_key"
    )
    batches: Mapped[list[Batch]] = relationship(viewonly=True, order_by=Batch.seq)


class ReservationKind(enum.StrEnum):
    RESERVE = "reserve"  # the client's balance -> the order's reservation
    POST = "post"  # the reservation -> a statement of accepted work, paid
    VOID = "void"  # the reservation -> back to the client's balance


class Reservation(Entity, Base):
    """One movement of an order's reserved money, beside its ledger transaction.

    The order's reservation is the sum of its movements (reserves positive, posts and
    voids negative): two-phase, as a ledger's pending transfers are, posted as work is
    accepted and voided when the work it was held for will not be billed.
    """

    __tablename__ = "reservations"
    # A void may move nothing: it records items rejected when nothing was left to give back.
    __table_args__ = (CheckConstraint("amount_minor >= 0", name="nonnegative_amount"),)

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    # Items it was reserved for, a statement billed, or rejected (a void; 0 for leftovers).
    items: Mapped[int] = mapped_column(Integer)
    # What it is for: the drop that reserved, the statement that posted.
    drop_id: Mapped[int | None] = mapped_column(ForeignKey("drops.id"))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    ledger_key: Mapped[str] = mapped_column(String(200), unique=True)
    memo: Mapped[str] = mapped_column(String(300), default="")


class Claimant(Entity, Base):
    """A team's standing on one order: its trial, and the row its claims lock.

    Claims of an order with limits or a trial lock this row first, so one team's
    concurrent claims are counted one after another and never overshoot a limit.
    """

    __tablename__ = "claimants"
    __table_args__ = (UniqueConstraint("order_id", "team_party_id"),)

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    team_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    trial_batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    trial_score: Mapped[int | None] = mapped_column(Integer)
    trial_passed: Mapped[bool | None] = mapped_column()
    trial_scored_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    trial_scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    trial_note: Mapped[str | None] = mapped_column(String(1000))


class Interest(Entity, Base):
    """A team's wish for batches of one coming lottery drop."""

    __tablename__ = "interests"
    __table_args__ = (
        UniqueConstraint("order_id", "scheduled_at", "team_party_id"),
        CheckConstraint("batches > 0", name="positive_batches"),
    )

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    team_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    batches: Mapped[int] = mapped_column(Integer)
    registered_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class ClaimRule(Entity, Base):
    """A team's standing claim: at each drop of a matching order, up to so many batches."""

    __tablename__ = "claim_rules"
    __table_args__ = (CheckConstraint("batches_per_drop > 0", name="positive_batches"),)

    team_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    created_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    batches_per_drop: Mapped[int] = mapped_column(Integer)
    task_type: Mapped[str | None] = mapped_column(String(64))
    client_party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    currency: Mapped[str | None] = mapped_column(String(3))
    min_unit_price_micros: Mapped[int | None] = mapped_column(BigInteger)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    # Only orders whose money is reserved before they drop (prefunded or milestones).
    funded_only: Mapped[bool] = mapped_column(default=False, server_default=false())


class Allotment(Entity, Base):
    """One team's line of a drop's published allotment: what it asked, what it got, why."""

    __tablename__ = "allotments"
    __table_args__ = (UniqueConstraint("drop_id", "team_party_id"),)

    drop_id: Mapped[int] = mapped_column(ForeignKey("drops.id"))
    team_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    source: Mapped[str] = mapped_column(String(16))  # interest or rule
    wanted: Mapped[int] = mapped_column(Integer)
    allowed: Mapped[int] = mapped_column(Integer)  # wanted, cut to the order's limits
    rank_key: Mapped[str] = mapped_column(String(64))
    batch_ids: Mapped[list[int]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(300))


class ItemImport(Entity, Base):
    """A file of items added to an order, and the answer its upload got.

    An upload with an `Idempotency-Key` is answered once: the same key again on the
    order replays this answer (the same content) or is refused (other content).
    """

    __tablename__ = "item_imports"
    __table_args__ = (UniqueConstraint("order_id", "idempotency_key"),)

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    created_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    # Over the body's bytes, the format and the duplicate policy: what "the same upload" is.
    request_sha256: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(8))
    rows_read: Mapped[int] = mapped_column(Integer)
    items_added: Mapped[int] = mapped_column(Integer)
    duplicates_skipped: Mapped[int] = mapped_column(Integer)
    batches_created: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)  # the order's, once the items were in
