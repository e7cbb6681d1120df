"""Reference hourly wages, maintained by platform admins with their source."""

from datetime import date

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, Entity


class ReferenceWage(Entity, Base):
    """What an hour of work pays at least in a region, in its currency, from a day on
    (e.g. a city's minimum wage per hour). One row per currency, region and day it takes
    effect: a new figure for a later day is a new row, so the history stays."""

    __tablename__ = "reference_wages"
    __table_args__ = (
        UniqueConstraint("currency", "region", "effective_on"),
        CheckConstraint("amount_minor > 0", name="positive_wage"),
    )

    currency: Mapped[str] = mapped_column(String(3))
    region: Mapped[str] = mapped_column(String(100))
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # per hour
    source: Mapped[str] = mapped_column(String(500))
    effective_on: Mapped[date] = mapped_column(Date)
    set_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
