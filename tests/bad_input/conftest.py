"""The worlds the bad-input tables run on: the story, the story invoiced, the rules world
(lotteries, standing rules, trials), the chain world (bids, offers, subcontracts, cost
floors) and the work world (the annotators' side)."""

from typing import Any

import pytest

from tests.bad_input.cases import (
    CAPS,
    ERROR_TYPES,
    chain_view,
    rules_view,
    story_view,
    work_view,
)
from tests.flows import BOXES, claim, post_order, review, set_rate, submit
from tests.subcontract.chain_kit import seed_teams
from tests.support import Response

# -- the story ----------------------------------------------------------------------------


@pytest.fixture
def story(api, cast, frozen_clock) -> dict[str, int]:
    """Horizon's order of 10 boxes in batches of 5, and a draft of 1. Lotus claims the
    first batch at 0.06 a box; Li takes 4 of its tasks and submits 3: one accepted, two
    waiting for review. The second batch stays released, one task open, one in Li's hands.
    The clock stands at 2026-03-02 10:00 UTC."""
    order = post_order(api, cast.client, items=10, batch_size=5)
    draft = post_order(api, cast.client, items=1, batch_size=1, publish=False)
    claim(api, cast.owner, order, batches=1)
    set_rate(api, cast.owner, order, "0.06")
    tasks = [task["id"] for task in api.post("/tasks/next", cast.li, {"count": 4}).body]
    submissions = []
    for task in tasks[:3]:
        answer = api.post(f"/tasks/{task}/submit", cast.li, {"result": BOXES})
        assert answer.status == 201, answer.text[:500]
        submissions.append(answer.body["id"])
    review(api, cast.reviewer, accept=submissions[:1])
    [taken, free] = [b["id"] for b in api.get(f"/orders/{order}/batches", cast.client).body]
    ids = {
        "order": order,
        "draft": draft,
        "taken_batch": taken,
        "free_batch": free,
        "accepted_task": tasks[0],
        "waiting_task": tasks[1],
        "waiting_task_2": tasks[2],
        "held_task": tasks[3],
        "open_task": tasks[3] + 1,  # the batch's fifth task: one INSERT opened all five
        "accepted": submissions[0],
        "waiting": submissions[1],
        "waiting_2": submissions[2],
        **{party: cast.party_ids[party] for party in ("lotus", "tiger", "acme")},
    }
    assert story_view(api, cast, ids) == {
        "draft": ("draft", False, "0.1"),
        "order": ("published", True, "0.1"),
        "batches": [(taken, "claimed", ids["lotus"]), (free, "released", None)],
        "contracts": [(ids["lotus"], "0.1", 5)],
        "li's tasks in hand": [ids["held_task"]],
        "li's submitted tasks": [ids["waiting_task"], ids["waiting_task_2"]],
        "wang's tasks in hand": [],
        "submitted": [ids["waiting"], ids["waiting_2"]],
        "accepted": [(ids["accepted"], "0.06")],
        "rejected": [],
        "invoices": [],
        "payout runs": [],
    }
    return ids


@pytest.fixture
def invoiced(api, cast, story) -> dict[str, int]:
    """The story, with its one accepted box invoiced: 0.10 + a 0.01 fee, open."""
    answer = api.post(f"/orders/{story['order']}/invoices", cast.admin)
    assert (answer.status, answer.body["total"], answer.body["status"]) == (201, "0.11", "open")
    parties = cast.party_ids
    return {
        **story,
        "invoice": answer.body["id"],
        "horizon": parties["horizon"],
        "acme": parties["acme"],
        "lotus": parties["lotus"],
    }


@pytest.fixture
def paid(api, cast, invoiced) -> dict[str, int]:
    """The invoiced story, its invoice paid by a bank transfer of 0.11 (`payment`, ICBC-1)
    and 0.05 of it refunded (`refund`, RF-1): 0.06 is left of the payment, and the invoice
    is open again for 0.05. A manual payout run with a minimum of 1.00 paid nobody
    (`payout_run`), so what was settled stays available."""
    invoice = invoiced["invoice"]
    transfer = {"amount": "0.11", "reference": "ICBC-1", "received_on": "2026-03-02"}
    payment = made(api.post(f"/invoices/{invoice}/payments", cast.admin, transfer))
    refund = {"kind": "refund", "amount": "0.05", "reference": "RF-1", "reason": "Twice."}
    reversal = made(api.post(f"/payments/{payment['id']}/reversals", cast.admin, refund))
    run = made(api.post("/payout-runs", cast.admin, {"currency": "CNY", "minimum": "1.00"}))
    now = api.get(f"/invoices/{invoice}", cast.admin).body
    assert (now["status"], now["paid"], now["outstanding"]) == ("open", "0.06", "0.05"), now
    assert (run["payouts"], reversal["amount"]) == ([], "0.05"), (run, reversal)
    return {
        **invoiced,
        "payment": payment["id"],
        "refund": reversal["id"],
        "payout_run": run["id"],
    }


# -- the rules world: lotteries, standing rules, trials -----------------------------------

DAILY = {"cron": "0 3 * * *", "timezone": "UTC", "batches_per_drop": 1}
ENDED = DAILY | {"starts_at": "2026-01-01T00:00:00Z", "ends_at": "2026-02-01T00:00:00Z"}


@pytest.fixture
def rules_world(api, cast, story) -> dict[str, int]:
    """The story, and Horizon's orders with rules. `lottery`: 4 boxes dropped one a day at
    03:00 UTC by lottery, at most 2 per team per drop; Tiger asked for 1 of the next drop.
    `ended`: a lottery whose window closed in February, so no drop is coming. `trial_order`
    (first come): 3 trial boxes to pass with 80, then a regular batch of 2; Tiger finished
    its trial and scored 90, Lotus holds its trial unfinished, the third trial is free.
    `lottery_trial`: a lottery with one trial, which Tiger finished and nobody has scored.
    Tiger has a standing rule: one batch of every drop."""
    ids = dict(story)
    limits = {"batches_per_drop": 2}
    ids["lottery"] = post_order(
        api,
        cast.client,
        items=4,
        batch_size=1,
        release_plan=DAILY,
        claim_mode="lottery",
        limits=limits,
    )
    ids["ended"] = post_order(
        api, cast.client, items=2, batch_size=1, release_plan=ENDED, claim_mode="lottery"
    )
    trial = {"batches": 3, "batch_size": 1, "pass_score": 80}
    ids["trial_order"] = post_order(api, cast.client, items=5, batch_size=2, trial=trial)
    ids["lottery_trial"] = post_order(
        api,
        cast.client,
        items=3,
        batch_size=1,
        release_plan=DAILY,
        claim_mode="lottery",
        trial={"batches": 1, "batch_size": 1, "pass_score": 50},
    )
    batches = api.get(f"/orders/{ids['trial_order']}/batches", cast.client).body
    [scored, claimed, free] = [b["id"] for b in batches if b["kind"] == "trial"]
    [regular] = [b["id"] for b in batches if b["kind"] == "regular"]
    [done] = [
        b["id"]
        for b in api.get(f"/orders/{ids['lottery_trial']}/batches", cast.client).body
        if b["kind"] == "trial"
    ]
    for batch, owner in (
        (scored, cast.rival_owner),
        (claimed, cast.owner),
        (done, cast.rival_owner),
    ):
        assert api.post(f"/batches/{batch}/claim", owner).status == 200
    for order in (ids["trial_order"], ids["lottery_trial"]):
        set_rate(api, cast.rival_owner, order, "0.05")
    assert len(submit(api, cast.rival_annotator, 2)) == 2  # Tiger's two trial boxes
    answer = api.post(f"/batches/{scored}/trial-score", cast.client, {"score": 90})
    assert (answer.status, answer.body["passed"]) == (200, True), answer.text[:500]
    answer = api.put(f"/orders/{ids['lottery']}/interest", cast.rival_owner, {"batches": 1})
    assert answer.status == 200, answer.text[:500]
    answer = api.post("/claim-rules", cast.rival_owner, {"batches_per_drop": 1})
    assert answer.status == 201, answer.text[:500]
    ids |= {
        "trial_scored": scored,
        "trial_claimed": claimed,
        "trial_free": free,
        "trial_done": done,
        "regular_batch": regular,
        "tiger_rule": answer.body["id"],
        "horizon": cast.party_ids["horizon"],
        "platform": cast.party_ids["platform"],
    }
    assert rules_view(api, cast, ids) == {
        "lotus's interests": [],
        "tiger's interests": [(ids["lottery"], ids["tiger"], 1)],
        "lotus's rules": [],
        "tiger's rules": [(ids["tiger_rule"], 1)],
        "trials": [
            (scored, ids["tiger"], 90, True),
            (claimed, ids["lotus"], None, None),
            (done, ids["tiger"], None, None),
        ],
        "trial batches": [
            (scored, "finished", ids["tiger"]),
            (claimed, "claimed", ids["lotus"]),
            (free, "released", None),
            (done, "finished", ids["tiger"]),
        ],
    }
    return ids


# -- the chain world: bids, offers, subcontracts, cost floors -----------------------------


@pytest.fixture
def chain_world(app, api, cast, story) -> dict[str, int]:
    """The story, and Horizon's bids order (`bids`) of 20 boxes in batches of 5, whose chains
    may be 3 links deep and must pass half the top price down to every link.

    Lotus won 15 boxes at 0.09 (`awarded_bid`, `lotus_contract`), claimed two batches
    (`lotus_batch`, `offered_batch`), passed 3 boxes to Apex at 0.06 (`taken_offer`,
    `apex_contract`), and Apex passed 2 to Bridge at 0.05 (`bridge_contract`, the third and
    deepest link allowed). Lotus has out 1 box to all at 0.05 (`open_offer`) and its second
    batch to all at 0.05 (`batch_offer`); an offer of 1 box to Tiger it withdrew
    (`withdrawn_offer`). Lotus's contract has room for 1 more box, Apex's for 1.
    On the order Tiger bids 20 at 0.095 (`tiger_bid`, open: only 5 are left), Lotus again
    at 0.08 (`lotus_bid`, open), and Tiger withdrew a bid (`withdrawn_bid`). On the open
    offer Tiger bids 0.05 (`offer_bid`), 0.10 (`dear_bid`: above Lotus's price) and 0.04
    (`cheap_bid`: below half of it); on the batch offer 0.05 for its 5 boxes (`batch_bid`).
    Tiger's cost floor for boxes in CNY is 0.07 (`tiger_floor`)."""
    teams = seed_teams(app, ("apex", "bridge"))
    apex, bridge = teams["apex"], teams["bridge"]
    cast.tokens |= {"apex": apex.owner, "bridge": bridge.owner}

    def made(answer, status=201) -> dict:
        assert answer.status == status, answer.text[:500]
        return answer.body

    def bid(path, token, price, quantity) -> int:
        return made(api.post(path, token, {"unit_price": price, "quantity": quantity}))["id"]

    def offer(contract, token, **body) -> int:
        return made(api.post(f"/contracts/{contract}/offers", token, body))["id"]

    def accept(offer_id, token) -> int:
        return made(api.post(f"/offers/{offer_id}/accept", token, {}))["contract"]["id"]

    ids = dict(story) | {"apex": apex.id, "bridge": bridge.id}
    ids |= {p: cast.party_ids[p] for p in ("horizon", "platform")}
    [ids["claims_contract"]] = [c["id"] for c in api.get("/contracts", cast.owner).body]
    ids["bids"] = order = post_order(
        api, cast.client, items=20, batch_size=5, sourcing="bids", chain_caps=CAPS
    )
    on_order = f"/orders/{order}/bids"
    ids["awarded_bid"] = bid(on_order, cast.owner, "0.09", 15)
    awarded = made(api.post(f"/bids/{ids['awarded_bid']}/award", cast.client, {}), 200)
    ids["lotus_contract"] = lotus = awarded["contract_id"]
    ids["tiger_bid"] = bid(on_order, cast.rival_owner, "0.095", 20)
    ids["lotus_bid"] = bid(on_order, cast.owner, "0.08", 1)
    ids["withdrawn_bid"] = bid(on_order, cast.rival_owner, "0.095", 1)
    made(api.delete(f"/bids/{ids['withdrawn_bid']}", cast.rival_owner), 200)
    batches = [b["id"] for b in api.get(f"/orders/{order}/batches", cast.client).body]
    for batch in batches[:2]:
        made(api.post(f"/batches/{batch}/claim", cast.owner), 200)
    ids |= dict(zip(("lotus_batch", "offered_batch", "bids_batch"), batches, strict=False))
    ids["taken_offer"] = offer(lotus, cast.owner, to_team_id=apex.id, unit_price="0.06", quantity=3)
    ids["apex_contract"] = accept(ids["taken_offer"], apex.owner)
    to_bridge = offer(
        ids["apex_contract"], apex.owner, to_team_id=bridge.id, unit_price="0.05", quantity=2
    )
    ids["bridge_contract"] = accept(to_bridge, bridge.owner)
    ids["open_offer"] = offer(lotus, cast.owner, unit_price="0.05", quantity=1)
    ids["batch_offer"] = offer(lotus, cast.owner, unit_price="0.05", batch_ids=[batches[1]])
    ids["withdrawn_offer"] = offer(
        lotus, cast.owner, to_team_id=ids["tiger"], unit_price="0.05", quantity=1
    )
    made(api.delete(f"/offers/{ids['withdrawn_offer']}", cast.owner), 200)
    on_offer = f"/offers/{ids['open_offer']}/bids"
    ids["offer_bid"] = bid(on_offer, cast.rival_owner, "0.05", 1)
    ids["dear_bid"] = bid(on_offer, cast.rival_owner, "0.1", 1)
    ids["cheap_bid"] = bid(on_offer, cast.rival_owner, "0.04", 1)
    ids["batch_bid"] = bid(f"/offers/{ids['batch_offer']}/bids", cast.rival_owner, "0.05", 5)
    floor = {"task_type": "bbox_2d", "currency": "CNY", "unit_price": "0.07"}
    ids["tiger_floor"] = made(api.put("/cost-floors", cast.rival_owner, floor), 200)["id"]

    lotus_id, tiger = ids["lotus"], ids["tiger"]
    assert chain_view(api, cast, ids) == {
        "tenders": [order],
        "bids on the order": [
            (ids["awarded_bid"], lotus_id, "awarded", 15, lotus),
            (ids["tiger_bid"], tiger, "open", None, None),
            (ids["lotus_bid"], lotus_id, "open", None, None),
            (ids["withdrawn_bid"], tiger, "withdrawn", None, None),
        ],
        "bids on the open offer": [
            (ids["offer_bid"], tiger, "open", None, None),
            (ids["dear_bid"], tiger, "open", None, None),
            (ids["cheap_bid"], tiger, "open", None, None),
        ],
        "bids on the batch offer": [(ids["batch_bid"], tiger, "open", None, None)],
        "offers": [
            (ids["taken_offer"], apex.id, "0.06", 3, 0, [], "taken"),
            (to_bridge, bridge.id, "0.05", 2, 0, [], "taken"),
            (ids["open_offer"], None, "0.05", 1, 1, [], "open"),
            (ids["batch_offer"], None, "0.05", 5, 5, [batches[1]], "open"),
            (ids["withdrawn_offer"], tiger, "0.05", 1, 1, [], "withdrawn"),
        ],
        "batches": [
            (batches[0], "claimed", lotus_id, lotus),
            (batches[1], "claimed", lotus_id, lotus),
            (batches[2], "released", None, None),
            (batches[3], "released", None, None),
        ],
        "chain": (
            3,
            "0.9185",  # (12 x 0.09 + 1 x 0.06 + 2 x 0.05) / (15 x 0.09)
            [
                (lotus, 1, lotus_id, 15, "0.09"),
                (ids["apex_contract"], 2, apex.id, 3, None),
                (ids["bridge_contract"], 3, bridge.id, 2, None),
            ],
        ),
        "cost floors": [(ids["tiger_floor"], tiger, "bbox_2d", "CNY", "0.07")],
    }
    return ids


# -- the annotators' side: task types, levels, results, disputes, earnings ----------------


def made(answer: Response, status: int = 201) -> Any:
    assert answer.status == status, answer.text[:500]
    return answer.body


POLYGONS = {
    "key": "polygon_2d",
    "name": "2D polygons",
    "result_schema": {
        "type": "object",
        "required": ["points"],
        "properties": {"points": {"type": "array", "minItems": 3}},
    },
    "item_schema": {"type": "object", "required": ["width", "height"]},
    "options_schema": {
        "type": "object",
        "required": ["classes"],
        "properties": {"classes": {"type": "array", "minItems": 1}},
    },
    "rules": [
        {
            "name": "at_most_100_points",
            "require": {"<=": [{"count": {"var": "result.points"}}, 100]},
        }
    ],
    "reason_codes": ["wrong_shape", "other"],
}


@pytest.fixture
def work_world(api, cast, story, frozen_clock) -> dict[str, Any]:
    """The story, and the annotators' side of it.

    Horizon added its own task type `polygon_2d`, Acme its `acme_polygon`. Lotus's ladder:
    Junior (rank 1, 4 items a day, paid 0.05 a box in CNY) and Senior (rank 2: 95 % accurate
    over 5 reviewed items); Li is a Junior, so with 3 items submitted today and one in her
    hands she has reached her quota. Tiger has a level of its own.

    Tiger rates answers for Horizon (`ratings`: 6 answers, error types off_topic and unsafe,
    a 3-day review window). On 2026-02-26 its annotator's first rating was rejected
    (`old_rejection`: the window to dispute it closed on 03-01). Today she submitted three
    more: one rejected and disputed (`dispute`, open), one rejected, disputed and dismissed
    by Tiger's owner (`dismissed`), one waiting for review (`tiger_waiting`); a fifth is in
    her hands (`tiger_held`), the sixth is open."""
    ids = dict(story)
    lotus, tiger = ids["lotus"], ids["tiger"]
    ids |= {f"{who}_id": cast.user_ids[who] for who in ("li", "wang", "owner", "reviewer")}
    ids["tiger_annotator_id"] = cast.user_ids["rival_annotator"]
    made(api.post("/task-types", cast.client, POLYGONS))
    made(api.post("/task-types", cast.rival_client, POLYGONS | {"key": "acme_polygon"}))
    level = f"/teams/{lotus}/levels"
    ids["junior"] = made(
        api.post(level, cast.owner, {"name": "Junior", "rank": 1, "daily_quota": 4})
    )["id"]
    rule = {"min_accuracy": "0.95", "over_items": 5}
    ids["senior"] = made(
        api.post(level, cast.owner, {"name": "Senior", "rank": 2, "promotion": rule})
    )["id"]
    rate = {"task_type": "bbox_2d", "currency": "CNY", "unit_price": "0.05"}
    made(api.put(f"/levels/{ids['junior']}/rates", cast.owner, rate), 200)
    made(
        api.post(
            f"/teams/{lotus}/members/{ids['li_id']}/levels", cast.owner, {"level_id": ids["junior"]}
        )
    )
    ids["tiger_level"] = made(
        api.post(f"/teams/{tiger}/levels", cast.rival_owner, {"name": "Rater", "rank": 1})
    )["id"]

    def reject(submission):
        verdict = {"decision": "reject", "reason_code": "wrong_rating"}
        made(api.post(f"/submissions/{submission}/review", cast.rival_reviewer, verdict), 200)

    def rate_answers(count):
        taken = made(api.post("/tasks/next", cast.rival_annotator, {"count": count}), 200)
        return [
            made(
                api.post(
                    f"/tasks/{t['id']}/submit", cast.rival_annotator, {"result": {"rating": 4}}
                )
            )["id"]
            for t in taken
        ], taken

    frozen_clock.stand_at("2026-02-26T10:00:00+00:00")
    ids["ratings"] = post_order(
        api,
        cast.client,
        items=6,
        batch_size=6,
        task_type="rating_1_5",
        task_options={"error_types": ERROR_TYPES},
    )
    claim(api, cast.rival_owner, ids["ratings"])
    set_rate(api, cast.rival_owner, ids["ratings"], "0.05")
    [[ids["old_rejection"]], _] = rate_answers(1)
    reject(ids["old_rejection"])
    frozen_clock.stand_at("2026-03-02T10:00:00+00:00")
    [disputed, dismissed, ids["tiger_waiting"]], _ = rate_answers(3)
    ids |= {"disputed_sub": disputed, "dismissed_sub": dismissed}
    [held] = made(api.post("/tasks/next", cast.rival_annotator, {"count": 1}), 200)
    ids["tiger_held"] = held["id"]
    ids["ratings_batch"] = held["batch_id"]
    for submission in (disputed, dismissed):
        reject(submission)
    for submission in (disputed, dismissed):
        reason = {"reason": "The answer was fine."}
        dispute = made(api.post(f"/submissions/{submission}/dispute", cast.rival_annotator, reason))
        ids["dispute" if submission == disputed else "dismissed"] = dispute["id"]
    decision = {"decision": "dismiss", "note": "Rated too high."}
    made(api.post(f"/disputes/{ids['dismissed']}/decision", cast.rival_owner, decision), 200)

    junior, senior = ids["junior"], ids["senior"]
    assert work_view(api, cast, ids) == {
        "task types": [
            ("bbox_2d", None),
            ("rating_1_5", None),
            ("audio_score_0_2", None),
            ("polygon_2d", cast.party_ids["horizon"]),
            ("acme_polygon", ids["acme"]),
        ],
        "lotus's levels": [
            (junior, "Junior", 1, 4, False, None, [("bbox_2d", "CNY", "0.05")]),
            (senior, "Senior", 2, None, False, {"min_accuracy": "0.9500", "over_items": 5}, []),
        ],
        "tiger's levels": [ids["tiger_level"]],
        "lotus's members": [
            (cast.user_ids["reviewer"], None, 0, None),
            (ids["li_id"], "Junior", 3, ("Senior", False)),
            (ids["wang_id"], None, 0, ("Junior", False)),
            (cast.user_ids["zhang"], None, 0, ("Junior", False)),
        ],
        "li's levels": [(junior, None)],
        "li's days": [("2026-03-02", 3, 1, 0, "0.06")],
        "tiger's disputes": [
            (ids["dispute"], disputed, "open"),
            (ids["dismissed"], dismissed, "dismissed"),
        ],
        "tiger's submissions": {
            "submitted": [ids["tiger_waiting"]],
            "accepted": [],
            "rejected": [ids["old_rejection"], disputed, dismissed],
        },
        "tiger's tasks in hand": [ids["tiger_held"]],
    }
    return ids
