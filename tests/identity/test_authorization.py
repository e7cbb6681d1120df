"""Every endpoint, called by every role: who may, who gets 403, who gets 404, who gets 401.

The product's object-level rule: a party never reads or changes another party's
orders, tasks, invoices or earnings, and an object it may not see answers 404
(its existence is not disclosed); 403 is for an object the caller can see but
whose action its role does not allow. Calls without a live token answer 401.

The matrix is a list of rows (an endpoint, sometimes on several objects: the
caller's own, another party's, one in another state) and one column per caller:
the eleven people of the cast, a user who belongs to no party, and three
callers without a live token (none, an unknown one, a revoked one). Each cell
states the status and, for errors, the error code; successful answers are also
checked for what they show (a list never holds another party's objects).

Every cell runs against the same freshly built world (built through the API).
After each call that is not a GET the database is compared, row by row, with
the fresh world: a refused call must have written nothing, and after a call that
changed anything the database is put back exactly as it was (rows and id
sequences), so no cell sees what an earlier cell did. Reads are checked to
write nothing at the end.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from marketplace import clock
from marketplace.db import Base, db, unit_of_work
from marketplace.identity import service as identity
from marketplace.identity.models import Party, Role
from marketplace.orders.drops import release_due_batches
from marketplace.subcontract.models import Contract
from marketplace.workers.models import Task, TaskStatus
from tests.cast import PASSWORD, Cast
from tests.flows import BOXES, claim, order_body, post_order, review, set_rate
from tests.subcontract.chain_kit import seed_teams
from tests.support import ApiClient, Response

pytestmark = pytest.mark.slow

# The callers: the cast, a user with no membership, and three without a live token.
PEOPLE = [
    "admin",
    "client",
    "owner",
    "reviewer",
    "li",
    "wang",
    "zhang",
    "rival_client",
    "rival_owner",
    "rival_reviewer",
    "rival_annotator",
    "stranger",
]
ANONYMOUS, UNKNOWN, REVOKED = "no_token", "unknown_token", "revoked_token"
CALLERS = [*PEOPLE, ANONYMOUS, UNKNOWN, REVOKED]
GROUPS = {
    "lotus": ("owner", "reviewer", "li", "wang", "zhang"),
    "tiger": ("rival_owner", "rival_reviewer", "rival_annotator"),
    "annotators": ("li", "wang", "zhang", "rival_annotator"),
    "owners": ("owner", "rival_owner"),
    "teams": (
        "owner",
        "reviewer",
        "li",
        "wang",
        "zhang",
        "rival_owner",
        "rival_reviewer",
        "rival_annotator",
    ),
}

Want = tuple[int, str | None]  # status, and the error code for errors
OK: Want = (200, None)
CREATED: Want = (201, None)
NO_CONTENT: Want = (204, None)
FORBIDDEN: Want = (403, "forbidden")
UNAUTHENTICATED = {
    ANONYMOUS: (401, "missing_token"),
    UNKNOWN: (401, "invalid_token"),
    REVOKED: (401, "invalid_token"),
}


def missing(what: str) -> Want:
    return (404, f"{what}_not_found")


def conflict(code: str) -> Want:
    return (409, code)


NOT_THE_ORDER = missing("order")
UNKNOWN_ORDER: Want = (422, "unknown_order")  # named in a body: the body is at fault


def table(default: Want, **cells: Want) -> dict[str, Want]:
    """What each caller should get: `default` for every person not named, a group name
    (lotus, tiger, annotators, teams) for all its members, later names overriding
    earlier ones; callers without a live token get 401."""
    want = dict.fromkeys(PEOPLE, default)
    for name, cell in cells.items():
        for person in GROUPS.get(name, (name,)):
            assert person in want, person
            want[person] = cell
    return {**want, **UNAUTHENTICATED}


# --------------------------------------------------------------------------- the world


@dataclass
class World:
    """Horizon's published order of 20 boxes in 4 batches of 5, at 0.10 CNY. Lotus holds
    the first batch and pays 0.06; Li took 3 of its tasks and submitted 2, of which the
    reviewer accepted one; that one is invoiced; a payout run found nothing to pay.
    Horizon also has a draft, and Acme (the rival client) has one.

    Horizon also has a lottery order dropping one batch a day at 03:00 Asia/Shanghai: at
    yesterday's drop Lotus, which had asked for one batch, won it (no piece rate set);
    for the next drop Lotus asks for 1 batch, Tiger for 2. And a trial order: Tiger
    claimed one trial batch and Rival Annotator submitted its only task (the trial is
    finished, not scored, the submission waits for review); Lotus claimed the other trial
    batch and has not worked it (no piece rate); the regular batch is on the board.
    Lotus and Tiger each have a standing claim rule.

    And a bids order of Horizon (see `build_subcontracting`): Lotus holds its awarded bid's
    contract and passed part of it down to Tiger; it has offers out (open to all, to
    Tiger, to Crane, a team of none of the callers), which Tiger and Crane bid on; Lotus
    and Tiger each have a cost floor.

    And the annotators' side (see `build_ladders`, `build_review`): Lotus's ladder, with
    Wang at its junior level and Zhang a quality inspector; Tiger has one level. Wang
    finished a batch of Horizon's that the reviewer sampled whole and rejected (the batch
    went back for rework), and disputes one of the two rejections. Acme has posted its
    own task type."""

    cast: Cast
    stranger: int  # the user id of the member of no party
    tokens: dict[str, str | None]  # per caller
    order: int
    draft: int
    rival_draft: int
    batches: list[int]  # the order's, in sequence
    held_batch: int  # Lotus's
    free_batch: int  # released, unclaimed
    contract: int  # Horizon -> Lotus
    held_task: int  # in Li's hands
    submitted_task: int  # Li's, submitted and waiting for review
    open_task: int  # Lotus's, in nobody's hands
    accepted: int  # Li's submission, accepted and invoiced
    waiting: int  # Li's submission, waiting for review
    invoice: int
    invoice_total: str
    payout_run: int
    lottery: int  # Horizon's lottery order
    lottery_drop: int  # its past drop, whose lottery gave Lotus a batch
    lottery_batch: int  # that batch
    trial_order: int  # Horizon's order with two trial batches
    tiger_trial: int  # finished, not scored
    lotus_trial: int  # claimed, not worked
    trial_regular: int  # the trial order's regular batch, released, unclaimed
    tiger_task: int  # Rival Annotator's trial task, submitted
    tiger_submission: int  # its submission, waiting for review
    lotus_rule: int
    tiger_rule: int
    bids_order: int  # Horizon's, published, for bids
    bids_draft: int  # Horizon's, for bids, not published
    bids_batches: list[int]  # its batches, released, on the board, unclaimed
    lotus_bid: int  # on the bids order, awarded
    tiger_bid: int  # on the bids order, open
    bids_contract: int  # Horizon -> Lotus, awarded
    taken_offer: int  # Lotus -> Tiger, accepted
    subcontract: int  # Lotus -> Tiger, under the bids contract
    open_offer: int  # Lotus's, open to all
    offer_bid: int  # Tiger's, on the open offer, open
    crane_bid: int  # Crane's, on the open offer, open
    direct_offer: int  # Lotus -> Tiger, open
    crane_offer: int  # Lotus -> Crane, open
    withdrawn_offer: int  # Lotus's, to all, withdrawn
    lotus_floor: int
    tiger_floor: int
    junior: int  # Lotus's levels: Wang's, paid 0.05 a box, 600 a day
    senior: int  # above it, for 95 % over the last 100 reviewed boxes
    inspector: int  # a level that reviews: Zhang's
    tiger_level: int  # Tiger's only level
    wang_change: int  # Wang's move to junior, her only level change
    custom_type: str  # Acme's own task type
    review_order: int  # Horizon's, whose one batch Wang finished and the reviewer rejected
    review_batch: int  # its batch: round 1 concluded, sent back for rework
    rejected: int  # Wang's rejected submission, not disputed
    disputed: int  # Wang's other rejected submission, which she disputes
    dispute: int  # hers, open
    contracts: dict[int, set[int]]  # per party, upstream or downstream of them

    def user(self, person: str) -> int:
        return self.stranger if person == "stranger" else self.cast.user_ids[person]

    def party(self, label: str) -> int:
        return self.cast.party_ids[label]


def expect_status(answer: Response, status: int) -> Any:
    assert answer.status == status, (answer.status, answer.body)
    return answer.body


EVERY_DAY_3AM = {"cron": "0 3 * * *", "timezone": "Asia/Shanghai", "batches_per_drop": 1}


def at(moment: datetime):
    """Stand the clock at `moment`; returns the source to put back."""
    return clock.set_source(lambda: moment)


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


def build_world(app, api: ApiClient, cast: Cast) -> World:
    with app.app_context(), unit_of_work() as session:
        user = identity.create_user(
            session, email="stranger@example.com", name="Stranger", password=PASSWORD
        )
        stranger_token = identity.issue_token(session, user, token="token-stranger")
        stranger = user.id
    ladders = build_ladders(api, cast)
    reviewed = build_review(api, cast)
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
    login = {"email": "li@example.com", "password": PASSWORD}
    revoked = expect_status(api.post("/auth/tokens", json=login), 201)["token"]
    expect_status(api.delete("/auth/tokens/current", revoked), 204)
    batches = expect_status(api.get(f"/orders/{order}/batches", cast.client), 200)
    [contract] = (
        c["id"]
        for c in expect_status(api.get("/contracts", cast.owner), 200)
        if c["order_id"] == order
    )
    lottery = build_lottery(app, api, cast)
    trials = build_trials(api, cast)
    subcontracting = build_subcontracting(app, api, cast)
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
        order=order,
        draft=draft,
        rival_draft=rival_draft,
        batches=[b["id"] for b in batches],
        held_batch=next(b["id"] for b in batches if b["status"] == "claimed"),
        free_batch=next(b["id"] for b in batches if b["status"] == "released"),
        contract=contract,
        held_task=taken[2]["id"],
        submitted_task=taken[1]["id"],
        open_task=open_task,
        accepted=accepted,
        waiting=waiting,
        invoice=invoice["id"],
        invoice_total=invoice["total"],
        payout_run=run["id"],
        **lottery,
        **trials,
        **subcontracting,
        **ladders,
        **reviewed,
        contracts=contracts,
    )


def snapshot(app) -> dict[str, list[tuple]]:
    """Every row of every table."""
    with app.app_context(), db.engine.connect() as connection:
        return {
            t.name: [tuple(row) for row in connection.execute(select(t).order_by(*t.primary_key))]
            for t in Base.metadata.sorted_tables
        }


def sequences(app) -> dict[str, tuple]:
    """Where PostgreSQL's id sequences stand (SQLite takes the next id from the rows)."""
    with app.app_context(), db.engine.connect() as connection:
        if connection.dialect.name != "postgresql":
            return {}
        names = connection.scalars(
            text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")
        ).all()
        return {
            name: tuple(
                connection.execute(text(f'SELECT last_value, is_called FROM "{name}"')).one()
            )
            for name in names
        }


def restore(app, rows: dict[str, list[tuple]], positions: dict[str, tuple]) -> None:
    """Put the database back exactly as `snapshot` and `sequences` saw it."""
    tables = Base.metadata.sorted_tables
    with app.app_context(), db.engine.begin() as connection:
        for table_ in reversed(tables):
            connection.execute(table_.delete())
        for table_ in tables:
            if rows[table_.name]:
                keys = table_.columns.keys()
                connection.execute(
                    table_.insert(),
                    [dict(zip(keys, row, strict=True)) for row in rows[table_.name]],
                )
        for name, (value, called) in positions.items():
            connection.execute(
                text("SELECT setval(:name, :value, :called)"),
                {"name": f'"{name}"', "value": value, "called": called},
            )


# --------------------------------------------------------------------------- the rows

Check = Callable[["Matrix", str, Response], str | None]


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # formatted with the World's fields, e.g. "/orders/{order}"
    want: dict[str, Want]
    body: Callable[[World, str], Any] | dict | None = None
    check: Check | None = None  # more about a successful answer; returns what is wrong
    label: str = ""  # tells apart rows of one endpoint on the same object
    prepare: Callable[[ApiClient, World], None] | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}{f' ({self.label})' if self.label else ''}"

    @property
    def route(self) -> str:
        return re.sub(r"\{[^}]*\}", "{}", self.path.partition("?")[0])

    def json(self, world: World, caller: str) -> Any:
        return self.body(world, caller) if callable(self.body) else self.body


def ids_are(expected: Callable[[World, str], set[int]]) -> Check:
    def check(matrix: "Matrix", caller: str, answer: Response) -> str | None:
        got = {row["id"] for row in answer.body}
        want = expected(matrix.world, caller)
        return None if got == want else f"ids {sorted(got)}, expected {sorted(want)}"

    return check


def id_is(attribute: str) -> Check:
    def check(matrix: "Matrix", caller: str, answer: Response) -> str | None:
        want = getattr(matrix.world, attribute)
        return None if answer.body["id"] == want else f"id {answer.body['id']}, expected {want}"

    return check


def field_is(name: str, expected: Callable[[World, str], Any]) -> Check:
    def check(matrix: "Matrix", caller: str, answer: Response) -> str | None:
        want = expected(matrix.world, caller)
        got = answer.body.get(name)
        return None if got == want else f"{name} {got!r}, expected {want!r}"

    return check


def own_party(world: World, caller: str) -> int:
    return world.party({"client": "horizon", "rival_client": "acme"}[caller])


def orders_seen(world: World, caller: str) -> set[int]:
    horizons = {world.order, world.draft, world.lottery, world.trial_order}
    horizons |= {world.bids_order, world.bids_draft, world.review_order}
    if caller == "admin":
        return {*horizons, world.rival_draft}
    if caller == "client":
        return horizons
    # Batches held, or a standing: Lotus holds the bids order's award, Tiger a subcontract.
    if caller in GROUPS["lotus"]:
        return {world.order, world.lottery, world.trial_order, world.bids_order, world.review_order}
    if caller in GROUPS["tiger"]:
        return {world.trial_order, world.bids_order}
    return {world.rival_draft} if caller == "rival_client" else set()


PARTY_OF = {"client": "horizon", "rival_client": "acme", "owner": "lotus", "rival_owner": "tiger"}


def contracts_seen(world: World, caller: str) -> set[int]:
    """Admins see all; a client (admin) or team owner those its party is upstream or
    downstream of: Horizon not the subcontract Lotus made with Tiger."""
    if caller == "admin":
        return set().union(*world.contracts.values())
    party = PARTY_OF.get(caller)
    return world.contracts.get(world.party(party), set()) if party else set()


def own_team(world: World, caller: str) -> int:
    return world.party("tiger" if caller in GROUPS["tiger"] else "lotus")


def interests_are(matrix: "Matrix", caller: str, answer: Response) -> str | None:
    """Each team sees its own interest in the lottery's next drop (not yesterday's)."""
    w = matrix.world
    asked = {"lotus": 1, "tiger": 2}
    expected = {
        (w.lottery, w.party(team), asked[team])
        for team in ("lotus", "tiger")
        if caller in GROUPS[team]
    }
    got = {(i["order_id"], i["team_id"], i["batches"]) for i in answer.body}
    return None if got == expected else f"interests {sorted(got)}, expected {sorted(expected)}"


def interest_withdrawn(matrix: "Matrix", caller: str, answer: Response) -> str | None:
    """The caller's team no longer asks; the other team still does."""
    w = matrix.world
    left = {
        (i["order_id"], i["team_id"])
        for owner in ("owner", "rival_owner")
        for i in matrix.api.get("/interests", w.tokens[owner]).body
    }
    gone = (w.lottery, own_team(w, caller))
    other = (w.lottery, w.party("lotus" if caller == "rival_owner" else "tiger"))
    return None if gone not in left and other in left else f"interests left: {sorted(left)}"


def trials_of(world: World, caller: str) -> set[tuple[int, int, Any]]:
    """The client and admins see both trials; a team its own; none is scored yet."""
    trials = {
        "lotus": (world.party("lotus"), world.lotus_trial, None),
        "tiger": (world.party("tiger"), world.tiger_trial, None),
    }
    if caller in ("admin", "client"):
        return set(trials.values())
    return {trials[team] for team in ("lotus", "tiger") if caller in GROUPS[team]}


def trials_are(matrix: "Matrix", caller: str, answer: Response) -> str | None:
    got = {(t["team_id"], t["batch_id"], t["score"]) for t in answer.body}
    want = trials_of(matrix.world, caller)
    return None if got == want else f"trials {sorted(got)}, expected {sorted(want)}"


def allotment_is(matrix: "Matrix", caller: str, answer: Response) -> str | None:
    """Yesterday's drop: a published seed, and Lotus's line (asked 1, got the batch)."""
    w, body = matrix.world, answer.body
    lines = [
        (line["team_id"], line["source"], line["wanted"], line["allowed"], line["batch_ids"])
        for line in body["lines"]
    ]
    want = [(w.party("lotus"), "interest", 1, 1, [w.lottery_batch])]
    if (body["drop_id"], body["order_id"], lines) != (w.lottery_drop, w.lottery, want):
        return f"allotment {body}"
    return None if body["seed"] and body["algorithm"] else f"no published seed: {body}"


def trial_scored(matrix: "Matrix", caller: str, answer: Response) -> str | None:
    got = (answer.body["team_id"], answer.body["batch_id"], answer.body["score"])
    want = (matrix.world.party("tiger"), matrix.world.tiger_trial, 90)
    passed = answer.body["passed"]
    return None if got == want and passed is True else f"scored {answer.body}"


def only(*callers: str, of: Callable[[World], set[int]]) -> Callable[[World, str], set[int]]:
    """`of(world)` for the named callers (or group names), nothing for everybody else."""
    named = {person for name in callers for person in GROUPS.get(name, (name,))}
    return lambda world, caller: of(world) if caller in named else set()


def earnings_are(matrix: "Matrix", caller: str, answer: Response) -> str | None:
    """Each sees only its own holdings: Li her 0.06, Lotus (its owner) its margin of 0.04,
    the platform its fee of 0.01; nobody else has earned anything. Wang (all rejected) and
    Tiger's annotator (waiting for review) worked today, so they see a holding of nothing."""
    w = matrix.world
    nothing = ("CNY", "0.00", "0.00", "0.00")
    expected = {
        "admin": {("platform", w.party("platform"), "CNY", "0.01", "0.00", "0.00")},
        "owner": {("team", w.party("lotus"), "CNY", "0.04", "0.00", "0.00")},
        "li": {("annotator", w.party("lotus"), "CNY", "0.06", "0.00", "0.00")},
        "wang": {("annotator", w.party("lotus"), *nothing)},
        "rival_annotator": {("annotator", w.party("tiger"), *nothing)},
    }.get(caller, set())
    got = {
        (h["holder"], h["party_id"], h["currency"], h["pending"], h["available"], h["paid"])
        for h in answer.body["holdings"]
    }
    return None if got == expected else f"holdings {sorted(got)}, expected {sorted(expected)}"


def bank_file_is_csv(matrix: "Matrix", caller: str, answer: Response) -> str | None:
    header = "payout_id,payee,bank_account,currency,amount,reference"
    return None if answer.text.splitlines() == [header] else f"bank file {answer.text!r}"


def tasks_of_own_team(matrix: "Matrix", caller: str, answer: Response) -> str | None:
    """Lotus's annotators get one task of Horizon's order; Tiger's holds no work, gets none."""
    orders = [task["order_id"] for task in answer.body]
    want = [] if caller == "rival_annotator" else [matrix.world.order]
    return None if orders == want else f"tasks of orders {orders}, expected {want}"


def credentials(world: World, caller: str, password: str = PASSWORD) -> dict:
    """The caller's own e-mail; callers without a person log in as Li."""
    person = caller if caller in PEOPLE else "li"
    return {"email": f"{person}@example.com", "password": password}


def logged_in(matrix: "Matrix", caller: str, answer: Response) -> str | None:
    person = caller if caller in PEOPLE else "li"
    me = matrix.api.get("/me", answer.body["token"])
    want = matrix.world.user(person)
    if (me.status, answer.body["user"]["id"], (me.body or {}).get("id")) != (200, want, want):
        return f"the new token is {me.status} for user {(me.body or {}).get('id')}, not {want}"
    return None


def logged_out(matrix: "Matrix", caller: str, answer: Response) -> str | None:
    """That token is dead; everybody else's still works."""
    gone = matrix.api.get("/me", matrix.world.tokens[caller])
    other = matrix.api.get("/me", matrix.world.tokens["client" if caller == "admin" else "admin"])
    if (gone.status, gone.error_code, other.status) != (401, "invalid_token", 200):
        return f"after logout: own token {gone.status}, another's {other.status}"
    return None


def accept_the_waiting_submission(api: ApiClient, world: World) -> None:
    review(api, world.cast.reviewer, accept=[world.waiting])


def per_caller(**sets: Callable[[World], set[int]]) -> Callable[[World, str], set[int]]:
    """`sets[caller](world)` for the callers named, nothing for everybody else."""
    return lambda world, caller: sets[caller](world) if caller in sets else set()


def offers_of(*names: str) -> Callable[[World], set[int]]:
    return lambda world: {getattr(world, f"{name}_offer") for name in names}


def lotus_offers(world: World) -> set[int]:
    return offers_of("taken", "open", "direct", "crane", "withdrawn")(world)


def chain_is(links: Callable[[World], set[int]]) -> Check:
    """The chain's links, priced only where the caller's party is upstream or downstream
    (every link, for admins); the pass-through share only for the client and admins."""

    def check(matrix: "Matrix", caller: str, answer: Response) -> str | None:
        w, body = matrix.world, answer.body
        mine = w.party(PARTY_OF[caller]) if caller in PARTY_OF else None
        got = {link["id"]: link["unit_price"] is not None for link in body["links"]}
        want = {
            link["id"]: caller == "admin" or mine in (link["upstream_id"], link["downstream_id"])
            for link in body["links"]
        }
        if set(got) != links(w) or got != want:
            return f"links {body['links']}, expected {sorted(links(w))}, priced {want}"
        shown = body["pass_through"] is not None
        return None if shown == (caller in ("admin", "client")) else f"pass_through {body}"

    return check


def margins_are(links: Callable[[World, str], tuple[int, set[int], str]]) -> Check:
    """The report's team, its links, and its total margin."""

    def check(matrix: "Matrix", caller: str, answer: Response) -> str | None:
        body = answer.body
        got = (body["team_id"], {link["contract_id"] for link in body["links"]})
        got = (*got, body["totals"]["margin"])
        want = links(matrix.world, caller)
        return None if got == want else f"report {got}, expected {want}"

    return check


def own_links(world: World, caller: str) -> tuple[int, set[int], str]:
    """On the bids order nothing is accepted yet: Lotus's link and Tiger's keep nothing."""
    if caller == "rival_owner":
        return world.party("tiger"), {world.subcontract}, "0.00"
    return world.party("lotus"), {world.bids_contract}, "0.00"


def margin_csv(matrix: "Matrix", caller: str, answer: Response) -> str | None:
    header, *rows = answer.text.splitlines()
    ok = header.startswith("order_id,contract_id,") and len(rows) == 2  # a link, the totals
    return None if ok else f"margin csv {answer.text!r}"


def status_is(status: str) -> Check:
    return field_is("status", lambda w, c: status)


def accepted_into_subcontract(matrix: "Matrix", caller: str, answer: Response) -> str | None:
    """Tiger takes the offer at the subcontract's price: the subcontract grows by it."""
    contract, offer = answer.body["contract"], answer.body["offer"]
    got = (contract["id"], contract["quantity"], offer["status"])
    want = (matrix.world.subcontract, 4, "taken")
    return None if got == want else f"accepted {got}, expected {want}"


# The annotators' side: a team's ladder is read by its members and run by its owner; a
# team its caller is not in answers 404.
LOTUS = "{cast.party_ids[lotus]}"
TIGER = "{cast.party_ids[tiger]}"
NOT_THE_TEAM = missing("team")
# A batch is seen by every team, the order's client and admins: only these do not see it.
BATCH_UNSEEN = dict(rival_client=missing("batch"), stranger=missing("batch"))
TODAY = "2026-03-02"  # the frozen clock's day in Shanghai, where every team works


def ladder_is(matrix: "Matrix", caller: str, answer: Response) -> str | None:
    """Lotus's levels, lowest first, with junior's rate card and senior's promotion rule."""
    w = matrix.world
    got = [
        (level["id"], level["name"], level["daily_quota"], level["reviews"], level["promotion"])
        for level in answer.body
    ]
    want = [
        (w.junior, "junior", 600, False, None),
        (w.senior, "senior", None, False, {"min_accuracy": "0.9500", "over_items": 100}),
        (w.inspector, "inspector", None, True, None),
    ]
    rates = [(r["task_type"], r["currency"], r["unit_price"]) for r in answer.body[0]["rates"]]
    ok = got == want and rates == [("bbox_2d", "CNY", "0.05")]
    return None if ok else f"levels {answer.body}"


def members_are(matrix: "Matrix", caller: str, answer: Response) -> str | None:
    """Lotus's annotators: their level, boxes submitted today, and the next level up."""
    w = matrix.world
    got = {
        (
            m["user_id"],
            (m["level"] or {}).get("name"),
            m["submitted_today"],
            (m["next"] or {}).get("level", {}).get("name"),
            (m["next"] or {}).get("eligible"),
        )
        for m in answer.body
    }
    want = {
        (w.user("li"), None, 2, "junior", False),
        (w.user("wang"), "junior", 2, "senior", False),
        (w.user("zhang"), "inspector", 0, None, None),
    }
    return None if got == want else f"members {sorted(got)}, expected {sorted(want)}"


def work_of(caller: str) -> tuple[str, list[tuple]]:
    """Each annotator's team and her work today: (submitted, accepted, rejected, earned)."""
    return {
        "li": ("lotus", [(TODAY, "CNY", 2, 1, 0, "0.06")]),
        "wang": ("lotus", [(TODAY, "CNY", 2, 0, 2, "0")]),
        "zhang": ("lotus", []),
        "rival_annotator": ("tiger", [(TODAY, "CNY", 1, 0, 0, "0")]),
    }[caller]


def days_are(matrix: "Matrix", caller: str, answer: Response) -> str | None:
    team, want = work_of(caller)
    body = answer.body
    got = [
        (d["day"], d["currency"], d["submitted"], d["accepted"], d["rejected"], d["earned"])
        for d in body["days"]
    ]
    period = (body["team_id"], body["from"], body["to"])
    if period != (matrix.world.party(team), "2026-03-01", TODAY) or got != want:
        return f"days {body}"
    return None


def statement_is(matrix: "Matrix", caller: str, answer: Response) -> str | None:
    """The same work, and what was invoiced: Li's accepted box accrued 0.06, pending."""
    team, work = work_of(caller)
    accrued = {"li": "0.06"}.get(caller, "0.00")
    want_rows = [(*day, accrued, "0.00", "0.00") for day in work]
    body = answer.body
    got_rows = [
        (
            r["day"],
            r["currency"],
            r["submitted"],
            r["accepted"],
            r["rejected"],
            r["earned"],
            r["accrued"],
            r["settled"],
            r["paid_out"],
        )
        for r in body["rows"]
    ]
    balances = [(b["currency"], b["pending"], b["available"], b["paid"]) for b in body["balances"]]
    want_balances = [("CNY", "0.06", "0.00", "0.00")] if caller == "li" else []
    ok = (body["team_id"], got_rows, balances) == (
        matrix.world.party(team),
        want_rows,
        want_balances,
    )
    return None if ok else f"statement {body}"


def statement_csv_is(matrix: "Matrix", caller: str, answer: Response) -> str | None:
    """A header and a line per day worked (zh_CN: a decimal point, commas between)."""
    header, *lines = answer.text.splitlines()
    _, work = work_of(caller)
    ok = header == "day,currency,submitted,accepted,rejected,earned,accrued,settled,paid_out"
    return None if ok and len(lines) == len(work) else f"csv {answer.text!r}"


def team_earnings_are(matrix: "Matrix", caller: str, answer: Response) -> str | None:
    """Per member and currency: today's work and her money (Zhang has none of either)."""
    w = matrix.world
    got = {
        (
            m["user_id"],
            m["currency"],
            m["today"]["submitted"],
            m["today"]["accepted"],
            m["today"]["rejected"],
            m["pending"],
        )
        for m in answer.body
    }
    want = {(w.user("li"), "CNY", 2, 1, 0, "0.06"), (w.user("wang"), "CNY", 2, 0, 2, "0.00")}
    return None if got == want else f"members' earnings {sorted(got)}, expected {sorted(want)}"


def batch_review_is(rounds: Callable[[World], list[tuple]]) -> Check:
    def check(matrix: "Matrix", caller: str, answer: Response) -> str | None:
        got = [
            (r["batch_id"], r["round"], r["sample_size"], r["accepted"], r["outcome"])
            for r in answer.body
        ]
        want = rounds(matrix.world)
        return None if got == want else f"batch reviews {got}, expected {want}"

    return check


def dispute_upheld(matrix: "Matrix", caller: str, answer: Response) -> str | None:
    """Upheld by the caller: Wang's box is accepted at her level's rate, 0.05."""
    w, body = matrix.world, answer.body
    if (body["status"], body["decided_by"]) != ("upheld", w.user(caller)):
        return f"dispute {body}"
    accepted = matrix.api.get("/submissions?status=accepted", w.tokens["owner"]).body
    rates = {s["id"]: s["rate"] for s in accepted}
    return None if rates.get(w.disputed) == "0.05" else f"accepted after the dispute: {rates}"


def dispute_opened(matrix: "Matrix", caller: str, answer: Response) -> str | None:
    body, w = answer.body, matrix.world
    got = (body["submission_id"], body["status"], body["reviewer_id"], body["reason_code"])
    want = (w.rejected, "open", w.user("reviewer"), "box_off_target")
    return None if got == want else f"dispute {got}, expected {want}"


BID: dict = {"unit_price": "0.07", "quantity": 1}
FLOOR: dict = {"task_type": "rating", "currency": "CNY", "unit_price": "0.30"}
TEAM_REQUIRED: Want = (422, "team_required")
POLYGON: dict = {
    "key": "polygon_2d",
    "name": "Polygons",
    "result_schema": {"type": "object", "required": ["points"]},
    "reason_codes": ["off_edge", "other"],
}
SKIP: dict = {"reason": "The image will not load."}
APPEAL: dict = {"reason": "The box is on the wheel."}
# Who reviews a team's work: its owner, reviewers and quality inspectors (Zhang, at a level
# that reviews). Every other team member sees her own submissions.
REVIEWS_LOTUS = ("owner", "reviewer", "zhang")
REVIEWS_TIGER = ("rival_owner", "rival_reviewer")
RESULT = {"result": BOXES}

READS = [
    Row("GET", "/me", table(OK), check=field_is("id", lambda w, c: w.user(c))),
    Row("GET", "/orders", table(OK), check=ids_are(orders_seen)),
    Row(
        "GET",
        "/orders/{order}",
        table(missing("order"), admin=OK, client=OK, lotus=OK),
        check=id_is("order"),
    ),
    Row(
        "GET", "/orders/{draft}", table(missing("order"), admin=OK, client=OK), check=id_is("draft")
    ),
    Row(
        "GET",
        "/orders/{bids_order}",
        table(missing("order"), admin=OK, client=OK, lotus=OK, tiger=OK),
        # Its price is the client's budget: teams with a contract read the order without it.
        check=field_is("unit_price", lambda w, c: "0.1" if c in ("admin", "client") else None),
    ),
    Row(
        "GET",
        "/orders/{rival_draft}",
        table(missing("order"), admin=OK, rival_client=OK),
        check=id_is("rival_draft"),
    ),
    Row(
        "GET",
        "/orders/{order}/batches",
        table(missing("order"), admin=OK, client=OK, lotus=FORBIDDEN),
        check=ids_are(lambda w, c: set(w.batches)),
    ),
    Row(
        "GET",
        "/orders/{rival_draft}/batches",
        table(missing("order"), admin=OK, rival_client=OK),
        check=ids_are(lambda w, c: set()),
    ),
    Row("GET", "/orders/{order}/drops", table(missing("order"), admin=OK, client=OK, lotus=OK)),
    Row("GET", "/orders/{rival_draft}/drops", table(missing("order"), admin=OK, rival_client=OK)),
    Row("GET", "/drops/upcoming", table(FORBIDDEN, admin=OK, teams=OK)),
    # Lotteries, claim rules and trials: a published order is open to every team (and to
    # its client and admins); a draft only to its client.
    Row(
        "GET",
        "/drops/{lottery_drop}/allotment",
        table(missing("drop"), admin=OK, client=OK, teams=OK),
        check=allotment_is,
    ),
    Row("GET", "/interests", table(FORBIDDEN, teams=OK), check=interests_are),
    Row(
        "GET",
        "/claim-rules",
        table(FORBIDDEN, owner=OK, rival_owner=OK),
        check=ids_are(
            lambda w, c: {"owner": {w.lotus_rule}, "rival_owner": {w.tiger_rule}}.get(c, set())
        ),
    ),
    Row(
        "GET",
        "/orders/{trial_order}/trials",
        table(missing("order"), admin=OK, client=OK, teams=OK),
        check=trials_are,
    ),
    Row(
        "GET",
        "/orders/{order}/trials",
        table(missing("order"), admin=OK, client=OK, teams=OK),
        check=lambda m, c, a: None if a.body == [] else f"trials {a.body}",
    ),
    Row(
        "GET",
        "/orders/{rival_draft}/trials",
        table(missing("order"), rival_client=OK, admin=OK),
        check=lambda m, c, a: None if a.body == [] else f"trials {a.body}",
    ),
    Row(
        "GET",
        "/batches",
        table(FORBIDDEN, admin=OK, teams=OK),
        check=ids_are(
            lambda w, c: set(w.batches) - {w.held_batch} | {w.trial_regular, *w.bids_batches}
        ),
    ),
    Row("GET", "/contracts", table(OK), check=ids_are(contracts_seen)),
    Row(
        "GET",
        "/contracts/{contract}",
        table(missing("contract"), admin=OK, client=OK, owner=OK),
        check=id_is("contract"),
    ),
    Row(
        "GET",
        "/contracts/{bids_contract}",
        table(missing("contract"), admin=OK, client=OK, owner=OK),
        check=field_is("cost_floor", lambda w, c: {"owner": "0.08"}.get(c)),
    ),
    Row(
        "GET",
        "/contracts/{subcontract}",
        table(missing("contract"), admin=OK, owners=OK),
        check=field_is("cost_floor", lambda w, c: {"rival_owner": "0.05"}.get(c)),
    ),
    Row("GET", "/tasks", table(OK), check=ids_are(only("li", of=lambda w: {w.held_task}))),
    Row(
        "GET",
        "/tasks?status=submitted",
        table(OK),
        check=ids_are(
            lambda w, c: {"li": {w.submitted_task}, "rival_annotator": {w.tiger_task}}.get(c, set())
        ),
    ),
    Row(
        "GET",
        "/submissions",
        table(FORBIDDEN, teams=OK),
        check=ids_are(
            per_caller(
                **dict.fromkeys((*REVIEWS_LOTUS, "li"), lambda w: {w.waiting}),
                **dict.fromkeys(
                    (*REVIEWS_TIGER, "rival_annotator"), lambda w: {w.tiger_submission}
                ),
            )
        ),
    ),
    Row(
        "GET",
        "/submissions?status=accepted",
        table(FORBIDDEN, teams=OK),
        check=ids_are(only(*REVIEWS_LOTUS, "li", of=lambda w: {w.accepted})),
    ),
    Row(
        "GET",
        "/submissions?status=rejected",
        table(FORBIDDEN, teams=OK),
        check=ids_are(only(*REVIEWS_LOTUS, "wang", of=lambda w: {w.rejected, w.disputed})),
    ),
    Row(
        "GET",
        "/submissions/{accepted}/decisions",
        table(missing("submission"), li=OK, **dict.fromkeys(REVIEWS_LOTUS, OK)),
        check=lambda m, c, a: (
            None
            if [(d["status"], d["source"], d["decided_by"]) for d in a.body]
            == [("accepted", "review", m.world.user("reviewer"))]
            else f"decisions {a.body}"
        ),
    ),
    Row(
        "GET",
        "/invoices",
        table(OK),
        check=ids_are(only("admin", "client", of=lambda w: {w.invoice})),
    ),
    Row(
        "GET",
        "/invoices/{invoice}",
        table(missing("invoice"), admin=OK, client=OK),
        check=id_is("invoice"),
    ),
    Row(
        "GET",
        "/invoices/{invoice}/payments",
        table(missing("invoice"), admin=OK, client=OK),
        check=ids_are(lambda w, c: set()),
    ),
    Row(
        "GET",
        "/payout-runs",
        table(FORBIDDEN, admin=OK),
        check=ids_are(lambda w, c: {w.payout_run}),
    ),
    Row("GET", "/payout-runs/{payout_run}", table(FORBIDDEN, admin=OK), check=id_is("payout_run")),
    Row(
        "GET",
        "/payout-runs/{payout_run}/bank-file",
        table(FORBIDDEN, admin=OK),
        check=bank_file_is_csv,
    ),
    Row("GET", "/me/earnings", table(OK), check=earnings_are),
    Row("GET", "/ledger/totals", table(FORBIDDEN, admin=OK)),
    # Subcontracting. Bids orders are tendered to team owners; a bid is seen by its team's
    # owner and by whoever awards it (the order's client, or the offer's maker).
    Row(
        "GET",
        "/tenders",
        table(FORBIDDEN, admin=OK, owners=OK),
        check=ids_are(lambda w, c: {w.bids_order}),
    ),
    Row(
        "GET",
        "/orders/{bids_order}/bids",
        table(NOT_THE_ORDER, admin=OK, client=OK, teams=OK),
        check=ids_are(
            per_caller(
                admin=lambda w: {w.lotus_bid, w.tiger_bid},
                client=lambda w: {w.lotus_bid, w.tiger_bid},
                owner=lambda w: {w.lotus_bid},
                rival_owner=lambda w: {w.tiger_bid},
            )
        ),
    ),
    Row(
        "GET",
        "/bids/{lotus_bid}",
        table(missing("bid"), admin=OK, client=OK, owner=OK),
        check=id_is("lotus_bid"),
    ),
    Row(
        "GET",
        "/bids/{tiger_bid}",
        table(missing("bid"), admin=OK, client=OK, rival_owner=OK),
        check=id_is("tiger_bid"),
    ),
    Row(
        "GET",
        "/bids/{offer_bid}",
        table(missing("bid"), admin=OK, owners=OK),
        check=id_is("offer_bid"),
    ),
    Row("GET", "/bids/{crane_bid}", table(missing("bid"), admin=OK, owner=OK)),
    # Offers: a team owner sees its team's, those made to its team, and those open to all.
    Row(
        "GET",
        "/offers",
        table(FORBIDDEN, admin=OK, owners=OK),
        check=ids_are(
            per_caller(
                admin=lotus_offers,
                owner=lotus_offers,
                rival_owner=offers_of("taken", "open", "direct"),
            )
        ),
    ),
    Row(
        "GET",
        "/offers?status=open",
        table(FORBIDDEN, admin=OK, owners=OK),
        check=ids_are(
            per_caller(
                admin=offers_of("open", "direct", "crane"),
                owner=offers_of("open", "direct", "crane"),
                rival_owner=offers_of("open", "direct"),
            )
        ),
    ),
    Row(
        "GET",
        "/offers/{open_offer}",
        table(missing("offer"), admin=OK, owners=OK),
        check=id_is("open_offer"),
    ),
    Row(
        "GET",
        "/offers/{direct_offer}",
        table(missing("offer"), admin=OK, owners=OK),
        check=field_is("cost_floor", lambda w, c: {"owner": "0.08", "rival_owner": "0.05"}.get(c)),
    ),
    Row(
        "GET",
        "/offers/{crane_offer}",
        table(missing("offer"), admin=OK, owner=OK),
        check=id_is("crane_offer"),
    ),
    Row("GET", "/offers/{withdrawn_offer}", table(missing("offer"), admin=OK, owner=OK)),
    Row(
        "GET",
        "/offers/{open_offer}/bids",
        table(missing("offer"), admin=OK, owners=OK),
        check=ids_are(
            per_caller(
                admin=lambda w: {w.offer_bid, w.crane_bid},
                owner=lambda w: {w.offer_bid, w.crane_bid},
                rival_owner=lambda w: {w.offer_bid},
            )
        ),
    ),
    # Contracts below the client's: the holder sees what it passed down; every client and
    # team owner of a chain sees the chain, with the prices of its own links only.
    Row(
        "GET",
        "/contracts/{bids_contract}/subcontracts",
        table(missing("contract"), admin=OK, owner=OK, client=FORBIDDEN),
        check=ids_are(lambda w, c: {w.subcontract}),
    ),
    Row(
        "GET",
        "/contracts/{subcontract}/subcontracts",
        table(missing("contract"), admin=OK, rival_owner=OK, owner=FORBIDDEN),
        check=ids_are(lambda w, c: set()),
    ),
    Row(
        "GET",
        "/contracts/{bids_contract}/chain",
        table(missing("contract"), admin=OK, client=OK, owners=OK),
        check=chain_is(lambda w: {w.bids_contract, w.subcontract}),
    ),
    Row(
        "GET",
        "/contracts/{subcontract}/chain",
        table(missing("contract"), admin=OK, client=OK, owners=OK),
        check=chain_is(lambda w: {w.bids_contract, w.subcontract}),
    ),
    Row(
        "GET",
        "/contracts/{contract}/chain",
        table(missing("contract"), admin=OK, client=OK, owner=OK),
        check=chain_is(lambda w: {w.contract}),
    ),
    # Margin reports: a team owner's, of an order its team holds a contract on; admins
    # name the team.
    Row(
        "GET",
        "/orders/{bids_order}/margins",
        table(FORBIDDEN, admin=TEAM_REQUIRED, owners=OK),
        check=margins_are(own_links),
    ),
    Row(
        "GET",
        "/orders/{order}/margins",
        table(FORBIDDEN, admin=TEAM_REQUIRED, owner=OK, rival_owner=NOT_THE_ORDER),
        check=margins_are(lambda w, c: (w.party("lotus"), {w.contract}, "0.04")),
    ),
    Row(
        "GET",
        "/orders/{bids_order}/margins?team_id={cast.party_ids[lotus]}",
        table(FORBIDDEN, admin=OK, owner=OK, rival_owner=missing("team")),
        check=margins_are(lambda w, c: own_links(w, "owner")),
    ),
    Row(
        "GET",
        "/orders/{bids_order}/margins?format=csv",
        table(FORBIDDEN, admin=TEAM_REQUIRED, owners=OK),
        check=margin_csv,
    ),
    Row(
        "GET",
        "/cost-floors",
        table(FORBIDDEN, admin=OK, owners=OK),
        check=ids_are(
            per_caller(
                admin=lambda w: {w.lotus_floor, w.tiger_floor},
                owner=lambda w: {w.lotus_floor},
                rival_owner=lambda w: {w.tiger_floor},
            )
        ),
    ),
    # Task types are public to anyone signed in: a team reads a result's format before it
    # claims the work, Acme's own type included.
    Row(
        "GET",
        "/task-types",
        table(OK),
        check=lambda m, c, a: (
            None
            if [t["key"] for t in a.body]
            == ["bbox_2d", "rating_1_5", "audio_score_0_2", m.world.custom_type]
            else f"task types {[t['key'] for t in a.body]}"
        ),
    ),
    Row(
        "GET",
        "/task-types/{custom_type}",
        table(OK),
        check=field_is("client_id", lambda w, c: w.party("acme")),
    ),
    # Levels: a team's members read its ladder (and what each level is paid); its owner and
    # reviewers see the members; a member's history is hers, her owner's and reviewers'.
    Row("GET", f"/teams/{LOTUS}/levels", table(NOT_THE_TEAM, lotus=OK), check=ladder_is),
    Row(
        "GET",
        f"/teams/{TIGER}/levels",
        table(NOT_THE_TEAM, tiger=OK),
        check=ids_are(lambda w, c: {w.tiger_level}),
    ),
    Row(
        "GET",
        f"/teams/{LOTUS}/members",
        table(NOT_THE_TEAM, lotus=FORBIDDEN, owner=OK, reviewer=OK),
        check=members_are,
    ),
    Row(
        "GET",
        f"/teams/{LOTUS}/members/{{cast.user_ids[wang]}}/levels",
        table(NOT_THE_TEAM, lotus=FORBIDDEN, owner=OK, reviewer=OK, wang=OK),
        check=ids_are(lambda w, c: {w.wang_change}),
    ),
    # A batch's review sample and rounds: for those who review the team holding it; every
    # team, the order's client and admins see the batch itself (see the claim rows).
    Row(
        "GET",
        "/batches/{review_batch}/sample",
        table(FORBIDDEN, **dict.fromkeys(REVIEWS_LOTUS, OK), **BATCH_UNSEEN),
        check=ids_are(lambda w, c: {w.rejected, w.disputed}),
    ),
    Row(
        "GET",
        "/batches/{tiger_trial}/sample",
        table(FORBIDDEN, **dict.fromkeys(REVIEWS_TIGER, OK), **BATCH_UNSEEN),
        check=ids_are(lambda w, c: {w.tiger_submission}),
    ),
    Row(
        "GET",
        "/batches/{review_batch}/reviews",
        table(FORBIDDEN, **dict.fromkeys(REVIEWS_LOTUS, OK), **BATCH_UNSEEN),
        check=batch_review_is(lambda w: [(w.review_batch, 1, 2, 0, "rework")]),
    ),
    Row(
        "GET",
        "/batches/{tiger_trial}/reviews",
        table(FORBIDDEN, **dict.fromkeys(REVIEWS_TIGER, OK), **BATCH_UNSEEN),
        check=batch_review_is(lambda w: []),
    ),
    # Disputes: the annotator's own, and those of the teams one reviews.
    Row(
        "GET",
        "/disputes",
        table(OK),
        check=ids_are(only(*REVIEWS_LOTUS, "wang", of=lambda w: {w.dispute})),
    ),
    Row(
        "GET",
        "/disputes/{dispute}",
        table(missing("dispute"), **dict.fromkeys((*REVIEWS_LOTUS, "wang"), OK)),
        check=id_is("dispute"),
    ),
    # An annotator's work by day and her statement, in a team she annotates for; her team's
    # owner sees every member's.
    Row("GET", "/me/earnings/days", table(FORBIDDEN, annotators=OK), check=days_are),
    Row(
        "GET",
        f"/me/earnings/days?team_id={TIGER}",
        table(FORBIDDEN, annotators=NOT_THE_TEAM, rival_annotator=OK),
        check=days_are,
    ),
    Row("GET", "/me/earnings/statement", table(FORBIDDEN, annotators=OK), check=statement_is),
    Row(
        "GET",
        f"/me/earnings/statement?team_id={TIGER}",
        table(FORBIDDEN, annotators=NOT_THE_TEAM, rival_annotator=OK),
        check=statement_is,
    ),
    Row(
        "GET",
        "/me/earnings/statement?format=csv",
        table(FORBIDDEN, annotators=OK),
        check=statement_csv_is,
    ),
    Row(
        "GET",
        f"/teams/{LOTUS}/earnings",
        table(NOT_THE_TEAM, lotus=FORBIDDEN, owner=OK),
        check=team_earnings_are,
    ),
]

WRITES = [
    # Orders: clients post their own; nobody posts for another client.
    Row(
        "POST",
        "/orders",
        table(FORBIDDEN, client=CREATED, rival_client=CREATED),
        body=order_body(batch_size=5),
        check=field_is("client_id", own_party),
    ),
    Row(
        "POST",
        "/orders",
        table(FORBIDDEN, client=CREATED, rival_client=missing("client")),
        body=lambda w, c: {**order_body(batch_size=5), "client_id": w.party("horizon")},
        check=field_is("client_id", lambda w, c: w.party("horizon")),
        label="for Horizon",
    ),
    Row(
        "POST",
        "/orders",
        table(FORBIDDEN, client=CREATED, rival_client=CREATED),
        body=order_body(
            items=10,
            batch_size=2,
            release_plan=EVERY_DAY_3AM,
            claim_mode="lottery",
            limits={"batches_held": 2, "batches_per_drop": 1},
            lease_hours=24,
            trial={"batches": 1, "batch_size": 2, "pass_score": 80},
        ),
        check=lambda m, c, a: (
            None
            if (a.body["client_id"], a.body["claim_mode"], a.body["trial"]["pass_score"])
            == (own_party(m.world, c), "lottery", 80)
            else f"order {a.body}"
        ),
        label="lottery, limits, lease and trial",
    ),
    Row(
        "POST",
        "/orders/{draft}/publish",
        table(missing("order"), admin=FORBIDDEN, client=OK),
        check=field_is("status", lambda w, c: "published"),
    ),
    Row(
        "POST",
        "/orders/{rival_draft}/publish",
        table(missing("order"), admin=FORBIDDEN, rival_client=OK),
        check=field_is("status", lambda w, c: "published"),
    ),
    Row(
        "POST",
        "/orders/{order}/publish",
        table(
            missing("order"), admin=FORBIDDEN, lotus=FORBIDDEN, client=conflict("order_not_draft")
        ),
    ),
    # Claims: only team owners, for their own team. A released batch is on the board of
    # every team; a claimed one stays visible to teams (a late claimer learns it lost).
    Row(
        "POST",
        "/batches/{free_batch}/claim",
        table(FORBIDDEN, owner=OK, rival_owner=OK),
        body={},
        check=field_is(
            "claimed_by", lambda w, c: w.party({"owner": "lotus", "rival_owner": "tiger"}[c])
        ),
    ),
    Row(
        "POST",
        "/batches/{free_batch}/claim",
        table(FORBIDDEN, owner=missing("team"), rival_owner=OK),
        body=lambda w, c: {"team_id": w.party("tiger")},
        check=field_is("claimed_by", lambda w, c: w.party("tiger")),
        label="for Tiger",
    ),
    Row(
        "POST",
        "/batches/{held_batch}/claim",
        table(
            FORBIDDEN,
            owner=conflict("batch_taken"),
            rival_owner=conflict("batch_taken"),
            rival_client=missing("batch"),
            stranger=missing("batch"),
        ),
        body={},
    ),
    # Interest in a lottery's next drop: team owners, for their own team, on an order
    # they can see.
    Row(
        "PUT",
        "/orders/{lottery}/interest",
        table(
            FORBIDDEN, owner=OK, rival_owner=OK, rival_client=NOT_THE_ORDER, stranger=NOT_THE_ORDER
        ),
        body={"batches": 3},
        check=lambda m, c, a: (
            None
            if (a.body["order_id"], a.body["team_id"], a.body["batches"])
            == (m.world.lottery, own_team(m.world, c), 3)
            else f"interest {a.body}"
        ),
    ),
    Row(
        "PUT",
        "/orders/{lottery}/interest",
        table(
            FORBIDDEN,
            owner=missing("team"),
            rival_owner=OK,
            rival_client=NOT_THE_ORDER,
            stranger=NOT_THE_ORDER,
        ),
        body=lambda w, c: {"batches": 3, "team_id": w.party("tiger")},
        check=field_is("team_id", lambda w, c: w.party("tiger")),
        label="for Tiger",
    ),
    Row(
        "PUT",
        "/orders/{order}/interest",
        table(
            FORBIDDEN,
            owner=conflict("not_a_lottery"),
            rival_owner=conflict("not_a_lottery"),
            rival_client=NOT_THE_ORDER,
            stranger=NOT_THE_ORDER,
        ),
        body={"batches": 1},
    ),
    Row(
        "PUT",
        "/orders/{rival_draft}/interest",
        table(NOT_THE_ORDER, rival_client=FORBIDDEN, admin=FORBIDDEN),
        body={"batches": 1},
    ),
    Row(
        "DELETE",
        "/orders/{lottery}/interest",
        table(
            FORBIDDEN,
            owner=NO_CONTENT,
            rival_owner=NO_CONTENT,
            rival_client=NOT_THE_ORDER,
            stranger=NOT_THE_ORDER,
        ),
        check=interest_withdrawn,
    ),
    Row(
        "DELETE",
        "/orders/{lottery}/interest?team_id={cast.party_ids[tiger]}",
        table(
            FORBIDDEN,
            owner=missing("team"),
            rival_owner=NO_CONTENT,
            rival_client=NOT_THE_ORDER,
            stranger=NOT_THE_ORDER,
        ),
        check=interest_withdrawn,
    ),
    Row(
        "DELETE",
        "/orders/{trial_order}/interest",
        table(
            FORBIDDEN,
            owner=conflict("not_a_lottery"),
            rival_owner=conflict("not_a_lottery"),
            rival_client=NOT_THE_ORDER,
            stranger=NOT_THE_ORDER,
        ),
    ),
    Row(
        "DELETE",
        "/orders/{rival_draft}/interest",
        table(NOT_THE_ORDER, rival_client=FORBIDDEN, admin=FORBIDDEN),
    ),
    # Standing claim rules: a team owner's, for its own team; deleting another's is 404.
    Row(
        "POST",
        "/claim-rules",
        table(FORBIDDEN, owner=CREATED, rival_owner=CREATED),
        body={"batches_per_drop": 1},
        check=field_is("team_id", own_team),
    ),
    Row(
        "POST",
        "/claim-rules",
        table(FORBIDDEN, owner=missing("team"), rival_owner=CREATED),
        body=lambda w, c: {"batches_per_drop": 1, "team_id": w.party("tiger")},
        check=field_is("team_id", lambda w, c: w.party("tiger")),
        label="for Tiger",
    ),
    Row(
        "POST",
        "/claim-rules",
        table(FORBIDDEN, owner=CREATED, rival_owner=CREATED),
        body=lambda w, c: {
            "batches_per_drop": 2,
            "order_id": w.lottery,
            "client_id": w.party("horizon"),
            "task_type": "bbox_2d",
            "currency": "CNY",
            "min_unit_price": "0.08",
        },
        check=field_is("order_id", lambda w, c: w.lottery),
        label="for the lottery",
    ),
    Row(
        "POST",
        "/claim-rules",
        table(FORBIDDEN, owner=UNKNOWN_ORDER, rival_owner=UNKNOWN_ORDER),
        body=lambda w, c: {"batches_per_drop": 1, "order_id": w.rival_draft},
        label="for Acme's draft",
    ),
    Row(
        "DELETE",
        "/claim-rules/{lotus_rule}",
        table(missing("claim_rule"), owner=NO_CONTENT),
        check=lambda m, c, a: (
            None
            if m.api.get("/claim-rules", m.world.tokens[c]).body == []
            else "the rule is still there"
        ),
    ),
    Row(
        "DELETE",
        "/claim-rules/{tiger_rule}",
        table(missing("claim_rule"), rival_owner=NO_CONTENT),
    ),
    # Trials: the order's client scores a finished trial batch; every team sees the batch.
    Row(
        "POST",
        "/batches/{tiger_trial}/trial-score",
        table(FORBIDDEN, client=OK, rival_client=missing("batch"), stranger=missing("batch")),
        body={"score": 90, "note": "tight boxes"},
        check=trial_scored,
    ),
    Row(
        "POST",
        "/batches/{lotus_trial}/trial-score",
        table(
            FORBIDDEN,
            client=conflict("trial_not_finished"),
            rival_client=missing("batch"),
            stranger=missing("batch"),
        ),
        body={"score": 90},
    ),
    Row(
        "POST",
        "/batches/{free_batch}/trial-score",
        table(
            FORBIDDEN,
            client=conflict("not_a_trial"),
            rival_client=missing("batch"),
            stranger=missing("batch"),
        ),
        body={"score": 90},
    ),
    # Piece rates: the owner of the team working the order.
    Row(
        "PUT",
        "/orders/{order}/piece-rate",
        table(missing("order"), admin=FORBIDDEN, client=FORBIDDEN, lotus=FORBIDDEN, owner=OK),
        body={"unit_price": "0.05"},
        check=field_is("team_id", lambda w, c: w.party("lotus")),
    ),
    Row(
        "PUT",
        "/orders/{rival_draft}/piece-rate",
        table(missing("order"), admin=FORBIDDEN, rival_client=FORBIDDEN),
        body={"unit_price": "0.05"},
    ),
    # Tasks: annotators take their own team's; only the holder submits.
    Row(
        "POST",
        "/tasks/next",
        table(FORBIDDEN, annotators=OK),
        body={"count": 1},
        check=tasks_of_own_team,
    ),
    Row(
        "POST",
        "/tasks/{held_task}/submit",
        table(missing("task"), li=CREATED),
        body=RESULT,
        check=field_is("task_id", lambda w, c: w.held_task),
    ),
    Row(
        "POST",
        "/tasks/{submitted_task}/submit",
        table(missing("task"), li=conflict("task_not_open")),
        body=RESULT,
    ),
    Row("POST", "/tasks/{open_task}/submit", table(missing("task")), body=RESULT),
    # Review: reviewers, owners and quality inspectors (Zhang) of the submitting team. Li's
    # submission is her own; she is no reviewer anyway (her own work is refused with
    # own_submission, see below).
    Row(
        "POST",
        "/submissions/{waiting}/review",
        table(
            FORBIDDEN,
            owner=OK,
            reviewer=OK,
            zhang=OK,
            client=missing("submission"),
            rival_client=missing("submission"),
            tiger=missing("submission"),
            stranger=missing("submission"),
        ),
        body={"decision": "accept"},
        check=field_is("status", lambda w, c: "accepted"),
    ),
    Row(
        "POST",
        "/submissions/{accepted}/review",
        table(
            FORBIDDEN,
            owner=conflict("already_reviewed"),
            reviewer=conflict("already_reviewed"),
            zhang=conflict("already_reviewed"),
            client=missing("submission"),
            rival_client=missing("submission"),
            tiger=missing("submission"),
            stranger=missing("submission"),
        ),
        body={"decision": "reject", "reason_code": "box_off_target"},
    ),
    Row(
        "POST",
        "/reviews",
        table(
            FORBIDDEN,
            owner=OK,
            reviewer=OK,
            zhang=OK,
            client=missing("submission"),
            rival_client=missing("submission"),
            tiger=missing("submission"),
            stranger=missing("submission"),
        ),
        body=lambda w, c: {
            "decisions": [
                {"submission_id": w.waiting, "decision": "reject", "reason_code": "box_off_target"}
            ]
        },
        check=lambda m, c, a: (
            None if [s["status"] for s in a.body] == ["rejected"] else f"reviewed {a.body}"
        ),
    ),
    # Money: the platform admin invoices, records payments and runs payouts.
    Row(
        "POST",
        "/orders/{order}/invoices",
        table(missing("order"), admin=CREATED, client=FORBIDDEN, lotus=FORBIDDEN),
        check=field_is("client_id", lambda w, c: w.party("horizon")),
        prepare=accept_the_waiting_submission,
    ),
    Row(
        "POST",
        "/orders/{rival_draft}/invoices",
        table(missing("order"), admin=conflict("nothing_to_invoice"), rival_client=FORBIDDEN),
        prepare=accept_the_waiting_submission,
    ),
    Row(
        "POST",
        "/invoices/{invoice}/payments",
        table(missing("invoice"), admin=CREATED, client=FORBIDDEN),
        body=lambda w, c: {
            "amount": w.invoice_total,
            "reference": "ICBC-20260302-0001",
            "received_on": "2026-03-02",
        },
        check=field_is("invoice_id", lambda w, c: w.invoice),
    ),
    Row(
        "POST",
        "/payout-runs",
        table(FORBIDDEN, admin=CREATED),
        body={"currency": "CNY"},
        check=field_is("payouts", lambda w, c: []),
    ),
    # Bids: team owners bid on a published bids order; the client awards (or the offer's
    # maker, a bid on its offer); the bidder's owner withdraws an open bid.
    Row(
        "POST",
        "/orders/{bids_order}/bids",
        table(FORBIDDEN, owners=CREATED, rival_client=NOT_THE_ORDER, stranger=NOT_THE_ORDER),
        body={"unit_price": "0.08", "quantity": 5},
        check=field_is("team_id", own_team),
    ),
    Row(
        "POST",
        "/orders/{order}/bids",
        table(
            FORBIDDEN,
            owners=conflict("not_open_for_bids"),
            rival_client=NOT_THE_ORDER,
            stranger=NOT_THE_ORDER,
        ),
        body=BID,
    ),
    Row(
        "POST",
        "/orders/{bids_draft}/bids",
        table(NOT_THE_ORDER, admin=FORBIDDEN, client=FORBIDDEN),
        body=BID,
    ),
    Row(
        "POST",
        "/bids/{tiger_bid}/award",
        table(missing("bid"), client=OK, admin=FORBIDDEN, rival_owner=FORBIDDEN),
        body={},
        check=status_is("awarded"),
    ),
    Row(
        "POST",
        "/bids/{offer_bid}/award",
        table(missing("bid"), owner=OK, admin=FORBIDDEN, rival_owner=FORBIDDEN),
        body={},
        check=field_is("contract_id", lambda w, c: w.subcontract),
    ),
    Row(
        "POST",
        "/bids/{lotus_bid}/award",
        table(missing("bid"), client=conflict("bid_closed"), admin=FORBIDDEN, owner=FORBIDDEN),
        body={},
    ),
    Row(
        "DELETE",
        "/bids/{tiger_bid}",
        table(missing("bid"), rival_owner=OK, client=FORBIDDEN, admin=FORBIDDEN),
        check=status_is("withdrawn"),
    ),
    Row(
        "DELETE",
        "/bids/{offer_bid}",
        table(missing("bid"), rival_owner=OK, owner=FORBIDDEN, admin=FORBIDDEN),
        check=status_is("withdrawn"),
    ),
    Row(
        "DELETE",
        "/bids/{lotus_bid}",
        table(missing("bid"), owner=conflict("bid_closed"), client=FORBIDDEN, admin=FORBIDDEN),
    ),
    # Offers: a contract's downstream team owner passes items down; the team offered them
    # (any other team, for an offer open to all) takes them or bids.
    Row(
        "POST",
        "/contracts/{bids_contract}/offers",
        table(missing("contract"), owner=CREATED, client=FORBIDDEN, admin=FORBIDDEN),
        body=BID,
        check=field_is("contract_id", lambda w, c: w.bids_contract),
    ),
    Row(
        "POST",
        "/contracts/{subcontract}/offers",
        table(missing("contract"), rival_owner=CREATED, owner=FORBIDDEN, admin=FORBIDDEN),
        body={"unit_price": "0.06", "quantity": 1},
        check=field_is("contract_id", lambda w, c: w.subcontract),
    ),
    Row(
        "DELETE",
        "/offers/{open_offer}",
        table(missing("offer"), owner=OK, rival_owner=FORBIDDEN, admin=FORBIDDEN),
        check=status_is("withdrawn"),
    ),
    Row(
        "DELETE",
        "/offers/{direct_offer}",
        table(missing("offer"), owner=OK, rival_owner=FORBIDDEN, admin=FORBIDDEN),
        check=status_is("withdrawn"),
    ),
    Row(
        "DELETE",
        "/offers/{crane_offer}",
        table(missing("offer"), owner=OK, admin=FORBIDDEN),
        check=status_is("withdrawn"),
    ),
    Row(
        "DELETE",
        "/offers/{withdrawn_offer}",
        table(missing("offer"), owner=conflict("offer_closed"), admin=FORBIDDEN),
    ),
    Row(
        "POST",
        "/offers/{direct_offer}/accept",
        table(
            missing("offer"),
            rival_owner=CREATED,
            owner=conflict("offer_not_for_you"),
            admin=FORBIDDEN,
        ),
        body={},
        check=accepted_into_subcontract,
    ),
    Row(
        "POST",
        "/offers/{open_offer}/accept",
        table(
            missing("offer"),
            rival_owner=CREATED,
            owner=conflict("offer_not_for_you"),
            admin=FORBIDDEN,
        ),
        body={},
        check=accepted_into_subcontract,
    ),
    Row(
        "POST",
        "/offers/{crane_offer}/accept",
        table(missing("offer"), owner=conflict("offer_not_for_you"), admin=FORBIDDEN),
        body={},
    ),
    Row(
        "POST",
        "/offers/{open_offer}/bids",
        table(
            missing("offer"),
            rival_owner=CREATED,
            owner=conflict("offer_not_open"),
            admin=FORBIDDEN,
        ),
        body=BID,
        check=field_is("offer_id", lambda w, c: w.open_offer),
    ),
    Row(
        "POST",
        "/offers/{direct_offer}/bids",
        table(missing("offer"), owners=conflict("offer_not_open"), admin=FORBIDDEN),
        body=BID,
    ),
    # Cost floors: a team owner's own; nobody else's, not even for admins.
    Row(
        "PUT",
        "/cost-floors",
        table(FORBIDDEN, owners=OK),
        body=FLOOR,
        check=field_is("team_id", own_team),
    ),
    Row(
        "PUT",
        "/cost-floors",
        table(FORBIDDEN, owner=missing("team"), rival_owner=OK),
        body=lambda w, c: {**FLOOR, "team_id": w.party("tiger")},
        check=field_is("team_id", lambda w, c: w.party("tiger")),
        label="for Tiger",
    ),
    Row(
        "DELETE",
        "/cost-floors/{lotus_floor}",
        table(missing("cost_floor"), owner=NO_CONTENT),
    ),
    Row(
        "DELETE",
        "/cost-floors/{tiger_floor}",
        table(missing("cost_floor"), rival_owner=NO_CONTENT),
    ),
    # Task types: a client administrator posts one for her client; nobody for another.
    Row(
        "POST",
        "/task-types",
        table(FORBIDDEN, client=CREATED, rival_client=CREATED),
        body=POLYGON,
        check=field_is("client_id", own_party),
    ),
    Row(
        "POST",
        "/task-types",
        table(FORBIDDEN, client=CREATED, rival_client=missing("client")),
        body=lambda w, c: {**POLYGON, "client_id": w.party("horizon")},
        check=field_is("client_id", lambda w, c: w.party("horizon")),
        label="for Horizon",
    ),
    # A team's day, ladder and rates: its owner's to set; its other members see the team
    # (403), nobody else does (404), not even a rival team's owner.
    Row(
        "PATCH",
        f"/teams/{LOTUS}",
        table(NOT_THE_TEAM, lotus=FORBIDDEN, owner=OK),
        body={"timezone": "Europe/Berlin"},
        check=field_is("timezone", lambda w, c: "Europe/Berlin"),
    ),
    Row(
        "POST",
        f"/teams/{LOTUS}/levels",
        table(NOT_THE_TEAM, lotus=FORBIDDEN, owner=CREATED),
        body={"name": "expert", "rank": 3, "daily_quota": 800},
        check=field_is("team_id", lambda w, c: w.party("lotus")),
    ),
    Row(
        "POST",
        f"/teams/{LOTUS}/levels",
        table(NOT_THE_TEAM, lotus=FORBIDDEN, owner=conflict("level_exists")),
        body={"name": "expert", "rank": 1},
        label="a rank taken",
    ),
    Row(
        "PATCH",
        "/levels/{junior}",
        table(missing("level"), lotus=FORBIDDEN, owner=OK),
        body={"daily_quota": 500},
        check=field_is("daily_quota", lambda w, c: 500),
    ),
    Row(
        "PATCH",
        "/levels/{tiger_level}",
        table(missing("level"), tiger=FORBIDDEN, rival_owner=OK),
        body={"daily_quota": 500},
        check=field_is("daily_quota", lambda w, c: 500),
    ),
    Row(
        "PUT",
        "/levels/{junior}/rates",
        table(missing("level"), lotus=FORBIDDEN, owner=OK),
        body={"task_type": "rating_1_5", "currency": "CNY", "unit_price": "0.20"},
        check=lambda m, c, a: (
            None
            if [(r["task_type"], r["unit_price"]) for r in a.body["rates"]]
            == [("bbox_2d", "0.05"), ("rating_1_5", "0.2")]
            else f"rates {a.body['rates']}"
        ),
    ),
    Row(
        "PUT",
        "/levels/{junior}/rates",
        table(missing("level"), lotus=FORBIDDEN, owner=conflict("rate_above_contract_price")),
        body={"task_type": "bbox_2d", "currency": "CNY", "unit_price": "0.12"},
        label="above what Horizon pays",
    ),
    Row(
        "POST",
        f"/teams/{LOTUS}/members/{{cast.user_ids[li]}}/levels",
        table(NOT_THE_TEAM, lotus=FORBIDDEN, owner=CREATED),
        body=lambda w, c: {"level_id": w.junior, "note": "first month"},
        check=lambda m, c, a: (
            None
            if (a.body["user_id"], a.body["level_id"], a.body["from_level_id"])
            == (m.world.user("li"), m.world.junior, None)
            else f"level change {a.body}"
        ),
    ),
    Row(
        "POST",
        f"/teams/{LOTUS}/members/{{cast.user_ids[wang]}}/levels",
        table(NOT_THE_TEAM, lotus=FORBIDDEN, owner=conflict("not_eligible")),
        body=lambda w, c: {"level_id": w.senior},
    ),
    # Skipping: only the annotator holding the task puts it back.
    Row(
        "POST",
        "/tasks/{held_task}/skip",
        table(missing("task"), li=OK),
        body=SKIP,
        check=lambda m, c, a: (
            None
            if (a.body["id"], a.body["status"]) == (m.world.held_task, "open")
            else f"skipped {a.body}"
        ),
    ),
    Row(
        "POST",
        "/tasks/{submitted_task}/skip",
        table(missing("task"), li=conflict("task_not_open")),
        body=SKIP,
    ),
    Row("POST", "/tasks/{open_task}/skip", table(missing("task")), body=SKIP),
    # Disputes: only the annotator whose item was rejected opens one; a reviewer, owner or
    # inspector of her team other than the one who rejected it decides.
    Row(
        "POST",
        "/submissions/{rejected}/dispute",
        table(missing("submission"), wang=CREATED),
        body=APPEAL,
        check=dispute_opened,
    ),
    Row(
        "POST",
        "/submissions/{disputed}/dispute",
        table(missing("submission"), wang=conflict("already_disputed")),
        body=APPEAL,
    ),
    Row(
        "POST",
        "/submissions/{waiting}/dispute",
        table(missing("submission"), li=conflict("not_rejected")),
        body=APPEAL,
    ),
    Row(
        "POST",
        "/disputes/{dispute}/decision",
        table(
            missing("dispute"),
            owner=OK,
            zhang=OK,
            reviewer=(403, "original_reviewer"),
            wang=FORBIDDEN,
        ),
        body={"decision": "uphold", "note": "The box is on the wheel indeed."},
        check=dispute_upheld,
    ),
    # Tokens: anyone logs in with a password (a token, live or not, is not looked at);
    # logging out revokes the caller's own token only.
    Row(
        "POST",
        "/auth/tokens",
        {caller: CREATED for caller in CALLERS},
        body=credentials,
        check=logged_in,
    ),
    Row(
        "POST",
        "/auth/tokens",
        {caller: (401, "invalid_credentials") for caller in CALLERS},
        body=lambda w, c: credentials(w, c, password="wrong horse battery"),
        label="wrong password",
    ),
    Row("DELETE", "/auth/tokens/current", table(NO_CONTENT), check=logged_out),
]

ROWS = READS + WRITES
ROW_NAMES = [row.name for row in ROWS]
assert len(set(ROW_NAMES)) == len(ROW_NAMES), "two rows share a name"


# --------------------------------------------------------------------------- the runner


class Matrix:
    """Calls cells against a world; puts the world back after any call that changed it."""

    def __init__(self, app, api: ApiClient, cast: Cast, prepare=None) -> None:
        self.app, self.api = app, api
        self.world = build_world(app, api, cast)
        if prepare:
            prepare(api, self.world)
        self.fresh = snapshot(app)
        self.positions = sequences(app)
        self.restores = 0

    def restore(self) -> None:
        restore(self.app, self.fresh, self.positions)
        assert snapshot(self.app) == self.fresh and sequences(self.app) == self.positions
        self.restores += 1

    def run(self, row: Row, caller: str) -> list[str]:
        """Call the row as `caller`; what was wrong about the answer (nothing: [])."""
        want = row.want[caller]
        path = row.path.format(**vars(self.world))
        body = row.json(self.world, caller)
        answer = self.api.call(row.method, path, self.world.tokens[caller], json=body)
        where = f"{row.name} as {caller}"
        wrong = []
        status, code = want
        if answer.status != status or (code is not None and answer.error_code != code):
            wrong.append(
                f"{where}: got {answer.status} {answer.error_code or ''}, "
                f"expected {status} {code or ''}"
            )
        elif answer.status < 300 and row.check and (problem := row.check(self, caller, answer)):
            wrong.append(f"{where}: {problem}")
        if answer.status >= 400:
            error = (answer.body or {}).get("error", {})
            if not (isinstance(error.get("code"), str) and isinstance(error.get("message"), str)):
                wrong.append(f"{where}: not the JSON error shape: {answer.text[:200]}")
        if row.method != "GET":
            after = snapshot(self.app)
            if after != self.fresh:
                if answer.status >= 400:
                    changed = sorted(t for t in after if after[t] != self.fresh[t])
                    wrong.append(f"{where}: refused ({answer.status}) but changed {changed}")
                self.restore()
        return wrong

    def run_rows(self, rows: list[Row]) -> list[str]:
        wrong = []
        for row in rows:
            for caller in CALLERS:
                wrong += self.run(row, caller)
        return wrong


# --------------------------------------------------------------------------- the tests


def test_the_matrix_covers_every_endpoint_and_every_caller(app):
    """A new endpoint, or a row that names an endpoint that is gone, fails here."""
    served = {
        (method, re.sub(r"<[^>]*>", "{}", rule.rule.removeprefix("/api/v1")))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    covered = {(row.method, row.route) for row in ROWS}
    assert covered == served, (sorted(served - covered), sorted(covered - served))
    for row in ROWS:
        assert list(row.want) == CALLERS, row.name


def test_reads(app, api, cast, frozen_clock):
    """Every GET, by every caller, on one world; reading writes nothing."""
    matrix = Matrix(app, api, cast)
    wrong = matrix.run_rows(READS)
    changed = sorted(t for t, rows in snapshot(app).items() if rows != matrix.fresh[t])
    assert not wrong and not changed, "\n".join([*wrong, f"reads changed {changed}"])


WRITE_ENDPOINTS: dict[tuple[str, str], list[Row]] = {}
for _row in WRITES:
    WRITE_ENDPOINTS.setdefault((_row.method, _row.route), []).append(_row)


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param(rows, id=f"{method} {route}")
        for (method, route), rows in WRITE_ENDPOINTS.items()
    ],
)
def test_writes(app, api, cast, frozen_clock, rows):
    """Every write endpoint, by every caller, each call on a fresh world."""
    [prepare] = {row.prepare for row in rows}
    matrix = Matrix(app, api, cast, prepare=prepare)
    wrong = matrix.run_rows(rows)
    assert not wrong, "\n".join(wrong)


def test_nobody_reviews_own_work(app, api, cast, frozen_clock):
    """A Lotus member who both annotates and reviews may review Wang's work but not her own:
    403 own_submission, for one decision or in a bulk, and nothing changes."""
    world = Matrix(app, api, cast).world
    with app.app_context(), unit_of_work() as session:
        lotus = session.get(Party, world.party("lotus"))
        user = identity.create_user(session, email="mei@example.com", name="Mei", password=PASSWORD)
        for role in (Role.ANNOTATOR, Role.REVIEWER):
            identity.add_membership(session, user=user, party=lotus, role=role)
        mei = identity.issue_token(session, user, token="token-mei")
    [task] = expect_status(api.post("/tasks/next", mei, {"count": 1}), 200)
    own = expect_status(api.post(f"/tasks/{task['id']}/submit", mei, RESULT), 201)["id"]
    [task] = expect_status(api.post("/tasks/next", cast.wang, {"count": 1}), 200)
    wangs = expect_status(api.post(f"/tasks/{task['id']}/submit", cast.wang, RESULT), 201)["id"]
    assert {s["id"] for s in expect_status(api.get("/submissions", mei), 200)} == {
        world.waiting,
        own,
        wangs,
    }
    before = snapshot(app)
    refused = [
        api.post(f"/submissions/{own}/review", mei, {"decision": "accept"}),
        api.post("/reviews", mei, {"decisions": [{"submission_id": own, "decision": "accept"}]}),
        api.post(
            "/reviews",
            mei,
            {
                "decisions": [
                    {"submission_id": wangs, "decision": "accept"},
                    {"submission_id": own, "decision": "accept"},
                ]
            },
        ),
    ]
    assert [(a.status, a.error_code) for a in refused] == [(403, "own_submission")] * 3
    assert snapshot(app) == before
    assert api.post(f"/submissions/{wangs}/review", mei, {"decision": "accept"}).status == 200
    assert (
        api.post(f"/submissions/{own}/review", cast.reviewer, {"decision": "accept"}).status == 200
    )
    accepted = expect_status(api.get("/submissions?status=accepted", mei), 200)
    assert {(s["id"], s["reviewer_id"]) for s in accepted} == {
        (world.accepted, world.user("reviewer")),
        (wangs, expect_status(api.get("/me", mei), 200)["id"]),
        (own, world.user("reviewer")),
    }
