"""Reference wages and what an hour of piecework pays.

An hour's pay at a piece price is `price x 3600 / seconds per item`, rounded
once, half-up, to the currency's minor unit. The reference wage an order is
held to is, for its currency, the highest wage in force today of any region:
an order may be worked wherever its currency is paid, so its price must pay the
wage wherever it is done (docs/hourly-pay.md).
"""

import enum
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.errors import Conflict, Invalid
from marketplace.identity.actor import Actor
from marketplace.identity.audit import record
from marketplace.identity.models import Role
from marketplace.money import (
    MICRO_EXPONENT,
    MoneyError,
    divide_half_up,
    exponent,
    format_minor,
    to_minor,
)
from marketplace.wages.models import ReferenceWage

HOUR = 3600
# A wage above a million major units an hour is a typo.
MAX_WAGE_MINOR = 10**15


class WageFloor(enum.StrEnum):
    """What publishing does with an order that cannot pay the reference wage (`WAGE_FLOOR`)."""

    REFUSE = "refuse"  # 409 below_reference_wage; an order without an estimate: 422
    WARN = "warn"  # published; the answer says it pays below the wage
    OFF = "off"


def hourly_minor(
    price_micros: Fraction | Decimal | int, seconds: Decimal | int, currency: str
) -> int | None:
    """What an hour pays at `price_micros` an item (a fraction of a micro allowed: an
    average, or a share of a price) and `seconds` an item, in minor units, rounded once,
    half-up; None when no time was measured (zero seconds)."""
    if not seconds:
        return None
    shift = MICRO_EXPONENT - exponent(currency)
    hourly = Fraction(price_micros) * HOUR / Fraction(seconds) / 10**shift
    return divide_half_up(hourly.numerator, hourly.denominator)


def list_wages(session: Session) -> list[ReferenceWage]:
    """Every reference wage, by currency and region, the latest first."""
    return list(
        session.scalars(
            select(ReferenceWage).order_by(
                ReferenceWage.currency,
                ReferenceWage.region,
                ReferenceWage.effective_on.desc(),
            )
        )
    )


def save_wage(session: Session, actor: Actor, data: dict[str, Any]) -> ReferenceWage:
    """A platform admin sets a region's reference wage from a day on; the same currency,
    region and day again replaces the figure and its source. The amount must be positive
    and in the currency's minor unit (422 `invalid_amount`); the change is in the audit
    log."""
    actor.require(Role.PLATFORM_ADMIN)
    currency = data["currency"]
    try:
        minor = to_minor(data["hourly_wage"], currency)
    except MoneyError as exc:
        raise Invalid(str(exc), code="invalid_amount", field="hourly_wage") from exc
    if not 0 < minor <= MAX_WAGE_MINOR:
        raise Invalid(
            "An hourly wage is positive and sane.", code="invalid_amount", field="hourly_wage"
        )
    key = {
        "currency": currency,
        "region": data["region"].strip(),
        "effective_on": data["effective_on"],
    }
    wage = session.scalar(select(ReferenceWage).filter_by(**key).with_for_update())
    if wage is None:
        wage = ReferenceWage(**key)
        session.add(wage)
    wage.amount_minor = minor
    wage.source = data["source"].strip()
    wage.set_by_user_id = actor.user_id
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # another admin set the same day's wage at this moment
        raise Conflict(
            "That wage was set at the same moment; try again.", code="wage_conflict"
        ) from exc
    record(
        session,
        actor,
        "reference_wage_set",
        ("reference_wage", wage.id),
        currency=currency,
        region=wage.region,
        hourly_wage=format_minor(minor, currency),
        effective_on=wage.effective_on.isoformat(),
        source=wage.source,
    )
    return wage


def wage_in_force(session: Session, currency: str, on: date | None = None) -> ReferenceWage | None:
    """The reference wage an order in `currency` is held to on `on` (default: today, UTC):
    each region's latest wage in effect by then, and of those the highest."""
    on = on or clock.now().date()
    latest: dict[str, ReferenceWage] = {}
    for wage in session.scalars(
        select(ReferenceWage)
        .where(ReferenceWage.currency == currency, ReferenceWage.effective_on <= on)
        .order_by(ReferenceWage.effective_on.desc(), ReferenceWage.id.desc())
    ):
        latest.setdefault(wage.region, wage)
    return max(latest.values(), key=lambda w: (w.amount_minor, w.region), default=None)


@dataclass(frozen=True)
class HourlyPay:
    """What an hour pays at a price and a pace, beside the reference wage."""

    currency: str
    seconds_per_item: Decimal | None
    basis: str  # "measured" (the median of accepted items) or "estimate" (the client's)
    hourly_minor: int | None
    wage: ReferenceWage | None

    @property
    def below_reference_wage(self) -> bool | None:
        if self.wage is None or self.hourly_minor is None:
            return None
        return self.hourly_minor < self.wage.amount_minor


def hourly_pay(
    session: Session,
    *,
    price_micros: Fraction | Decimal | int,
    currency: str,
    seconds: Decimal | int | None,
    basis: str,
    wage: ReferenceWage | None = None,
) -> HourlyPay:
    """An hour's pay at `price_micros` an item and `seconds` an item, beside the reference
    wage in force for the currency (or `wage`, when the caller already read it)."""
    return HourlyPay(
        currency=currency,
        seconds_per_item=None if seconds is None else Decimal(seconds),
        basis=basis,
        hourly_minor=None if seconds is None else hourly_minor(price_micros, seconds, currency),
        wage=wage or wage_in_force(session, currency),
    )


def pay_at_estimate(session: Session, order: Any) -> HourlyPay:
    """What an hour of the order's work pays at its price and the client's estimate, if
    all of the price reached the annotator."""
    return hourly_pay(
        session,
        price_micros=order.unit_price_micros,
        currency=order.currency,
        seconds=order.estimated_seconds_per_item,
        basis="estimate",
    )


def refuse_below_reference_wage(session: Session, order: Any, mode: str) -> HourlyPay | None:
    """With the floor at `refuse`: 422 `estimate_required` for an order without the
    client's estimate per item, and 409 `below_reference_wage` (with the figures) for one
    whose price, all of it reaching the annotator, pays less an hour at the estimate than
    the reference wage of its currency. With `warn` nothing is refused (the answer says
    it); with `off` nothing is checked. `order` is an order (orders import this package)."""
    if mode == WageFloor.OFF:
        return None
    pay = pay_at_estimate(session, order)
    if mode != WageFloor.REFUSE:
        return pay
    if order.estimated_seconds_per_item is None:
        raise Invalid(
            "Say how many seconds one item takes (estimated_seconds_per_item): the platform "
            "checks that your price pays the reference wage.",
            code="estimate_required",
            field="estimated_seconds_per_item",
        )
    if pay.below_reference_wage:
        raise Conflict(
            "At your estimate, your price pays less an hour than the reference wage, even "
            "if all of it reached the annotator.",
            code="below_reference_wage",
            **wage_figures(pay),
        )
    return pay


def wage_figures(pay: HourlyPay) -> dict[str, Any]:
    """The figures of an hour's pay and its reference wage, as JSON."""
    wage = pay.wage
    return {
        "currency": pay.currency,
        "seconds_per_item": None if pay.seconds_per_item is None else str(pay.seconds_per_item),
        "hourly_pay": None
        if pay.hourly_minor is None
        else format_minor(pay.hourly_minor, pay.currency),
        "reference_wage": None if wage is None else format_minor(wage.amount_minor, wage.currency),
        "region": None if wage is None else wage.region,
        "source": None if wage is None else wage.source,
        "effective_on": None if wage is None else wage.effective_on.isoformat(),
    }
