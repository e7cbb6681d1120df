"""settlement.split(): how one application of money is shared over an invoice's lines and
each line's shares.

What the user relies on: the parts add up to the money applied, to the fen; no share is
ever given more than it waits for; a whole line (or invoice) settles every share exactly,
a margin a fen below zero included; partial payments in any sequence end with every share
settled exactly; and ties always go the same way (to the lower line, then the lower share).
"""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.payments.settlement import split

# The chain world of tests/payments/test_settlement.py, as the invoice's waits (in fen):
# Lotus's line (Lotus 39, Li 12, Wang 7), Apex's (Apex 19, Bridge 2, annotator 28), fee 5.
INVOICE = {
    10: [(1, 39), (2, 12), (3, 7)],
    20: [(4, 19), (5, 2), (6, 28)],
    30: [(7, 5)],
}


def total(lines) -> int:
    return sum(weight for shares in lines.values() for _, weight in shares)


def test_a_worked_example_over_two_lines_and_the_fee():
    # 33 over the lines (58, 49, 5)/112: 17.09, 14.44, 1.47 -> 17 + 14 + 1 = 32; the fen
    # left goes to the largest remainder (the fee's .47 beats .44) -> 17, 14, 2.
    # 17 over (39, 12, 7)/58: 11.43, 3.52, 2.05 -> 11, 3 + 1, 2.
    # 14 over (19, 2, 28)/49: 5.43, 0.57, 8.00 -> 5, 0 + 1, 8.
    assert split(33, INVOICE) == {1: 11, 2: 4, 3: 2, 4: 5, 5: 1, 6: 8, 7: 2}


def test_a_worked_example_of_a_partial_take_back():
    # 45 of 112 back: lines 23.30, 19.69, 2.01 -> 23, 19 + 1, 2.
    # 23 over (39, 12, 7)/58: 15.47, 4.76, 2.78 -> 15, 4 + 1, 2 + 1 (.78 and .76 beat .47).
    # 20 over (19, 2, 28)/49: 7.76, 0.82, 11.43 -> 7 + 1, 0 + 1, 11 (.82 and .76 beat .43).
    assert split(45, INVOICE) == {1: 15, 2: 5, 3: 3, 4: 8, 5: 1, 6: 11, 7: 2}


def test_the_whole_invoice_settles_every_share_exactly():
    assert split(112, INVOICE) == {1: 39, 2: 12, 3: 7, 4: 19, 5: 2, 6: 28, 7: 5}


def test_a_margin_below_zero_waits_for_its_whole_line():
    # Lotus keeps -1 of a line of 10 (Li 3, Wang 8); the fee line is 1.
    lines = {1: [(1, -1), (2, 3), (3, 8)], 2: [(4, 1)]}
    # 5 over the lines (10, 1)/11: 4.55, 0.45 -> 4 + 1, 0. The line's 5 goes over the
    # shares that wait for money, (3, 8)/11: 1.36, 3.64 -> 1, 3 + 1.
    assert split(5, lines) == {2: 1, 3: 4}
    # The rest is the whole of both lines: every share exactly, the -1 too.
    assert split(6, {1: [(1, -1), (2, 2), (3, 4)], 2: [(4, 1)]}) == {1: -1, 2: 2, 3: 4, 4: 1}
    assert split(11, lines) == {1: -1, 2: 3, 3: 8, 4: 1}
    # A line that is whole while another is not: line 1 gets all 10 of its weight here.
    assert split(10, {1: [(1, -1), (2, 3), (3, 8)], 2: [(4, 0)]}) == {1: -1, 2: 3, 3: 8}


def test_ties_go_to_the_lower_line_then_the_lower_share_whatever_the_order_given():
    assert split(1, {1: [(10, 1), (11, 1)]}) == {10: 1}
    assert split(1, {1: [(11, 1), (10, 1)]}) == {10: 1}
    assert split(1, {2: [(20, 5)], 1: [(10, 5)]}) == {10: 1}
    assert split(3, {1: [(4, 1), (3, 1), (2, 1), (1, 1)]}) == {1: 1, 2: 1, 3: 1}
    # 2 over (1, 1, 1): two shares get a fen, the two lowest, however they are listed.
    assert split(2, {7: [(7, 1), (5, 1), (6, 1)]}) == {5: 1, 6: 1}


def test_nothing_is_split_of_nothing_and_more_than_is_waited_for_is_refused():
    assert split(0, INVOICE) == {}
    with pytest.raises(ValueError):
        split(113, INVOICE)


# --- properties ----------------------------------------------------------------------------


@st.composite
def invoices(draw):
    """An invoice's lines, each with its shares' waits: at least one share waiting for money,
    at most one margin a fen below zero, and a line total above zero."""
    share_ids = iter(range(1, 10_000))
    lines = {}
    for line_id in draw(st.lists(st.integers(1, 500), min_size=1, max_size=5, unique=True)):
        weights = draw(st.lists(st.integers(0, 10**7), min_size=1, max_size=6))
        if draw(st.booleans()) and sum(weights) >= 2:
            weights.insert(draw(st.integers(0, len(weights))), -1)
        if sum(weights) < 1:
            weights[0] += 1
        lines[line_id] = [(next(share_ids), weight) for weight in weights]
    return lines


def weights_of(lines) -> dict[int, int]:
    return {share: weight for shares in lines.values() for share, weight in shares}


@settings(max_examples=300, deadline=None)
@given(data=st.data(), lines=invoices())
def test_the_parts_add_up_and_none_is_more_than_its_share_waits_for(data, lines):
    amount = data.draw(st.integers(0, total(lines)))
    parts = split(amount, lines)
    assert sum(parts.values()) == amount
    weights = weights_of(lines)
    assert set(parts) <= set(weights) and 0 not in parts.values()
    for share, part in parts.items():
        weight = weights[share]
        assert 0 <= part <= weight if weight >= 0 else part == weight
    for shares in lines.values():  # a line never gets more than it waits for
        assert sum(parts.get(share, 0) for share, _ in shares) <= sum(w for _, w in shares)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), lines=invoices())
def test_partial_payments_in_any_sequence_end_with_every_share_settled_exactly(data, lines):
    weights = weights_of(lines)
    settled = dict.fromkeys(weights, 0)
    left = total(lines)
    for step in range(6):  # up to five partial payments, then the rest
        amount = data.draw(st.integers(1, left)) if step < 5 else left
        waits = {
            line: [(share, weight - settled[share]) for share, weight in shares]
            for line, shares in lines.items()
        }
        for share, part in split(amount, waits).items():
            settled[share] += part
        left -= amount
        for share, weight in weights.items():  # never past the share, on the way there
            assert min(0, weight) <= settled[share] <= max(0, weight)
        if not left:
            break
    assert settled == weights


@settings(max_examples=100, deadline=None)
@given(data=st.data(), lines=invoices())
def test_the_order_lines_and_shares_are_given_in_does_not_matter(data, lines):
    amount = data.draw(st.integers(0, total(lines)))
    shuffler = random.Random(data.draw(st.integers(0, 2**32)))
    shuffled = {}
    for line in shuffler.sample(list(lines), len(lines)):
        shuffled[line] = shuffler.sample(lines[line], len(lines[line]))
    assert split(amount, shuffled) == split(amount, lines)
