"""Chains of contracts from the client down to the performing team, and how they are made:
bids on orders, offers of subcontracts, bids on offers; and each team's cost floors."""

import enum

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, Entity
from marketplace.identity.models import Party
from marketplace.orders.models import Order


class ContractSource(enum.StrEnum):
    CLAIM = "claim"  # a claim of a claims order: the contract grows with each batch
    AWARD = "award"  # the client awarded a team's bid on a bids order
    OFFER = "offer"  # a subcontract: an offer accepted, or a bid on an offer awarded


class Contract(Entity, Base):
    """One link: the downstream party does `quantity` items for the upstream one at a unit price.

    A top contract's upstream is the client; a subcontract's is the downstream
    party of its parent. A contract's quantity covers its subcontracts' and the
    items of the batches worked under it.
    """

    __tablename__ = "contracts"
    __table_args__ = (
        UniqueConstraint("order_id", "upstream_party_id", "downstream_party_id"),
        CheckConstraint("unit_price_micros > 0", name="positive_price"),
        CheckConstraint("quantity >= 0", name="nonnegative_quantity"),
        CheckConstraint("depth > 0", name="positive_depth"),
    )

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    parent_contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), index=True)
    depth: Mapped[int] = mapped_column(Integer, default=1)  # 1: the client's own contract
    source: Mapped[str] = mapped_column(String(16), default=ContractSource.CLAIM)
    upstream_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    downstream_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    unit_price_micros: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    quantity: Mapped[int] = mapped_column(Integer)
    order: Mapped[Order] = relationship(lazy="joined")
    upstream: Mapped[Party] = relationship(foreign_keys=[upstream_party_id], lazy="joined")
    downstream: Mapped[Party] = relationship(foreign_keys=[downstream_party_id], lazy="joined")


class DealStatus(enum.StrEnum):
    OPEN = "open"
    TAKEN = "taken"  # an offer whose whole quantity went into contracts
    AWARDED = "awarded"  # a bid that made a contract
    WITHDRAWN = "withdrawn"


class Offer(Entity, Base):
    """A contract holder's offer to pass items down: to one team, or open to all.

    An offer reserves its open quantity out of the parent contract. It may carry
    batches the holder claimed and has not started; they go down with it.
    """

    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint("unit_price_micros > 0", name="positive_price"),
        CheckConstraint("quantity > 0", name="positive_quantity"),
        CheckConstraint("open_quantity >= 0", name="nonnegative_open_quantity"),
    )

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    from_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    to_party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"), index=True)
    unit_price_micros: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    quantity: Mapped[int] = mapped_column(Integer)
    open_quantity: Mapped[int] = mapped_column(Integer)
    batch_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(String(1000), default="")
    status: Mapped[str] = mapped_column(String(16), default=DealStatus.OPEN)
    created_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    order: Mapped[Order] = relationship(lazy="joined")
    contract: Mapped[Contract] = relationship(lazy="joined")
    from_party: Mapped[Party] = relationship(foreign_keys=[from_party_id], lazy="joined")


class Bid(Entity, Base):
    """A team's offer to do items at its price: on a bids order, or on an open offer."""

    __tablename__ = "bids"
    __table_args__ = (
        CheckConstraint("unit_price_micros > 0", name="positive_price"),
        CheckConstraint("quantity > 0", name="positive_quantity"),
    )

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"), index=True)
    team_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    unit_price_micros: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    quantity: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(1000), default="")
    status: Mapped[str] = mapped_column(String(16), default=DealStatus.OPEN)
    awarded_quantity: Mapped[int | None] = mapped_column(Integer)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"))
    created_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    order: Mapped[Order] = relationship(lazy="joined")
    team: Mapped[Party] = relationship(lazy="joined")


class CostFloor(Entity, Base):
    """What a team needs per item of a task type to break even; prices below are flagged."""

    __tablename__ = "cost_floors"
    __table_args__ = (
        UniqueConstraint("team_party_id", "task_type", "currency"),
        CheckConstraint("unit_price_micros > 0", name="positive_price"),
    )

    team_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    task_type: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    unit_price_micros: Mapped[int] = mapped_column(BigInteger)
    set_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
