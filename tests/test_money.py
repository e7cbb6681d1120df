"""Money rules 1-5 of the design brief, as properties and as the story's figures."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.money import (
    MoneyError,
    allocate,
    divide_half_up,
    exponent,
    fee_minor,
    format_micros,
    format_minor,
    format_share_bps,
    line_minor,
    to_micros,
    to_minor,
)

CURRENCY_BY_EXPONENT = {0: "JPY", 2: "CNY", 3: "BHD"}


def test_exponents_come_from_iso_4217():
    assert [exponent(c) for c in ("CNY", "USD", "JPY", "KRW", "BHD", "KWD")] == [2, 2, 0, 0, 3, 3]


@pytest.mark.parametrize("code", ["XYZ", "cny", "CN", "", "CNYY", None])
def test_unknown_currencies_are_refused(code):
    with pytest.raises(MoneyError):
        exponent(code)


def test_the_story_figures():
    assert line_minor(1963, to_micros(Decimal("0.10")), "CNY") == 19630
    assert fee_minor(19630, 500) == 982  # 9.815 rounds half-up to 9.82
    assert [line_minor(n, 60_000, "CNY") for n in (700, 613, 650)] == [4200, 3678, 3900]
    assert format_minor(19630 + 982, "CNY") == "206.12"


def test_prices_finer_than_a_cent_are_exact_micros():
    assert to_micros(Decimal("0.055")) == 55_000
    assert format_micros(55_000) == "0.055"
    assert format_micros(100_000) == "0.1"
    assert format_micros(12_000_000) == "12"
    with pytest.raises(MoneyError):
        to_micros(Decimal("0.0000001"))
    with pytest.raises(MoneyError):
        to_micros(Decimal("NaN"))


def test_amounts_finer_than_the_minor_unit_are_refused():
    assert to_minor(Decimal("206.12"), "CNY") == 20612
    assert to_minor(Decimal("500"), "JPY") == 500
    with pytest.raises(MoneyError):
        to_minor(Decimal("206.125"), "CNY")
    with pytest.raises(MoneyError):
        to_minor(Decimal("0.5"), "JPY")


def test_half_up_at_the_half_and_either_side():
    assert [divide_half_up(n, 10) for n in (14, 15, 16, -15, -14)] == [1, 2, 2, -2, -1]
    # 0.055 x 1 = 0.055 CNY -> 0.06; x 3 = 0.165 -> 0.17 (once, not 3 x 0.06)
    assert line_minor(1, 55_000, "CNY") == 6
    assert line_minor(3, 55_000, "CNY") == 17


@given(
    quantity=st.integers(min_value=0, max_value=10**7),
    micros=st.integers(min_value=1, max_value=10**12),
    exp=st.sampled_from(sorted(CURRENCY_BY_EXPONENT)),
)
def test_a_line_is_rounded_once_half_up_for_any_exponent(quantity, micros, exp):
    exact = Decimal(quantity) * Decimal(micros) / Decimal(10**6)
    expected = exact.quantize(Decimal(1).scaleb(-exp), rounding=ROUND_HALF_UP)
    assert line_minor(quantity, micros, CURRENCY_BY_EXPONENT[exp]) == int(expected.scaleb(exp))


@given(
    total=st.integers(min_value=0, max_value=10**12),
    weights=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=30).filter(
        any
    ),
)
def test_allocation_sums_to_the_whole_and_is_never_negative(total, weights):
    parts = allocate(total, weights)
    assert sum(parts) == total
    assert all(part >= 0 for part in parts)
    # Each part is within one unit of its exact share.
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        assert abs(part * weight_sum - total * weight) < weight_sum


def test_allocation_breaks_ties_towards_the_earlier_part():
    assert allocate(1, [1, 1, 1]) == [1, 0, 0]
    assert allocate(2, [1, 1, 1]) == [1, 1, 0]
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]


def test_allocation_refuses_what_cannot_be_split():
    with pytest.raises(ValueError):
        allocate(5, [0, 0])
    with pytest.raises(ValueError):
        allocate(-1, [1])
    assert allocate(0, [0, 0]) == [0, 0]


def test_a_share_in_basis_points_reads_as_four_exact_places():
    assert [format_share_bps(bps) for bps in (1, 5000, 5500, 6667, 10_000)] == [
        "0.0001",
        "0.5000",
        "0.5500",
        "0.6667",
        "1.0000",
    ]
