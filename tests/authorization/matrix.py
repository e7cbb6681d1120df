"""The matrix's machinery: the callers, what a cell expects, the world's shape, a row, the
checks rows share, and the runner that calls cells and puts the world back."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select, text

from marketplace.db import Base, db
from tests.cast import Cast
from tests.flows import BOXES
from tests.support import ApiClient, Response

# --------------------------------------------------------------------------- the callers

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


# The annotators' side: a team's ladder is read by its members and run by its owner; a
# team its caller is not in answers 404.
LOTUS = "{cast.party_ids[lotus]}"
TIGER = "{cast.party_ids[tiger]}"
NOT_THE_TEAM = missing("team")


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
    own task type.

    And money from clients that pays none of the invoices (see `build_collection`):
    Horizon sent 20.00 USD (it has no invoice in USD), Acme 5.00 CNY (it has no invoice),
    and 1.00 of Acme's went back by a refund; Acme asked for 1.00 more of its balance back
    (an open request, which moved no money)."""

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
    horizon_payment: int  # Horizon's 20.00 USD, naming no invoice: its credit
    acme_payment: int  # Acme's 5.00 CNY, naming no invoice: its credit
    acme_refund: int  # 1.00 of Acme's payment, refunded
    acme_balance_refund: int  # Acme's request for 1.00 CNY of its balance back, open
    contracts: dict[int, set[int]]  # per party, upstream or downstream of them

    def user(self, person: str) -> int:
        return self.stranger if person == "stranger" else self.cast.user_ids[person]

    def party(self, label: str) -> int:
        return self.cast.party_ids[label]


def expect_status(answer: Response, status: int) -> Any:
    assert answer.status == status, (answer.status, answer.body)
    return answer.body


# Bodies both the world and the rows send.
EVERY_DAY_3AM = {"cron": "0 3 * * *", "timezone": "Asia/Shanghai", "batches_per_drop": 1}
RESULT = {"result": BOXES}
POLYGON: dict = {
    "key": "polygon_2d",
    "name": "Polygons",
    "result_schema": {"type": "object", "required": ["points"]},
    "reason_codes": ["off_edge", "other"],
}
APPEAL: dict = {"reason": "The box is on the wheel."}


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


def only(*callers: str, of: Callable[[World], set[int]]) -> Callable[[World, str], set[int]]:
    """`of(world)` for the named callers (or group names), nothing for everybody else."""
    named = {person for name in callers for person in GROUPS.get(name, (name,))}
    return lambda world, caller: of(world) if caller in named else set()


def per_caller(**sets: Callable[[World], set[int]]) -> Callable[[World, str], set[int]]:
    """`sets[caller](world)` for the callers named, nothing for everybody else."""
    return lambda world, caller: sets[caller](world) if caller in sets else set()


def own_team(world: World, caller: str) -> int:
    return world.party("tiger" if caller in GROUPS["tiger"] else "lotus")


# --------------------------------------------------------------------------- the runner


class Matrix:
    """Calls cells against a world; puts the world back after any call that changed it."""

    def __init__(self, app, api: ApiClient, world: World, prepare=None) -> None:
        self.app, self.api = app, api
        self.world = world
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


def by_endpoint(writes: list[Row]) -> list:
    """The write rows grouped by endpoint: a test parameter per endpoint, named by it."""
    endpoints: dict[tuple[str, str], list[Row]] = {}
    for row in writes:
        endpoints.setdefault((row.method, row.route), []).append(row)
    return [
        pytest.param(rows, id=f"{method} {route}") for (method, route), rows in endpoints.items()
    ]
