"""An annotator's statement of a period: her work and her money's movements per day, as
JSON or as a CSV file written for a spreadsheet in her locale.

March 2026 in Lotus's day (Shanghai): on the 2nd Li submits 9 boxes, 7 accepted at
0.055 (0.385 of exact pay) and 2 rejected; Wang 1 accepted. The invoice issued at 00:30
on the 3rd (still the 2nd in UTC) bills Li 0.39 and Wang 0.06. The client pays on the
20th, the payout run pays her on the 21st, when she also submits 1 more box.
"""

import csv
import io

import pytest

from marketplace.db import unit_of_work
from marketplace.identity.models import User
from tests.payments.test_earnings_views import (
    invoice,
    join_team,
    pay,
    payout_run,
    tally,
    team_order,
    work,
)

HEADER = [
    "day",
    "currency",
    "submitted",
    "accepted",
    "rejected",
    "earned",
    "accrued",
    "settled",
    "paid_out",
]


@pytest.fixture
def march(api, cast, frozen_clock):
    """Li's March, as the module's docstring tells it; the clock stands on 25 March."""
    order_id = team_order(api, cast, 11)
    work(api, cast.li, cast.reviewer, accept=7, reject=2)
    work(api, cast.wang, cast.reviewer, accept=1)
    frozen_clock.stand_at("2026-03-03T00:30:00+08:00")
    bill = invoice(api, cast, order_id)
    frozen_clock.stand_at("2026-03-20T10:00:00+08:00")
    pay(api, cast, bill, received_on="2026-03-20")
    frozen_clock.stand_at("2026-03-21T10:00:00+08:00")
    payout_run(api, cast)
    work(api, cast.li, cast.reviewer, unreviewed=1)
    frozen_clock.stand_at("2026-03-25T10:00:00+08:00")
    return bill


def row(day, work=None, accrued="0.00", settled="0.00", paid_out="0.00") -> dict:
    moves = {"accrued": accrued, "settled": settled, "paid_out": paid_out}
    return {"day": day, "currency": "CNY"} | (work or tally()) | moves


def statement_csv(api, token, query=""):
    answer = api.get(f"/me/earnings/statement?format=csv{query}", token)
    assert answer.status == 200, answer.body
    assert answer.body is None, answer.body  # not JSON
    return answer


def set_locale(app, cast, label: str, locale: str) -> None:
    with app.app_context(), unit_of_work() as session:
        session.get(User, cast.user_ids[label]).locale = locale


def test_the_statement_shows_each_day_s_work_and_money_movements(api, cast, march):
    """Days without work or movement are left out; the invoice's 00:30 is the 3rd's."""
    answer = api.get("/me/earnings/statement", cast.li)
    assert answer.status == 200, answer.body
    assert answer.body == {
        "team_id": cast.party_ids["lotus"],
        "from": "2026-03-01",
        "to": "2026-03-25",
        "rows": [
            row("2026-03-02", tally(9, 7, 2, "0.385")),
            row("2026-03-03", accrued="0.39"),
            row("2026-03-20", settled="0.39"),
            row("2026-03-21", tally(submitted=1), paid_out="0.39"),
        ],
        "balances": [{"currency": "CNY", "pending": "0.00", "available": "0.00", "paid": "0.39"}],
    }
    # Wang's statement holds her own work and money only.
    wang = api.get("/me/earnings/statement", cast.wang).body
    assert wang["rows"] == [
        row("2026-03-02", tally(1, 1, 0, "0.055")),
        row("2026-03-03", accrued="0.06"),
        row("2026-03-20", settled="0.06"),
        row("2026-03-21", paid_out="0.06"),
    ]
    assert wang["balances"] == [
        {"currency": "CNY", "pending": "0.00", "available": "0.00", "paid": "0.06"}
    ]


def test_a_statement_of_a_past_period_ends_with_that_periods_balances(api, cast, march):
    """On 25 March Li asks for 1 to 10 March: then her 0.39 was invoiced and waiting on the
    client, so the statement closes with 0.39 pending, not with today's balances."""
    answer = api.get("/me/earnings/statement?from=2026-03-01&to=2026-03-10", cast.li)
    assert answer.status == 200, answer.body
    assert answer.body["rows"] == [
        row("2026-03-02", tally(9, 7, 2, "0.385")),
        row("2026-03-03", accrued="0.39"),
    ]
    assert answer.body["balances"] == [
        {"currency": "CNY", "pending": "0.39", "available": "0.00", "paid": "0.00"}
    ]


def test_the_csv_statement_is_written_in_chinese_numbers_by_default(api, cast, march):
    """Li's locale is zh_CN: a decimal point, fields between commas, a header row."""
    raw = api.client.get(
        "/api/v1/me/earnings/statement?format=csv", headers={"Authorization": f"Bearer {cast.li}"}
    )
    assert raw.mimetype == "text/csv"
    assert raw.headers["Content-Disposition"] == (
        "attachment; filename=statement-2026-03-01-2026-03-25.csv"
    )
    answer = statement_csv(api, cast.li)
    assert answer.text.startswith(",".join(HEADER) + "\n")
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows == [
        HEADER,
        ["2026-03-02", "CNY", "9", "7", "2", "0.385", "0.00", "0.00", "0.00"],
        ["2026-03-03", "CNY", "0", "0", "0", "0", "0.39", "0.00", "0.00"],
        ["2026-03-20", "CNY", "0", "0", "0", "0", "0.00", "0.39", "0.00"],
        ["2026-03-21", "CNY", "1", "0", "0", "0", "0.00", "0.00", "0.39"],
    ]


def test_a_german_statement_has_decimal_commas_and_semicolons(app, api, cast, march):
    """Asked with locale=de_DE, or by default for a user whose locale is de_DE."""
    german = [
        HEADER,
        ["2026-03-02", "CNY", "9", "7", "2", "0,385", "0,00", "0,00", "0,00"],
        ["2026-03-03", "CNY", "0", "0", "0", "0", "0,39", "0,00", "0,00"],
        ["2026-03-20", "CNY", "0", "0", "0", "0", "0,00", "0,39", "0,00"],
        ["2026-03-21", "CNY", "1", "0", "0", "0", "0,00", "0,00", "0,39"],
    ]
    asked = statement_csv(api, cast.li, "&locale=de_DE")
    assert asked.text.startswith(";".join(HEADER) + "\n")
    assert list(csv.reader(io.StringIO(asked.text), delimiter=";")) == german
    assert statement_csv(api, cast.li, "&locale=de-DE").text == asked.text

    set_locale(app, cast, "li", "de_DE")
    assert statement_csv(api, cast.li).text == asked.text
    # Asking still wins over her own locale.
    english = statement_csv(api, cast.li, "&locale=en_US").text
    assert list(csv.reader(io.StringIO(english)))[1][5:7] == ["0.385", "0.00"]


def test_an_unknown_locale_is_refused(api, cast, march):
    for name in ("xx_YY", "klingon"):
        answer = api.get(f"/me/earnings/statement?format=csv&locale={name}", cast.li)
        assert (answer.status, answer.error_code) == (422, "invalid_locale"), name
        assert answer.body["error"]["details"] == {"locale": name}


def test_the_statement_asks_for_a_period_and_a_team_as_the_chart_does(app, api, cast, frozen_clock):
    """A period runs forward over at most 366 days; an annotator of two teams names one."""
    team_order(api, cast, 1)
    work(api, cast.li, cast.reviewer, accept=1)
    for query in ("from=2026-03-02&to=2026-03-01", "from=2025-03-01&to=2026-03-02"):
        for form in ("", "&format=csv"):
            answer = api.get(f"/me/earnings/statement?{query}{form}", cast.li)
            assert (answer.status, answer.error_code) == (422, "invalid_period"), query + form

    join_team(app, cast, "li", "tiger")
    answer = api.get("/me/earnings/statement", cast.li)
    assert (answer.status, answer.error_code) == (422, "team_required")
    tiger = api.get(f"/me/earnings/statement?team_id={cast.party_ids['tiger']}", cast.li)
    assert (tiger.status, tiger.body["rows"], tiger.body["balances"]) == (200, [], [])
    lotus = api.get(f"/me/earnings/statement?team_id={cast.party_ids['lotus']}", cast.li)
    assert lotus.body["rows"] == [row("2026-03-02", tally(1, 1, 0, "0.055"))]
