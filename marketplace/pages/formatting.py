"""Amounts, dates and times as the viewer reads them: babel, in her locale and time zone.

Amounts arrive as integers in the currency's minor unit and are turned into exact
decimals by marketplace.money, never floats; babel only writes them out.
"""

from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date, format_time, get_timezone_name
from babel.numbers import format_currency, format_decimal
from flask_babel import get_locale, get_timezone

from marketplace.money import MICRO_EXPONENT, from_minor


def money(amount_minor: int, currency: str) -> str:
    """An amount in minor units as the viewer writes money: ¥1,234.56 (zh_CN), CN¥1,234.56 (en)."""
    return format_currency(from_minor(amount_minor, currency), currency, locale=get_locale())


def exact_price(micros: int, currency: str) -> str:
    """A price or an exact sum of prices in micros, with every digit it has (¥0.385): a
    piece rate finer than the fen is shown as it is, not rounded."""
    value = Decimal(micros).scaleb(-MICRO_EXPONENT)
    return format_currency(value, currency, locale=get_locale(), decimal_quantization=False)


def number(value: int) -> str:
    """A count, grouped as the viewer groups digits (12,000)."""
    return format_decimal(value, locale=get_locale())


def day(value: date) -> str:
    """A calendar day: 2026年12月6日, December 6, 2026."""
    return format_date(value, "long", locale=get_locale())


def moment(value: datetime) -> str:
    """A moment in the viewer's time zone: 2026年12月6日 03:00, December 6, 2026, 3:00 AM."""
    locale, zone = get_locale(), get_timezone()
    local = value.astimezone(zone)
    return locale.datetime_formats["medium"].format(
        format_time(local, "short", tzinfo=zone, locale=locale),
        format_date(local, "long", locale=locale),
    )


def zone_name() -> str:
    """The viewer's time zone by name: 中国时间, China Time."""
    return get_timezone_name(get_timezone(), locale=get_locale())


FILTERS = {
    "money": money,
    "exact_price": exact_price,
    "number": number,
    "day": day,
    "moment": moment,
}
