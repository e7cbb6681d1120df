from decimal import Decimal

from marketplace.errors import Invalid
from marketplace.money import MoneyError, to_minor

MAX_AMOUNT_MINOR = 10**15


def minor_units(amount: Decimal, currency: str, field: str) -> int:
    """A positive amount from a request in minor units; 422 if finer than the currency allows."""
    try:
        minor = to_minor(amount, currency)
    except MoneyError as exc:
        raise Invalid(str(exc), code="invalid_amount", field=field) from exc
    if not 0 < minor <= MAX_AMOUNT_MINOR:
        raise Invalid("The amount must be positive and sane.", code="invalid_amount", field=field)
    return minor
