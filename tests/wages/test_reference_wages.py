"""Reference wages: admins set them with their source, everyone signed in reads them, and
an order is held to the highest wage in force for its currency."""

from marketplace.db import db
from marketplace.wages.service import wage_in_force
from tests.bad_input.cases import refused
from tests.support import row_counts
from tests.wages import SHANGHAI, set_wage


def test_an_admin_sets_a_wage_and_everyone_signed_in_reads_it(app, api, cast, frozen_clock):
    wage = set_wage(api, cast.admin)
    assert {k: wage[k] for k in (*SHANGHAI, "set_by_user_id")} == SHANGHAI | {
        "set_by_user_id": cast.user_ids["admin"]
    }
    for reader in (cast.client, cast.owner, cast.li, cast.rival_annotator):
        listed = api.get("/reference-wages", reader)
        assert listed.status == 200
        assert [(w["id"], w["hourly_wage"], w["source"]) for w in listed.body] == [
            (wage["id"], "24.00", "Shanghai minimum wage notice, 2025")
        ]
    assert api.get("/reference-wages").status == 401
    entries = api.get("/audit-log", cast.admin).body
    assert [(e["action"], e["details"]["hourly_wage"]) for e in entries] == [
        ("reference_wage_set", "24.00")
    ]


def test_the_same_region_and_day_replaces_the_figure_and_its_source(app, api, cast):
    first = set_wage(api, cast.admin)
    again = set_wage(api, cast.admin, hourly_wage="24.5", source="Corrected notice")
    assert again["id"] == first["id"]
    assert [(w["hourly_wage"], w["source"]) for w in api.get("/reference-wages", cast.li).body] == [
        ("24.50", "Corrected notice")
    ]
    later = set_wage(api, cast.admin, hourly_wage="26.00", effective_on="2026-07-01")
    assert later["id"] != first["id"]  # a later day is a new row: the history stays
    assert len(api.get("/reference-wages", cast.li).body) == 2


def test_an_order_is_held_to_the_highest_regional_wage_in_force_today(app, api, cast, frozen_clock):
    set_wage(api, cast.admin)  # Shanghai 24.00 from 2025-07-01
    set_wage(api, cast.admin, region="Chengdu", hourly_wage="20.00")
    set_wage(api, cast.admin, region="Chengdu", hourly_wage="26.00", effective_on="2026-03-03")
    set_wage(api, cast.admin, currency="USD", region="Federal", hourly_wage="7.25")
    with app.app_context():
        # 2026-03-02: Chengdu's raise is tomorrow's, so Shanghai's 24.00 holds.
        today = wage_in_force(db.session, "CNY")
        assert (today.region, today.amount_minor) == ("Shanghai", 2400)
        frozen_clock.step(days=1)
        tomorrow = wage_in_force(db.session, "CNY")
        assert (tomorrow.region, tomorrow.amount_minor) == ("Chengdu", 2600)
        assert wage_in_force(db.session, "JPY") is None


def test_a_wage_is_refused_without_a_source_or_a_positive_amount_and_nothing_is_written(
    app, api, cast
):
    cases = [
        ({"source": ...}, 422, "validation_failed"),
        ({"source": ""}, 422, "validation_failed"),
        ({"source": "   "}, 422, "validation_failed"),
        ({"region": " "}, 422, "validation_failed"),
        ({"hourly_wage": "-24.00"}, 422, "invalid_amount"),
        ({"hourly_wage": "0"}, 422, "invalid_amount"),
        ({"hourly_wage": "24.001"}, 422, "invalid_amount"),
        ({"hourly_wage": "1e999999"}, 422, "invalid_amount"),
        ({"hourly_wage": "twenty"}, 422, "validation_failed"),
        ({"currency": "XXX"}, 422, "validation_failed"),
        ({"effective_on": "2025-02-30"}, 422, "validation_failed"),
    ]
    for changes, status, code in cases:
        body = {k: v for k, v in (SHANGHAI | changes).items() if v is not ...}
        refused(app, api, "POST", "/reference-wages", cast.admin, status, code, json=body)
    for who in ("client", "owner", "li"):
        refused(
            app, api, "POST", "/reference-wages", cast.tokens[who], 403, "forbidden", json=SHANGHAI
        )
    assert row_counts(app)["reference_wages"] == 0
