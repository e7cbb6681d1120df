"""Li's work over time on her earnings page: her last 31 days as bars, what an hour of
her work paid per task type and week beside the reference wage, and her statement as a
CSV file, each the API's own numbers (GET /me/earnings/days, /hourly, /statement)."""

import re
from decimal import Decimal

import pytest

from tests.pages.kit import PageClient, text
from tests.wages import boxes_over_two_days

# End to end through the API: `make test` runs them, `make check` stays under a minute.
pytestmark = pytest.mark.slow

LI = "li@example.com"
BAR = re.compile(r'<rect [^>]*data-day="([\d-]+)" data-value="(\d+)"')


def signed_in(app, language: str) -> PageClient:
    page = PageClient(app.test_client(), language)
    page.sign_in(LI)
    return page


@pytest.fixture
def li_worked(api, cast, frozen_clock):
    """As tests/wages: Li's 16 boxes on 2 March in Shanghai (8 of 10 s, 7 of 13 s, 1 of
    16 s) and 14 on 3 March (2 of 14 s, 12 of 17 s) at her 0.06; 29 accepted (and Wang's
    one box, not hers). The page is read on 3 March, a Tuesday."""
    boxes_over_two_days(api, cast, frozen_clock)


def test_her_last_31_days_are_bars_of_the_apis_days(app, api, cast, li_worked):
    page = text(signed_in(app, "zh-CN").get("/me/earnings"))
    bars = BAR.findall(page)
    # Two charts (items, then pay) of the 31 days 1 February to 3 March, one bar a day.
    assert len(bars) == 62
    items, earned = dict(bars[:31]), dict(bars[31:])
    assert min(items) == "2026-02-01" and max(items) == "2026-03-03"
    assert items["2026-03-02"] == "16" and items["2026-03-03"] == "14"
    assert sum(int(v) for v in items.values()) == 30
    days = api.get("/me/earnings/days?from=2026-02-01&to=2026-03-03", cast.li).body["days"]
    for day in days:
        assert items[day["day"]] == str(day["submitted"])
        assert earned[day["day"]] == str(int(Decimal(day["earned"]).scaleb(6)))
    assert earned["2026-03-03"] == "1740000"  # 29 accepted that day at 0.06
    assert "你最近 31 天" in page and "最高的一天：16" in page
    # The table beside the charts: only the days with work.
    assert page.count('<tr><th scope="row">2026年3月') == 2


def test_an_hour_of_her_work_is_the_apis_figure_beside_the_reference_wage(
    app, api, cast, li_worked
):
    """29 accepted: the 15th of her sorted times is 13 s; 0.06 x 3600 / 13 = 16.615...,
    16.62 an hour, below Shanghai's 24.00. The week of 2 March holds all of them."""
    hourly = api.get("/me/earnings/hourly?from=2026-02-01&to=2026-03-03", cast.li).body
    [row] = hourly["task_types"]
    assert row["pay"]["hourly_pay"] == "16.62" and row["pay"]["below_reference_wage"]

    page = text(signed_in(app, "zh-CN").get("/me/earnings"))
    table = page[page.index('<table class="work hourly">') :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<tr class=\"below-wage\">(.*?)</tr>", table, re.S)
    assert len(rows) == 2  # these 31 days, and the week of 2 March
    assert "这 31 天" in rows[0] and "2026年3月2日 这一周" in rows[1]
    for row_html in rows:
        assert 'data-minor="1662" data-currency="CNY">¥16.62' in row_html
        assert 'data-minor="2400" data-currency="CNY">¥24.00' in row_html
        assert "低于" in row_html and ">29<" in row_html

    english = signed_in(app, "en")
    english.post("/language", {"locale": "en"}, token_from="/me/earnings")
    page = text(english.get("/me/earnings"))
    assert "What an hour of your work pays" in page and "Week of March 2, 2026" in page


def test_her_statement_downloads_as_the_apis_csv_in_her_language(app, api, cast, li_worked):
    period = "from=2026-03-01&to=2026-03-03"
    team = cast.party_ids["lotus"]
    chinese = signed_in(app, "zh-CN").get(f"/me/earnings/statement?{period}&team_id={team}")
    assert chinese.status_code == 200, text(chinese)
    assert chinese.mimetype == "text/csv"
    assert "statement-2026-03-01-2026-03-03.csv" in chinese.headers["Content-Disposition"]
    api_csv = api.get(f"/me/earnings/statement?{period}&format=csv&locale=zh_CN", cast.li)
    assert text(chinese) == api_csv.text
    assert "\n2026-03-02,CNY,16," in text(chinese)

    english = signed_in(app, "en")
    english.post("/language", {"locale": "en"}, token_from="/me/earnings")
    answer = english.get(f"/me/earnings/statement?{period}")
    assert answer.status_code == 200
    assert (
        text(answer)
        == api.get(f"/me/earnings/statement?{period}&format=csv&locale=en", cast.li).text
    )


def test_a_period_the_service_refuses_is_said_beside_its_field(app, cast, li_worked):
    page = signed_in(app, "zh-CN")
    backwards = page.get("/me/earnings/statement?from=2026-03-03&to=2026-03-01")
    assert backwards.status_code == 422 and backwards.mimetype == "text/html"
    assert '<p class="field-error" id="error-from">请选择一段不超过一年的时间' in text(backwards)
    assert 'value="2026-03-03"' in text(backwards)  # what she typed stays in the field

    not_a_day = page.get("/me/earnings/statement?from=March&to=2026-03-01")
    assert not_a_day.status_code == 422
    assert 'id="error-from"' in text(not_a_day) and 'id="error-to"' not in text(not_a_day)

    not_hers = page.get(f"/me/earnings/statement?team_id={cast.party_ids['horizon']}")
    assert not_hers.status_code == 404
