"""Every money figure an answer states, in every spelling a reader could read it in.

A figure is a `Decimal` in the currency's major unit. An answer states it

- as a decimal string at any precision: "205.8", "205.80", "205.800";
- inside a sentence or a formatted amount: "¥205.80", "1,960.00 boxes", "CN¥205.80",
  and a whole amount beside its currency: "¥196", "196 CNY";
- as an integer under a money key: 20580 under `amount_minor` is 205.80, 100000 under
  `unit_price_micros` is 0.10, and an integer under a key naming money (`total`,
  `fee`, `price`, ...) is read all three ways;
- in a CSV cell, its column's header taken as its key (so "19600" under
  `items_minor` is 196.00).

Whole numbers written without a point outside money keys (ids, counts, days) are not
figures: 49 boxes is not the 49.00 margin. Signs are dropped: a credit of -205.80
states 205.80.
"""

import csv
import io
import json
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

MINOR_EXPONENT = 2  # the story's currency, CNY; a crawl in JPY would pass 0
WHOLE = re.compile(r"-?\d+(?:\.\d+)?")
# A number inside text: grouped thousands, or any number with a fractional part.
EMBEDDED = re.compile(r"(?<![\d.])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,])|\d+\.\d+")
# A whole amount beside its currency in text: "¥196", "196 CNY", "196元".
BESIDE_CURRENCY = re.compile(
    r"(?:CN¥|US\$|¥|￥|\$)\s?(\d[\d,]*(?:\.\d+)?)|(\d[\d,]*(?:\.\d+)?)\s?(?:CNY|USD|元|CN¥)"
)
MONEY_KEY = re.compile(
    r"amount|price|total|fee|margin|line|balance|earn|owed|outstanding|credit|refund|"
    r"paid|pending|available|unbilled|payout|rate|cost|minimum|absorbed|returned|applied"
)


def _number(text: str) -> Decimal | None:
    try:
        return abs(Decimal(text.replace(",", "")))
    except InvalidOperation:
        return None


def _integer_readings(key: str, value: int) -> Iterator[Decimal]:
    if key.endswith("_minor"):
        yield abs(Decimal(value).scaleb(-MINOR_EXPONENT))
    elif key.endswith("_micros"):
        yield abs(Decimal(value).scaleb(-6))
    elif MONEY_KEY.search(key):
        yield from (abs(Decimal(value).scaleb(-e)) for e in (0, MINOR_EXPONENT, 6))


def _string_readings(key: str, value: str) -> Iterator[Decimal]:
    text = value.strip()
    if WHOLE.fullmatch(text):
        if "." in text:
            yield abs(Decimal(text))
        else:
            yield from _integer_readings(key, int(text))
        return
    for match in EMBEDDED.findall(value) + [a or b for a, b in BESIDE_CURRENCY.findall(value)]:
        number = _number(match)
        if number is not None:
            yield number


def _walk(key: str, value) -> Iterator[Decimal]:
    if isinstance(value, dict):
        for name, inner in value.items():
            yield from _string_readings("", str(name))
            yield from _walk(str(name).lower(), inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _walk(key, inner)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        yield from _integer_readings(key, value)
    elif isinstance(value, Decimal | float):
        yield abs(Decimal(str(value)))
    else:
        yield from _string_readings(key, str(value))


def figures(text: str, content_type: str) -> set[Decimal]:
    """Every figure `text` (an answer of `content_type`) states."""
    if "ndjson" in content_type:  # JSON Lines: a document a line
        return {f for line in text.splitlines() if line for f in figures(line, "application/json")}
    if "json" in content_type:
        return set(_walk("", json.loads(text, parse_float=Decimal)))
    if "csv" in content_type:
        rows = list(csv.reader(io.StringIO(text)))
        header = [name.lower() for name in rows[0]] if rows else []
        return {
            number
            for row in rows
            for index, cell in enumerate(row)
            for number in _string_readings(header[index] if index < len(header) else "", cell)
        }
    return set(_string_readings("", text))
