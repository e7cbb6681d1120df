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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, Entity, Id, UTCDateTime
from marketplace.identity.models import Party


class OrderStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class BatchStatus(enum.StrEnum):
    RELEASED = "released"
    CLAIMED = "claimed"


class Order(Entity, Base):
    """A client's posting: what to label, at what price per item, on what terms."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("unit_price_micros > 0", name="positive_price"),
        CheckConstraint("quantity > 0", name="positive_quantity"),
        CheckConstraint("batch_size > 0", name="positive_batch_size"),
    )

    client_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    task_type: Mapped[str] = mapped_column(String(64))
    instructions: Mapped[str] = mapped_column(Text, default="")
    unit_price_micros: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    quantity: Mapped[int] = mapped_column(Integer)
    payment_terms_days: Mapped[int] = mapped_column(Integer)
    batch_size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=OrderStatus.DRAFT)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    client: Mapped[Party] = relationship(lazy="joined")


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
    )

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    seq: Mapped[int] = mapped_column(Integer)
    item_count: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    released_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by_party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    order: Mapped[Order] = relationship(lazy="joined")
