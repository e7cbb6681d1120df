"""The crawl's eyes: every spelling of a figure is found, and ids, counts and days are not
taken for money."""

import json
from decimal import Decimal

import pytest

from tests.privacy.figures import figures

TOTAL = Decimal("205.80")
PRICE = Decimal("0.10")


@pytest.mark.parametrize(
    "answer",
    [
        {"total": "205.80"},
        {"total": "205.8"},
        {"outstanding": "205.800"},
        {"nested": [{"deep": {"amount": "-205.80"}}]},
        {"reason": "Horizon owes ¥205.80 on INV-2026-000001"},
        {"reason": "owes 205.80 CNY"},
        {"amount_minor": 20580},
        {"total": 20580},
        {"overdue": 205.8},
    ],
)
def test_an_invoice_total_is_found_in_any_json_spelling(answer):
    assert TOTAL in figures(json.dumps(answer, default=str), "application/json")


@pytest.mark.parametrize(
    "answer",
    [
        {"unit_price": "0.1"},
        {"unit_price": "0.10"},
        {"unit_price": "0.1000"},
        {"unit_price_micros": 100000},
        {"note": "priced at 0.10 a box"},
    ],
)
def test_a_price_is_found_in_any_json_spelling(answer):
    assert PRICE in figures(json.dumps(answer), "application/json")


def test_figures_in_csv_cells_are_found_with_their_column_as_key():
    text = "invoice,total,items_minor\r\nINV-2026-000001,205.80,19600\r\n"
    found = figures(text, "text/csv; charset=utf-8")
    assert {TOTAL, Decimal("196.00")} <= found


def test_grouped_thousands_in_text_are_one_figure():
    found = figures("1,960.00 boxes and 12,345 more", "text/plain")
    assert {Decimal("1960.00"), Decimal("12345")} <= found


@pytest.mark.parametrize("text", ["owes ¥196", "owes CN¥196", "196 CNY owed", "欠196元"])
def test_a_whole_amount_beside_its_currency_is_a_figure(text):
    assert Decimal("196") in figures(text, "text/plain")


def test_ids_counts_days_and_dates_are_not_money():
    answer = {
        "id": 49,
        "invoices_issued": 10,
        "worst_days_late": 8,
        "quantity": 1960,
        "due_on": "2026-04-02",
        "number": "INV-2026-000010",
        "ok": True,
        "nothing": None,
    }
    assert figures(json.dumps(answer), "application/json") == set()


def test_a_whole_number_under_a_money_key_is_read_as_major_minor_and_micros():
    assert figures(json.dumps({"fee": 980}), "application/json") == {
        Decimal("980"),
        Decimal("9.80"),
        Decimal("0.00098"),
    }
