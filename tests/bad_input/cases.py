"""The machinery of the bad-input tests: a request that must be refused (`Case`, `case`,
`refused`), the database as last seen (`Tables`), a table of cases run on one world
(`run`, `run_rules`, `run_chain`, `run_work`), what the API says of each world
(`story_view`, `rules_view`, `chain_view`, `work_view`), and the values several areas
share: the valid order, the prices and quantities no bid, offer or floor takes."""

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from marketplace.db import Base, db
from tests.support import Response, row_counts

JSON = "application/json"
TEXT = "text/plain"
FORM = "application/x-www-form-urlencoded"
HUGE_ID = 10**20  # a well-formed id, beyond 64 bits
TOO_BIG = "1e999999"  # finite, but scaling it to micros or minor units overflows Decimal
SIGNED_OVERFLOW = 2**63  # one past the largest id a 64-bit column holds

# -- checking a refusal ----------------------------------------------------------------------


def table_rows(app) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order: to catch in-place changes."""
    with app.app_context():
        return {
            table.name: [
                tuple(row)
                for row in db.session.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }


class Tables:
    """The database as last seen: how many rows each table holds, and every row."""

    def __init__(self, app) -> None:
        self.app = app
        self.seen = self.look()

    def look(self) -> tuple[dict[str, int], dict[str, list[tuple]]]:
        return row_counts(self.app), table_rows(self.app)

    def again(self) -> tuple[tuple, tuple]:
        """(as seen before, as seen now); now becomes the new before."""
        before, self.seen = self.seen, self.look()
        return before, self.seen


def refused(
    app,
    api,
    method: str,
    path: str,
    token: str | None,
    status: int,
    code: str,
    tables: Tables | None = None,
    **kwargs,
) -> Response:
    """Call; assert the status, the code and the error shape, and that no row was added,
    removed or changed in any table. `tables`, if given, is the database as last seen
    (spares a look when cases follow each other)."""
    tables = tables or Tables(app)
    answer = api.call(method, path, token, **kwargs)
    (counts_before, rows_before), (counts, rows) = tables.again()
    assert (answer.status, answer.error_code) == (status, code), answer.text[:500]
    error = answer.body["error"]
    assert set(error) == {"code", "message", "details"}
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    if code == "validation_failed":
        assert error["details"]["fields"]
    assert counts == counts_before
    assert rows == rows_before
    return answer


def raw(text: str | bytes, content_type: str | None = JSON) -> dict[str, Any]:
    """Keyword arguments that send exactly these bytes as the body."""
    return {"data": text.encode() if isinstance(text, str) else text, "content_type": content_type}


@dataclass(frozen=True)
class Case:
    """A request that must be refused.

    `route` is "who METHOD path": who is a cast label, "anonymous" (no token) or
    "stranger" (a token nobody has); the path is formatted with the story's ids.
    `body` is JSON, or a function of the story's ids; `text` is sent as raw bytes
    instead. For a 422 `field` names the field the details must blame, in the
    request's `location` (json or query); `details` is what the error's details
    must hold (ids named as in `body`, a function of the story's ids).
    """

    id: str
    route: str
    status: int
    code: str
    body: Any = None
    text: str | bytes | None = None
    content_type: str | None = JSON
    headers: dict[str, str] | None = None
    field: str | None = None
    location: str = "json"
    details: Any = None

    def check(self, app, api, cast, ids, tables: Tables | None = None) -> None:
        who, method, path = self.route.split()
        token = {"anonymous": None, "stranger": "token-stranger"}.get(who) or cast.tokens.get(who)
        kwargs: dict[str, Any] = {"headers": dict(self.headers or {})}
        if self.text is not None:
            kwargs.update(raw(self.text, self.content_type))
        elif self.body is not None:
            kwargs["json"] = self.body(ids) if callable(self.body) else self.body
        path = path.format(**ids)
        answer = refused(app, api, method, path, token, self.status, self.code, tables, **kwargs)
        details = answer.body["error"]["details"]
        if self.field:
            assert self.field in details["fields"][self.location], details
        if self.details is not None:
            expected = self.details(ids) if callable(self.details) else self.details
            assert details | expected == details, details


def case(case_id, route, status, code, body=None, **kwargs) -> Case:
    return Case(case_id, route, status, code, body, **kwargs)


def query_case(case_id, route, query, field) -> Case:
    return case(
        case_id, f"{route}?{query}", 422, "validation_failed", field=field, location="query"
    )


def run(subtests, app, api, cast, ids, cases: list[Case]) -> None:
    """Each case as a subtest on the same story. Each checks that no row
    changed; at the end the API must also tell the story as it did at the start."""
    story, tables = story_view(api, cast, ids), Tables(app)
    for bad in cases:
        with subtests.test(bad.id):
            bad.check(app, api, cast, ids, tables)
    assert story_view(api, cast, ids) == story


# -- what the API says of each world ------------------------------------------------------


def story_view(api, cast, ids) -> dict[str, Any]:
    """What the API says of the story's objects, and of everything invoiced, paid or paid out."""

    def order(order_id):
        found = api.get(f"/orders/{order_id}", cast.client).body
        return found["status"], found["published_at"] is not None, found["unit_price"]

    def submissions(status):
        return api.get(f"/submissions?status={status}", cast.reviewer).body

    def payments(invoice_id):
        return [
            (p["reference"], p["amount"], p["received_on"])
            for p in api.get(f"/invoices/{invoice_id}/payments", cast.admin).body
        ]

    return {
        "draft": order(ids["draft"]),
        "order": order(ids["order"]),
        "batches": [
            (b["id"], b["status"], b["claimed_by"])
            for b in api.get(f"/orders/{ids['order']}/batches", cast.client).body
        ],
        "contracts": [
            (c["downstream_id"], c["unit_price"], c["quantity"])
            for c in api.get("/contracts", cast.admin).body
        ],
        "li's tasks in hand": [t["id"] for t in api.get("/tasks", cast.li).body],
        "li's submitted tasks": [t["id"] for t in api.get("/tasks?status=submitted", cast.li).body],
        "wang's tasks in hand": [t["id"] for t in api.get("/tasks", cast.wang).body],
        "submitted": [s["id"] for s in submissions("submitted")],
        "accepted": [(s["id"], s["rate"]) for s in submissions("accepted")],
        "rejected": [s["id"] for s in submissions("rejected")],
        "invoices": [
            (i["id"], i["status"], i["total"], i["paid_at"], payments(i["id"]))
            for i in api.get("/invoices", cast.admin).body
        ],
        "payout runs": [r["id"] for r in api.get("/payout-runs", cast.admin).body],
    }


def rules_view(api, cast, ids) -> dict[str, Any]:
    """What the API says of the interests, standing rules and trials of the rules world."""

    def interests(token):
        return [
            (i["order_id"], i["team_id"], i["batches"]) for i in api.get("/interests", token).body
        ]

    def rules(token):
        return [(r["id"], r["batches_per_drop"]) for r in api.get("/claim-rules", token).body]

    trials = [
        (t["batch_id"], t["team_id"], t["score"], t["passed"])
        for order in ("trial_order", "lottery_trial")
        for t in api.get(f"/orders/{ids[order]}/trials", cast.client).body
    ]
    trial_batches = [
        (b["id"], b["status"], b["claimed_by"])
        for order in ("trial_order", "lottery_trial")
        for b in api.get(f"/orders/{ids[order]}/batches", cast.client).body
        if b["kind"] == "trial"
    ]
    return {
        "lotus's interests": interests(cast.owner),
        "tiger's interests": interests(cast.rival_owner),
        "lotus's rules": rules(cast.owner),
        "tiger's rules": rules(cast.rival_owner),
        "trials": trials,
        "trial batches": trial_batches,
    }


def run_rules(subtests, app, api, cast, ids, cases: list[Case]) -> None:
    """`run`, and the rules world must read back as it did at the start."""
    before = rules_view(api, cast, ids)
    run(subtests, app, api, cast, ids, cases)
    assert rules_view(api, cast, ids) == before


def chain_view(api, cast, ids) -> dict[str, Any]:
    """What the API says of the bids order, its bids, offers, batches and chain, and of the
    teams' cost floors."""

    def bids(path, token):
        return [
            (b["id"], b["team_id"], b["status"], b["awarded_quantity"], b["contract_id"])
            for b in api.get(path, token).body
        ]

    chain = api.get(f"/contracts/{ids['bridge_contract']}/chain", cast.client).body
    return {
        "tenders": [t["id"] for t in api.get("/tenders", cast.rival_owner).body],
        "bids on the order": bids(f"/orders/{ids['bids']}/bids", cast.client),
        "bids on the open offer": bids(f"/offers/{ids['open_offer']}/bids", cast.owner),
        "bids on the batch offer": bids(f"/offers/{ids['batch_offer']}/bids", cast.owner),
        "offers": [
            (
                o["id"],
                o["to_team_id"],
                o["unit_price"],
                o["quantity"],
                o["open_quantity"],
                o["batch_ids"],
                o["status"],
            )
            for o in api.get("/offers", cast.admin).body
        ],
        "batches": [
            (b["id"], b["status"], b["claimed_by"], b["contract_id"])
            for b in api.get(f"/orders/{ids['bids']}/batches", cast.client).body
        ],
        "chain": (
            chain["depth"],
            chain["pass_through"],
            [
                (c["id"], c["depth"], c["downstream_id"], c["quantity"], c["unit_price"])
                for c in chain["links"]
            ],
        ),
        "cost floors": [
            (f["id"], f["team_id"], f["task_type"], f["currency"], f["unit_price"])
            for f in api.get("/cost-floors", cast.admin).body
        ],
    }


def run_chain(subtests, app, api, cast, ids, cases: list[Case]) -> None:
    """`run`, and the bids, offers and chains must read back as they did at the start."""
    before = chain_view(api, cast, ids)
    run(subtests, app, api, cast, ids, cases)
    assert chain_view(api, cast, ids) == before


def work_view(api, cast, ids) -> dict[str, Any]:
    """What the API says of the task types, Lotus's ladder and members, Li's days, and
    Tiger's disputes, submissions and tasks."""
    lotus, tiger = ids["lotus"], ids["tiger"]

    def level(found):
        rates = [(r["task_type"], r["currency"], r["unit_price"]) for r in found["rates"]]
        return (
            found["id"],
            found["name"],
            found["rank"],
            found["daily_quota"],
            found["reviews"],
            found["promotion"],
            rates,
        )

    def member(found):
        after = found["next"]
        return (
            found["user_id"],
            found["level"] and found["level"]["name"],
            found["submitted_today"],
            after and (after["level"]["name"], after["eligible"]),
        )

    def tiger_submissions(status):
        found = api.get(f"/submissions?status={status}", cast.rival_owner).body
        return [s["id"] for s in found]

    days = api.get("/me/earnings/days", cast.li).body["days"]
    return {
        "task types": [
            (t["key"], t["client_id"]) for t in api.get("/task-types", cast.client).body
        ],
        "lotus's levels": [
            level(found) for found in api.get(f"/teams/{lotus}/levels", cast.owner).body
        ],
        "tiger's levels": [
            found["id"] for found in api.get(f"/teams/{tiger}/levels", cast.rival_owner).body
        ],
        "lotus's members": [
            member(found) for found in api.get(f"/teams/{lotus}/members", cast.owner).body
        ],
        "li's levels": [
            (change["level_id"], change["from_level_id"])
            for change in api.get(f"/teams/{lotus}/members/{ids['li_id']}/levels", cast.li).body
        ],
        "li's days": [
            (d["day"], d["submitted"], d["accepted"], d["rejected"], d["earned"]) for d in days
        ],
        "tiger's disputes": [
            (d["id"], d["submission_id"], d["status"])
            for d in api.get("/disputes", cast.rival_owner).body
        ],
        "tiger's submissions": {
            status: tiger_submissions(status) for status in ("submitted", "accepted", "rejected")
        },
        "tiger's tasks in hand": [t["id"] for t in api.get("/tasks", cast.rival_annotator).body],
    }


def run_work(subtests, app, api, cast, ids, cases: list[Case]) -> None:
    """`run`, and the annotators' side must read back as it did at the start."""
    before = work_view(api, cast, ids)
    run(subtests, app, api, cast, ids, cases)
    assert work_view(api, cast, ids) == before


# -- the valid order, and values several areas share --------------------------------------


ORDER = {
    "title": "Boxes",
    "task_type": "bbox_2d",
    "unit_price": "0.10",
    "currency": "CNY",
    "payment_terms_days": 30,
    "batch_size": 5,
    "items": [
        {"ref": "s3://a.jpg", "payload": {"width": 640, "height": 480}},
        {"ref": "s3://b.jpg", "payload": {"width": 640, "height": 480, "lane": "left"}},
    ],
}
POST_ORDER = "client POST /orders"


TRIAL = {"batches": 1, "batch_size": 1, "pass_score": 80}
PLAN = {"cron": "0 3 * * *", "timezone": "UTC", "batches_per_drop": 1}
CAPS = {"max_depth": 3, "min_pass_through": "0.5"}  # 3 links at most, half the price to each


def order_json(**literals: str) -> str:
    """The valid order as JSON text, with some fields replaced by raw JSON literals."""
    body = {key: json.dumps(value) for key, value in ORDER.items()} | literals
    return "{" + ", ".join(f"{json.dumps(key)}: {value}" for key, value in body.items()) + "}"


ERROR_TYPES = ["off_topic", "unsafe"]


# Prices and quantities no bid, offer or cost floor takes.
PRICES = (
    "0",
    "-0",
    "-0.01",
    "0.0000001",
    "0.0900001",
    "1000000.000001",
    "1e400",
    TOO_BIG,
    "NaN",
    "sNaN",
    "Infinity",
    "nine fen",
    "",
    "0.0_9",
    "\u0660.\u0669",
    None,
    True,
    ["0.09"],
    {"amount": "0.09"},
    1_000_001,
)
FLOAT_PRICES = ("0.0000001", "1e-7", "0.0900001", "-0.0", "0", "1e400", "1000000.5", TOO_BIG)
QUANTITIES = (0, -1, 10_000_001, 10**30, "5", True, None, [5], {"n": 5})
FLOAT_QUANTITIES = ("5.0", "1.5", "5e0", "1e400", "-0.0")
