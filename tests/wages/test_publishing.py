"""The wage floor at publishing: an order whose price, all of it reaching the annotator,
pays less an hour at the client's estimate than the reference wage is refused (or, by the
platform's setting, published with a warning)."""

import pytest

from tests.bad_input.cases import refused
from tests.flows import order_body
from tests.support import row_counts
from tests.wages import set_wage


@pytest.fixture
def floor(app, monkeypatch):
    """Set the platform's WAGE_FLOOR for the test."""
    return lambda mode: monkeypatch.setitem(app.config, "WAGE_FLOOR", mode)


def draft(api, cast, **terms) -> dict:
    answer = api.post("/orders", cast.client, order_body(items=10, **terms))
    assert answer.status == 201, answer.body
    return answer.body


def test_an_order_below_the_wage_is_refused_with_the_figures_and_nothing_is_written(
    app, api, cast, frozen_clock, floor
):
    floor("refuse")
    set_wage(api, cast.admin)  # Shanghai, 24.00 CNY an hour
    order = draft(api, cast, price="0.10", estimated_seconds_per_item=18)
    # 0.10 x 3600 / 18 = 20.00 an hour, below 24.00.
    assert order["hourly_pay"] == {
        "currency": "CNY",
        "basis": "estimate",
        "seconds_per_item": "18",
        "hourly_pay": "20.00",
        "reference_wage": {
            "hourly_wage": "24.00",
            "region": "Shanghai",
            "source": "Shanghai minimum wage notice, 2025",
            "effective_on": "2025-07-01",
        },
        "below_reference_wage": True,
    }
    answer = refused(
        app, api, "POST", f"/orders/{order['id']}/publish", cast.client, 409, "below_reference_wage"
    )
    assert answer.body["error"]["details"] == {
        "currency": "CNY",
        "seconds_per_item": "18",
        "hourly_pay": "20.00",
        "reference_wage": "24.00",
        "region": "Shanghai",
        "source": "Shanghai minimum wage notice, 2025",
        "effective_on": "2025-07-01",
    }
    assert api.get(f"/orders/{order['id']}", cast.client).body["status"] == "draft"
    assert row_counts(app)["batches"] == 0


def test_a_price_that_pays_the_wage_to_the_fen_is_published(app, api, cast, frozen_clock, floor):
    floor("refuse")
    set_wage(api, cast.admin)
    # 0.12 x 3600 / 18 = 24.00: exactly the wage.
    exact = draft(api, cast, price="0.12", estimated_seconds_per_item=18)
    published = api.post(f"/orders/{exact['id']}/publish", cast.client)
    assert published.status == 200, published.body
    assert (published.body["hourly_pay"]["hourly_pay"], published.body["status"]) == (
        "24.00",
        "published",
    )
    assert published.body["hourly_pay"]["below_reference_wage"] is False
    # 0.055 x 3600 / 7 = 28.2857... -> 28.29, half-up once.
    fine = draft(api, cast, price="0.055", estimated_seconds_per_item=7)
    assert fine["hourly_pay"]["hourly_pay"] == "28.29"
    assert api.post(f"/orders/{fine['id']}/publish", cast.client).status == 200
    # The answers read later do not repeat it: GET /orders/{id}/hourly-pay has the figures.
    assert api.get(f"/orders/{exact['id']}", cast.client).body["hourly_pay"] is None


def test_an_order_without_an_estimate_is_refused_while_the_floor_is_on(
    app, api, cast, frozen_clock, floor
):
    floor("refuse")
    set_wage(api, cast.admin)
    order = draft(api, cast)
    assert order["hourly_pay"]["hourly_pay"] is None
    assert order["hourly_pay"]["below_reference_wage"] is None
    answer = refused(
        app, api, "POST", f"/orders/{order['id']}/publish", cast.client, 422, "estimate_required"
    )
    assert answer.body["error"]["details"] == {"field": "estimated_seconds_per_item"}
    floor("warn")
    assert api.post(f"/orders/{order['id']}/publish", cast.client).status == 200


def test_a_currency_without_a_reference_wage_is_not_held_to_one(
    app, api, cast, frozen_clock, floor
):
    floor("refuse")
    set_wage(api, cast.admin)  # CNY only
    order = draft(api, cast, currency="USD", price="0.01", estimated_seconds_per_item=60)
    published = api.post(f"/orders/{order['id']}/publish", cast.client)
    assert published.status == 200, published.body
    assert published.body["hourly_pay"]["hourly_pay"] == "0.60"
    assert published.body["hourly_pay"]["reference_wage"] is None
    assert published.body["hourly_pay"]["below_reference_wage"] is None


def test_with_the_floor_at_warn_the_order_is_published_and_the_answer_says_it_pays_below(
    app, api, cast, frozen_clock, floor
):
    floor("warn")
    set_wage(api, cast.admin)
    order = draft(api, cast, price="0.10", estimated_seconds_per_item=18)
    published = api.post(f"/orders/{order['id']}/publish", cast.client)
    assert published.status == 200, published.body
    assert published.body["status"] == "published"
    assert (
        published.body["hourly_pay"]["hourly_pay"],
        published.body["hourly_pay"]["below_reference_wage"],
    ) == ("20.00", True)


def test_with_the_floor_off_nothing_is_checked(app, api, cast, frozen_clock, floor):
    floor("off")
    set_wage(api, cast.admin)
    order = draft(api, cast, price="0.01", estimated_seconds_per_item=18)
    assert api.post(f"/orders/{order['id']}/publish", cast.client).status == 200
