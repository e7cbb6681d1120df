"""The client's rules on claims: batches held at once, batches per drop, and trials."""

from tests.flows import post_order, release_drops, set_rate, submit
from tests.support import row_counts

EVERY_DAY_3AM = {"cron": "0 3 * * *", "timezone": "Asia/Shanghai", "batches_per_drop": 3}


def batches_of(api, cast, order_id):
    return api.get(f"/orders/{order_id}/batches", cast.client).body


def claim(api, token, batch):
    return api.post(f"/batches/{batch['id']}/claim", token)


def test_a_team_holds_no_more_unfinished_batches_than_the_client_allows(app, api, cast):
    order = post_order(api, cast.client, items=12, batch_size=3, limits={"batches_held": 2})
    first, second, third, _ = batches_of(api, cast, order)
    assert [claim(api, cast.owner, b).status for b in (first, second)] == [200, 200]

    before = row_counts(app)
    refused = claim(api, cast.owner, third)
    assert (refused.status, refused.error_code) == (409, "claim_limit_reached")
    assert refused.body["error"]["details"] == {
        "limit": "batches_held",
        "max": 2,
        "used": 2,
        "wanted": 1,
    }
    assert row_counts(app) == before
    assert claim(api, cast.rival_owner, third).status == 200  # the limit is per team

    # Submitting every item of a batch finishes it: the team holds one fewer.
    set_rate(api, cast.owner, order, "0.06")
    submit(api, cast.li, 3)
    statuses = {b["id"]: b["status"] for b in batches_of(api, cast, order)}
    assert (statuses[first["id"]], statuses[second["id"]]) == ("finished", "claimed")
    fourth = batches_of(api, cast, order)[3]
    assert claim(api, cast.owner, fourth).status == 200


def test_a_team_claims_no_more_of_one_drop_than_the_client_allows(app, api, cast, frozen_clock):
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    order = post_order(
        api,
        cast.client,
        items=12,
        batch_size=2,
        release_plan=EVERY_DAY_3AM,
        limits={"batches_per_drop": 2},
    )
    frozen_clock.stand_at("2026-03-03T03:00:00+08:00")
    release_drops(app)
    a, b, c = [x for x in batches_of(api, cast, order) if x["status"] == "released"]
    assert [claim(api, cast.owner, x).status for x in (a, b)] == [200, 200]
    refused = claim(api, cast.owner, c)
    assert (refused.status, refused.error_code) == (409, "claim_limit_reached")
    assert refused.body["error"]["details"]["limit"] == "batches_per_drop"
    assert refused.body["error"]["details"]["max"] == 2

    frozen_clock.step(days=1)  # the next drop: a fresh allowance
    release_drops(app)
    fresh = [x for x in batches_of(api, cast, order) if x["status"] == "released"]
    assert len(fresh) == 4  # c, left from yesterday, and three new ones
    assert [claim(api, cast.owner, x).status for x in fresh[1:]] == [200, 200, 409]
    assert claim(api, cast.owner, fresh[0]).status == 409  # c is of yesterday's drop: spent


def test_only_a_team_whose_trial_passed_claims_regular_batches(app, api, cast):
    order = post_order(
        api,
        cast.client,
        items=24,
        batch_size=10,
        trial={"batches": 2, "batch_size": 2, "pass_score": 80},
    )
    batches = batches_of(api, cast, order)
    assert [(b["kind"], b["item_count"], b["status"]) for b in batches] == [
        ("trial", 2, "released"),
        ("trial", 2, "released"),
        ("regular", 10, "released"),
        ("regular", 10, "released"),
    ]
    trial, rival_trial, regular, other = batches

    refused = claim(api, cast.owner, regular)
    assert (refused.status, refused.error_code) == (409, "trial_required")
    assert claim(api, cast.owner, trial).status == 200
    second = claim(api, cast.owner, rival_trial)
    assert (second.status, second.error_code) == (409, "trial_already_taken")
    assert claim(api, cast.rival_owner, rival_trial).status == 200

    early = api.post(f"/batches/{trial['id']}/trial-score", cast.client, {"score": 90})
    assert (early.status, early.error_code) == (409, "trial_not_finished")
    set_rate(api, cast.owner, order, "0.06")
    submit(api, cast.li, 2)
    refused = api.post(f"/batches/{trial['id']}/trial-score", cast.owner, {"score": 100})
    assert refused.status == 403  # a team does not score itself
    scored = api.post(
        f"/batches/{trial['id']}/trial-score", cast.client, {"score": 80, "note": "tight boxes"}
    )
    assert scored.status == 200
    assert (scored.body["score"], scored.body["passed"]) == (80, True)
    again = api.post(f"/batches/{trial['id']}/trial-score", cast.client, {"score": 10})
    assert (again.status, again.error_code) == (409, "trial_already_scored")
    assert claim(api, cast.owner, regular).status == 200

    # Tiger's trial scores 79, one short of the pass mark.
    api.post(f"/batches/{rival_trial['id']}/claim", cast.rival_owner)
    set_rate(api, cast.rival_owner, order, "0.05")
    submit(api, cast.rival_annotator, 2)
    api.post(f"/batches/{rival_trial['id']}/trial-score", cast.client, {"score": 79})
    failed = claim(api, cast.rival_owner, other)
    assert (failed.status, failed.error_code) == (409, "trial_failed")
    assert failed.body["error"]["details"] == {"score": 79, "pass_score": 80}

    seen = {
        who: [
            (t["team_id"], t["score"], t["passed"])
            for t in api.get(f"/orders/{order}/trials", getattr(cast, who)).body
        ]
        for who in ("client", "owner", "rival_owner")
    }
    lotus, tiger = cast.party_ids["lotus"], cast.party_ids["tiger"]
    assert seen == {
        "client": [(lotus, 80, True), (tiger, 79, False)],
        "owner": [(lotus, 80, True)],
        "rival_owner": [(tiger, 79, False)],
    }


def test_trial_work_is_paid_like_any_accepted_item(app, api, cast):
    order = post_order(
        api,
        cast.client,
        items=12,
        batch_size=10,
        trial={"batches": 1, "batch_size": 2, "pass_score": 50},
    )
    trial = batches_of(api, cast, order)[0]
    claim(api, cast.owner, trial)
    set_rate(api, cast.owner, order, "0.06")
    accepted = submit(api, cast.li, 2)
    answer = api.post(
        "/reviews",
        cast.reviewer,
        {"decisions": [{"submission_id": i, "decision": "accept"} for i in accepted]},
    )
    assert answer.status == 200
    invoice = api.post(f"/orders/{order}/invoices", cast.admin)
    assert invoice.status == 201, invoice.body
    assert (invoice.body["items_amount"], invoice.body["total"]) == ("0.20", "0.21")
    earnings = api.get("/me/earnings", cast.li).body
    assert earnings["holdings"][0]["pending"] == "0.12"
