"""Contracts: the links of a chain from the client down to the performing team."""

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, Entity
from marketplace.identity.models import Party
from marketplace.orders.models import Order


class Contract(Entity, Base):
    """One link: the downstream party does `quantity` items for the upstream one at a unit price."""

    __tablename__ = "contracts"
    __table_args__ = (
        UniqueConstraint("order_id", "upstream_party_id", "downstream_party_id"),
        CheckConstraint("unit_price_micros > 0", name="positive_price"),
        CheckConstraint("quantity >= 0", name="nonnegative_quantity"),
    )

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    upstream_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    downstream_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    unit_price_micros: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    quantity: Mapped[int] = mapped_column(Integer)
    order: Mapped[Order] = relationship(lazy="joined")
    upstream: Mapped[Party] = relationship(foreign_keys=[upstream_party_id], lazy="joined")
    downstream: Mapped[Party] = relationship(foreign_keys=[downstream_party_id], lazy="joined")
