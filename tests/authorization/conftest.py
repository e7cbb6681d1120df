"""The world every cell of the matrix runs against (see `World`), built through the API
area by area: the stranger, the ladders, the review, Horizon's story, a revoked token,
the lottery, the trials, the subcontracting and the clients' transfers."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from marketplace import clock
from marketplace.db import db, unit_of_work
from marketplace.identity import service as identity
from marketplace.orders.drops import release_due_batches
from marketplace.subcontract.models import Contract
from marketplace.workers.models import Task, TaskStatus
from tests.authorization.matrix import (
    ANONYMOUS,
    APPEAL,
    EVERY_DAY_3AM,
    POLYGON,
    RESULT,
    REVOKED,
    UNKNOWN,
    World,
    expect_status,
)
from tests.cast import PASSWORD, Cast
from tests.flows import BOXES, claim, post_order, review, set_rate
from tests.subcontract.chain_kit import seed_teams
from tests.support import ApiClient


@pytest.fixture
def world(app, api, cast, frozen_clock) -> World:
    """The world, freshly built with the clock standing still (see `World`)."""
    return build_world(app, api, cast)


def at(moment: datetime):
    """Stand the clock at `moment`; returns the source to put back."""
    return clock.set_source(lambda: moment)


def add_stranger(app) -> tuple[int, str]:
    """A user who belongs to no party: her id and her token."""
    with app.app_context(), unit_of_work() as session:
        user = identity.create_user(
            session, email="stranger@example.com", name="Stranger", password=PASSWORD
        )
        stranger_token = identity.issue_token(session, user, token="token-stranger")
        stranger = user.id
    return stranger, stranger_token


def build_story(api: ApiClient, cast: Cast) -> dict[str, Any]:
    """Horizon's published order of 20 boxes in 4 batches of 5, at 0.10 CNY: Lotus claims
    the first batch and pays 0.06; Li takes 3 of its tasks and submits 2, of which the
    reviewer accepts one; that one is invoiced; a payout run finds nothing to pay. And a
    draft of Horizon's, and one of Acme's."""
    order = post_order(api, cast.client, items=20, batch_size=5)
    draft = post_order(api, cast.client, items=5, batch_size=5, publish=False)
    rival_draft = post_order(api, cast.rival_client, items=5, batch_size=5, publish=False)
    claim(api, cast.owner, order, batches=1)
    set_rate(api, cast.owner, order, "0.06")
    taken = expect_status(api.post("/tasks/next", cast.li, {"count": 3}), 200)
    assert len(taken) == 3
    accepted, waiting = (
        expect_status(
            api.post(f"/tasks/{task['id']}/submit", cast.li, {"result": BOXES}),
            201,
        )["id"]
        for task in taken[:2]
    )
    review(api, cast.reviewer, accept=[accepted])
    invoice = expect_status(api.post(f"/orders/{order}/invoices", cast.admin), 201)
    run = expect_status(api.post("/payout-runs", cast.admin, {"currency": "CNY"}), 201)
    batches = expect_status(api.get(f"/orders/{order}/batches", cast.client), 200)
    [contract] = (
        c["id"]
        for c in expect_status(api.get("/contracts", cast.owner), 200)
        if c["order_id"] == order
    )
    return {
        "order": order,
        "draft": draft,
        "rival_draft": rival_draft,
        "batches": [b["id"] for b in batches],
        "held_batch": next(b["id"] for b in batches if b["status"] == "claimed"),
        "free_batch": next(b["id"] for b in batches if b["status"] == "released"),
        "contract": contract,
        "held_task": taken[2]["id"],
        "submitted_task": taken[1]["id"],
        "accepted": accepted,
        "waiting": waiting,
        "invoice": invoice["id"],
        "invoice_total": invoice["total"],
        "payout_run": run["id"],
    }


def revoked_token(api: ApiClient) -> str:
    """Li logs in and out again: the token she got is revoked."""
    login = {"email": "li@example.com", "password": PASSWORD}
    revoked = expect_status(api.post("/auth/tokens", json=login), 201)["token"]
    expect_status(api.delete("/auth/tokens/current", revoked), 204)
    return revoked


def build_lottery(app, api: ApiClient, cast: Cast) -> dict[str, Any]:
    """Posted a day ago; yesterday's drop ran its lottery for Lotus's interest; Lotus and
    Tiger ask for the next drop, and each has a standing rule (saved after the drop)."""
    now = clock.now()
    previous = at(now - timedelta(days=1))
    try:
        lottery = post_order(
            api,
            cast.client,
            items=4,
            batch_size=2,
            release_plan=EVERY_DAY_3AM,
            claim_mode="lottery",
        )
        expect_status(api.put(f"/orders/{lottery}/interest", cast.owner, {"batches": 1}), 200)
        drops = expect_status(api.get(f"/orders/{lottery}/drops", cast.client), 200)
        at(datetime.fromisoformat(drops["upcoming"][0]["scheduled_at"]))
        with app.app_context(), unit_of_work() as session:
            [drop] = release_due_batches(session)
            drop_id = drop.id
    finally:
        clock.set_source(previous)
    [won] = [
        b
        for b in expect_status(api.get(f"/orders/{lottery}/batches", cast.client), 200)
        if b["status"] == "claimed"
    ]
    assert won["claimed_by"] == cast.party_ids["lotus"], won
    expect_status(api.put(f"/orders/{lottery}/interest", cast.owner, {"batches": 1}), 200)
    expect_status(api.put(f"/orders/{lottery}/interest", cast.rival_owner, {"batches": 2}), 200)
    lotus_rule = api.post(
        "/claim-rules", cast.owner, {"batches_per_drop": 2, "task_type": "bbox_2d"}
    )
    tiger_rule = api.post(
        "/claim-rules", cast.rival_owner, {"batches_per_drop": 1, "order_id": lottery}
    )
    return {
        "lottery": lottery,
        "lottery_drop": drop_id,
        "lottery_batch": won["id"],
        "lotus_rule": expect_status(lotus_rule, 201)["id"],
        "tiger_rule": expect_status(tiger_rule, 201)["id"],
    }


def build_trials(api: ApiClient, cast: Cast) -> dict[str, Any]:
    """Tiger finishes one trial batch, Lotus holds the other; the regular one is free."""
    order = post_order(
        api,
        cast.client,
        items=5,
        batch_size=3,
        trial={"batches": 2, "batch_size": 1, "pass_score": 80},
    )
    tiger_trial, lotus_trial, regular = (
        b["id"] for b in expect_status(api.get(f"/orders/{order}/batches", cast.client), 200)
    )
    expect_status(api.post(f"/batches/{tiger_trial}/claim", cast.rival_owner, {}), 200)
    expect_status(api.post(f"/batches/{lotus_trial}/claim", cast.owner, {}), 200)
    set_rate(api, cast.rival_owner, order, "0.05")
    [task] = expect_status(api.post("/tasks/next", cast.rival_annotator, {"count": 1}), 200)
    submission = expect_status(
        api.post(f"/tasks/{task['id']}/submit", cast.rival_annotator, RESULT), 201
    )
    return {
        "trial_order": order,
        "tiger_trial": tiger_trial,
        "lotus_trial": lotus_trial,
        "trial_regular": regular,
        "tiger_task": task["id"],
        "tiger_submission": submission["id"],
    }


def build_subcontracting(app, api: ApiClient, cast: Cast) -> dict[str, Any]:
    """Horizon's bids order of 20 boxes (2 batches, on the board): Lotus's bid for 10 at
    0.09 was awarded; Tiger's for 5 at 0.085 is open. Under that contract Lotus offered 2
    to Tiger at 0.07, who accepted (the subcontract); Lotus has 2 open to all at 0.07
    (Tiger bid 0.07 for 2, Crane 0.065 for 1), 2 offered to Tiger at 0.07, 1 to Crane at
    0.06, and withdrew 1 it had opened to all. Floors for boxes: Lotus 0.08, Tiger 0.05.
    Horizon also has a bids order in draft."""
    crane = seed_teams(app, ("crane",))["crane"]
    tiger = cast.party_ids["tiger"]
    order = post_order(api, cast.client, items=20, batch_size=10, sourcing="bids")

    def bid(path: str, token: str, price: str, quantity: int) -> int:
        body = {"unit_price": price, "quantity": quantity}
        return expect_status(api.post(path, token, body), 201)["id"]

    def offer(price: str, quantity: int, to: int | None = None) -> int:
        body = {"unit_price": price, "quantity": quantity, "to_team_id": to}
        return expect_status(api.post(f"/contracts/{contract}/offers", cast.owner, body), 201)["id"]

    lotus_bid = bid(f"/orders/{order}/bids", cast.owner, "0.09", 10)
    awarded = expect_status(api.post(f"/bids/{lotus_bid}/award", cast.client, {}), 200)
    contract = awarded["contract_id"]
    tiger_bid = bid(f"/orders/{order}/bids", cast.rival_owner, "0.085", 5)
    taken = offer("0.07", 2, tiger)
    accepted = expect_status(api.post(f"/offers/{taken}/accept", cast.rival_owner, {}), 201)
    open_offer = offer("0.07", 2)
    withdrawn = offer("0.06", 1)
    expect_status(api.delete(f"/offers/{withdrawn}", cast.owner), 200)
    floors = [
        api.put("/cost-floors", token, {"task_type": "bbox_2d", "currency": "CNY", "unit_price": p})
        for token, p in ((cast.owner, "0.08"), (cast.rival_owner, "0.05"))
    ]
    lotus_floor, tiger_floor = (expect_status(floor, 200)["id"] for floor in floors)
    return {
        "bids_order": order,
        "bids_draft": post_order(api, cast.client, items=5, sourcing="bids", publish=False),
        "bids_batches": [
            b["id"] for b in expect_status(api.get(f"/orders/{order}/batches", cast.client), 200)
        ],
        "lotus_bid": lotus_bid,
        "tiger_bid": tiger_bid,
        "bids_contract": contract,
        "taken_offer": taken,
        "subcontract": accepted["contract"]["id"],
        "open_offer": open_offer,
        "offer_bid": bid(f"/offers/{open_offer}/bids", cast.rival_owner, "0.07", 2),
        "crane_bid": bid(f"/offers/{open_offer}/bids", crane.owner, "0.065", 1),
        "direct_offer": offer("0.07", 2, tiger),
        "crane_offer": offer("0.06", 1, crane.id),
        "withdrawn_offer": withdrawn,
        "lotus_floor": lotus_floor,
        "tiger_floor": tiger_floor,
    }


def build_ladders(api: ApiClient, cast: Cast) -> dict[str, Any]:
    """Lotus: junior (0.05 a box, 600 a day), senior (95 % over 100 items) and inspector
    (reviews); Wang is moved to junior, Zhang to inspector. Tiger: one level, trainee."""

    def level(token: str, team: str, body: dict) -> int:
        path = f"/teams/{cast.party_ids[team]}/levels"
        return expect_status(api.post(path, token, body), 201)["id"]

    def move(person: str, level_id: int) -> int:
        path = f"/teams/{cast.party_ids['lotus']}/members/{cast.user_ids[person]}/levels"
        return expect_status(api.post(path, cast.owner, {"level_id": level_id}), 201)["id"]

    junior = level(cast.owner, "lotus", {"name": "junior", "rank": 0, "daily_quota": 600})
    rate = {"task_type": "bbox_2d", "currency": "CNY", "unit_price": "0.05"}
    expect_status(api.put(f"/levels/{junior}/rates", cast.owner, rate), 200)
    promotion = {"min_accuracy": "0.95", "over_items": 100}
    senior = level(cast.owner, "lotus", {"name": "senior", "rank": 1, "promotion": promotion})
    inspector = level(cast.owner, "lotus", {"name": "inspector", "rank": 2, "reviews": True})
    move("zhang", inspector)
    polygon = {**POLYGON, "key": "acme_polygon"}
    custom_type = expect_status(api.post("/task-types", cast.rival_client, polygon), 201)
    return {
        "junior": junior,
        "senior": senior,
        "inspector": inspector,
        "tiger_level": level(cast.rival_owner, "tiger", {"name": "trainee", "rank": 0}),
        "wang_change": move("wang", junior),
        "custom_type": custom_type["key"],
    }


def build_review(api: ApiClient, cast: Cast) -> dict[str, Any]:
    """Horizon's order of 2 boxes, every item sampled, 90 % to pass. Lotus claims it; Wang
    (paid by her level) does both; the reviewer rejects both, which sends the batch back
    for rework; Wang disputes the second rejection. Built before Lotus has other work, so
    Wang's tasks are these."""
    order = post_order(
        api, cast.client, items=2, batch_size=2, review={"accuracy_threshold": "0.9"}
    )
    claim(api, cast.owner, order)
    tasks = expect_status(api.post("/tasks/next", cast.wang, {"count": 2}), 200)
    assert {t["order_id"] for t in tasks} == {order} and len(tasks) == 2, tasks
    rejected, disputed = (
        expect_status(api.post(f"/tasks/{t['id']}/submit", cast.wang, RESULT), 201)["id"]
        for t in tasks
    )
    review(api, cast.reviewer, accept=[], reject=[rejected, disputed])
    [batch] = {t["batch_id"] for t in tasks}
    [rework] = expect_status(api.get(f"/batches/{batch}/reviews", cast.reviewer), 200)
    assert (rework["round"], rework["outcome"]) == (1, "rework"), rework
    dispute = expect_status(api.post(f"/submissions/{disputed}/dispute", cast.wang, APPEAL), 201)
    return {
        "review_order": order,
        "review_batch": batch,
        "rejected": rejected,
        "disputed": disputed,
        "dispute": dispute["id"],
    }


def build_collection(api: ApiClient, cast: Cast) -> dict[str, Any]:
    """Transfers that pay none of the world's invoices, so nobody's earnings move: Horizon's
    20.00 USD (it has no invoice in USD) and Acme's 5.00 CNY stay their credit; the
    platform refunds 1.00 of Acme's, and Acme asks for 1.00 more of its balance back (a
    request, which moves no money)."""

    def transfer(client: str, currency: str, amount: str, reference: str) -> int:
        body = {
            "client_id": cast.party_ids[client],
            "currency": currency,
            "amount": amount,
            "reference": reference,
            "received_on": "2026-03-02",
        }
        payment = expect_status(api.post("/payments", cast.admin, body), 201)
        assert (payment["applied"], payment["unapplied"]) == ("0.00", amount), payment
        return payment["id"]

    horizon = transfer("horizon", "USD", "20.00", "CITI-20260302-1")
    acme = transfer("acme", "CNY", "5.00", "ICBC-20260302-7")
    refund = {"kind": "refund", "amount": "1.00", "reference": "RF-ACME-1", "reason": "Sent twice."}
    refunded = expect_status(api.post(f"/payments/{acme}/reversals", cast.admin, refund), 201)
    ask = {"amount": "1.00", "currency": "CNY"}
    asked = expect_status(api.post("/balance/refunds", cast.rival_client, ask), 201)
    assert (asked["status"], asked["client_id"]) == ("requested", cast.party_ids["acme"]), asked
    return {
        "horizon_payment": horizon,
        "acme_payment": acme,
        "acme_refund": refunded["id"],
        "acme_balance_refund": asked["id"],
    }


def look_up(app) -> dict[str, Any]:
    """Lotus's first open task, and the contracts each party is upstream or downstream of."""
    with app.app_context():
        open_task = db.session.scalar(
            select(Task.id).where(Task.status == TaskStatus.OPEN).order_by(Task.id).limit(1)
        )
        contracts: dict[int, set[int]] = {}
        for contract_id, *parties in db.session.execute(
            select(Contract.id, Contract.upstream_party_id, Contract.downstream_party_id)
        ):
            for party in parties:
                contracts.setdefault(party, set()).add(contract_id)
    return {"open_task": open_task, "contracts": contracts}


def build_world(app, api: ApiClient, cast: Cast) -> World:
    stranger, stranger_token = add_stranger(app)
    ladders = build_ladders(api, cast)
    reviewed = build_review(api, cast)
    story = build_story(api, cast)
    revoked = revoked_token(api)
    lottery = build_lottery(app, api, cast)
    trials = build_trials(api, cast)
    subcontracting = build_subcontracting(app, api, cast)
    collection = build_collection(api, cast)
    return World(
        cast=cast,
        stranger=stranger,
        tokens={
            **cast.tokens,
            "stranger": stranger_token,
            ANONYMOUS: None,
            UNKNOWN: "no-such-token",
            REVOKED: revoked,
        },
        **story,
        **lottery,
        **trials,
        **subcontracting,
        **ladders,
        **reviewed,
        **collection,
        **look_up(app),
    )
