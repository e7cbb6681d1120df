"""Money arithmetic: the only place that converts, rounds and splits amounts.

- Prices are integer *micros* of the major unit (0.055 CNY -> 55_000).
- Amounts are integers in the currency's *minor* unit (196.30 CNY -> 19_630);
  the exponent comes from ISO 4217 through babel.
- A line (quantity x unit price) is rounded once, half-up.
- `allocate()` splits a whole into parts by largest remainder; the parts always
  sum to the whole.
"""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from functools import cache

from babel.core import get_global
from babel.numbers import get_currency_precision, get_territory_currencies

MICROS = 1_000_000
MICRO_EXPONENT = 6


class MoneyError(ValueError):
    """A value that is not an acceptable price, amount or currency."""


@cache
def currencies_in_use() -> frozenset[str]:
    """ISO 4217 codes that are legal tender somewhere today, per CLDR (through babel).

    Not every code CLDR knows: XXX (no currency), XTS (testing), withdrawn ones
    (DEM) and offshore ones (CNH) cannot price an order.
    """
    today = date.today()
    return frozenset(
        code
        for territory in get_global("territory_currencies")
        for code in get_territory_currencies(territory, today, tender=True)
    )


def check_currency(code: str) -> str:
    """Return `code` if it is an ISO 4217 currency in use, else raise MoneyError."""
    if not isinstance(code, str) or code not in currencies_in_use():
        raise MoneyError(f"{code!r} is not an ISO 4217 currency in use")
    return code


def exponent(currency: str) -> int:
    """Digits after the decimal point in the currency's minor unit (CNY 2, JPY 0, BHD 3)."""
    return get_currency_precision(check_currency(currency))


def _exact_integer(value: Decimal, digits: int, what: str) -> int:
    """`value` scaled by 10**digits, which must leave no fraction."""
    if not value.is_finite():
        raise MoneyError(f"{what} must be a finite number")
    try:
        scaled = value.scaleb(digits)
        if scaled != scaled.to_integral_value():
            raise MoneyError(f"{what} has more than {digits} decimal places")
    except ArithmeticError as exc:  # decimal.Overflow, InvalidOperation
        raise MoneyError(f"{what} is out of range") from exc
    return int(scaled)


def to_micros(price: Decimal) -> int:
    """A per-item price in micros; more than six decimal places is an error, never rounded."""
    return _exact_integer(price, MICRO_EXPONENT, "a price")


def format_micros(micros: int) -> str:
    """The JSON form of a price: the shortest exact decimal string ("0.055", "0.1", "12")."""
    return f"{Decimal(micros).scaleb(-MICRO_EXPONENT).normalize():f}"


def to_minor(amount: Decimal, currency: str) -> int:
    """An amount in minor units; finer than the currency's minor unit is an error."""
    return _exact_integer(amount, exponent(currency), f"a {currency} amount")


def from_minor(minor: int, currency: str) -> Decimal:
    """The amount as a Decimal with exactly the currency's number of places."""
    return Decimal(minor).scaleb(-exponent(currency))


def format_minor(minor: int, currency: str) -> str:
    """The JSON form of an amount: a decimal string such as "196.30"."""
    return f"{from_minor(minor, currency):f}"


def divide_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, in integers."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def line_minor(quantity: int, unit_price_micros: int, currency: str) -> int:
    """One link's line: quantity x unit price, rounded once, half-up, to minor units."""
    shift = MICRO_EXPONENT - exponent(currency)
    return divide_half_up(quantity * unit_price_micros, 10**shift)


def format_share_bps(bps: int) -> str:
    """A share given in basis points as a decimal string of four places: 5000 -> "0.5000"."""
    return f"{Decimal(bps).scaleb(-4):.4f}"


def fee_minor(base_minor: int, rate_bps: int) -> int:
    """A fee of `rate_bps` basis points on `base_minor`, rounded once, half-up."""
    return divide_half_up(base_minor * rate_bps, 10_000)


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` in proportion to `weights` by largest remainder.

    The parts sum to `total` exactly and none is negative (for a non-negative
    total). Ties in remainder go to the earlier weight, so the result is stable.
    """
    if total < 0:
        raise ValueError("allocate() splits a non-negative total")
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total:
            raise ValueError("cannot split a non-zero total over zero weights")
        return [0] * len(weights)
    floors, remainders = [], []
    for index, weight in enumerate(weights):
        quotient, remainder = divmod(total * weight, weight_sum)
        floors.append(quotient)
        remainders.append((-remainder, index))
    for _, index in sorted(remainders)[: total - sum(floors)]:
        floors[index] += 1
    return floors
