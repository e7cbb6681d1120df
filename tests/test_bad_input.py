"""Bad requests against every write endpoint: the right status, the error code in the
JSON error shape, and nothing written anywhere.

Each refused request is checked three ways: its status and `error.code`; the row
count of every table (`row_counts`); and the full content of every table, so that
a request that *changed* a row (published the draft, claimed the free batch,
submitted Li's task, paid the invoice) is caught as surely as one that inserted
a row. After each table of cases the story is also read back through the API:
the draft is still a draft, the free batch still released, Li's task still in
her hands, two submissions still wait for review, the invoice is still open.

The annotators' side (task types, levels, results, disputes, earnings) has its own
world on top of the story (`work_world`), read back through the API the same way; and
`test_every_write_and_every_new_read_has_bad_input_here` fails for a write endpoint (or a
read of that side) without a case here.

The cases are tables, one per endpoint family. A table runs in one test on one
story, a subtest per case: a refused request changes nothing, so the next case
finds the same story (and a case that wrongly writes fails on its own).
"""

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from marketplace.db import Base, db
from tests.flows import BOXES, claim, post_order, review, set_rate, submit
from tests.subcontract.chain_kit import seed_teams
from tests.support import Response, dec, row_counts

pytestmark = pytest.mark.slow

JSON = "application/json"
TEXT = "text/plain"
FORM = "application/x-www-form-urlencoded"
HUGE_ID = 10**20  # a well-formed id, beyond 64 bits
TOO_BIG = "1e999999"  # finite, but scaling it to micros or minor units overflows Decimal

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


def run(subtests, app, api, cast, ids, cases: list[Case]) -> None:
    """Each case as a subtest on the same story. Each checks that no row
    changed; at the end the API must also tell the story as it did at the start."""
    story, tables = story_view(api, cast, ids), Tables(app)
    for bad in cases:
        with subtests.test(bad.id):
            bad.check(app, api, cast, ids, tables)
    assert story_view(api, cast, ids) == story


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
    return {**story, "invoice": answer.body["id"]}


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


# -- POST /orders: fields ----------------------------------------------------------------

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


def order_case(case_id: str, field: str, **changes) -> Case:
    """The valid order with fields changed (to `...`: left out), refused for `field`."""
    body = {key: value for key, value in (ORDER | changes).items() if value is not ...}
    return case(case_id, POST_ORDER, 422, "validation_failed", body, field=field)


def raw_order_case(case_id: str, field: str, **literals) -> Case:
    """The valid order with fields written as raw JSON literals, refused for `field`."""
    text = order_json(**literals)
    return case(case_id, POST_ORDER, 422, "validation_failed", text=text, field=field)


ORDER_FIELD_CASES = [
    *(
        order_case(f"missing {field}", field, **{field: ...})
        for field in (
            "title",
            "task_type",
            "unit_price",
            "currency",
            "payment_terms_days",
            "batch_size",
            "items",
        )
    ),
    # Prices: above zero, at most 6 decimals, at most 1,000,000, exact decimals only.
    order_case("price 0", "unit_price", unit_price="0"),
    order_case("price -0", "unit_price", unit_price="-0"),
    order_case("price -0.10", "unit_price", unit_price="-0.10"),
    order_case("price 0.0000001", "unit_price", unit_price="0.0000001"),
    order_case("price 1e400", "unit_price", unit_price="1e400"),
    order_case("price 1e999999", "unit_price", unit_price=TOO_BIG),
    order_case("price NaN", "unit_price", unit_price="NaN"),
    order_case("price sNaN", "unit_price", unit_price="sNaN"),
    order_case("price Infinity", "unit_price", unit_price="Infinity"),
    order_case("price -Infinity", "unit_price", unit_price="-Infinity"),
    order_case("price in words", "unit_price", unit_price="ten fen"),
    order_case("price empty", "unit_price", unit_price=""),
    order_case("price null", "unit_price", unit_price=None),
    order_case("price a list", "unit_price", unit_price=["0.10"]),
    order_case("price a bool", "unit_price", unit_price=True),
    order_case("price an object", "unit_price", unit_price={"amount": "0.10"}),
    order_case("price 1000001", "unit_price", unit_price=1_000_001),
    order_case("price 1000000.000001", "unit_price", unit_price="1000000.000001"),
    order_case("price 0.1_0", "unit_price", unit_price="0.1_0"),  # Decimal("0.1_0") is 0.10
    order_case("price in Arabic-Indic digits", "unit_price", unit_price="\u0660.\u0661"),
    raw_order_case("price float 0.0000001", "unit_price", unit_price="0.0000001"),
    raw_order_case("price float 1e-7", "unit_price", unit_price="1e-7"),
    raw_order_case("price float 1e400", "unit_price", unit_price="1e400"),
    raw_order_case("price float -0.0", "unit_price", unit_price="-0.0"),
    raw_order_case("price float 1000000.5", "unit_price", unit_price="1000000.5"),
    raw_order_case("price float 1e999999", "unit_price", unit_price=TOO_BIG),
    # Currencies: ISO 4217 codes, exactly.
    order_case("currency XXY", "currency", currency="XXY"),
    order_case("currency cny", "currency", currency="cny"),
    order_case("currency ' CNY'", "currency", currency=" CNY"),
    order_case("currency 156", "currency", currency=156),
    order_case("currency empty", "currency", currency=""),
    *(
        order_case(f"currency {code}", "currency", currency=code)
        # No currency, testing, withdrawn in 2002, offshore yuan (not ISO 4217).
        for code in ("XXX", "XTS", "DEM", "CNH")
    ),
    # Whole numbers: strict integers within their ranges.
    order_case("terms -1", "payment_terms_days", payment_terms_days=-1),
    order_case("terms 366", "payment_terms_days", payment_terms_days=366),
    order_case("terms '30'", "payment_terms_days", payment_terms_days="30"),
    order_case("terms true", "payment_terms_days", payment_terms_days=True),
    raw_order_case("terms 30.5", "payment_terms_days", payment_terms_days="30.5"),
    order_case("batch size 0", "batch_size", batch_size=0),
    order_case("batch size '5'", "batch_size", batch_size="5"),
    order_case("batch size 10**30", "batch_size", batch_size=10**30),
    order_case("batch size 100001", "batch_size", batch_size=100_001),
    raw_order_case("batch size 5.0", "batch_size", batch_size="5.0"),
    raw_order_case("batch size 1.5", "batch_size", batch_size="1.5"),
    raw_order_case("batch size 5e0", "batch_size", batch_size="5e0"),
    order_case("client_id '2'", "client_id", client_id="2"),
    # Texts.
    order_case("title empty", "title", title=""),
    order_case("title of 201", "title", title="x" * 201),
    order_case("title a number", "title", title=5),
    order_case("title blank", "title", title="   "),
    order_case("title with NUL", "title", title="Bo\x00xes"),
    raw_order_case("title a lone surrogate", "title", title='"\\ud800"'),
    order_case("task type blank", "task_type", task_type=" "),
    order_case("task type of 65", "task_type", task_type="x" * 65),
    order_case("instructions of 20001", "instructions", instructions="x" * 20_001),
    # Items: 1 to 100,000 objects, each with a ref.
    order_case("items empty", "items", items=[]),
    order_case("items a string", "items", items="s3://a.jpg"),
    order_case("items an object", "items", items={"ref": "s3://a.jpg"}),
    order_case("item a string", "items", items=["s3://a.jpg"]),
    order_case("item without ref", "items", items=[{"payload": {}}]),
    order_case("item ref empty", "items", items=[{"ref": ""}]),
    order_case("item ref blank", "items", items=[{"ref": " "}]),
    order_case("item ref a number", "items", items=[{"ref": 5}]),
    order_case("item ref of 2049", "items", items=[{"ref": "x" * 2049}]),
    order_case("item payload a list", "items", items=[{"ref": "x", "payload": [1]}]),
    order_case("item unknown field", "items", items=[{"ref": "x", "colour": "red"}]),
    order_case("item payload NUL key", "items", items=[{"ref": "x", "payload": {"a\x00": 1}}]),
    raw_order_case(
        "item payload 1e5000",
        "items",
        items='[{"ref": "x", "payload": {"n": 1e5000}}]',
    ),
    raw_order_case(
        "item payload beyond a double",
        "items",
        items='[{"ref": "x", "payload": {"n": 1%s.5}}]' % ("0" * 400),
    ),
    raw_order_case(
        "100,001 items", "items", items=", ".join(['{"ref": "x"}'] * 100_001).join("[]")
    ),
    # The order's claim rules: a claim mode, per-team limits, a lease, a trial.
    *(
        order_case(f"claim mode {mode!r}", "claim_mode", claim_mode=mode)
        for mode in ("auction", "LOTTERY", "first-come", "", None, 1, True, ["lottery"])
    ),
    *(
        order_case(f"limits {limits!r}", "limits", limits=limits)
        for limits in (
            {"batches_held": 0},
            {"batches_held": -1},
            {"batches_held": 100_001},
            {"batches_held": "1"},
            {"batches_held": True},
            {"batches_held": 10**30},
            {"batches_per_drop": 0},
            {"batches_per_drop": 100_001},
            {"batches_per_drop": "2"},
            {"batches_per_drop": [2]},
            {"batches_per_drop": 2, "teams": 3},
            [{"batches_held": 1}],
            3,
            "1/drop",
        )
    ),
    raw_order_case("limits held 1.5", "limits", limits='{"batches_held": 1.5}'),
    raw_order_case("limits held 1.0", "limits", limits='{"batches_held": 1.0}'),
    raw_order_case("limits per drop 2e0", "limits", limits='{"batches_per_drop": 2e0}'),
    *(
        order_case(f"lease {hours!r}", "lease_hours", lease_hours=hours)
        for hours in (0, -1, 8785, 10**30, "24", True, [24], {"hours": 24})
    ),
    raw_order_case("lease 24.0", "lease_hours", lease_hours="24.0"),
    raw_order_case("lease 0.5", "lease_hours", lease_hours="0.5"),
    raw_order_case("lease 1e400", "lease_hours", lease_hours="1e400"),
    *(
        order_case(f"trial {name}", "trial", trial=TRIAL | change)
        for name, change in (
            ("batches 0", {"batches": 0}),
            ("batches 1001", {"batches": 1001}),
            ("batches '1'", {"batches": "1"}),
            ("batches null", {"batches": None}),
            ("batch size 0", {"batch_size": 0}),
            ("batch size 100001", {"batch_size": 100_001}),
            ("batch size true", {"batch_size": True}),
            ("pass score -1", {"pass_score": -1}),
            ("pass score 101", {"pass_score": 101}),
            ("pass score '80'", {"pass_score": "80"}),
            ("unknown field", {"teams": 2}),
        )
    ),
    *(
        order_case(
            f"trial without {field}", "trial", trial={k: v for k, v in TRIAL.items() if k != field}
        )
        for field in TRIAL
    ),
    order_case("trial a list", "trial", trial=[TRIAL]),
    order_case("trial true", "trial", trial=True),
    raw_order_case(
        "trial pass score 80.5",
        "trial",
        trial='{"batches": 1, "batch_size": 1, "pass_score": 80.5}',
    ),
    raw_order_case(
        "trial pass score 80.0",
        "trial",
        trial='{"batches": 1, "batch_size": 1, "pass_score": 80.0}',
    ),
    # Sourcing: claims or bids, and the client's caps on the chains of subcontracts.
    *(
        order_case(f"sourcing {sourcing!r}", "sourcing", sourcing=sourcing)
        for sourcing in ("auction", "BIDS", "bid", "claims ", "", None, 1, True, ["bids"])
    ),
    *(
        order_case(f"chain caps {caps!r}", "chain_caps", chain_caps=caps)
        for caps in (
            [CAPS],
            "3 deep",
            3,
            True,
            {"max_depth": 2, "depth": 2},
            {"max_depth": 0},
            {"max_depth": -1},
            {"max_depth": 21},
            {"max_depth": 10**30},
            {"max_depth": "3"},
            {"max_depth": True},
            {"max_depth": [3]},
            *(
                {"min_pass_through": share}
                for share in (
                    "0",
                    "-0",
                    "-0.5",
                    "0.00009",
                    "0.00001",
                    "0.12345",
                    "1.0001",
                    "2",
                    "1e400",
                    TOO_BIG,
                    "1e-999999",
                    "NaN",
                    "sNaN",
                    "Infinity",
                    "half",
                    "50%",
                    "",
                    "0.5_0",
                    "\u0660.\u0665",
                    True,
                    ["0.5"],
                    {"share": "0.5"},
                    2,
                )
            ),
        )
    ),
    *(
        raw_order_case(f"chain caps {literal}", "chain_caps", chain_caps=literal)
        for literal in (
            '{"max_depth": 3.0}',
            '{"max_depth": 2.5}',
            '{"max_depth": 3e0}',
            '{"max_depth": 1e400}',
            '{"min_pass_through": 0.00005}',
            '{"min_pass_through": 1e-5}',
            '{"min_pass_through": 0.12345}',
            '{"min_pass_through": 1.5}',
            '{"min_pass_through": -0.0}',
            '{"min_pass_through": 0}',
            f'{{"min_pass_through": {TOO_BIG}}}',
        )
    ),
    case(
        "chain caps NaN literal",
        POST_ORDER,
        400,
        "malformed_json",
        text=order_json(chain_caps='{"min_pass_through": NaN}'),
    ),
    # Valid fields, an order that cannot be: no plan for the lottery, no items left after the trial.
    case(
        "lottery without a release plan",
        POST_ORDER,
        422,
        "lottery_needs_release_plan",
        ORDER | {"claim_mode": "lottery", "limits": {"batches_per_drop": 1}},
    ),
    *(
        case(
            f"trial of {batches}x{size} for 2 items",
            POST_ORDER,
            422,
            "trial_too_large",
            ORDER | {"trial": {"batches": batches, "batch_size": size, "pass_score": 80}},
            details={"trial_items": batches * size, "quantity": 2},
        )
        for batches, size in ((1, 2), (2, 1), (1, 3), (1000, 100_000))
    ),
    # A bids order's batches go first come to its contract holders: no lottery, no trial.
    *(
        case(
            f"bids order {name}",
            POST_ORDER,
            422,
            "bids_order_claims_first_come",
            ORDER | {"sourcing": "bids"} | terms,
        )
        for name, terms in (
            ("by lottery", {"claim_mode": "lottery", "release_plan": PLAN}),
            ("by lottery without a plan", {"claim_mode": "lottery"}),
            ("with a trial", {"trial": TRIAL}),
            ("with capped chains and a trial", {"trial": TRIAL, "chain_caps": CAPS}),
        )
    ),
    # The schema is closed.
    order_case("unknown field", "priority", priority="high"),
]


def test_an_invalid_order_is_refused_whole(subtests, app, api, cast, story):
    run(subtests, app, api, cast, story, ORDER_FIELD_CASES)


# -- POST /orders: bodies ----------------------------------------------------------------


def body_case(case_id, text, status, code, content_type=JSON) -> Case:
    return case(case_id, POST_ORDER, status, code, text=text, content_type=content_type)


ORDER_BODY_CASES = [
    body_case("truncated", '{"title":', 400, "malformed_json"),
    body_case("no closing brace", order_json()[:-1], 400, "malformed_json"),
    body_case("extra brace", order_json() + "}", 400, "malformed_json"),
    body_case("single quotes", "{'title': 'Boxes'}", 400, "malformed_json"),
    body_case("NaN literal", '{"unit_price": NaN}', 400, "malformed_json"),
    body_case("NaN price", order_json(unit_price="NaN"), 400, "malformed_json"),
    body_case("Infinity price", order_json(unit_price="Infinity"), 400, "malformed_json"),
    body_case("-Infinity price", order_json(unit_price="-Infinity"), 400, "malformed_json"),
    body_case("not UTF-8", b'{"title": "\xff\xfe"}', 400, "malformed_json"),
    body_case("binary", b"\x00\x01\x02", 400, "malformed_json"),
    body_case("integer of 5,000 digits", order_json(batch_size="9" * 5000), 400, "malformed_json"),
    body_case(
        "nested 100,000 deep",
        order_json(title="[" * 100_000 + "]" * 100_000),
        400,
        "malformed_json",
    ),
    body_case("empty", "", 422, "validation_failed"),
    body_case("a list", "[]", 422, "validation_failed"),
    body_case("the order in a list", f"[{order_json()}]", 422, "validation_failed"),
    body_case("a string", '"x"', 422, "validation_failed"),
    body_case("a number", "42", 422, "validation_failed"),
    body_case("null", "null", 422, "validation_failed"),
    body_case("form-encoded", "title=Boxes", 415, "unsupported_media_type", FORM),
    body_case(
        "multipart",
        b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nBoxes\r\n--b--\r\n',
        415,
        "unsupported_media_type",
        "multipart/form-data; boundary=b",
    ),
    body_case("JSON as text/plain", order_json(), 415, "unsupported_media_type", TEXT),
    body_case("no content type", order_json(), 415, "unsupported_media_type", None),
    body_case("application/xml", order_json(), 415, "unsupported_media_type", "application/xml"),
]


def test_a_body_that_is_not_a_json_object_is_refused(subtests, app, api, cast, story):
    run(subtests, app, api, cast, story, ORDER_BODY_CASES)


# -- routes, identities and roles ----------------------------------------------------------

LOGIN = {"email": "li@example.com", "password": "correct horse battery"}

ROUTE_CASES = [
    # A non-numeric id is no route: 404 in the error shape.
    case("order abc", "client POST /orders/abc/publish", 404, "not_found"),
    case("order -1", "client POST /orders/-1/publish", 404, "not_found"),
    case("batch abc", "owner POST /batches/abc/claim", 404, "not_found"),
    case("rate abc", "owner PUT /orders/abc/piece-rate", 404, "not_found", {"unit_price": "0.06"}),
    case("task abc", "li POST /tasks/abc/submit", 404, "not_found", {"result": {}}),
    case(
        "submission abc",
        "reviewer POST /submissions/abc/review",
        404,
        "not_found",
        {"decision": "accept"},
    ),
    case("invoice order abc", "admin POST /orders/abc/invoices", 404, "not_found"),
    case(
        "invoice abc",
        "admin POST /invoices/abc/payments",
        404,
        "not_found",
        {"amount": "0.11", "reference": "R", "received_on": "2026-03-02"},
    ),
    case("unknown path", "client POST /no-such-thing", 404, "not_found"),
    case("DELETE /orders", "client DELETE /orders", 405, "method_not_allowed"),
    case("PUT /orders", "client PUT /orders", 405, "method_not_allowed", ORDER),
    # A numeric id beyond 64 bits is simply no such object.
    case("publish 10**20", f"client POST /orders/{HUGE_ID}/publish", 404, "order_not_found"),
    case("claim 10**20", f"owner POST /batches/{HUGE_ID}/claim", 404, "batch_not_found"),
    case("invoice 10**20", f"admin POST /orders/{HUGE_ID}/invoices", 404, "order_not_found"),
    case(
        "submit 10**20", f"li POST /tasks/{HUGE_ID}/submit", 404, "task_not_found", {"result": {}}
    ),
    # Who you are comes first: a stranger with a bad body learns only that.
    case("anonymous bad JSON", "anonymous POST /orders", 401, "missing_token", text='{"title":'),
    case("unknown token", "stranger POST /orders", 401, "invalid_token", ORDER),
    case(
        "basic auth",
        "anonymous POST /orders",
        401,
        "missing_token",
        ORDER,
        headers={"Authorization": "Basic bGk6eA=="},
    ),
    case("anonymous payout", "anonymous POST /payout-runs", 401, "missing_token", {"x": 1}),
    case("anonymous log out", "anonymous DELETE /auth/tokens/current", 401, "missing_token"),
    # Roles and parties.
    case("owner orders", "owner POST /orders", 403, "forbidden", ORDER),
    case("annotator orders", "li POST /orders", 403, "forbidden", ORDER),
    case("admin orders", "admin POST /orders", 403, "forbidden", ORDER),
    case(
        "order for the rival",
        POST_ORDER,
        404,
        "client_not_found",
        lambda ids: ORDER | {"client_id": ids["acme"]},
    ),
    # Logging in.
    case(
        "login without password",
        "anonymous POST /auth/tokens",
        422,
        "validation_failed",
        {"email": LOGIN["email"]},
    ),
    case(
        "login e-mail a number",
        "anonymous POST /auth/tokens",
        422,
        "validation_failed",
        LOGIN | {"email": 5},
    ),
    case(
        "login wrong password",
        "anonymous POST /auth/tokens",
        401,
        "invalid_credentials",
        LOGIN | {"password": "wrong"},
    ),
    case(
        "login as text/plain",
        "anonymous POST /auth/tokens",
        415,
        "unsupported_media_type",
        text=json.dumps(LOGIN),
        content_type=TEXT,
    ),
]


def test_routes_identities_and_roles(subtests, app, api, cast, story):
    run(subtests, app, api, cast, story, ROUTE_CASES)


# -- publishing and claiming ---------------------------------------------------------------

PUBLISH_DRAFT = "POST /orders/{draft}/publish"
CLAIM_FREE = "owner POST /batches/{free_batch}/claim"
CLAIM_TAKEN = "POST /batches/{taken_batch}/claim"

PUBLISH_AND_CLAIM_CASES = [
    case("publish unknown order", "client POST /orders/999999/publish", 404, "order_not_found"),
    case("publish again", "client POST /orders/{order}/publish", 409, "order_not_draft"),
    case("rival publishes", f"rival_client {PUBLISH_DRAFT}", 404, "order_not_found"),
    case("team publishes", f"owner {PUBLISH_DRAFT}", 404, "order_not_found"),
    case("annotator publishes", f"li {PUBLISH_DRAFT}", 404, "order_not_found"),
    case(
        "publish with a text body",
        f"client {PUBLISH_DRAFT}",
        415,
        "unsupported_media_type",
        text="now",
        content_type=TEXT,
    ),
    case("claim unknown batch", "owner POST /batches/999999/claim", 404, "batch_not_found"),
    case("claim a taken batch", f"rival_owner {CLAIM_TAKEN}", 409, "batch_taken"),
    case("claim it twice", f"owner {CLAIM_TAKEN}", 409, "batch_taken"),
    case("annotator claims", "li POST /batches/{free_batch}/claim", 403, "forbidden"),
    case("reviewer claims", "reviewer POST /batches/{free_batch}/claim", 403, "forbidden"),
    case("client claims", "client POST /batches/{free_batch}/claim", 403, "forbidden"),
    case("claim team by name", CLAIM_FREE, 422, "validation_failed", {"team_id": "lotus"}),
    case("claim team true", CLAIM_FREE, 422, "validation_failed", {"team_id": True}),
    case(
        "claim for tiger", CLAIM_FREE, 404, "team_not_found", lambda ids: {"team_id": ids["tiger"]}
    ),
    case("claim body a list", CLAIM_FREE, 422, "validation_failed", text="[]"),
    case("claim truncated", CLAIM_FREE, 400, "malformed_json", text='{"team_id":'),
    case(
        "claim form-encoded",
        CLAIM_FREE,
        415,
        "unsupported_media_type",
        text="team_id=3",
        content_type=FORM,
    ),
]


def test_publishing_and_claiming(subtests, app, api, cast, story):
    run(subtests, app, api, cast, story, PUBLISH_AND_CLAIM_CASES)


# -- piece rates, taking and submitting tasks ----------------------------------------------

SET_RATE = "PUT /orders/{order}/piece-rate"
RATE = f"owner {SET_RATE}"
TAKE = "li POST /tasks/next"
SUBMIT_HELD = "POST /tasks/{held_task}/submit"
RESULT = {"result": {}}
FIVE_FEN = {"unit_price": "0.05"}

WORK_CASES = [
    # Piece rates: above zero, at most 6 decimals, at most the contract's 0.10.
    case("rate 0.11", RATE, 409, "rate_above_contract_price", {"unit_price": "0.11"}),
    case("rate 0.100001", RATE, 409, "rate_above_contract_price", {"unit_price": "0.100001"}),
    *(
        case(f"rate {value!r}", RATE, 422, "validation_failed", {"unit_price": value})
        for value in ("0", "-0.01", "0.0000001", "NaN", "abc", None, True, ["0.05"])
    ),
    case("rate 1e999999", RATE, 422, "validation_failed", {"unit_price": TOO_BIG}),
    case("rate float 1e-7", RATE, 422, "validation_failed", text='{"unit_price": 0.0000001}'),
    case("rate missing", RATE, 422, "validation_failed", {}),
    case("rate extra field", RATE, 422, "validation_failed", FIVE_FEN | {"currency": "USD"}),
    case("rate as text", RATE, 415, "unsupported_media_type", text="0.05", content_type=TEXT),
    case("rival sets the rate", f"rival_owner {SET_RATE}", 404, "order_not_found", FIVE_FEN),
    case("annotator sets the rate", f"li {SET_RATE}", 403, "forbidden", FIVE_FEN),
    case("client sets the rate", f"client {SET_RATE}", 403, "forbidden", FIVE_FEN),
    case(
        "rate of the draft",
        "owner PUT /orders/{draft}/piece-rate",
        404,
        "order_not_found",
        FIVE_FEN,
    ),
    case(
        "rate of no order",
        "owner PUT /orders/999999/piece-rate",
        404,
        "order_not_found",
        FIVE_FEN,
    ),
    # Taking tasks: 1 to 500 at a time, annotators only.
    *(
        case(f"take {count!r}", TAKE, 422, "validation_failed", {"count": count})
        for count in (0, -1, 501, "ten", "1", True, None)
    ),
    case("take 1.5", TAKE, 422, "validation_failed", text='{"count": 1.5}'),
    case("take 1.0", TAKE, 422, "validation_failed", text='{"count": 1.0}'),
    case("take extra field", TAKE, 422, "validation_failed", {"count": 1, "order_id": 1}),
    case("owner takes", "owner POST /tasks/next", 403, "forbidden", {"count": 1}),
    case("client takes", "client POST /tasks/next", 403, "forbidden", {"count": 1}),
    case("rival owner takes", "rival_owner POST /tasks/next", 403, "forbidden", {"count": 1}),
    # Submitting: one's own assigned task, once, with an object for a result.
    case("submit another's task", f"wang {SUBMIT_HELD}", 404, "task_not_found", RESULT),
    case("owner submits Li's task", f"owner {SUBMIT_HELD}", 404, "task_not_found", RESULT),
    case("submit an open task", "li POST /tasks/{open_task}/submit", 404, "task_not_found", RESULT),
    case("submit unknown task", "li POST /tasks/999999/submit", 404, "task_not_found", RESULT),
    case("submit twice", "li POST /tasks/{waiting_task}/submit", 409, "task_not_open", RESULT),
    case(
        "submit an accepted task",
        "li POST /tasks/{accepted_task}/submit",
        409,
        "task_not_open",
        RESULT,
    ),
    *(
        case(
            f"result {result!r}", f"li {SUBMIT_HELD}", 422, "validation_failed", {"result": result}
        )
        for result in ([1, 2], "boxes", 5, None, True)
    ),
    case("result missing", f"li {SUBMIT_HELD}", 422, "validation_failed", {}),
    case("submit a list", f"li {SUBMIT_HELD}", 422, "validation_failed", text="[]"),
    case("submit truncated", f"li {SUBMIT_HELD}", 400, "malformed_json", text='{"result": {'),
    case("submit NaN", f"li {SUBMIT_HELD}", 400, "malformed_json", text='{"result": {"x": NaN}}'),
    case(
        "result with a lone surrogate",
        f"li {SUBMIT_HELD}",
        422,
        "validation_failed",
        text='{"result": {"label": "\\udc00"}}',
    ),
    case(
        "result 1e5000",
        f"li {SUBMIT_HELD}",
        422,
        "validation_failed",
        text='{"result": {"n": 1e5000}}',
    ),
    case(
        "result beyond a double",
        f"li {SUBMIT_HELD}",
        422,
        "validation_failed",
        text='{"result": {"n": 1%s.5}}' % ("0" * 400),
    ),
]


def test_piece_rates_taking_and_submitting(subtests, app, api, cast, story):
    run(subtests, app, api, cast, story, WORK_CASES)


# -- reviews -------------------------------------------------------------------------------

REVIEW_WAITING = "POST /submissions/{waiting}/review"
REVIEW = f"reviewer {REVIEW_WAITING}"
REVIEWS = "reviewer POST /reviews"
ACCEPT = {"decision": "accept"}


def decisions(*rows):
    """A /reviews body from (submission, decision[, reason]) rows; a submission is the name
    of one of the story's ids, or a number."""

    def build(ids):
        return {
            "decisions": [
                {"submission_id": ids.get(submission, submission), "decision": decision}
                | ({"reason_code": "box_off_target", "reason": reason[0]} if reason else {})
                for submission, decision, *reason in rows
            ]
        }

    return build


REVIEW_CASES = [
    case("reject, no reason", REVIEW, 422, "validation_failed", {"decision": "reject"}),
    *(
        case(
            f"reject, reason {reason!r}",
            REVIEW,
            422,
            "validation_failed",
            {"decision": "reject", "reason_code": "box_off_target", "reason": reason},
        )
        for reason in ("", "x" * 501)
    ),
    *(
        case(
            f"reject, reason {reason!r}",
            REVIEW,
            422,
            "validation_failed",
            {"decision": "reject", "reason_code": "box_off_target", "reason": reason},
        )
        for reason in ("   ", "box\x00")
    ),
    case(
        "reject, reason without a code",
        REVIEW,
        422,
        "validation_failed",
        {"decision": "reject", "reason": "blurry"},
        field="reason_code",
    ),
    *(
        case(
            f"reject, reason code {code!r}",
            REVIEW,
            422,
            "validation_failed",
            {"decision": "reject", "reason_code": code},
            field="reason_code",
        )
        for code in ("", "   ", "x" * 65, 5, None, "a\x00")
    ),
    case(
        "reject, reason code of another task type",
        REVIEW,
        422,
        "unknown_reason_code",
        {"decision": "reject", "reason_code": "wrong_rating"},
    ),
    *(
        case(f"decision {d!r}", REVIEW, 422, "validation_failed", {"decision": d})
        for d in ("maybe", "ACCEPT", "", True, None)
    ),
    case("decision missing", REVIEW, 422, "validation_failed", {}),
    case(
        "review unknown submission",
        "reviewer POST /submissions/999999/review",
        404,
        "submission_not_found",
        ACCEPT,
    ),
    case(
        "review again",
        "reviewer POST /submissions/{accepted}/review",
        409,
        "already_reviewed",
        {"decision": "reject", "reason_code": "other", "reason": "changed my mind"},
    ),
    case("rival reviews", f"rival_reviewer {REVIEW_WAITING}", 404, "submission_not_found", ACCEPT),
    case("annotator reviews", f"wang {REVIEW_WAITING}", 403, "forbidden", ACCEPT),
    case("client reviews", f"client {REVIEW_WAITING}", 404, "submission_not_found", ACCEPT),
    # Many at once: all decisions apply, or none.
    case("reviews empty", REVIEWS, 422, "validation_failed", {"decisions": []}),
    case("reviews missing", REVIEWS, 422, "validation_failed", {}),
    case("reviews an object", REVIEWS, 422, "validation_failed", {"decisions": ACCEPT}),
    case(
        "reviews 1,001",
        REVIEWS,
        422,
        "validation_failed",
        decisions(*[(n, "accept") for n in range(1, 1002)]),
    ),
    case(
        "reviews id a string",
        REVIEWS,
        422,
        "validation_failed",
        lambda ids: {"decisions": [{"submission_id": str(ids["waiting"]), "decision": "accept"}]},
    ),
    case(
        "reviews same id twice",
        REVIEWS,
        409,
        "duplicate_decision",
        decisions(("waiting", "accept"), ("waiting", "accept")),
    ),
    case(
        "reviews same id both ways",
        REVIEWS,
        409,
        "duplicate_decision",
        decisions(("waiting", "accept"), ("waiting_2", "accept"), ("waiting", "reject", "no")),
    ),
    case(
        "reviews last unknown",
        REVIEWS,
        404,
        "submission_not_found",
        decisions(("waiting", "accept"), ("waiting_2", "reject", "blurry"), (999999, "accept")),
    ),
    case(
        "reviews last already reviewed",
        REVIEWS,
        409,
        "already_reviewed",
        decisions(("waiting", "accept"), ("waiting_2", "reject", "blurry"), ("accepted", "accept")),
    ),
    case(
        "reviews last without reason",
        REVIEWS,
        422,
        "validation_failed",
        decisions(("waiting", "accept"), ("waiting_2", "reject")),
    ),
    case(
        "reviews last not an object",
        REVIEWS,
        422,
        "validation_failed",
        lambda ids: {"decisions": [{"submission_id": ids["waiting"], "decision": "accept"}, 7]},
    ),
    case(
        "reviews by the rival",
        "rival_reviewer POST /reviews",
        404,
        "submission_not_found",
        decisions(("waiting", "accept")),
    ),
    case(
        "reviews last beyond 64 bits",
        REVIEWS,
        404,
        "submission_not_found",
        decisions(("waiting", "accept"), (HUGE_ID, "accept")),
    ),
]


def test_reviews(subtests, app, api, cast, story):
    run(subtests, app, api, cast, story, REVIEW_CASES)


# -- claims under the order's rules: interest, standing rules, trials ---------------------

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


# PUT /orders/{id}/interest: a count of batches of the lottery's next drop.
INTEREST_PATH = "/orders/{lottery}/interest"
INTEREST = f"owner PUT {INTEREST_PATH}"
ONE = {"batches": 1}

INTEREST_CASES = [
    *(
        case(f"batches {n!r}", INTEREST, 422, "validation_failed", {"batches": n}, field="batches")
        for n in (0, -1, 100_001, 10**30, "1", "one", True, None, [1], {"n": 1})
    ),
    *(
        case(
            f"batches {n}",
            INTEREST,
            422,
            "validation_failed",
            text=f'{{"batches": {n}}}',
            field="batches",
        )
        for n in ("1.0", "1.5", "1e0", "1e400", "-0.0")
    ),
    case("batches missing", INTEREST, 422, "validation_failed", {}, field="batches"),
    case(
        "batches missing, team only",
        INTEREST,
        422,
        "validation_failed",
        lambda ids: {"team_id": ids["lotus"]},
        field="batches",
    ),
    case(
        "interest team by name",
        INTEREST,
        422,
        "validation_failed",
        ONE | {"team_id": "lotus"},
        field="team_id",
    ),
    case(
        "interest team '3'",
        INTEREST,
        422,
        "validation_failed",
        lambda ids: ONE | {"team_id": str(ids["lotus"])},
        field="team_id",
    ),
    case(
        "interest team 1.0",
        INTEREST,
        422,
        "validation_failed",
        text='{"batches": 1, "team_id": 1.0}',
        field="team_id",
    ),
    case(
        "interest for tiger",
        INTEREST,
        404,
        "team_not_found",
        lambda ids: ONE | {"team_id": ids["tiger"]},
    ),
    case("interest for 10**20", INTEREST, 404, "team_not_found", ONE | {"team_id": HUGE_ID}),
    case(
        "interest unknown field",
        INTEREST,
        422,
        "validation_failed",
        ONE | {"drop": "next"},
        field="drop",
    ),
    case("interest a list", INTEREST, 422, "validation_failed", text="[]"),
    case("interest a number", INTEREST, 422, "validation_failed", text="1"),
    case("interest empty body", INTEREST, 422, "validation_failed", text=""),
    case("interest truncated", INTEREST, 400, "malformed_json", text='{"batches": '),
    case("interest NaN", INTEREST, 400, "malformed_json", text='{"batches": NaN}'),
    case(
        "interest integer of 5,000 digits",
        INTEREST,
        400,
        "malformed_json",
        text='{"batches": %s}' % ("9" * 5000),
    ),
    case(
        "interest form-encoded",
        INTEREST,
        415,
        "unsupported_media_type",
        text="batches=1",
        content_type=FORM,
    ),
    case(
        "interest as text",
        INTEREST,
        415,
        "unsupported_media_type",
        text='{"batches": 1}',
        content_type=TEXT,
    ),
    # Which order, and who asks.
    case("interest in order abc", "owner PUT /orders/abc/interest", 404, "not_found", ONE),
    case("interest in no order", "owner PUT /orders/999999/interest", 404, "order_not_found", ONE),
    case(
        "interest in 10**20", f"owner PUT /orders/{HUGE_ID}/interest", 404, "order_not_found", ONE
    ),
    case(
        "interest in the draft", "owner PUT /orders/{draft}/interest", 404, "order_not_found", ONE
    ),
    case("client asks in its draft", "client PUT /orders/{draft}/interest", 403, "forbidden", ONE),
    case("client asks", f"client PUT {INTEREST_PATH}", 403, "forbidden", ONE),
    case("rival client asks", f"rival_client PUT {INTEREST_PATH}", 404, "order_not_found", ONE),
    case("annotator asks", f"li PUT {INTEREST_PATH}", 403, "forbidden", ONE),
    case("reviewer asks", f"reviewer PUT {INTEREST_PATH}", 403, "forbidden", ONE),
    case("admin asks", f"admin PUT {INTEREST_PATH}", 403, "forbidden", ONE),
    case("anonymous asks", f"anonymous PUT {INTEREST_PATH}", 401, "missing_token", ONE),
    case("stranger asks", f"stranger PUT {INTEREST_PATH}", 401, "invalid_token", ONE),
    case(
        "anonymous bad interest",
        f"anonymous PUT {INTEREST_PATH}",
        401,
        "missing_token",
        text='{"batches":',
    ),
    case("POST interest", f"owner POST {INTEREST_PATH}", 405, "method_not_allowed", ONE),
    # Valid requests the order's rules refuse.
    case(
        "interest in a first-come order",
        "owner PUT /orders/{order}/interest",
        409,
        "not_a_lottery",
        ONE,
    ),
    case(
        "interest in a first-come trial order",
        "owner PUT /orders/{trial_order}/interest",
        409,
        "not_a_lottery",
        ONE,
    ),
    case(
        "interest after the last drop",
        "owner PUT /orders/{ended}/interest",
        409,
        "no_drop_coming",
        ONE,
    ),
    *(
        case(
            f"interest in {n} of a drop, 2 allowed",
            INTEREST,
            409,
            "claim_limit_reached",
            {"batches": n},
            details={"limit": "batches_per_drop", "max": 2, "wanted": n},
        )
        for n in (3, 100_000)
    ),
    case(
        "tiger raises its interest over the limit",
        f"rival_owner PUT {INTEREST_PATH}",
        409,
        "claim_limit_reached",
        {"batches": 3},
        details={"limit": "batches_per_drop", "max": 2, "used": 0},
    ),
    case(
        "interest before a trial",
        "owner PUT /orders/{lottery_trial}/interest",
        409,
        "trial_required",
        ONE,
        details={"pass_score": 50},
    ),
    case(
        "interest before the trial is scored",
        "rival_owner PUT /orders/{lottery_trial}/interest",
        409,
        "trial_required",
        ONE,
        details={"pass_score": 50},
    ),
    # Taking interest back: only one's own team's, in a drop still coming.
    case("withdraw no interest", f"owner DELETE {INTEREST_PATH}", 404, "interest_not_found"),
    case(
        "withdraw tiger's", f"owner DELETE {INTEREST_PATH}?team_id={{tiger}}", 404, "team_not_found"
    ),
    case(
        "withdraw for 10**20",
        f"owner DELETE {INTEREST_PATH}?team_id={HUGE_ID}",
        404,
        "team_not_found",
    ),
    case(
        "withdraw team by name",
        f"rival_owner DELETE {INTEREST_PATH}?team_id=tiger",
        422,
        "validation_failed",
        field="team_id",
        location="query",
    ),
    case(
        "withdraw team 1.5",
        f"rival_owner DELETE {INTEREST_PATH}?team_id=1.5",
        422,
        "validation_failed",
        field="team_id",
        location="query",
    ),
    case(
        "withdraw from no order",
        "rival_owner DELETE /orders/999999/interest",
        404,
        "order_not_found",
    ),
    case(
        "withdraw from 10**20",
        f"rival_owner DELETE /orders/{HUGE_ID}/interest",
        404,
        "order_not_found",
    ),
    case(
        "withdraw from the draft",
        "rival_owner DELETE /orders/{draft}/interest",
        404,
        "order_not_found",
    ),
    case(
        "withdraw after the last drop",
        "rival_owner DELETE /orders/{ended}/interest",
        409,
        "no_drop_coming",
    ),
    case("client withdraws", f"client DELETE {INTEREST_PATH}", 403, "forbidden"),
    case("annotator withdraws", f"rival_annotator DELETE {INTEREST_PATH}", 403, "forbidden"),
    case("anonymous withdraws", f"anonymous DELETE {INTEREST_PATH}", 401, "missing_token"),
]


def test_interest_in_a_lottery_drop(subtests, app, api, cast, rules_world):
    run_rules(subtests, app, api, cast, rules_world, INTEREST_CASES)


# POST /claim-rules and DELETE /claim-rules/{id}: a team's standing claims.
RULES = "owner POST /claim-rules"


def rule(**changes):
    """A valid rule matching the lottery (its client, currency, task type, price, order),
    with fields changed (to `...`: left out)."""

    def build(ids):
        body = {
            "batches_per_drop": 2,
            "task_type": "bbox_2d",
            "client_id": ids["horizon"],
            "currency": "CNY",
            "min_unit_price": "0.05",
            "order_id": ids["lottery"],
        } | {key: value(ids) if callable(value) else value for key, value in changes.items()}
        return {key: value for key, value in body.items() if value is not ...}

    return build


def rule_case(case_id, field, status=422, code="validation_failed", **changes) -> Case:
    return case(
        case_id,
        RULES,
        status,
        code,
        rule(**changes),
        field=field if code == "validation_failed" else None,
    )


def raw_rule_case(case_id, field, literal) -> Case:
    """A rule of one field, written as a raw JSON literal, besides the batch count."""
    text = (
        f'{{"batches_per_drop": 2, "{field}": {literal}}}'
        if field != "batches_per_drop"
        else (f'{{"batches_per_drop": {literal}}}')
    )
    return case(case_id, RULES, 422, "validation_failed", text=text, field=field)


CLAIM_RULE_CASES = [
    rule_case("batches missing", "batches_per_drop", batches_per_drop=...),
    *(
        rule_case(f"batches {n!r}", "batches_per_drop", batches_per_drop=n)
        for n in (0, -1, 100_001, 10**30, "2", True, None, [2])
    ),
    *(raw_rule_case(f"batches {n}", "batches_per_drop", n) for n in ("2.0", "2.5", "2e0")),
    # Filters.
    *(
        rule_case(f"task type {t!r}", "task_type", task_type=t)
        for t in ("", "x" * 65, 5, ["bbox_2d"])
    ),
    rule_case("task type with NUL", "task_type", task_type="bbox\x00"),
    rule_case("task type blank", "task_type", task_type="   "),
    *(rule_case(f"client {c!r}", "client_id", client_id=c) for c in ("2", "horizon", True)),
    raw_rule_case("client 2.0", "client_id", "2.0"),
    rule_case("client unknown", None, 422, "unknown_client", client_id=999_999),
    rule_case("client 10**20", None, 422, "unknown_client", client_id=HUGE_ID),
    rule_case("client 0", None, 422, "unknown_client", client_id=0),
    rule_case("client -1", None, 422, "unknown_client", client_id=-1),
    rule_case("client a team", None, 422, "unknown_client", client_id=lambda ids: ids["tiger"]),
    rule_case(
        "client our own team", None, 422, "unknown_client", client_id=lambda ids: ids["lotus"]
    ),
    rule_case(
        "client the platform", None, 422, "unknown_client", client_id=lambda ids: ids["platform"]
    ),
    *(
        rule_case(f"currency {c!r}", "currency", currency=c)
        for c in ("XXY", "cny", " CNY", "", "XXX", "XTS", "DEM", "CNH", 156, ["CNY"])
    ),
    *(
        rule_case(f"min price {p!r}", "min_unit_price", min_unit_price=p)
        for p in (
            "0",
            "-0",
            "-0.05",
            "0.0000001",
            "1000000.000001",
            "1e400",
            TOO_BIG,
            "NaN",
            "sNaN",
            "Infinity",
            "five fen",
            "",
            "0.0_5",
            "\u0660.\u0665",
            True,
            ["0.05"],
            {"amount": "0.05"},
            1_000_001,
        )
    ),
    *(
        raw_rule_case(f"min price float {p}", "min_unit_price", p)
        for p in ("0.0000001", "1e-7", "-0.0", "0", "1e400", "1000000.5", TOO_BIG)
    ),
    case(
        "min price NaN literal",
        RULES,
        400,
        "malformed_json",
        text='{"batches_per_drop": 2, "min_unit_price": NaN}',
    ),
    *(rule_case(f"order {o!r}", "order_id", order_id=o) for o in ("1", True, [1])),
    raw_rule_case("order 1.0", "order_id", "1.0"),
    rule_case("order unknown", None, 422, "unknown_order", order_id=999_999),
    rule_case("order 10**20", None, 422, "unknown_order", order_id=HUGE_ID),
    rule_case("order 0", None, 422, "unknown_order", order_id=0),
    rule_case("order the draft", None, 422, "unknown_order", order_id=lambda ids: ids["draft"]),
    rule_case("minimum price without currency", None, 422, "currency_required", currency=...),
    rule_case("team by name", "team_id", team_id="lotus"),
    rule_case("team tiger", None, 404, "team_not_found", team_id=lambda ids: ids["tiger"]),
    rule_case("team 10**20", None, 404, "team_not_found", team_id=HUGE_ID),
    rule_case("unknown field", "max_unit_price", max_unit_price="1.00"),
    rule_case("filter by title", "title", title="Boxes"),
    # Bodies.
    case("rule a list", RULES, 422, "validation_failed", text="[]"),
    case("rule null", RULES, 422, "validation_failed", text="null"),
    case("rule empty body", RULES, 422, "validation_failed", text=""),
    case("rule truncated", RULES, 400, "malformed_json", text='{"batches_per_drop": '),
    case("rule not UTF-8", RULES, 400, "malformed_json", text=b'{"task_type": "\xff"}'),
    case(
        "rule form-encoded",
        RULES,
        415,
        "unsupported_media_type",
        text="batches_per_drop=2",
        content_type=FORM,
    ),
    case(
        "rule as text",
        RULES,
        415,
        "unsupported_media_type",
        text='{"batches_per_drop": 2}',
        content_type=TEXT,
    ),
    # Who.
    case("client saves a rule", "client POST /claim-rules", 403, "forbidden", rule()),
    case("annotator saves a rule", "li POST /claim-rules", 403, "forbidden", rule()),
    case("reviewer saves a rule", "reviewer POST /claim-rules", 403, "forbidden", rule()),
    case("admin saves a rule", "admin POST /claim-rules", 403, "forbidden", rule()),
    case("anonymous saves a rule", "anonymous POST /claim-rules", 401, "missing_token", rule()),
    case("PUT /claim-rules", "owner PUT /claim-rules", 405, "method_not_allowed", rule()),
    # Deleting: one's own team's rule only.
    case(
        "delete tiger's rule", "owner DELETE /claim-rules/{tiger_rule}", 404, "claim_rule_not_found"
    ),
    case(
        "client deletes tiger's rule",
        "client DELETE /claim-rules/{tiger_rule}",
        404,
        "claim_rule_not_found",
    ),
    case(
        "annotator deletes tiger's rule",
        "rival_annotator DELETE /claim-rules/{tiger_rule}",
        404,
        "claim_rule_not_found",
    ),
    case("delete no rule", "rival_owner DELETE /claim-rules/999999", 404, "claim_rule_not_found"),
    case(
        "delete rule 10**20",
        f"rival_owner DELETE /claim-rules/{HUGE_ID}",
        404,
        "claim_rule_not_found",
    ),
    case("delete rule abc", "rival_owner DELETE /claim-rules/abc", 404, "not_found"),
    case("delete rule -1", "rival_owner DELETE /claim-rules/-1", 404, "not_found"),
    case("anonymous deletes", "anonymous DELETE /claim-rules/{tiger_rule}", 401, "missing_token"),
]


def test_standing_claim_rules(subtests, app, api, cast, rules_world):
    run_rules(subtests, app, api, cast, rules_world, CLAIM_RULE_CASES)


# POST /batches/{id}/trial-score: the client scores a finished trial, once.
SCORE_DONE = "POST /batches/{trial_done}/trial-score"
SCORE = f"client {SCORE_DONE}"
PASS = {"score": 80}

TRIAL_SCORE_CASES = [
    *(
        case(f"score {n!r}", SCORE, 422, "validation_failed", {"score": n}, field="score")
        for n in (-1, 101, 10**30, "80", "eighty", True, None, [80], {"value": 80})
    ),
    *(
        case(f"score {n}", SCORE, 422, "validation_failed", text=f'{{"score": {n}}}', field="score")
        for n in ("80.0", "80.5", "8e1", "1e400", "-0.0")
    ),
    case("score missing", SCORE, 422, "validation_failed", {"note": "fine"}, field="score"),
    case("score NaN", SCORE, 400, "malformed_json", text='{"score": NaN}'),
    case("score Infinity", SCORE, 400, "malformed_json", text='{"score": Infinity}'),
    *(
        case(f"note {name}", SCORE, 422, "validation_failed", PASS | {"note": note}, field="note")
        for name, note in (
            ("of 1001", "x" * 1001),
            ("a number", 5),
            ("a list", ["fine"]),
            ("with NUL", "fi\x00ne"),
        )
    ),
    case(
        "note a lone surrogate",
        SCORE,
        422,
        "validation_failed",
        text='{"score": 80, "note": "\\ud800"}',
        field="note",
    ),
    case(
        "score unknown field",
        SCORE,
        422,
        "validation_failed",
        PASS | {"passed": True},
        field="passed",
    ),
    case(
        "score for a team",
        SCORE,
        422,
        "validation_failed",
        lambda ids: PASS | {"team_id": ids["tiger"]},
        field="team_id",
    ),
    case("score a list", SCORE, 422, "validation_failed", text="[80]"),
    case("score a bare number", SCORE, 422, "validation_failed", text="80"),
    case("score empty body", SCORE, 422, "validation_failed", text=""),
    case("score truncated", SCORE, 400, "malformed_json", text='{"score": 8'),
    case(
        "score form-encoded",
        SCORE,
        415,
        "unsupported_media_type",
        text="score=80",
        content_type=FORM,
    ),
    case("score as text", SCORE, 415, "unsupported_media_type", text="80", content_type=TEXT),
    # Which batch.
    case("score batch abc", "client POST /batches/abc/trial-score", 404, "not_found", PASS),
    case("score no batch", "client POST /batches/999999/trial-score", 404, "batch_not_found", PASS),
    case(
        "score batch 10**20",
        f"client POST /batches/{HUGE_ID}/trial-score",
        404,
        "batch_not_found",
        PASS,
    ),
    case(
        "score a regular batch",
        "client POST /batches/{regular_batch}/trial-score",
        409,
        "not_a_trial",
        PASS,
    ),
    case(
        "score the story's batch",
        "client POST /batches/{taken_batch}/trial-score",
        409,
        "not_a_trial",
        PASS,
    ),
    case(
        "score a trial nobody took",
        "client POST /batches/{trial_free}/trial-score",
        409,
        "trial_not_finished",
        PASS,
        details={"status": "released"},
    ),
    case(
        "score a trial being worked",
        "client POST /batches/{trial_claimed}/trial-score",
        409,
        "trial_not_finished",
        PASS,
        details={"status": "claimed"},
    ),
    case(
        "score a trial again",
        "client POST /batches/{trial_scored}/trial-score",
        409,
        "trial_already_scored",
        {"score": 10},
        details={"score": 90},
    ),
    # Who: the order's client only.
    case("team scores its own trial", f"rival_owner {SCORE_DONE}", 403, "forbidden", PASS),
    case("reviewer scores", f"rival_reviewer {SCORE_DONE}", 403, "forbidden", PASS),
    case("other team scores", f"owner {SCORE_DONE}", 403, "forbidden", PASS),
    case("admin scores", f"admin {SCORE_DONE}", 403, "forbidden", PASS),
    case("rival client scores", f"rival_client {SCORE_DONE}", 404, "batch_not_found", PASS),
    case("anonymous scores", f"anonymous {SCORE_DONE}", 401, "missing_token", PASS),
    case("stranger scores", f"stranger {SCORE_DONE}", 401, "invalid_token", PASS),
    case(
        "PUT a score",
        "client PUT /batches/{trial_done}/trial-score",
        405,
        "method_not_allowed",
        PASS,
    ),
]


def test_trial_scores(subtests, app, api, cast, rules_world):
    run_rules(subtests, app, api, cast, rules_world, TRIAL_SCORE_CASES)


# -- subcontracting: bids, awards, offers, cost floors --------------------------------------

SIGNED_OVERFLOW = 2**63  # one past the largest id a 64-bit column holds


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


# POST /orders/{id}/bids and POST /offers/{id}/bids: a team's price and quantity.
BID_ON_BIDS = "POST /orders/{bids}/bids"
BID = f"rival_owner {BID_ON_BIDS}"
BID_ON_OPEN = "POST /offers/{open_offer}/bids"
GOOD_BID = {"unit_price": "0.09", "quantity": 5}


def bid_case(case_id, field, route=BID, **changes) -> Case:
    """Tiger's valid bid for 5 boxes at 0.09, with fields changed (to `...`: left out)."""
    body = {key: value for key, value in (GOOD_BID | changes).items() if value is not ...}
    return case(case_id, route, 422, "validation_failed", body, field=field)


def raw_bid_case(case_id, field, route=BID, **literals) -> Case:
    """Tiger's valid bid with fields written as raw JSON literals."""
    body = {key: json.dumps(value) for key, value in GOOD_BID.items()} | literals
    text = "{" + ", ".join(f'"{key}": {value}' for key, value in body.items()) + "}"
    return case(case_id, route, 422, "validation_failed", text=text, field=field)


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

BID_CASES = [
    bid_case("price missing", "unit_price", unit_price=...),
    *(bid_case(f"price {p!r}", "unit_price", unit_price=p) for p in PRICES),
    *(raw_bid_case(f"price float {p}", "unit_price", unit_price=p) for p in FLOAT_PRICES),
    case(
        "price NaN literal",
        BID,
        400,
        "malformed_json",
        text='{"unit_price": NaN, "quantity": 5}',
    ),
    bid_case("quantity missing", "quantity", quantity=...),
    *(bid_case(f"quantity {q!r}", "quantity", quantity=q) for q in QUANTITIES),
    *(raw_bid_case(f"quantity {q}", "quantity", quantity=q) for q in FLOAT_QUANTITIES),
    *(
        bid_case(f"note {name}", "note", note=note)
        for name, note in (
            ("of 1001", "x" * 1001),
            ("a number", 5),
            ("a list", ["cheap"]),
            ("with NUL", "ch\x00eap"),
            ("null", None),
        )
    ),
    raw_bid_case("note a lone surrogate", "note", note='"\\ud800"'),
    *(bid_case(f"team {t!r}", "team_id", team_id=t) for t in ("tiger", "7", True, [7])),
    raw_bid_case("team 7.0", "team_id", team_id="7.0"),
    case(
        "bid for lotus",
        BID,
        404,
        "team_not_found",
        lambda ids: GOOD_BID | {"team_id": ids["lotus"]},
    ),
    case("bid for team 10**20", BID, 404, "team_not_found", GOOD_BID | {"team_id": HUGE_ID}),
    bid_case("bid unknown field", "currency", currency="CNY"),
    bid_case("bid names its contract", "contract_id", contract_id=1),
    # Bodies.
    case("bid a list", BID, 422, "validation_failed", text="[]"),
    case("bid null", BID, 422, "validation_failed", text="null"),
    case("bid empty body", BID, 422, "validation_failed", text=""),
    case("bid truncated", BID, 400, "malformed_json", text='{"unit_price": "0.09", '),
    case("bid not UTF-8", BID, 400, "malformed_json", text=b'{"note": "\xff"}'),
    case(
        "bid form-encoded",
        BID,
        415,
        "unsupported_media_type",
        text="unit_price=0.09&quantity=5",
        content_type=FORM,
    ),
    case("bid as text", BID, 415, "unsupported_media_type", text="0.09 x 5", content_type=TEXT),
    # Valid bids the order refuses: more than it has, or an order that takes claims.
    *(
        case(
            f"bid for {q} of 20",
            BID,
            422,
            "quantity_too_large",
            GOOD_BID | {"quantity": q},
            details={"most": 20},
        )
        for q in (21, 10_000_000)
    ),
    case(
        "bid on a claims order",
        "rival_owner POST /orders/{order}/bids",
        409,
        "not_open_for_bids",
        GOOD_BID,
    ),
    case("bid on the draft", "owner POST /orders/{draft}/bids", 404, "order_not_found", GOOD_BID),
    case("bid on order abc", "owner POST /orders/abc/bids", 404, "not_found", GOOD_BID),
    *(
        case(f"bid on order {n}", f"owner POST /orders/{n}/bids", 404, "order_not_found", GOOD_BID)
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    # Who: team owners only.
    case("client bids", f"client {BID_ON_BIDS}", 403, "forbidden", GOOD_BID),
    case("rival client bids", f"rival_client {BID_ON_BIDS}", 404, "order_not_found", GOOD_BID),
    case("annotator bids", f"li {BID_ON_BIDS}", 403, "forbidden", GOOD_BID),
    case("reviewer bids", f"reviewer {BID_ON_BIDS}", 403, "forbidden", GOOD_BID),
    case("admin bids", f"admin {BID_ON_BIDS}", 403, "forbidden", GOOD_BID),
    case("anonymous bids", f"anonymous {BID_ON_BIDS}", 401, "missing_token", GOOD_BID),
    case(
        "anonymous bad bid",
        f"anonymous {BID_ON_BIDS}",
        401,
        "missing_token",
        {"unit_price": "NaN", "quantity": 0},
    ),
    case("stranger bids", f"stranger {BID_ON_BIDS}", 401, "invalid_token", GOOD_BID),
    case("PUT a bid", "owner PUT /orders/{bids}/bids", 405, "method_not_allowed", GOOD_BID),
    # Bids on offers: open to all, up to what is left, all of an offer's batches.
    bid_case("offer bid price 0", "unit_price", f"rival_owner {BID_ON_OPEN}", unit_price="0"),
    bid_case(
        "offer bid price 1e999999", "unit_price", f"rival_owner {BID_ON_OPEN}", unit_price=TOO_BIG
    ),
    raw_bid_case(
        "offer bid price float 1e-7", "unit_price", f"rival_owner {BID_ON_OPEN}", unit_price="1e-7"
    ),
    bid_case("offer bid quantity 0", "quantity", f"rival_owner {BID_ON_OPEN}", quantity=0),
    raw_bid_case(
        "offer bid quantity 1.0", "quantity", f"rival_owner {BID_ON_OPEN}", quantity="1.0"
    ),
    bid_case("offer bid unknown field", "offer_id", f"rival_owner {BID_ON_OPEN}", offer_id=1),
    case(
        "offer bid as text",
        f"rival_owner {BID_ON_OPEN}",
        415,
        "unsupported_media_type",
        text="0.05",
        content_type=TEXT,
    ),
    case(
        "bid for 2 of the offer's 1",
        f"rival_owner {BID_ON_OPEN}",
        422,
        "quantity_too_large",
        {"unit_price": "0.05", "quantity": 2},
        details={"most": 1},
    ),
    *(
        case(
            f"bid for {q} of a batch offer's 5",
            "rival_owner POST /offers/{batch_offer}/bids",
            422,
            "quantity_mismatch",
            {"unit_price": "0.05", "quantity": q},
            details={"offer_quantity": 5},
        )
        for q in (1, 4, 6)
    ),
    case(
        "bid on one's own offer",
        f"owner {BID_ON_OPEN}",
        409,
        "offer_not_open",
        {"unit_price": "0.05", "quantity": 1},
    ),
    case(
        "bid on an offer made to one team",
        "apex POST /offers/{taken_offer}/bids",
        409,
        "offer_not_open",
        {"unit_price": "0.05", "quantity": 1},
    ),
    case(
        "bid on a withdrawn offer",
        "rival_owner POST /offers/{withdrawn_offer}/bids",
        409,
        "offer_not_open",
        {"unit_price": "0.05", "quantity": 1},
    ),
    case(
        "bid on another team's offer",
        "rival_owner POST /offers/{taken_offer}/bids",
        404,
        "offer_not_found",
        {"unit_price": "0.05", "quantity": 1},
    ),
    case("client bids on an offer", f"client {BID_ON_OPEN}", 404, "offer_not_found", GOOD_BID),
    case("annotator bids on an offer", f"li {BID_ON_OPEN}", 404, "offer_not_found", GOOD_BID),
    case("bid on offer abc", "rival_owner POST /offers/abc/bids", 404, "not_found", GOOD_BID),
    *(
        case(
            f"bid on offer {n}",
            f"rival_owner POST /offers/{n}/bids",
            404,
            "offer_not_found",
            GOOD_BID,
        )
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("anonymous bids on an offer", f"anonymous {BID_ON_OPEN}", 401, "missing_token", GOOD_BID),
]


def test_bids(subtests, app, api, cast, chain_world):
    run_chain(subtests, app, api, cast, chain_world, BID_CASES)


# POST /bids/{id}/award and DELETE /bids/{id}: the client's (or the offer maker's) awards.
AWARD_TIGER = "POST /bids/{tiger_bid}/award"
AWARD = f"client {AWARD_TIGER}"

AWARD_CASES = [
    # What is left of the order: 5 of its 20 boxes, Tiger bid for all 20.
    case(
        "award all of a bid for more than is left",
        AWARD,
        409,
        "quantity_exceeded",
        {},
        details={"order_quantity": 20, "awarded": 15, "available": 5},
    ),
    case(
        "award a null quantity",
        AWARD,
        409,
        "quantity_exceeded",
        {"quantity": None},
        details={"available": 5},
    ),
    case("award 6 of 5 left", AWARD, 409, "quantity_exceeded", {"quantity": 6}),
    case(
        "award more than the bid",
        AWARD,
        422,
        "quantity_too_large",
        {"quantity": 21},
        details={"most": 20},
    ),
    *(
        case(f"award {q!r}", AWARD, 422, "validation_failed", {"quantity": q}, field="quantity")
        for q in (0, -1, 10_000_001, 10**30, "5", True, [5], {"n": 5})
    ),
    *(
        case(
            f"award {q}",
            AWARD,
            422,
            "validation_failed",
            text=f'{{"quantity": {q}}}',
            field="quantity",
        )
        for q in FLOAT_QUANTITIES
    ),
    case(
        "award at a price",
        AWARD,
        422,
        "validation_failed",
        {"quantity": 5, "unit_price": "0.09"},
        field="unit_price",
    ),
    case("award a list", AWARD, 422, "validation_failed", text="[5]"),
    case("award a number", AWARD, 422, "validation_failed", text="5"),
    case("award truncated", AWARD, 400, "malformed_json", text='{"quantity": '),
    case("award as text", AWARD, 415, "unsupported_media_type", text="5", content_type=TEXT),
    case(
        "award form-encoded",
        AWARD,
        415,
        "unsupported_media_type",
        text="quantity=5",
        content_type=FORM,
    ),
    # Bids that are closed, or would make a second contract on other terms.
    case("award again", "client POST /bids/{awarded_bid}/award", 409, "bid_closed", {}),
    case("award a withdrawn bid", "client POST /bids/{withdrawn_bid}/award", 409, "bid_closed", {}),
    case(
        "award a second price to the same team",
        "client POST /bids/{lotus_bid}/award",
        409,
        "contract_exists",
        {},
        details=lambda ids: {"contract_id": ids["lotus_contract"]},
    ),
    # Awards of bids on an offer: within the offer, the parent's price and the client's caps.
    case(
        "award a bid above the parent's price",
        "owner POST /bids/{dear_bid}/award",
        409,
        "price_above_contract",
        {},
        details={"contract_price": "0.09"},
    ),
    case(
        "award a bid below the pass-through",
        "owner POST /bids/{cheap_bid}/award",
        409,
        "pass_through_too_low",
        {},
        details={"min_pass_through": "0.5000"},
    ),
    case(
        "award more than the offer bid",
        "owner POST /bids/{offer_bid}/award",
        422,
        "quantity_too_large",
        {"quantity": 2},
        details={"most": 1},
    ),
    case(
        "award part of a batch offer",
        "owner POST /bids/{batch_bid}/award",
        422,
        "quantity_mismatch",
        {"quantity": 4},
        details={"offer_quantity": 5},
    ),
    case(
        "award more than a batch bid",
        "owner POST /bids/{batch_bid}/award",
        422,
        "quantity_too_large",
        {"quantity": 6},
        details={"most": 5},
    ),
    # Who: the order's client, the offer's maker.
    case("team awards itself", f"rival_owner {AWARD_TIGER}", 403, "forbidden", {}),
    case("other team awards", f"owner {AWARD_TIGER}", 404, "bid_not_found", {}),
    case("rival client awards", f"rival_client {AWARD_TIGER}", 404, "bid_not_found", {}),
    case("admin awards", f"admin {AWARD_TIGER}", 403, "forbidden", {}),
    case("annotator awards", f"li {AWARD_TIGER}", 404, "bid_not_found", {}),
    case("anonymous awards", f"anonymous {AWARD_TIGER}", 401, "missing_token", {}),
    case("stranger awards", f"stranger {AWARD_TIGER}", 401, "invalid_token", {}),
    case(
        "client awards a bid on an offer",
        "client POST /bids/{offer_bid}/award",
        404,
        "bid_not_found",
        {},
    ),
    case(
        "bidder awards its bid on an offer",
        "rival_owner POST /bids/{offer_bid}/award",
        403,
        "forbidden",
        {},
    ),
    case(
        "outsider awards a bid on an offer",
        "apex POST /bids/{offer_bid}/award",
        404,
        "bid_not_found",
        {},
    ),
    case("award bid abc", "client POST /bids/abc/award", 404, "not_found", {}),
    case("award bid -1", "client POST /bids/-1/award", 404, "not_found", {}),
    *(
        case(f"award bid {n}", f"client POST /bids/{n}/award", 404, "bid_not_found", {})
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("GET an award", "client GET /bids/{tiger_bid}/award", 405, "method_not_allowed"),
    # Withdrawing: an open bid of one's own team, once.
    case("withdraw an awarded bid", "owner DELETE /bids/{awarded_bid}", 409, "bid_closed"),
    case("withdraw a bid twice", "rival_owner DELETE /bids/{withdrawn_bid}", 409, "bid_closed"),
    case("withdraw another team's bid", "owner DELETE /bids/{tiger_bid}", 404, "bid_not_found"),
    case("client withdraws a bid", "client DELETE /bids/{tiger_bid}", 403, "forbidden"),
    case("offer maker withdraws a bid", "owner DELETE /bids/{offer_bid}", 403, "forbidden"),
    *(
        case(f"withdraw bid {n}", f"rival_owner DELETE /bids/{n}", 404, "bid_not_found")
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("anonymous withdraws a bid", "anonymous DELETE /bids/{tiger_bid}", 401, "missing_token"),
]


def test_awards(subtests, app, api, cast, chain_world):
    run_chain(subtests, app, api, cast, chain_world, AWARD_CASES)


# POST /contracts/{id}/offers: a contract holder passes items down.
OFFER_LOTUS = "POST /contracts/{lotus_contract}/offers"
OFFER = f"owner {OFFER_LOTUS}"
APEX_OFFER = "apex POST /contracts/{apex_contract}/offers"
BRIDGE_OFFER = "bridge POST /contracts/{bridge_contract}/offers"
ONE_BOX = {"unit_price": "0.05", "quantity": 1}  # Lotus's contract has room for just that


def offer_case(case_id, field, route=OFFER, **changes) -> Case:
    """An offer of one box at 0.05 to all, with fields changed (to `...`: left out)."""
    body = {key: value for key, value in (ONE_BOX | changes).items() if value is not ...}
    return case(case_id, route, 422, "validation_failed", body, field=field)


def raw_offer_case(case_id, field, **literals) -> Case:
    body = {key: json.dumps(value) for key, value in ONE_BOX.items()} | literals
    text = "{" + ", ".join(f'"{key}": {value}' for key, value in body.items()) + "}"
    return case(case_id, OFFER, 422, "validation_failed", text=text, field=field)


def to_team(party: str | int, **changes):
    """One box at 0.05 to a party of the world (by name) or a number."""
    return lambda ids: ONE_BOX | {"to_team_id": ids.get(party, party)} | changes


OFFER_CASES = [
    offer_case("price missing", "unit_price", unit_price=...),
    *(offer_case(f"price {p!r}", "unit_price", unit_price=p) for p in PRICES),
    *(raw_offer_case(f"price float {p}", "unit_price", unit_price=p) for p in FLOAT_PRICES),
    *(
        offer_case(f"quantity {q!r}", "quantity", quantity=q)
        for q in (0, -1, 10_000_001, 10**30, "1", True, [1])
    ),
    *(raw_offer_case(f"quantity {q}", "quantity", quantity=q) for q in FLOAT_QUANTITIES),
    *(offer_case(f"to team {t!r}", "to_team_id", to_team_id=t) for t in ("tiger", "7", True)),
    raw_offer_case("to team 7.0", "to_team_id", to_team_id="7.0"),
    *(
        offer_case(f"batch ids {b!r}", "batch_ids", batch_ids=b, quantity=...)
        for b in (7, "7", [0], [-1], ["7"], [True], [None], [[7]], {"7": 7}, [7] * 1001)
    ),
    raw_offer_case("batch ids [7.0]", "batch_ids", batch_ids="[7.0]"),
    *(
        offer_case(f"note {name}", "note", note=note)
        for name, note in (("of 1001", "x" * 1001), ("a number", 5), ("with NUL", "a\x00b"))
    ),
    offer_case("offer unknown field", "currency", currency="CNY"),
    offer_case("offer names its order", "order_id", order_id=1),
    case("offer a list", OFFER, 422, "validation_failed", text="[]"),
    case("offer empty body", OFFER, 422, "validation_failed", text=""),
    case("offer truncated", OFFER, 400, "malformed_json", text='{"unit_price": '),
    case(
        "offer NaN literal",
        OFFER,
        400,
        "malformed_json",
        text='{"unit_price": NaN, "quantity": 1}',
    ),
    case(
        "offer form-encoded",
        OFFER,
        415,
        "unsupported_media_type",
        text="unit_price=0.05&quantity=1",
        content_type=FORM,
    ),
    case("offer as text", OFFER, 415, "unsupported_media_type", text="1 box", content_type=TEXT),
    # How many: a quantity or batches, within the contract's room.
    case("offer no quantity", OFFER, 422, "quantity_required", {"unit_price": "0.05"}),
    case(
        "offer no quantity, no batches",
        OFFER,
        422,
        "quantity_required",
        {"unit_price": "0.05", "batch_ids": []},
    ),
    *(
        case(
            f"offer {q} of room for 1",
            OFFER,
            409,
            "quantity_exceeds_room",
            ONE_BOX | {"quantity": q},
            details={"room": 1},
        )
        for q in (2, 10_000_000)
    ),
    case(
        "offer of a contract worked whole",
        "owner POST /contracts/{claims_contract}/offers",
        409,
        "quantity_exceeds_room",
        ONE_BOX,
        details={"room": 0},
    ),
    case(
        "offer over the room of apex",
        APEX_OFFER,
        409,
        "quantity_exceeds_room",
        ONE_BOX | {"quantity": 2},
        details={"room": 1},
    ),
    *(
        case(
            f"offer batch {name}",
            OFFER,
            409,
            "batch_not_passable",
            lambda ids, batch=batch: {"unit_price": "0.05", "batch_ids": [ids.get(batch, batch)]},
            details=lambda ids, batch=batch: {"batch_id": ids.get(batch, batch)},
        )
        for name, batch in (
            ("of another order", "taken_batch"),
            ("nobody claimed", "bids_batch"),
            ("already on offer", "offered_batch"),
            ("999999", 999_999),
            ("10**20", HUGE_ID),
            ("2**63", SIGNED_OVERFLOW),
            ("2**63 - 1", SIGNED_OVERFLOW - 1),
        )
    ),
    case(
        "offer batches, one not passable",
        OFFER,
        409,
        "batch_not_passable",
        lambda ids: {"unit_price": "0.05", "batch_ids": [ids["lotus_batch"], ids["offered_batch"]]},
        details=lambda ids: {"batch_id": ids["offered_batch"]},
    ),
    *(
        case(
            f"offer a batch of 5 as {q}",
            OFFER,
            422,
            "quantity_mismatch",
            lambda ids, q=q: {
                "unit_price": "0.05",
                "batch_ids": [ids["lotus_batch"]],
                "quantity": q,
            },
            details={"batch_items": 5},
        )
        for q in (1, 4, 6)
    ),
    case(
        "offer the same batch twice as 10",
        OFFER,
        422,
        "quantity_mismatch",
        lambda ids: {"unit_price": "0.05", "batch_ids": [ids["lotus_batch"]] * 2, "quantity": 10},
        details={"batch_items": 5},
    ),
    # To whom: a team not yet in the chain.
    *(
        case(
            f"offer to {name}",
            OFFER,
            422,
            "unknown_team",
            to_team(party),
            details=lambda ids, party=party: {"team_id": ids.get(party, party)},
        )
        for name, party in (
            ("no team", 999_999),
            ("team 10**20", HUGE_ID),
            ("team 2**63", SIGNED_OVERFLOW),
            ("team 0", 0),
            ("team -1", -1),
            ("the client", "horizon"),
            ("another client", "acme"),
            ("the platform", "platform"),
        )
    ),
    case("offer to oneself", OFFER, 409, "party_in_chain", to_team("lotus")),
    case("offer up the chain", APEX_OFFER, 409, "party_in_chain", to_team("lotus")),
    case("offer to the top of the chain", BRIDGE_OFFER, 409, "party_in_chain", to_team("lotus")),
    case("offer back up", BRIDGE_OFFER, 409, "party_in_chain", to_team("apex")),
    # At what price: at most the parent's, at least the client's share of the top price.
    *(
        case(
            f"offer at {price}",
            OFFER,
            409,
            "price_above_contract",
            ONE_BOX | {"unit_price": price},
            details={"contract_price": "0.09"},
        )
        for price in ("0.090001", "0.1", "1000000")
    ),
    case(
        "apex offers above its price",
        APEX_OFFER,
        409,
        "price_above_contract",
        ONE_BOX | {"unit_price": "0.07"},
        details={"contract_price": "0.06"},
    ),
    *(
        case(
            f"offer at {price}, half of 0.09 is 0.045",
            route,
            409,
            "pass_through_too_low",
            to_team("tiger", unit_price=price),
            details={"min_pass_through": "0.5000"},
        )
        for route, price in ((OFFER, "0.044999"), (OFFER, "0.000001"), (APEX_OFFER, "0.044"))
    ),
    # How deep: the client allows 3 links; Bridge holds the third.
    *(
        case(
            f"bridge offers {name}",
            BRIDGE_OFFER,
            409,
            "chain_too_deep",
            body,
            details={"max_depth": 3, "depth": 4},
        )
        for name, body in (("to all", ONE_BOX), ("to tiger", to_team("tiger")))
    ),
    # Which contract, and who offers: its holder's owner only.
    case("offer on contract abc", "owner POST /contracts/abc/offers", 404, "not_found", ONE_BOX),
    *(
        case(
            f"offer on contract {n}",
            f"owner POST /contracts/{n}/offers",
            404,
            "contract_not_found",
            ONE_BOX,
        )
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("outsider offers", f"rival_owner {OFFER_LOTUS}", 404, "contract_not_found", ONE_BOX),
    case("client offers", f"client {OFFER_LOTUS}", 403, "forbidden", ONE_BOX),
    case("rival client offers", f"rival_client {OFFER_LOTUS}", 404, "contract_not_found", ONE_BOX),
    case("reviewer offers", f"reviewer {OFFER_LOTUS}", 404, "contract_not_found", ONE_BOX),
    case("annotator offers", f"li {OFFER_LOTUS}", 404, "contract_not_found", ONE_BOX),
    case("admin offers", f"admin {OFFER_LOTUS}", 403, "forbidden", ONE_BOX),
    case(
        "offer on the subcontract one made",
        "owner POST /contracts/{apex_contract}/offers",
        403,
        "forbidden",
        ONE_BOX,
    ),
    case(
        "offer two links down",
        "owner POST /contracts/{bridge_contract}/offers",
        404,
        "contract_not_found",
        ONE_BOX,
    ),
    case("anonymous offers", f"anonymous {OFFER_LOTUS}", 401, "missing_token", ONE_BOX),
    case(
        "anonymous bad offer",
        f"anonymous {OFFER_LOTUS}",
        401,
        "missing_token",
        text='{"unit_price": ',
    ),
    case("stranger offers", f"stranger {OFFER_LOTUS}", 401, "invalid_token", ONE_BOX),
    case(
        "PUT an offer",
        "owner PUT /contracts/{lotus_contract}/offers",
        405,
        "method_not_allowed",
        ONE_BOX,
    ),
]


def test_offers(subtests, app, api, cast, chain_world):
    run_chain(subtests, app, api, cast, chain_world, OFFER_CASES)


def test_a_cap_names_the_cap_never_a_price(app, api, cast, chain_world):
    """Apex may not learn Lotus's price (nor the client's budget) from the caps' refusals."""
    offer = f"/contracts/{chain_world['apex_contract']}/offers"
    too_low = {"unit_price": "0.044", "quantity": 1}
    answer = refused(app, api, "POST", offer, cast.apex, 409, "pass_through_too_low", json=too_low)
    assert answer.body["error"]["details"] == {"min_pass_through": "0.5000"}
    deeper = f"/contracts/{chain_world['bridge_contract']}/offers"
    answer_2 = refused(app, api, "POST", deeper, cast.bridge, 409, "chain_too_deep", json=ONE_BOX)
    assert answer_2.body["error"]["details"] == {"max_depth": 3, "depth": 4}
    for text in (answer.text, answer_2.text):
        numbers = set(re.findall(r"\d+\.\d+", text))
        assert not numbers & {"0.09", "0.045", "0.1", "0.10", "0.06"}, text


# POST /offers/{id}/accept and DELETE /offers/{id}: taking and withdrawing offers.
ACCEPT_OPEN = "POST /offers/{open_offer}/accept"

ACCEPT_OFFER_CASES = [
    case("accept a taken offer", "apex POST /offers/{taken_offer}/accept", 409, "offer_closed", {}),
    case(
        "accept a withdrawn offer",
        "rival_owner POST /offers/{withdrawn_offer}/accept",
        409,
        "offer_closed",
        {},
    ),
    case("accept one's own offer", f"owner {ACCEPT_OPEN}", 409, "offer_not_for_you", {}),
    case(
        "accept one's own offer to another",
        "owner POST /offers/{taken_offer}/accept",
        409,
        "offer_not_for_you",
        {},
    ),
    case(
        "accept a second deal at another price",
        f"apex {ACCEPT_OPEN}",
        409,
        "contract_exists",
        {},
        details=lambda ids: {"contract_id": ids["apex_contract"]},
    ),
    case(
        "accept another team's offer",
        "rival_owner POST /offers/{taken_offer}/accept",
        404,
        "offer_not_found",
        {},
    ),
    case("client accepts", f"client {ACCEPT_OPEN}", 404, "offer_not_found", {}),
    case("annotator accepts", f"rival_annotator {ACCEPT_OPEN}", 404, "offer_not_found", {}),
    case("admin accepts", f"admin {ACCEPT_OPEN}", 403, "forbidden", {}),
    case("anonymous accepts", f"anonymous {ACCEPT_OPEN}", 401, "missing_token", {}),
    case("accept offer abc", "rival_owner POST /offers/abc/accept", 404, "not_found", {}),
    *(
        case(
            f"accept offer {n}", f"rival_owner POST /offers/{n}/accept", 404, "offer_not_found", {}
        )
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    *(
        case(
            f"accept for team {t!r}",
            f"rival_owner {ACCEPT_OPEN}",
            422,
            "validation_failed",
            {"team_id": t},
            field="team_id",
        )
        for t in ("tiger", "7", True, [7])
    ),
    case(
        "accept for lotus",
        f"rival_owner {ACCEPT_OPEN}",
        404,
        "team_not_found",
        lambda ids: {"team_id": ids["lotus"]},
    ),
    case(
        "accept for team 10**20",
        f"rival_owner {ACCEPT_OPEN}",
        404,
        "team_not_found",
        {"team_id": HUGE_ID},
    ),
    case(
        "accept at a price",
        f"rival_owner {ACCEPT_OPEN}",
        422,
        "validation_failed",
        {"unit_price": "0.05"},
        field="unit_price",
    ),
    case(
        "accept part",
        f"rival_owner {ACCEPT_OPEN}",
        422,
        "validation_failed",
        {"quantity": 1},
        field="quantity",
    ),
    case("accept a list", f"rival_owner {ACCEPT_OPEN}", 422, "validation_failed", text="[]"),
    case("accept truncated", f"rival_owner {ACCEPT_OPEN}", 400, "malformed_json", text="{"),
    case(
        "accept as text",
        f"rival_owner {ACCEPT_OPEN}",
        415,
        "unsupported_media_type",
        text="yes",
        content_type=TEXT,
    ),
    # Withdrawing: an open offer of one's own team, once.
    case("withdraw an offer twice", "owner DELETE /offers/{withdrawn_offer}", 409, "offer_closed"),
    case("withdraw a taken offer", "owner DELETE /offers/{taken_offer}", 409, "offer_closed"),
    case("withdraw another's offer", "rival_owner DELETE /offers/{open_offer}", 403, "forbidden"),
    case("taker withdraws the offer", "apex DELETE /offers/{taken_offer}", 403, "forbidden"),
    case("client withdraws an offer", "client DELETE /offers/{open_offer}", 404, "offer_not_found"),
    case("withdraw offer abc", "owner DELETE /offers/abc", 404, "not_found"),
    *(
        case(f"withdraw offer {n}", f"owner DELETE /offers/{n}", 404, "offer_not_found")
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case(
        "anonymous withdraws an offer",
        "anonymous DELETE /offers/{open_offer}",
        401,
        "missing_token",
    ),
]


def test_accepting_and_withdrawing_offers(subtests, app, api, cast, chain_world):
    run_chain(subtests, app, api, cast, chain_world, ACCEPT_OFFER_CASES)


# PUT /cost-floors and DELETE /cost-floors/{id}: what a team needs per item.
FLOOR = "owner PUT /cost-floors"
GOOD_FLOOR = {"task_type": "bbox_2d", "currency": "CNY", "unit_price": "0.05"}


def floor_case(case_id, field, **changes) -> Case:
    """Lotus's valid floor, with fields changed (to `...`: left out)."""
    body = {key: value for key, value in (GOOD_FLOOR | changes).items() if value is not ...}
    return case(case_id, FLOOR, 422, "validation_failed", body, field=field)


def raw_floor_case(case_id, field, **literals) -> Case:
    body = {key: json.dumps(value) for key, value in GOOD_FLOOR.items()} | literals
    text = "{" + ", ".join(f'"{key}": {value}' for key, value in body.items()) + "}"
    return case(case_id, FLOOR, 422, "validation_failed", text=text, field=field)


COST_FLOOR_CASES = [
    *(floor_case(f"{field} missing", field, **{field: ...}) for field in GOOD_FLOOR),
    *(
        floor_case(f"task type {t!r}", "task_type", task_type=t)
        for t in ("", "   ", "x" * 65, "bbox\x00", 5, None, ["bbox_2d"])
    ),
    *(
        floor_case(f"currency {c!r}", "currency", currency=c)
        for c in ("XXY", "cny", " CNY", "", "XXX", "XTS", "DEM", "CNH", 156, None, ["CNY"])
    ),
    *(floor_case(f"price {p!r}", "unit_price", unit_price=p) for p in PRICES),
    *(raw_floor_case(f"price float {p}", "unit_price", unit_price=p) for p in FLOAT_PRICES),
    case(
        "price NaN literal",
        FLOOR,
        400,
        "malformed_json",
        text='{"task_type": "bbox_2d", "currency": "CNY", "unit_price": NaN}',
    ),
    *(floor_case(f"team {t!r}", "team_id", team_id=t) for t in ("lotus", "3", True)),
    raw_floor_case("team 3.0", "team_id", team_id="3.0"),
    case(
        "floor for tiger",
        FLOOR,
        404,
        "team_not_found",
        lambda ids: GOOD_FLOOR | {"team_id": ids["tiger"]},
    ),
    case("floor for team 10**20", FLOOR, 404, "team_not_found", GOOD_FLOOR | {"team_id": HUGE_ID}),
    floor_case("floor unknown field", "order_id", order_id=1),
    case("floor a list", FLOOR, 422, "validation_failed", text="[]"),
    case("floor null", FLOOR, 422, "validation_failed", text="null"),
    case("floor empty body", FLOOR, 422, "validation_failed", text=""),
    case("floor truncated", FLOOR, 400, "malformed_json", text='{"task_type": '),
    case(
        "floor form-encoded",
        FLOOR,
        415,
        "unsupported_media_type",
        text="task_type=bbox_2d",
        content_type=FORM,
    ),
    case(
        "floor as text",
        FLOOR,
        415,
        "unsupported_media_type",
        text=json.dumps(GOOD_FLOOR),
        content_type=TEXT,
    ),
    # Who: team owners, for their own teams.
    case("client sets a floor", "client PUT /cost-floors", 403, "forbidden", GOOD_FLOOR),
    case("annotator sets a floor", "li PUT /cost-floors", 403, "forbidden", GOOD_FLOOR),
    case("reviewer sets a floor", "reviewer PUT /cost-floors", 403, "forbidden", GOOD_FLOOR),
    case("admin sets a floor", "admin PUT /cost-floors", 403, "forbidden", GOOD_FLOOR),
    case("anonymous sets a floor", "anonymous PUT /cost-floors", 401, "missing_token", GOOD_FLOOR),
    case("stranger sets a floor", "stranger PUT /cost-floors", 401, "invalid_token", GOOD_FLOOR),
    case("POST a floor", "owner POST /cost-floors", 405, "method_not_allowed", GOOD_FLOOR),
    # Removing: one's own team's floor only.
    case(
        "remove tiger's floor",
        "owner DELETE /cost-floors/{tiger_floor}",
        404,
        "cost_floor_not_found",
    ),
    case(
        "client removes tiger's floor",
        "client DELETE /cost-floors/{tiger_floor}",
        404,
        "cost_floor_not_found",
    ),
    case(
        "annotator removes tiger's floor",
        "rival_annotator DELETE /cost-floors/{tiger_floor}",
        404,
        "cost_floor_not_found",
    ),
    *(
        case(
            f"remove floor {n}",
            f"rival_owner DELETE /cost-floors/{n}",
            404,
            "cost_floor_not_found",
        )
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("remove floor abc", "rival_owner DELETE /cost-floors/abc", 404, "not_found"),
    case("remove floor -1", "rival_owner DELETE /cost-floors/-1", 404, "not_found"),
    case(
        "anonymous removes a floor",
        "anonymous DELETE /cost-floors/{tiger_floor}",
        401,
        "missing_token",
    ),
]


def test_cost_floors(subtests, app, api, cast, chain_world):
    run_chain(subtests, app, api, cast, chain_world, COST_FLOOR_CASES)


# Reading the chains: bad queries, and ids no 64-bit column holds, are clear errors.
MARGINS = "GET /orders/{bids}/margins"

CHAIN_READ_CASES = [
    *(
        case(
            f"margins format {f!r}",
            f"owner {MARGINS}?format={f}",
            422,
            "validation_failed",
            field="format",
            location="query",
        )
        for f in ("xml", "CSV", "", "json,csv")
    ),
    case(
        "margins team abc",
        f"owner {MARGINS}?team_id=abc",
        422,
        "validation_failed",
        field="team_id",
        location="query",
    ),
    case("margins of tiger", f"owner {MARGINS}?team_id={{tiger}}", 404, "team_not_found"),
    case("margins of team 10**20", f"owner {MARGINS}?team_id={HUGE_ID}", 404, "team_not_found"),
    case("margins for no team", f"admin {MARGINS}", 422, "team_required"),
    case(
        "admin margins of team 10**20",
        f"admin {MARGINS}?team_id={HUGE_ID}",
        404,
        "order_not_found",
    ),
    case("anonymous margins as xml", f"anonymous {MARGINS}?format=xml", 401, "missing_token"),
    case("margins of the client", f"client {MARGINS}", 403, "forbidden"),
    case("margins without a contract", f"rival_owner {MARGINS}", 404, "order_not_found"),
    *(
        case(f"margins of order {n}", f"owner GET /orders/{n}/margins", 404, "order_not_found")
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    *(
        case(
            f"offers status {s!r}",
            f"owner GET /offers?status={s}",
            422,
            "validation_failed",
            field="status",
            location="query",
        )
        for s in ("bogus", "OPEN", "", "open,taken")
    ),
    case(
        "offers team abc",
        "owner GET /offers?team_id=abc",
        422,
        "validation_failed",
        field="team_id",
        location="query",
    ),
    case("offers of tiger", "owner GET /offers?team_id={tiger}", 404, "team_not_found"),
    case("offers of team 10**20", f"owner GET /offers?team_id={HUGE_ID}", 404, "team_not_found"),
    case(
        "anonymous offers, status bogus", "anonymous GET /offers?status=bogus", 401, "missing_token"
    ),
    case("offers for the client", "client GET /offers", 403, "forbidden"),
    case(
        "offer for team 10**20",
        f"owner GET /offers/{{open_offer}}?team_id={HUGE_ID}",
        404,
        "team_not_found",
    ),
    case(
        "offer team abc",
        "owner GET /offers/{open_offer}?team_id=abc",
        422,
        "validation_failed",
        field="team_id",
        location="query",
    ),
    *(
        case(f"{what} {n}", f"{who} GET {path.format(n=n)}", 404, code)
        for n in (HUGE_ID, SIGNED_OVERFLOW)
        for what, who, path, code in (
            ("contract", "owner", "/contracts/{n}", "contract_not_found"),
            ("chain of contract", "owner", "/contracts/{n}/chain", "contract_not_found"),
            ("subcontracts of", "owner", "/contracts/{n}/subcontracts", "contract_not_found"),
            ("offer", "owner", "/offers/{n}", "offer_not_found"),
            ("bids on offer", "owner", "/offers/{n}/bids", "offer_not_found"),
            ("bid", "owner", "/bids/{n}", "bid_not_found"),
            ("bids on order", "client", "/orders/{n}/bids", "order_not_found"),
        )
    ),
    case(
        "chain of another's contract",
        "rival_owner GET /contracts/{lotus_contract}/chain",
        404,
        "contract_not_found",
    ),
    case(
        "subcontracts of the client's contract",
        "client GET /contracts/{lotus_contract}/subcontracts",
        403,
        "forbidden",
    ),
]


def test_reading_chains(subtests, app, api, cast, chain_world):
    run_chain(subtests, app, api, cast, chain_world, CHAIN_READ_CASES)


# -- invoicing and payout runs -------------------------------------------------------------

INVOICE = "POST /orders/{order}/invoices"
PAYOUT = "admin POST /payout-runs"

BILLING_CASES = [
    case("invoice the draft", "admin POST /orders/{draft}/invoices", 409, "nothing_to_invoice"),
    case("invoice no order", "admin POST /orders/999999/invoices", 404, "order_not_found"),
    case("client invoices", f"client {INVOICE}", 403, "forbidden"),
    case("team invoices", f"owner {INVOICE}", 403, "forbidden"),
    case("rival invoices", f"rival_client {INVOICE}", 404, "order_not_found"),
    case(
        "invoice with a text body",
        f"admin {INVOICE}",
        415,
        "unsupported_media_type",
        text="bill it",
        content_type=TEXT,
    ),
    # Payout runs (nothing is available: the accepted box is not even invoiced).
    *(
        case(f"payout currency {c!r}", PAYOUT, 422, "validation_failed", {"currency": c})
        for c in ("ZZZ", "cny", "", None, 156)
    ),
    case("payout currency XXX", PAYOUT, 422, "validation_failed", {"currency": "XXX"}),
    case("payout no currency", PAYOUT, 422, "validation_failed", {"minimum": "1.00"}),
    *(
        case(
            f"payout minimum {currency} {minimum}",
            PAYOUT,
            422,
            "invalid_amount",
            {"currency": currency, "minimum": minimum},
        )
        for currency, minimum in [
            ("CNY", "0.001"),
            ("CNY", "0"),
            ("CNY", "-1"),
            ("JPY", "1.5"),
            ("CNY", "1e400"),
        ]
    ),
    case(
        "payout minimum 1e999999",
        PAYOUT,
        422,
        "invalid_amount",
        {"currency": "CNY", "minimum": TOO_BIG},
    ),
    case(
        "payout minimum float 0.001",
        PAYOUT,
        422,
        "invalid_amount",
        text='{"currency": "CNY", "minimum": 0.001}',
    ),
    case(
        "payout minimum in words",
        PAYOUT,
        422,
        "validation_failed",
        {"currency": "CNY", "minimum": "one"},
    ),
    case(
        "payout minimum NaN",
        PAYOUT,
        422,
        "validation_failed",
        {"currency": "CNY", "minimum": "NaN"},
    ),
    case("client pays out", "client POST /payout-runs", 403, "forbidden", {"currency": "CNY"}),
    case("owner pays out", "owner POST /payout-runs", 403, "forbidden", {"currency": "CNY"}),
]


def test_invoicing_and_payout_runs(subtests, app, api, cast, story):
    run(subtests, app, api, cast, story, BILLING_CASES)


# -- payments ------------------------------------------------------------------------------

PAY_INVOICE = "POST /invoices/{invoice}/payments"
PAY = f"admin {PAY_INVOICE}"
GOOD_PAYMENT = {"amount": "0.11", "reference": "ICBC-1", "received_on": "2026-03-02"}


def payment_case(case_id, status, code, **changes) -> Case:
    """The right transfer for the open invoice, with fields changed (to `...`: left out)."""
    body = {key: value for key, value in (GOOD_PAYMENT | changes).items() if value is not ...}
    return case(case_id, PAY, status, code, body)


PAYMENT_CASES = [
    payment_case("amount 206.125", 422, "invalid_amount", amount="206.125"),
    payment_case("amount 0.105", 422, "invalid_amount", amount="0.105"),
    payment_case("amount -5", 422, "invalid_amount", amount="-5"),
    payment_case("amount -0.11", 422, "invalid_amount", amount="-0.11"),
    payment_case("amount 0", 422, "invalid_amount", amount="0"),
    payment_case("amount 1e400", 422, "invalid_amount", amount="1e400"),
    payment_case("amount 1e999999", 422, "invalid_amount", amount=TOO_BIG),
    payment_case("amount NaN", 422, "validation_failed", amount="NaN"),
    payment_case("amount in words", 422, "validation_failed", amount="eleven fen"),
    payment_case("amount a bool", 422, "validation_failed", amount=True),
    payment_case("amount a list", 422, "validation_failed", amount=["0.11"]),
    payment_case("amount null", 422, "validation_failed", amount=None),
    payment_case("amount missing", 422, "validation_failed", amount=...),
    case(
        "amount float 0.105",
        PAY,
        422,
        "invalid_amount",
        text='{"amount": 0.105, "reference": "ICBC-1", "received_on": "2026-03-02"}',
    ),
    case(
        "amount NaN literal",
        PAY,
        400,
        "malformed_json",
        text='{"amount": NaN, "reference": "ICBC-1", "received_on": "2026-03-02"}',
    ),
    payment_case("amount short", 409, "amount_mismatch", amount="0.10"),
    payment_case("amount over", 409, "amount_mismatch", amount="0.12"),
    payment_case("amount without the fee", 409, "amount_mismatch", amount="0.1"),
    payment_case("reference missing", 422, "validation_failed", reference=...),
    payment_case("reference empty", 422, "validation_failed", reference=""),
    payment_case("reference of 201", 422, "validation_failed", reference="R" * 201),
    payment_case("reference a number", 422, "validation_failed", reference=12345),
    payment_case("reference blank", 422, "validation_failed", reference="  "),
    payment_case("reference with NUL", 422, "validation_failed", reference="IC\x00BC"),
    payment_case("received_on missing", 422, "validation_failed", received_on=...),
    payment_case("received_on 2026-13-45", 422, "validation_failed", received_on="2026-13-45"),
    payment_case("received_on 2026-02-30", 422, "validation_failed", received_on="2026-02-30"),
    payment_case("received_on 03/03/2026", 422, "validation_failed", received_on="03/03/2026"),
    payment_case(
        "received_on a datetime", 422, "validation_failed", received_on="2026-03-03T10:00"
    ),
    payment_case("received_on a number", 422, "validation_failed", received_on=20260303),
    # The story's clock says 2026-03-02 10:00 UTC: nowhere is it later than 2026-03-03.
    payment_case("received_on 2026-03-04", 422, "validation_failed", received_on="2026-03-04"),
    payment_case("received_on 9999-12-31", 422, "validation_failed", received_on="9999-12-31"),
    payment_case("payment unknown field", 422, "validation_failed", currency="CNY"),
    case("payment truncated", PAY, 400, "malformed_json", text='{"amount": "0.11", '),
    case("payment a list", PAY, 422, "validation_failed", text="[]"),
    case(
        "payment form-encoded",
        PAY,
        415,
        "unsupported_media_type",
        text="amount=0.11",
        content_type=FORM,
    ),
    case(
        "pay no invoice",
        "admin POST /invoices/999999/payments",
        404,
        "invoice_not_found",
        GOOD_PAYMENT,
    ),
    case("client records", f"client {PAY_INVOICE}", 403, "forbidden", GOOD_PAYMENT),
    case("team records", f"owner {PAY_INVOICE}", 404, "invoice_not_found", GOOD_PAYMENT),
    case("rival records", f"rival_client {PAY_INVOICE}", 404, "invoice_not_found", GOOD_PAYMENT),
]


def test_a_bad_payment_leaves_the_invoice_open(subtests, app, api, cast, invoiced):
    run(subtests, app, api, cast, invoiced, PAYMENT_CASES)


def test_a_transfer_is_recorded_once_and_a_paid_invoice_takes_no_more(app, api, cast, invoiced):
    pay = f"/invoices/{invoiced['invoice']}/payments"
    # A JSON number is read exactly: 0.11, the invoice's total.
    first = api.post(
        pay,
        cast.admin,
        **raw('{"amount": 0.11, "reference": "ICBC-1", "received_on": "2026-03-02"}'),
    )
    assert (first.status, first.body["amount"]) == (201, "0.11"), first.text[:500]
    paid = story_view(api, cast, invoiced)
    [(_, status, _, paid_at, payments)] = paid["invoices"]
    assert (status, payments) == ("paid", [("ICBC-1", "0.11", "2026-03-02")]) and paid_at

    # The same transfer again: the first payment back, and nothing written.
    counts, rows = row_counts(app), table_rows(app)
    again = api.post(pay, cast.admin, GOOD_PAYMENT)
    assert (again.status, again.body["id"]) == (200, first.body["id"])
    assert row_counts(app) == counts and table_rows(app) == rows

    def refuse(path, status, code, **body):
        refused(app, api, "POST", path, cast.admin, status, code, json=GOOD_PAYMENT | body)

    refuse(pay, 409, "reference_reused", amount="0.12")
    refuse(pay, 409, "invoice_paid", reference="ICBC-2")
    refuse(pay, 422, "invalid_amount", amount="0.111", reference="ICBC-2")
    invoice_again = f"/orders/{invoiced['order']}/invoices"
    refused(app, api, "POST", invoice_again, cast.admin, 409, "nothing_to_invoice")
    assert story_view(api, cast, invoiced) == paid

    # A second invoice may not reuse the first one's bank reference, even for the same amount.
    review(api, cast.reviewer, accept=[invoiced["waiting"]])
    second = api.post(invoice_again, cast.admin).body
    assert second["total"] == "0.11"
    refuse(f"/invoices/{second['id']}/payments", 409, "reference_reused")
    assert [i[1] for i in story_view(api, cast, invoiced)["invoices"]] == ["paid", "open"]


def test_free_form_json_keeps_its_fractions(api, cast, story):
    """Item payloads and task results are not money: their fractions are plain JSON numbers."""
    items = (
        '[{"ref": "s3://a.jpg", "payload": '
        '{"width": 1920, "height": 1080, "crop": [0.25, 0.5], "zoom": 1.5, "n": 1e3}}]'
    )
    order = api.post("/orders", cast.client, **raw(order_json(items=items)))
    assert order.status == 201, order.text[:500]
    result = '{"result": {"boxes": [{"x": 10.5, "y": 20.25, "w": 3e1, "h": 40.0}]}}'
    answer = api.post(f"/tasks/{story['held_task']}/submit", cast.li, **raw(result))
    assert answer.status == 201, answer.text[:500]
    expected = {"boxes": [{"x": dec("10.5"), "y": dec("20.25"), "w": 30, "h": 40}]}
    assert answer.body["result"] == expected
    [stored] = [
        s for s in api.get("/submissions", cast.reviewer).body if s["id"] == answer.body["id"]
    ]
    assert stored["result"] == expected


# -- what must be accepted -----------------------------------------------------------------

JSON_NUMBER_PRICES = [
    ("0.1", "0.1"),
    ("0.10", "0.1"),
    ("0.07", "0.07"),  # as a binary float: 0.07000000000000000666...
    ("0.055", "0.055"),
    ("1.005", "1.005"),  # as a binary float: 1.00499999999999989...
    ("0.000001", "0.000001"),
    ("1e-6", "0.000001"),
    ("123456.789012", "123456.789012"),
    ("1000000", "1000000"),  # the cap itself
    ("1e6", "1000000"),
]


def test_a_price_written_as_a_json_number_is_read_exactly(subtests, api, cast):
    for literal, stored in JSON_NUMBER_PRICES:
        with subtests.test(literal):
            answer = api.post("/orders", cast.client, **raw(order_json(unit_price=literal)))
            assert (answer.status, answer.body["unit_price"]) == (201, stored), answer.text[:500]
            order = api.get(f"/orders/{answer.body['id']}", cast.client).body
            assert order["unit_price"] == stored


def test_refused_rates_leave_the_piece_rate_and_a_json_number_rate_is_exact(api, cast, story):
    rate = f"/orders/{story['order']}/piece-rate"
    for value in ("0.11", "0", "0.0000001"):
        assert api.put(rate, cast.owner, {"unit_price": value}).status in (409, 422)
    review(api, cast.reviewer, accept=[story["waiting"]])
    answer = api.put(rate, cast.owner, **raw('{"unit_price": 0.07}'))
    assert (answer.status, answer.body["unit_price"]) == (200, "0.07")
    review(api, cast.reviewer, accept=[story["waiting_2"]])
    accepted = dict(story_view(api, cast, story)["accepted"])
    assert [accepted[story["waiting"]], accepted[story["waiting_2"]]] == ["0.06", "0.07"]


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
ERROR_TYPES = ["off_topic", "unsafe"]


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


# POST /orders: the task type, its options and item payloads, review terms, task leases.
RATINGS = ORDER | {"task_type": "rating_1_5", "task_options": {"error_types": ERROR_TYPES}}


def terms_case(case_id, field, **changes) -> Case:
    """The valid order of boxes with changed terms, refused for `field` (validation)."""
    return case(case_id, POST_ORDER, 422, "validation_failed", ORDER | changes, field=field)


def raw_terms_case(case_id, field, **literals) -> Case:
    return case(
        case_id, POST_ORDER, 422, "validation_failed", text=order_json(**literals), field=field
    )


def review_case(case_id, **terms) -> Case:
    return terms_case(f"review {case_id}", "review", review=terms)


def options_case(case_id, options, base=RATINGS, **details) -> Case:
    body = base | {"task_options": options}
    if options is ...:
        body = {key: value for key, value in base.items() if key != "task_options"}
    return case(case_id, POST_ORDER, 422, "invalid_task_options", body, details=details or None)


def payload_case(case_id, index, *payloads, base=ORDER) -> Case:
    """An order whose items carry these payloads (None: no payload); item `index` breaks
    the task type's item_schema."""
    items = [
        {"ref": f"s3://{n}.jpg"} | ({} if payload is None else {"payload": payload})
        for n, payload in enumerate(payloads)
    ]
    return case(
        case_id,
        POST_ORDER,
        422,
        "invalid_item_payload",
        base | {"items": items},
        details={"item_index": index},
    )


IMAGE_640 = {"width": 640, "height": 480}
POLYGON_ORDER = ORDER | {"task_type": "polygon_2d", "task_options": {"classes": ["car"]}}

ORDER_TERMS_CASES = [
    # Task types: the platform's, or the client's own.
    *(
        case(
            f"task type {key}",
            POST_ORDER,
            422,
            "unknown_task_type",
            ORDER | {"task_type": key},
            details={"known": ["audio_score_0_2", "bbox_2d", "rating_1_5"]},
        )
        for key in ("polygon_3d", "BBOX_2D", "bbox_2d ", "acme_polygon")
    ),
    # The task type's options: rating_1_5 needs a list of error types.
    options_case("rating without options", ...),
    options_case("rating options null", None),
    options_case("rating options empty", {}),
    options_case("rating no error types", {"error_types": []}),
    options_case("rating error types twice", {"error_types": ["unsafe", "unsafe"]}),
    options_case("rating error type a number", {"error_types": [5]}, path="error_types/0"),
    options_case("rating error types a string", {"error_types": "unsafe"}),
    options_case("rating error type of 65", {"error_types": ["x" * 65]}),
    options_case("rating 21 error types", {"error_types": [f"e{n}" for n in range(21)]}),
    options_case("rating unknown option", {"error_types": ["unsafe"], "labels": ["car"]}),
    options_case(
        "polygons without classes", {"colours": 3}, base=POLYGON_ORDER, keyword="required"
    ),
    terms_case("options a list", "task_options", task_options=["unsafe"]),
    terms_case("options a string", "task_options", task_options="unsafe"),
    terms_case("options with NUL key", "task_options", task_options={"a\x00": 1}),
    raw_terms_case("options 1e5000", "task_options", task_options='{"n": 1e5000}'),
    # Item payloads: bbox_2d needs every image's size in pixels.
    payload_case("box item without payload", 0, None),
    payload_case("box item without height", 0, {"width": 640}),
    payload_case("second box item without size", 1, IMAGE_640, {"lane": "left"}),
    payload_case("box width 0", 0, {"width": 0, "height": 480}),
    payload_case("box width -640", 0, {"width": -640, "height": 480}),
    payload_case("box width '640'", 0, {"width": "640", "height": 480}),
    payload_case("box width 640.5", 0, {"width": 640.5, "height": 480}),
    payload_case("box width true", 0, {"width": True, "height": 480}),
    payload_case("box height null", 0, {"width": 640, "height": None}),
    payload_case("last of three box items", 2, IMAGE_640, IMAGE_640, {"width": 640}),
    payload_case("polygon item without size", 0, {}, base=POLYGON_ORDER),
    # Review terms: a share of 0.0001 to 1 sampled, a threshold of 0 to 1, 1 to 21 days.
    *(
        review_case(f"sample rate {rate!r}", sample_rate=rate)
        for rate in ("0", "0.00001", "0.00009", "1.0001", "2", "-0.5", "NaN", "10%", "", True)
    ),
    review_case("sample rate null", sample_rate=None),
    *(
        review_case(f"threshold {value!r}", accuracy_threshold=value)
        for value in ("1.5", "1.00001", "-0.01", "0.95001", "Infinity", "high", None, ["0.9"])
    ),
    *(
        review_case(f"window {days!r} days", window_days=days)
        for days in (0, 22, -1, 10**30, "3", True, None, [3])
    ),
    raw_terms_case("review window 3.0 days", "review", review='{"window_days": 3.0}'),
    raw_terms_case("review window 2.5 days", "review", review='{"window_days": 2.5}'),
    raw_terms_case("review sample rate float 1e-5", "review", review='{"sample_rate": 1e-5}'),
    raw_terms_case("review threshold float 1.5", "review", review='{"accuracy_threshold": 1.5}'),
    review_case("unknown term", reviewers=2),
    terms_case("review null", "review", review=None),
    terms_case("review a list", "review", review=[{"window_days": 3}]),
    terms_case("review a number", "review", review=3),
    # A task's lease: 1 minute to a week.
    *(
        terms_case(f"task lease {minutes!r}", "task_lease_minutes", task_lease_minutes=minutes)
        for minutes in (0, -1, 7 * 24 * 60 + 1, 10**30, "120", True, None, [120])
    ),
    raw_terms_case("task lease 120.0", "task_lease_minutes", task_lease_minutes="120.0"),
    raw_terms_case("task lease 0.5", "task_lease_minutes", task_lease_minutes="0.5"),
    # A refusal after the platform's task type was first stored leaves it unstored.
    case(
        "audio lottery without a release plan",
        POST_ORDER,
        422,
        "lottery_needs_release_plan",
        ORDER | {"task_type": "audio_score_0_2", "claim_mode": "lottery"},
    ),
]


def test_an_order_must_fit_its_task_type_and_review_terms(subtests, app, api, cast, work_world):
    run_work(subtests, app, api, cast, work_world, ORDER_TERMS_CASES)


# POST /task-types: a client's own type, its schemas and rules checked before it is stored.
NEW_TYPE = {
    "key": "keypoints",
    "name": "Keypoints",
    "result_schema": {"type": "object", "required": ["points"]},
    "reason_codes": ["wrong_point", "other"],
}
POST_TYPE = "client POST /task-types"


def type_case(case_id, field, **changes) -> Case:
    """The valid new type with fields changed (to `...`: left out), refused for `field`."""
    body = {key: value for key, value in (NEW_TYPE | changes).items() if value is not ...}
    return case(case_id, POST_TYPE, 422, "validation_failed", body, field=field)


def schema_case(case_id, field, schema, key="keypoints") -> Case:
    """A type whose `field` is JSON but no JSON Schema: 422 invalid_schema naming it."""
    return case(
        case_id,
        POST_TYPE,
        422,
        "invalid_schema",
        NEW_TYPE | {"key": key, field: schema},
        details={"field": field},
    )


def rules_case(case_id, *rules) -> Case:
    return case(case_id, POST_TYPE, 422, "invalid_rules", NEW_TYPE | {"rules": list(rules)})


def nested(depth: int) -> Any:
    """An expression `depth` levels deep: {"!": [{"!": [... true]}]}."""
    expression: Any = True
    for _ in range(depth // 2):
        expression = {"!": [expression]}
    return expression


REQUIRE = {"==": [1, 1]}

TASK_TYPE_CASES = [
    *(type_case(f"{field} missing", field, **{field: ...}) for field in NEW_TYPE),
    *(
        type_case(f"key {key!r}", "key", key=key)
        for key in ("", "Keypoints", "1points", "_points", "key-points", "key points", "x" * 65)
    ),
    type_case("key a number", "key", key=5),
    type_case("key null", "key", key=None),
    type_case("key with NUL", "key", key="key\x00"),
    *(
        case(f"key {key} taken", POST_TYPE, 409, "task_type_exists", NEW_TYPE | {"key": key})
        for key in ("bbox_2d", "rating_1_5", "audio_score_0_2", "polygon_2d", "acme_polygon")
    ),
    type_case("name blank", "name", name="  "),
    type_case("name of 201", "name", name="x" * 201),
    type_case("description of 5001", "description", description="x" * 5001),
    # Schemas: JSON objects that are JSON Schemas.
    *(
        type_case(f"result schema {schema!r}", "result_schema", result_schema=schema)
        for schema in ([{"type": "object"}], "object", True, None, 5)
    ),
    type_case("item schema a list", "item_schema", item_schema=[]),
    type_case("options schema a string", "options_schema", options_schema="object"),
    schema_case("result schema of no type", "result_schema", {"type": "banana"}),
    schema_case("result schema with a bad regex", "result_schema", {"pattern": "("}),
    schema_case("result schema minItems -1", "result_schema", {"minItems": -1}),
    schema_case("result schema required a string", "result_schema", {"required": "points"}),
    schema_case("item schema of no type", "item_schema", {"type": 5}),
    schema_case("options schema enum a number", "options_schema", {"enum": 3}),
    # A $ref that leads nowhere would fail every order or result later, as an error 500.
    # (Each its own key: one wrongly stored does not hide the next.)
    *(
        schema_case(f"{field} $ref to {where}", field, {"$ref": ref}, key=f"ref_{n}")
        for n, (field, where, ref) in enumerate(
            (
                ("result_schema", "nowhere", "#/$defs/nowhere"),
                ("item_schema", "nowhere", "#/$defs/nowhere"),
                ("options_schema", "nowhere", "#/properties/nowhere"),
                ("item_schema", "the web", "https://example.com/s.json"),
            )
        )
    ),
    # Rules: the rule language, named, at most 50, nested at most 16 deep.
    type_case("rules an object", "rules", rules={"name": "a", "require": True}),
    type_case("rules a string", "rules", rules="x + w <= width"),
    type_case("rule a number", "rules", rules=[5]),
    type_case("rule a list", "rules", rules=[["name", "a"]]),
    rules_case("rule without require", {"name": "a"}),
    rules_case("rule without name", {"require": REQUIRE}),
    *(
        rules_case(f"rule name {name!r}", {"name": name, "require": REQUIRE})
        for name in ("", "Box", "1box", "box inside", "x" * 65, 5)
    ),
    rules_case("rule of an unknown operator", {"name": "a", "require": {"eval": ["1"]}}),
    rules_case("rule of two operators", {"name": "a", "require": {"==": [1, 1], "!=": [1, 2]}}),
    rules_case("rule var an object", {"name": "a", "require": {"var": {"path": "result"}}}),
    rules_case("rule with an unknown field", {"name": "a", "require": REQUIRE, "then": 1}),
    rules_case("rule each empty", {"name": "a", "each": "", "require": REQUIRE}),
    rules_case("rule message of 301", {"name": "a", "message": "x" * 301, "require": REQUIRE}),
    rules_case(
        "rules of one name", {"name": "a", "require": REQUIRE}, {"name": "a", "require": True}
    ),
    rules_case("rule 17 deep", {"name": "a", "require": nested(17)}),
    rules_case("51 rules", *({"name": f"r{n}", "require": True} for n in range(51))),
    # Reason codes: 1 to 50 names.
    *(
        type_case(f"reason codes {codes!r}", "reason_codes", reason_codes=codes)
        for codes in ([], "other", ["Other"], ["other", 5], [""], None)
    ),
    type_case("51 reason codes", "reason_codes", reason_codes=[f"r{n}" for n in range(51)]),
    type_case("unknown field", "version", version=2),
    # For whom, and who asks.
    case(
        "type for acme",
        POST_TYPE,
        404,
        "client_not_found",
        lambda ids: NEW_TYPE | {"client_id": ids["acme"]},
    ),
    case(
        "type for client 10**20",
        POST_TYPE,
        404,
        "client_not_found",
        NEW_TYPE | {"client_id": HUGE_ID},
    ),
    type_case("type for client '2'", "client_id", client_id="2"),
    case("owner adds a type", "owner POST /task-types", 403, "forbidden", NEW_TYPE),
    case("annotator adds a type", "li POST /task-types", 403, "forbidden", NEW_TYPE),
    case("admin adds a type", "admin POST /task-types", 403, "forbidden", NEW_TYPE),
    case("anonymous adds a type", "anonymous POST /task-types", 401, "missing_token", NEW_TYPE),
    case("stranger adds a type", "stranger POST /task-types", 401, "invalid_token", NEW_TYPE),
    case("type as text", POST_TYPE, 415, "unsupported_media_type", text="{}", content_type=TEXT),
    case("type truncated", POST_TYPE, 400, "malformed_json", text='{"key": '),
    case("type a list", POST_TYPE, 422, "validation_failed", text="[]"),
    case("PUT a type", "client PUT /task-types", 405, "method_not_allowed", NEW_TYPE),
    # Reading one.
    case("type unknown", "li GET /task-types/polygon_3d", 404, "task_type_not_found"),
    case("type by another case", "li GET /task-types/BBOX_2D", 404, "task_type_not_found"),
    case("anonymous reads a type", "anonymous GET /task-types/bbox_2d", 401, "missing_token"),
    case("anonymous reads the types", "anonymous GET /task-types", 401, "missing_token"),
    case("PUT one type", "client PUT /task-types/polygon_2d", 405, "method_not_allowed", NEW_TYPE),
]


def test_a_task_type_is_checked_before_it_is_stored(subtests, app, api, cast, work_world):
    run_work(subtests, app, api, cast, work_world, TASK_TYPE_CASES)


# POST /tasks/{id}/submit, /skip and /tasks/next, and reviews: the task type's rules.
SUBMIT_BOXES = "li POST /tasks/{held_task}/submit"
SUBMIT_RATING = "rival_annotator POST /tasks/{tiger_held}/submit"
SKIP = "li POST /tasks/{held_task}/skip"
BECAUSE = {"reason": "The image is blank."}


def boxes(*xywh) -> dict:
    """A submission of boxes, each (x, y, w, h), on Li's image of 1920 x 1080."""
    return {"result": {"boxes": [dict(zip("xywh", box, strict=True)) for box in xywh]}}


def query_case(case_id, route, query, field) -> Case:
    return case(
        case_id, f"{route}?{query}", 422, "validation_failed", field=field, location="query"
    )


def decisions_of(*rows):
    """A /reviews body from (submission, decision, reason code) rows."""
    return lambda ids: {
        "decisions": [
            {"submission_id": ids[submission], "decision": decision, "reason_code": code}
            for submission, decision, code in rows
        ]
    }


def broken(case_id, route, result, rule, **details) -> Case:
    body = result if "result" in result else {"result": result}
    return case(case_id, route, 422, "result_breaks_rule", body, details={"rule": rule} | details)


RESULT_CASES = [
    # bbox_2d: every box ends inside the image.
    broken(
        "box past the right edge",
        SUBMIT_BOXES,
        boxes((1900, 0, 21, 10)),
        "box_inside_image_width",
        index=0,
    ),
    broken(
        "box past the bottom",
        SUBMIT_BOXES,
        boxes((0, 1070, 5, 11)),
        "box_inside_image_height",
        index=0,
    ),
    broken(
        "second box past the right edge",
        SUBMIT_BOXES,
        boxes((1, 2, 30, 40), (1919.5, 0, 0.75, 1)),
        "box_inside_image_width",
        index=1,
    ),
    broken(
        "box far outside", SUBMIT_BOXES, boxes((10**17, 0, 1, 1)), "box_inside_image_width", index=0
    ),
    *(
        broken(f"boxes {name}", SUBMIT_BOXES, result, "result_schema", path=path)
        for name, result, path in (
            ("missing", {}, ""),
            ("a list", {"boxes": {"x": 1}}, "boxes"),
            ("x -1", boxes((-1, 0, 5, 5)), "boxes/0/x"),
            ("w 0", boxes((0, 0, 0, 5)), "boxes/0/w"),
            ("h -5", boxes((0, 0, 5, -5)), "boxes/0/h"),
            ("x '1'", boxes(("1", 0, 5, 5)), "boxes/0/x"),
            ("y true", boxes((0, True, 5, 5)), "boxes/0/y"),
            ("h missing", {"boxes": [{"x": 0, "y": 0, "w": 5}]}, "boxes/0"),
            ("an unknown field", {"boxes": [{"x": 0, "y": 0, "w": 5, "h": 5, "z": 1}]}, "boxes/0"),
            (
                "label of 101",
                {"boxes": [{"label": "c" * 101, "x": 0, "y": 0, "w": 5, "h": 5}]},
                "boxes/0/label",
            ),
            ("and a note", {"boxes": [], "note": "none"}, ""),
            ("1,001 of them", boxes(*[(0, 0, 1, 1)] * 1001), "boxes"),
            ("a rating instead", {"rating": 5}, ""),
        )
    ),
    # rating_1_5: a low rating names an error type, from the order's list.
    broken(
        "rating 2 without error type",
        SUBMIT_RATING,
        {"rating": 2},
        "error_type_required_for_low_rating",
    ),
    broken(
        "rating 1 with no error types",
        SUBMIT_RATING,
        {"rating": 1, "error_types": []},
        "error_type_required_for_low_rating",
    ),
    broken(
        "error type not on the list",
        SUBMIT_RATING,
        {"rating": 4, "error_types": ["typo"]},
        "error_type_from_order_list",
        index=0,
    ),
    broken(
        "second error type not on the list",
        SUBMIT_RATING,
        {"rating": 2, "error_types": ["unsafe", "Unsafe"]},
        "error_type_from_order_list",
        index=1,
    ),
    *(
        broken(f"rating {name}", SUBMIT_RATING, result, "result_schema")
        for name, result in (
            ("0", {"rating": 0}),
            ("6", {"rating": 6}),
            ("'5'", {"rating": "5"}),
            ("4.5", {"rating": 4.5}),
            ("true", {"rating": True}),
            ("missing", {"error_types": ["unsafe"]}),
            ("error types a string", {"rating": 2, "error_types": "unsafe"}),
            ("comment of 2001", {"rating": 5, "comment": "c" * 2001}),
            ("and a score", {"rating": 5, "score": 2}),
            ("boxes instead", BOXES),
        )
    ),
    # Skipping: a task in one's hands, with a reason.
    case("skip without reason", SKIP, 422, "validation_failed", {}, field="reason"),
    *(
        case(
            f"skip reason {reason!r}",
            SKIP,
            422,
            "validation_failed",
            {"reason": reason},
            field="reason",
        )
        for reason in ("", "   ", "x" * 501, 5, None, ["blank"], "bl\x00ank")
    ),
    case(
        "skip unknown field",
        SKIP,
        422,
        "validation_failed",
        BECAUSE | {"retry": False},
        field="retry",
    ),
    case("skip a list", SKIP, 422, "validation_failed", text="[]"),
    case("skip truncated", SKIP, 400, "malformed_json", text='{"reason": '),
    case("skip as text", SKIP, 415, "unsupported_media_type", text="blank", content_type=TEXT),
    case("skip Li's task", "wang POST /tasks/{held_task}/skip", 404, "task_not_found", BECAUSE),
    case(
        "owner skips Li's task",
        "owner POST /tasks/{held_task}/skip",
        404,
        "task_not_found",
        BECAUSE,
    ),
    case(
        "tiger skips Li's task",
        "rival_annotator POST /tasks/{held_task}/skip",
        404,
        "task_not_found",
        BECAUSE,
    ),
    case("skip an open task", "li POST /tasks/{open_task}/skip", 404, "task_not_found", BECAUSE),
    case(
        "skip a submitted task", "li POST /tasks/{waiting_task}/skip", 409, "task_not_open", BECAUSE
    ),
    case(
        "skip an accepted task",
        "li POST /tasks/{accepted_task}/skip",
        409,
        "task_not_open",
        BECAUSE,
    ),
    *(
        case(f"skip task {n}", f"li POST /tasks/{n}/skip", 404, "task_not_found", BECAUSE)
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("skip task abc", "li POST /tasks/abc/skip", 404, "not_found", BECAUSE),
    case(
        "anonymous skips", "anonymous POST /tasks/{held_task}/skip", 401, "missing_token", BECAUSE
    ),
    case("GET a skip", "li GET /tasks/{held_task}/skip", 405, "method_not_allowed"),
    # Taking: Li's quota as a Junior is 4 a day (3 submitted, 1 in her hands).
    case(
        "take past the daily quota",
        "li POST /tasks/next",
        409,
        "daily_quota_reached",
        {"count": 1},
        details=lambda ids: {"team_id": ids["lotus"], "resets_at": "2026-03-03T00:00:00+08:00"},
    ),
    case(
        "take 500 past the daily quota",
        "li POST /tasks/next",
        409,
        "daily_quota_reached",
        {"count": 500},
    ),
    *(
        query_case(f"tasks {query}", "li GET /tasks", query, field)
        for query, field in (
            ("status=bogus", "status"),
            ("status=returned", "status"),
            ("limit=0", "limit"),
        )
    ),
    # Rejecting: a reason code of the item's own task type.
    case(
        "reject a rating for a box's reason",
        "rival_reviewer POST /submissions/{tiger_waiting}/review",
        422,
        "unknown_reason_code",
        {"decision": "reject", "reason_code": "box_off_target"},
        details=lambda ids: {
            "submission_id": ids["tiger_waiting"],
            "reason_codes": ["wrong_rating", "error_type_missing", "error_type_wrong", "other"],
        },
    ),
    case(
        "reject a rating without a reason code",
        "rival_reviewer POST /submissions/{tiger_waiting}/review",
        422,
        "validation_failed",
        {"decision": "reject", "reason": "Too kind."},
        field="reason_code",
    ),
    case(
        "reviews: reject a rating for a box's reason",
        "rival_reviewer POST /reviews",
        422,
        "unknown_reason_code",
        decisions_of(("tiger_waiting", "reject", "object_missed")),
    ),
    case(
        "review the rejected again",
        "rival_reviewer POST /submissions/{disputed_sub}/review",
        409,
        "already_reviewed",
        ACCEPT,
    ),
    case(
        "review Tiger's work from Lotus",
        "reviewer POST /submissions/{tiger_waiting}/review",
        404,
        "submission_not_found",
        ACCEPT,
    ),
]


def test_a_result_must_keep_its_task_types_rules(subtests, app, api, cast, work_world):
    run_work(subtests, app, api, cast, work_world, RESULT_CASES)


# A team's day, ladder, rate cards and members' levels: the owner's, within the contracts.
TEAM = "PATCH /teams/{lotus}"
ZONE = f"owner {TEAM}"
LEVELS = "POST /teams/{lotus}/levels"
ADD_LEVEL = f"owner {LEVELS}"
PATCH_SENIOR = "owner PATCH /levels/{senior}"
RATES = "PUT /levels/{junior}/rates"
SET_LEVEL_RATE = f"owner {RATES}"
MOVE_LI = "POST /teams/{lotus}/members/{li_id}/levels"
MOVE = f"owner {MOVE_LI}"
SHANGHAI = {"timezone": "Asia/Shanghai"}
LEVEL = {"name": "Lead", "rank": 3}
BOX_RATE = {"task_type": "bbox_2d", "currency": "CNY", "unit_price": "0.05"}


def level_case(case_id, field, route=ADD_LEVEL, **changes) -> Case:
    """A new level (or, on a PATCH route, the change) with fields changed, refused for
    `field`; to `...`: left out."""
    base = LEVEL if "POST" in route else {}
    body = {key: value for key, value in (base | changes).items() if value is not ...}
    return case(case_id, route, 422, "validation_failed", body, field=field)


def promotion(**changes) -> dict:
    return {"min_accuracy": "0.95", "over_items": 500} | changes


def to_level(level: str):
    return lambda ids: {"level_id": ids[level]}


LEVEL_CASES = [
    # The team's time zone: an IANA name.
    *(
        case(f"time zone {zone!r}", ZONE, 422, "invalid_timezone", {"timezone": zone})
        for zone in (
            "Mars/Base",
            "Asia/Shanghai ",
            "asia/shanghai",
            "UTC+8",
            "+08:00",
            "../zoneinfo/UTC",
            "/etc/localtime",
            "localtime",  # whatever the server's clock is set to: no zone of the team's
        )
    ),
    *(
        case(
            f"time zone {zone!r}",
            ZONE,
            422,
            "validation_failed",
            {"timezone": zone},
            field="timezone",
        )
        for zone in ("", "x" * 65, 8, None, ["Asia/Shanghai"], "UTC\x00")
    ),
    case("time zone missing", ZONE, 422, "validation_failed", {}, field="timezone"),
    case("team renamed", ZONE, 422, "validation_failed", SHANGHAI | {"name": "Lily"}, field="name"),
    case("time zone as text", ZONE, 415, "unsupported_media_type", text="UTC", content_type=TEXT),
    case("time zone truncated", ZONE, 400, "malformed_json", text='{"timezone": '),
    case("tiger's time zone", "owner PATCH /teams/{tiger}", 404, "team_not_found", SHANGHAI),
    case("client's time zone", "client PATCH /teams/{lotus}", 404, "team_not_found", SHANGHAI),
    case("annotator sets the zone", f"li {TEAM}", 403, "forbidden", SHANGHAI),
    case("reviewer sets the zone", f"reviewer {TEAM}", 403, "forbidden", SHANGHAI),
    case("anonymous sets the zone", f"anonymous {TEAM}", 401, "missing_token", SHANGHAI),
    *(
        case(f"zone of team {n}", f"owner PATCH /teams/{n}", 404, "team_not_found", SHANGHAI)
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("zone of team abc", "owner PATCH /teams/abc", 404, "not_found", SHANGHAI),
    case("PUT a team", "owner PUT /teams/{lotus}", 405, "method_not_allowed", SHANGHAI),
    # A new level: a name and a rank of its own, a quota of at least 1.
    *(level_case(f"level without {field}", field, **{field: ...}) for field in LEVEL),
    *(
        level_case(f"level name {name!r}", "name", name=name)
        for name in ("", "   ", "x" * 65, 5, None, "Le\x00ad")
    ),
    *(level_case(f"rank {rank!r}", "rank", rank=rank) for rank in (-1, 1001, "3", True, None)),
    *(
        level_case(f"quota {quota!r}", "daily_quota", daily_quota=quota)
        for quota in (0, -1, 1_000_001, "40", True, [40])
    ),
    case(
        "rank 2.5",
        ADD_LEVEL,
        422,
        "validation_failed",
        text='{"name": "Lead", "rank": 2.5}',
        field="rank",
    ),
    case(
        "quota 40.0",
        ADD_LEVEL,
        422,
        "validation_failed",
        text='{"name": "Lead", "rank": 3, "daily_quota": 40.0}',
        field="daily_quota",
    ),
    *(level_case(f"reviews {value!r}", "reviews", reviews=value) for value in ("maybe", 2, [True])),
    *(
        level_case(f"promotion {name}", "promotion", promotion=rule)
        for name, rule in (
            ("accuracy 1.5", promotion(min_accuracy="1.5")),
            ("accuracy -0.1", promotion(min_accuracy="-0.1")),
            ("accuracy 0.95001", promotion(min_accuracy="0.95001")),
            ("accuracy 95%", promotion(min_accuracy="95%")),
            ("accuracy NaN", promotion(min_accuracy="NaN")),
            ("over 0 items", promotion(over_items=0)),
            ("over 100,001 items", promotion(over_items=100_001)),
            ("over '500' items", promotion(over_items="500")),
            ("without accuracy", {"over_items": 500}),
            ("without items", {"min_accuracy": "0.95"}),
            ("with an unknown field", promotion(after_days=30)),
            ("a list", [promotion()]),
            ("a number", 0.95),
        )
    ),
    level_case("level for a team", "team_id", team_id=1),
    case("level name taken", ADD_LEVEL, 409, "level_exists", {"name": "Junior", "rank": 3}),
    case("level rank taken", ADD_LEVEL, 409, "level_exists", {"name": "Lead", "rank": 2}),
    case("level of tiger", "owner POST /teams/{tiger}/levels", 404, "team_not_found", LEVEL),
    case("tiger adds to lotus", f"rival_owner {LEVELS}", 404, "team_not_found", LEVEL),
    case("client adds a level", f"client {LEVELS}", 404, "team_not_found", LEVEL),
    case("annotator adds a level", f"li {LEVELS}", 403, "forbidden", LEVEL),
    case("reviewer adds a level", f"reviewer {LEVELS}", 403, "forbidden", LEVEL),
    case("anonymous adds a level", f"anonymous {LEVELS}", 401, "missing_token", LEVEL),
    *(
        case(f"level of team {n}", f"owner POST /teams/{n}/levels", 404, "team_not_found", LEVEL)
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("level as text", ADD_LEVEL, 415, "unsupported_media_type", text="Lead", content_type=TEXT),
    case("level a list", ADD_LEVEL, 422, "validation_failed", text="[]"),
    # Changing a level: the same checks, on one's own team's levels.
    level_case("rename blank", "name", PATCH_SENIOR, name=" "),
    level_case("rename null", "name", PATCH_SENIOR, name=None),
    level_case("rerank -1", "rank", PATCH_SENIOR, rank=-1),
    level_case("quota 0", "daily_quota", PATCH_SENIOR, daily_quota=0),
    level_case(
        "promotion accuracy 1.5", "promotion", PATCH_SENIOR, promotion=promotion(min_accuracy="1.5")
    ),
    level_case("move the level to tiger", "team_id", PATCH_SENIOR, team_id=1),
    case("rename to Junior", PATCH_SENIOR, 409, "level_exists", {"name": "Junior"}),
    case("rerank to Junior's", PATCH_SENIOR, 409, "level_exists", {"rank": 1}),
    case(
        "change tiger's level", "owner PATCH /levels/{tiger_level}", 404, "level_not_found", LEVEL
    ),
    case("annotator changes a level", "li PATCH /levels/{senior}", 403, "forbidden", LEVEL),
    case("client changes a level", "client PATCH /levels/{senior}", 404, "level_not_found", LEVEL),
    *(
        case(f"change level {n}", f"owner PATCH /levels/{n}", 404, "level_not_found", LEVEL)
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("change level abc", "owner PATCH /levels/abc", 404, "not_found", LEVEL),
    # Rate cards: a known task type, a currency, a price no contract of the team undercuts.
    *(
        case(
            f"rate task type {key!r}",
            SET_LEVEL_RATE,
            422,
            "unknown_task_type",
            BOX_RATE | {"task_type": key},
            details={"field": "task_type"},
        )
        for key in ("polygon_3d", "BBOX_2D")
    ),
    *(
        case(
            f"rate {field} missing",
            SET_LEVEL_RATE,
            422,
            "validation_failed",
            {k: v for k, v in BOX_RATE.items() if k != field},
            field=field,
        )
        for field in BOX_RATE
    ),
    *(
        case(
            f"rate task type {key!r}",
            SET_LEVEL_RATE,
            422,
            "validation_failed",
            BOX_RATE | {"task_type": key},
            field="task_type",
        )
        for key in ("", "x" * 65, 5, None)
    ),
    *(
        case(
            f"rate currency {c!r}",
            SET_LEVEL_RATE,
            422,
            "validation_failed",
            BOX_RATE | {"currency": c},
            field="currency",
        )
        for c in ("XXY", "cny", "", "XXX", 156, None)
    ),
    *(
        case(
            f"level rate {p!r}",
            SET_LEVEL_RATE,
            422,
            "validation_failed",
            BOX_RATE | {"unit_price": p},
            field="unit_price",
        )
        for p in ("0", "-0.05", "0.0000001", "NaN", "five fen", TOO_BIG, True, None)
    ),
    case(
        "level rate float 1e-7",
        SET_LEVEL_RATE,
        422,
        "validation_failed",
        text='{"task_type": "bbox_2d", "currency": "CNY", "unit_price": 1e-7}',
        field="unit_price",
    ),
    case(
        "level rate for an order",
        SET_LEVEL_RATE,
        422,
        "validation_failed",
        BOX_RATE | {"order_id": 1},
        field="order_id",
    ),
    *(
        case(
            f"level rate {price}, the contract pays 0.10",
            SET_LEVEL_RATE,
            409,
            "rate_above_contract_price",
            BOX_RATE | {"unit_price": price},
            details={"contract_price": "0.1"},
        )
        for price in ("0.100001", "0.11", "1000000")
    ),
    case(
        "rate of tiger's level",
        "owner PUT /levels/{tiger_level}/rates",
        404,
        "level_not_found",
        BOX_RATE,
    ),
    case("annotator sets a level rate", f"li {RATES}", 403, "forbidden", BOX_RATE),
    case("reviewer sets a level rate", f"reviewer {RATES}", 403, "forbidden", BOX_RATE),
    case("client sets a level rate", f"client {RATES}", 404, "level_not_found", BOX_RATE),
    case("anonymous sets a level rate", f"anonymous {RATES}", 401, "missing_token", BOX_RATE),
    *(
        case(f"rate of level {n}", f"owner PUT /levels/{n}/rates", 404, "level_not_found", BOX_RATE)
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case(
        "POST a level rate",
        "owner POST /levels/{junior}/rates",
        405,
        "method_not_allowed",
        BOX_RATE,
    ),
    case(
        "level rate as text",
        SET_LEVEL_RATE,
        415,
        "unsupported_media_type",
        text="0.05",
        content_type=TEXT,
    ),
    # Moving a member: an annotator of the team, to another level of it; up only if eligible.
    case(
        "promote Li before she is eligible",
        MOVE,
        409,
        "not_eligible",
        to_level("senior"),
        details={"accepted": 1, "reviewed": 1, "needed_items": 5},
    ),
    case("move Li to her own level", MOVE, 409, "same_level", to_level("junior")),
    case("move Li to tiger's level", MOVE, 404, "level_not_found", to_level("tiger_level")),
    *(
        case(f"move Li to level {n}", MOVE, 404, "level_not_found", {"level_id": n})
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW, 0, -1)
    ),
    *(
        case(
            f"move Li to level {n!r}",
            MOVE,
            422,
            "validation_failed",
            {"level_id": n},
            field="level_id",
        )
        for n in ("1", "Junior", True, None, [1])
    ),
    case(
        "move Li to level 1.0",
        MOVE,
        422,
        "validation_failed",
        text='{"level_id": 1.0}',
        field="level_id",
    ),
    case(
        "move Li without a level", MOVE, 422, "validation_failed", {"note": "x"}, field="level_id"
    ),
    case(
        "move Li with a note of 501",
        MOVE,
        422,
        "validation_failed",
        lambda ids: {"level_id": ids["junior"], "note": "x" * 501},
        field="note",
    ),
    *(
        case(
            f"move {who}",
            f"owner POST /teams/{{lotus}}/members/{{{who}}}/levels",
            404,
            "member_not_found",
            to_level("junior"),
        )
        for who in ("owner_id", "reviewer_id", "tiger_annotator_id")
    ),
    *(
        case(
            f"move member {n}",
            f"owner POST /teams/{{lotus}}/members/{n}/levels",
            404,
            "member_not_found",
            to_level("junior"),
        )
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case(
        "move member abc",
        "owner POST /teams/{lotus}/members/abc/levels",
        404,
        "not_found",
        {"level_id": 1},
    ),
    case(
        "move Li in tiger",
        "owner POST /teams/{tiger}/members/{li_id}/levels",
        404,
        "team_not_found",
        to_level("junior"),
    ),
    case("tiger moves Li", f"rival_owner {MOVE_LI}", 404, "team_not_found", to_level("senior")),
    case("Li moves herself", f"li {MOVE_LI}", 403, "forbidden", to_level("senior")),
    case("reviewer moves Li", f"reviewer {MOVE_LI}", 403, "forbidden", to_level("senior")),
    case("client moves Li", f"client {MOVE_LI}", 404, "team_not_found", to_level("senior")),
    case("anonymous moves Li", f"anonymous {MOVE_LI}", 401, "missing_token", to_level("senior")),
    case("move as text", MOVE, 415, "unsupported_media_type", text="senior", content_type=TEXT),
    # Reading the ladder, the members and their histories.
    *(
        case(f"{what} of team {n}", f"owner GET /teams/{n}/{path}", 404, "team_not_found")
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
        for what, path in (
            ("levels", "levels"),
            ("members", "members"),
            ("history", "members/{li_id}/levels"),
        )
    ),
    case("levels of tiger", "owner GET /teams/{tiger}/levels", 404, "team_not_found"),
    case("members of tiger", "owner GET /teams/{tiger}/members", 404, "team_not_found"),
    case("members by an annotator", "li GET /teams/{lotus}/members", 403, "forbidden"),
    case("members by the client", "client GET /teams/{lotus}/members", 404, "team_not_found"),
    case(
        "Wang's history by Li", "li GET /teams/{lotus}/members/{wang_id}/levels", 403, "forbidden"
    ),
    case(
        "Li's history by tiger",
        "rival_owner GET /teams/{lotus}/members/{li_id}/levels",
        404,
        "team_not_found",
    ),
]


def test_a_teams_ladder_takes_only_what_holds(subtests, app, api, cast, work_world):
    run_work(subtests, app, api, cast, work_world, LEVEL_CASES)


# Disputes, and reading a batch's review: the annotator's own rejection, in time, once.
DISPUTE = "rival_annotator POST /submissions/{disputed_sub}/dispute"
DISPUTE_NEW = "POST /submissions/{tiger_waiting}/dispute"
DECIDE = "POST /disputes/{dispute}/decision"
UPHOLD = {"decision": "uphold", "note": "The answer was fine."}
FINE = {"reason": "The answer was fine."}

DISPUTE_CASES = [
    case("dispute without a reason", DISPUTE, 422, "validation_failed", {}, field="reason"),
    *(
        case(
            f"dispute reason {reason!r}",
            DISPUTE,
            422,
            "validation_failed",
            {"reason": reason},
            field="reason",
        )
        for reason in ("", "  ", "x" * 1001, 5, None, ["fine"], "fi\x00ne")
    ),
    case(
        "dispute unknown field",
        DISPUTE,
        422,
        "validation_failed",
        FINE | {"reviewer_id": 1},
        field="reviewer_id",
    ),
    case("dispute as text", DISPUTE, 415, "unsupported_media_type", text="fine", content_type=TEXT),
    case("dispute truncated", DISPUTE, 400, "malformed_json", text='{"reason": '),
    case(
        "dispute what waits for review",
        f"rival_annotator {DISPUTE_NEW}",
        409,
        "not_rejected",
        FINE,
        details={"status": "submitted"},
    ),
    case(
        "dispute an accepted box",
        "li POST /submissions/{accepted}/dispute",
        409,
        "not_rejected",
        FINE,
    ),
    case("dispute twice", DISPUTE, 409, "already_disputed", FINE),
    case(
        "dispute after a dismissal",
        "rival_annotator POST /submissions/{dismissed_sub}/dispute",
        409,
        "already_disputed",
        FINE,
    ),
    case(
        "dispute after the window",
        "rival_annotator POST /submissions/{old_rejection}/dispute",
        409,
        "dispute_window_closed",
        FINE,
        details={"closed_at": "2026-03-01T10:00:00+00:00"},
    ),
    case(
        "dispute another's rejection",
        "li POST /submissions/{disputed_sub}/dispute",
        404,
        "submission_not_found",
        FINE,
    ),
    case(
        "owner disputes",
        "rival_owner POST /submissions/{old_rejection}/dispute",
        404,
        "submission_not_found",
        FINE,
    ),
    case(
        "reviewer disputes",
        "rival_reviewer POST /submissions/{old_rejection}/dispute",
        404,
        "submission_not_found",
        FINE,
    ),
    case(
        "client disputes",
        "client POST /submissions/{old_rejection}/dispute",
        404,
        "submission_not_found",
        FINE,
    ),
    *(
        case(
            f"dispute submission {n}",
            f"rival_annotator POST /submissions/{n}/dispute",
            404,
            "submission_not_found",
            FINE,
        )
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case(
        "dispute submission abc",
        "rival_annotator POST /submissions/abc/dispute",
        404,
        "not_found",
        FINE,
    ),
    case(
        "anonymous disputes",
        "anonymous POST /submissions/{old_rejection}/dispute",
        401,
        "missing_token",
        FINE,
    ),
    case(
        "GET a dispute of a submission",
        "rival_annotator GET /submissions/{disputed_sub}/dispute",
        405,
        "method_not_allowed",
    ),
    # Deciding: uphold or dismiss with a note, by someone other than the rejecting reviewer.
    *(
        case(
            f"decision {d!r}",
            f"rival_owner {DECIDE}",
            422,
            "validation_failed",
            UPHOLD | {"decision": d},
            field="decision",
        )
        for d in ("maybe", "UPHOLD", "upheld", "", True, None)
    ),
    case(
        "decision missing",
        f"rival_owner {DECIDE}",
        422,
        "validation_failed",
        {"note": "ok"},
        field="decision",
    ),
    *(
        case(
            f"decision note {note!r}",
            f"rival_owner {DECIDE}",
            422,
            "validation_failed",
            UPHOLD | {"note": note},
            field="note",
        )
        for note in ("", "   ", "x" * 1001, None, 5)
    ),
    case(
        "decision without a note",
        f"rival_owner {DECIDE}",
        422,
        "validation_failed",
        {"decision": "dismiss"},
        field="note",
    ),
    case(
        "decision as text",
        f"rival_owner {DECIDE}",
        415,
        "unsupported_media_type",
        text="uphold",
        content_type=TEXT,
    ),
    case(
        "decided by the rejecting reviewer",
        f"rival_reviewer {DECIDE}",
        403,
        "original_reviewer",
        UPHOLD,
    ),
    case("decided by its annotator", f"rival_annotator {DECIDE}", 403, "forbidden", UPHOLD),
    case(
        "decided again",
        "rival_owner POST /disputes/{dismissed}/decision",
        409,
        "dispute_decided",
        UPHOLD,
        details={"status": "dismissed"},
    ),
    case("decided by lotus", f"reviewer {DECIDE}", 404, "dispute_not_found", UPHOLD),
    case("decided by lotus's owner", f"owner {DECIDE}", 404, "dispute_not_found", UPHOLD),
    case("decided by the client", f"client {DECIDE}", 404, "dispute_not_found", UPHOLD),
    case("decided by nobody", f"anonymous {DECIDE}", 401, "missing_token", UPHOLD),
    *(
        case(
            f"decide dispute {n}",
            f"rival_owner POST /disputes/{n}/decision",
            404,
            "dispute_not_found",
            UPHOLD,
        )
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("decide dispute abc", "rival_owner POST /disputes/abc/decision", 404, "not_found", UPHOLD),
    # Reading disputes and reviews.
    *(
        case(
            f"disputes {query}",
            f"rival_owner GET /disputes?{query}",
            422,
            "validation_failed",
            field=field,
            location="query",
        )
        for query, field in (
            ("status=bogus", "status"),
            ("status=OPEN", "status"),
            ("limit=0", "limit"),
            ("limit=1001", "limit"),
            ("after=-1", "after"),
            ("after=abc", "after"),
        )
    ),
    case("dispute of another team", "reviewer GET /disputes/{dispute}", 404, "dispute_not_found"),
    case("dispute by the client", "client GET /disputes/{dispute}", 404, "dispute_not_found"),
    *(
        case(f"dispute {n}", f"rival_owner GET /disputes/{n}", 404, "dispute_not_found")
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("dispute abc", "rival_owner GET /disputes/abc", 404, "not_found"),
    case("anonymous disputes list", "anonymous GET /disputes", 401, "missing_token"),
    *(
        case(
            f"{what} of a batch {who} sees but does not review",
            f"{who} GET /batches/{{ratings_batch}}/{what}",
            403,
            "forbidden",
        )
        for what in ("sample", "reviews")
        for who in ("reviewer", "owner", "rival_annotator", "client")
    ),
    *(
        case(
            f"{what} of batch {n}",
            f"rival_reviewer GET /batches/{n}/{what}",
            404,
            "batch_not_found",
        )
        for what in ("sample", "reviews")
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("sample of batch abc", "rival_reviewer GET /batches/abc/sample", 404, "not_found"),
    *(
        case(
            f"decisions on it by {who}",
            f"{who} GET /submissions/{{disputed_sub}}/decisions",
            404,
            "submission_not_found",
        )
        for who in ("reviewer", "owner", "li", "client")
    ),
    *(
        case(
            f"decisions on {n}",
            f"rival_owner GET /submissions/{n}/decisions",
            404,
            "submission_not_found",
        )
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("decisions on abc", "rival_owner GET /submissions/abc/decisions", 404, "not_found"),
    case(
        "anonymous decisions",
        "anonymous GET /submissions/{disputed_sub}/decisions",
        401,
        "missing_token",
    ),
    case(
        "submissions sampled maybe",
        "rival_reviewer GET /submissions?sampled=maybe",
        422,
        "validation_failed",
        field="sampled",
        location="query",
    ),
]


def test_a_dispute_is_the_annotators_in_time_and_once(subtests, app, api, cast, work_world):
    run_work(subtests, app, api, cast, work_world, DISPUTE_CASES)


# Earnings: periods of at most 366 days running forward, a known format and locale.
DAYS = "li GET /me/earnings/days"
STATEMENT = "li GET /me/earnings/statement"


EARNINGS_CASES = [
    *(
        case(f"{name} {query}", f"{route}?{also}{query}", 422, "invalid_period", details=expected)
        for name, route, also in (
            ("days", DAYS, ""),
            ("statement", STATEMENT, ""),
            ("csv statement", STATEMENT, "format=csv&"),
        )
        for query, expected in (
            ("from=2026-03-10&to=2026-03-01", {"from": "2026-03-10", "to": "2026-03-01"}),
            ("from=2025-03-01&to=2026-03-02", {"from": "2025-03-01", "to": "2026-03-02"}),
            ("from=2000-01-01&to=2026-03-02", {"from": "2000-01-01"}),
            ("from=2026-03-10", {"from": "2026-03-10", "to": "2026-03-02"}),
            ("to=2026-02-28", {"from": "2026-03-01", "to": "2026-02-28"}),
        )
    ),
    *(
        query_case(f"{name} {query}", route, query, field)
        for name, route in (("days", DAYS), ("statement", STATEMENT))
        for query, field in (
            ("from=2026-02-30", "from"),
            ("from=03/01/2026", "from"),
            ("from=2026-03-01T00:00:00", "from"),
            ("to=today", "to"),
            ("to=", "to"),
            ("team_id=lotus", "team_id"),
            ("team_id=1.5", "team_id"),
        )
    ),
    *(
        query_case(f"statement {query}", STATEMENT, query, field)
        for query, field in (
            ("format=xml", "format"),
            ("format=CSV", "format"),
            ("format=", "format"),
            ("format=json,csv", "format"),
            ("format=csv&locale=x", "locale"),
            (f"format=csv&locale={'x' * 36}", "locale"),
        )
    ),
    *(
        case(
            f"statement in {locale!r}",
            f"{STATEMENT}?format=csv&locale={locale}",
            422,
            "invalid_locale",
            details={"locale": locale},
        )
        for locale in ("xx_YY", "klingon", "de_XX_YY_ZZ", "de--DE")
    ),
    *(
        case(f"{name} for tiger", f"{route}?team_id={{tiger}}", 404, "team_not_found")
        for name, route in (("days", DAYS), ("statement", STATEMENT))
    ),
    *(
        case(f"{name} for team {n}", f"{route}?team_id={n}", 404, "team_not_found")
        for name, route in (("days", DAYS), ("statement", STATEMENT))
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    # Who: an annotator reads her own; someone who annotates nowhere has nothing to read.
    *(
        case(f"{name} of the {who}", f"{who} GET /me/earnings/{name}", 403, "forbidden")
        for name in ("days", "statement")
        for who in ("client", "owner")
    ),
    *(
        case(
            f"anonymous {name}",
            f"anonymous GET /me/earnings/{name}?format=xml",
            401,
            "missing_token",
        )
        for name in ("days", "statement")
    ),
    # A team's earnings: its owner's.
    case("tiger's earnings", "owner GET /teams/{tiger}/earnings", 404, "team_not_found"),
    case(
        "lotus's earnings by tiger",
        "rival_owner GET /teams/{lotus}/earnings",
        404,
        "team_not_found",
    ),
    case("lotus's earnings by Li", "li GET /teams/{lotus}/earnings", 403, "forbidden"),
    case(
        "lotus's earnings by its reviewer", "reviewer GET /teams/{lotus}/earnings", 403, "forbidden"
    ),
    case(
        "lotus's earnings by the client",
        "client GET /teams/{lotus}/earnings",
        404,
        "team_not_found",
    ),
    *(
        case(f"earnings of team {n}", f"owner GET /teams/{n}/earnings", 404, "team_not_found")
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("earnings of team abc", "owner GET /teams/abc/earnings", 404, "not_found"),
    case("POST earnings", "li POST /me/earnings/days", 405, "method_not_allowed", {}),
    case("anonymous earnings", "anonymous GET /me/earnings", 401, "missing_token"),
]


def test_an_earnings_query_is_a_period_in_a_known_format(subtests, app, api, cast, work_world):
    run_work(subtests, app, api, cast, work_world, EARNINGS_CASES)


def test_the_ends_of_the_calendar_and_of_64_bits_are_answered_not_crashed(
    subtests, app, api, cast, work_world
):
    """A statement of the calendar's first or last day, a member or a page past 64 bits:
    nothing there, or a 422 naming what is wrong; never an error 500 (which the test client
    raises), and nothing written."""
    ids, tables = work_world, Tables(app)

    def nothing_or_refused(answer, empty, code, field=None):
        if answer.status == 422:
            assert answer.error_code == code, answer.text[:500]
            if field:
                assert field in answer.body["error"]["details"]["fields"]["query"]
        else:
            assert (answer.status, empty(answer)) == (200, True), answer.text[:500]

    for period in ("from=9999-12-31&to=9999-12-31", "from=0001-01-01&to=0001-01-01"):
        for also, empty in (
            ("", lambda answer: answer.body["rows"] == []),
            ("&format=csv", lambda answer: answer.text.count("\n") == 1),
        ):
            with subtests.test(f"statement {period}{also}"):
                answer = api.get(f"/me/earnings/statement?{period}{also}", cast.li)
                nothing_or_refused(answer, empty, "invalid_period")
        with subtests.test(f"days {period}"):
            answer = api.get(f"/me/earnings/days?{period}", cast.li)
            nothing_or_refused(answer, lambda answer: answer.body["days"] == [], "invalid_period")
    for n in (HUGE_ID, SIGNED_OVERFLOW):
        with subtests.test(f"history of member {n}"):
            history = f"/teams/{ids['lotus']}/members/{{}}/levels"
            unknown = api.get(history.format(999_999), cast.owner)
            answer = api.get(history.format(n), cast.owner)
            assert (answer.status, answer.error_code) == (unknown.status, unknown.error_code)
            assert (answer.status, answer.error_code) == (404, "member_not_found")
        for who, path in (
            ("rival_owner", "/disputes"),
            ("li", "/tasks"),
            ("rival_owner", "/submissions"),
            ("admin", "/invoices"),
        ):
            with subtests.test(f"{path} after {n}"):
                answer = api.get(f"{path}?after={n}", cast.tokens[who])
                nothing_or_refused(
                    answer, lambda answer: answer.body == [], "validation_failed", "after"
                )
    assert tables.look() == tables.seen


def test_every_write_and_every_new_read_has_bad_input_here(app):
    """A write endpoint, or a read of the annotators' side, without a refused case in
    this file fails here: bad input to it would go untested."""
    adapter = app.url_map.bind("localhost")

    class AnyId(dict):
        def __missing__(self, key):
            return "1"

    covered = set()
    for name, cases in globals().items():
        if not name.endswith("_CASES"):
            continue
        for bad in cases:
            _, method, path = bad.route.split()
            try:
                rule, _ = adapter.match(
                    "/api/v1" + path.format_map(AnyId()).split("?")[0],
                    method=method,
                    return_rule=True,
                )
            except HTTPException:  # ids that are no route, methods the route lacks
                continue
            covered.add((method, rule.rule.removeprefix("/api/v1")))
    served = {
        (method, rule.rule.removeprefix("/api/v1"))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"GET", "HEAD", "OPTIONS"}
    }
    assert served - covered == set()
    assert NEW_READS - covered == set()


# The reads of the annotators' side (issue 5), each with cases above.
NEW_READS = {
    ("GET", route)
    for route in (
        "/task-types",
        "/task-types/<key>",
        "/teams/<int:team_id>/levels",
        "/teams/<int:team_id>/members",
        "/teams/<int:team_id>/members/<int:user_id>/levels",
        "/batches/<int:batch_id>/sample",
        "/batches/<int:batch_id>/reviews",
        "/submissions/<int:submission_id>/decisions",
        "/disputes",
        "/disputes/<int:dispute_id>",
        "/me/earnings",
        "/me/earnings/days",
        "/me/earnings/statement",
        "/teams/<int:team_id>/earnings",
        "/tasks",
        "/submissions",
    )
}
