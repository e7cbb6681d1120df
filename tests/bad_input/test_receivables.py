"""Receivables: the aging report, the dunning schedule, what admins record on an invoice
they chase (promises, disputes and their resolution, notes, write-offs), credit holds,
payment records, the outbox and the audit log; on the chased story (see `chased`).

Platform admins run all of it. An invoice's client sees its collection but may record
nothing on it (403); whoever does not see the invoice gets 404, as for invoices. The rest
is the admins' alone (403 for anybody else), but payment records, which anybody signed in
reads. Every refusal writes nothing: not a row, not a line of the audit log."""

from typing import Any

import pytest

from tests.bad_input.cases import (
    FORM,
    HUGE_ID,
    SIGNED_OVERFLOW,
    TEXT,
    TOO_BIG,
    case,
    query_case,
    refused,
    run,
)
from tests.flows import review
from tests.support import Response

pytestmark = pytest.mark.slow

INVALID = "validation_failed"
BAD_AMOUNT = "invalid_amount"
FORBIDDEN = (403, "forbidden")
NOT_INVOICE = (404, "invoice_not_found")
NOT_CLIENT = (404, "client_not_found")
NOT_DISPUTE = (404, "dispute_not_found")
NOT_OPEN = (409, "invoice_not_open")
UNKNOWN_IDS = (999_999, 0, HUGE_ID, SIGNED_OVERFLOW)
# Signed in, but no platform admin.
NOT_ADMINS = ("client", "owner", "reviewer", "li", "rival_client", "rival_owner")
# Signed in, and none of Horizon's: Horizon's invoices are not theirs to see.
OUTSIDERS = ("owner", "reviewer", "li", "rival_client", "rival_owner", "rival_annotator")
TODAY = "2026-03-02"  # the frozen clock's day in the business time zone (Asia/Shanghai)


def made(answer: Response, status: int = 201) -> Any:
    assert answer.status == status, answer.text[:500]
    return answer.body


@pytest.fixture
def chased(api, cast, invoiced) -> dict[str, int]:
    """The invoiced story (Horizon's `invoice` of 0.11, open, due in 30 days), chased.

    The box accepted since is invoiced too (`settled`) and paid in full by a transfer. On
    the open invoice a dispute was opened and resolved (`resolved_dispute`), another is
    open (`open_dispute`); Horizon promised to pay by 2026-03-20, and the admin noted the
    call. Acme is on credit hold, placed by the admin; Horizon is not."""
    ids = dict(invoiced)
    admin, invoice = cast.admin, ids["invoice"]
    review(api, cast.reviewer, accept=[ids["waiting"]])
    settled = made(api.post(f"/orders/{ids['order']}/invoices", admin))
    transfer = {"amount": settled["total"], "reference": "ICBC-2", "received_on": TODAY}
    made(api.post(f"/invoices/{settled['id']}/payments", admin, transfer))
    on_invoice = f"/invoices/{invoice}"
    resolved = made(api.post(f"{on_invoice}/disputes", admin, {"reason": "Two boxes missing."}))
    ruling = {"resolution": "Both boxes were delivered."}
    made(api.post(f"/invoice-disputes/{resolved['id']}/resolution", admin, ruling), 200)
    disputed = made(api.post(f"{on_invoice}/disputes", admin, {"reason": "The fee is wrong."}))
    made(api.post(f"{on_invoice}/promises", admin, {"promised_on": "2026-03-20"}))
    made(api.post(f"{on_invoice}/notes", admin, {"text": "Called Horizon's accounts."}))
    hold = {"reason": "Pays late.", "lifts_when_paid": False}
    made(api.post(f"/clients/{ids['acme']}/credit-holds", admin, hold))
    ids |= {
        "settled": settled["id"],
        "resolved_dispute": resolved["id"],
        "open_dispute": disputed["id"],
        "platform": cast.party_ids["platform"],
        "tiger": cast.party_ids["tiger"],
    }
    assert receivables_view(api, cast, ids) == {
        "invoice": ("open", "0.11", "0.00"),
        "settled": ("paid", settled["total"], settled["total"]),
        "collection": (
            "disputed",
            True,
            [(resolved["id"], True), (disputed["id"], False)],
            [("2026-03-20", "pending")],
            ["Called Horizon's accounts."],
            [],
        ),
        "holds in force": [(ids["acme"], "Pays late.", False)],
        "horizon's holds": [],
        "records": [(ids["horizon"], 2, 1, None)],
        "acme's record": (ids["acme"], 0, 0, "placed by a platform admin"),
    }
    return ids


def receivables_view(api, cast, ids) -> dict[str, Any]:
    """What the API says of the chased story's invoices, their collection, holds and
    payment records."""

    def invoice(invoice_id):
        found = made(api.get(f"/invoices/{invoice_id}", cast.admin), 200)
        return found["status"], found["total"], found["paid"]

    collection = made(api.get(f"/invoices/{ids['invoice']}/collection", cast.admin), 200)
    acme = made(api.get(f"/clients/{ids['acme']}/payment-record", cast.li), 200)
    return {
        "invoice": invoice(ids["invoice"]),
        "settled": invoice(ids["settled"]),
        "collection": (
            collection["paused"],
            collection["disputed"],
            [(d["id"], d["resolved_at"] is not None) for d in collection["disputes"]],
            [(p["promise"]["promised_on"], p["state"]) for p in collection["promises"]],
            [n["text"] for n in collection["notes"]],
            collection["write_offs"],
        ),
        "holds in force": [
            (h["client_id"], h["reason"], h["lifts_when_paid"])
            for h in made(api.get("/credit-holds", cast.admin), 200)
        ],
        "horizon's holds": made(
            api.get(f"/clients/{ids['horizon']}/credit-holds", cast.admin), 200
        ),
        "records": [
            (r["client_id"], r["invoices_issued"], r["invoices_paid"], r["credit_hold"])
            for r in made(api.get("/payment-records", cast.owner), 200)
        ],
        "acme's record": (
            acme["client_id"],
            acme["invoices_issued"],
            acme["invoices_paid"],
            acme["credit_hold"] and acme["credit_hold"]["reason"],
        ),
    }


def run_receivables(subtests, app, api, cast, ids, cases) -> None:
    """`run`, and the receivables must read back as they did at the start."""
    before = receivables_view(api, cast, ids)
    run(subtests, app, api, cast, ids, cases)
    assert receivables_view(api, cast, ids) == before


def unknown_ids(template: str, missing: tuple[int, str], name: str, body=None, who="admin"):
    """`template` ("METHOD path" with a {} for the id) on ids that are nobody's."""
    method, path = template.split()
    return [
        *(
            case(f"{name} {n}", f"{who} {method} {path.format(n)}", *missing, body)
            for n in UNKNOWN_IDS
        ),
        case(f"{name} abc", f"{who} {method} {path.format('abc')}", 404, "not_found", body),
    ]


def not_signed_in(route: str, name: str, body=None) -> list:
    return [
        case(f"{name} as anonymous", f"anonymous {route}", 401, "missing_token", body),
        case(f"{name} as a stranger", f"stranger {route}", 401, "invalid_token", body),
    ]


def body_shape(route: str, name: str, good: str) -> list:
    """A list, truncated JSON and a form for the body `route` takes."""
    return [
        case(f"{name} a list", route, 422, INVALID, text="[]"),
        case(f"{name} truncated", route, 400, "malformed_json", text=good[: len(good) // 2]),
        case(
            f"{name} form-encoded",
            route,
            415,
            "unsupported_media_type",
            text="reason=late",
            content_type=FORM,
        ),
        case(f"{name} as text", route, 415, "unsupported_media_type", text=good, content_type=TEXT),
    ]


def text_cases(make, field: str, longest: int) -> list:
    """`field`, a required text of 1 to `longest` characters, that is not one."""
    return [
        make(f"{field} {name}", 422, INVALID, field=field, **{field: value})
        for name, value in (
            ("missing", ...),
            ("empty", ""),
            ("blank", " \t\n "),
            (f"of {longest + 1}", "x" * (longest + 1)),
            ("null", None),
            ("a number", 42),
            ("a list", ["x"]),
            ("with NUL", "a\x00b"),
        )
    ]


def body_case(template: str, good: dict):
    """A case maker for `template` ("METHOD path"), sending `good` with fields changed (to
    `...`: left out)."""

    def make(case_id, status, code, who="admin", field=None, details=None, **changes):
        body = {key: value for key, value in (good | changes).items() if value is not ...}
        return case(case_id, f"{who} {template}", status, code, body, field=field, details=details)

    return make


# -- the aging report ---------------------------------------------------------------------

AGING = "admin GET /receivables/aging"

AGING_CASES = [
    *(
        query_case(f"aging {query}", AGING, query, field)
        for query, field in (
            ("as_of=2026-02-30", "as_of"),
            ("as_of=03/01/2026", "as_of"),
            ("as_of=2026-03-01T00:00:00", "as_of"),
            ("as_of=today", "as_of"),
            ("as_of=", "as_of"),
            ("currency=XXX", "currency"),
            ("currency=cny", "currency"),
            ("currency=RMB", "currency"),
            ("currency=", "currency"),
            ("format=xml", "format"),
            ("format=CSV", "format"),
            ("format=", "format"),
            ("format=json,csv", "format"),
        )
    ),
    # The query is read before the caller's role is looked at, as everywhere.
    query_case(
        "client's aging of 02-30", "client GET /receivables/aging", "as_of=2026-02-30", "as_of"
    ),
    *(
        case(f"aging as {who}", f"{who} GET /receivables/aging{query}", *FORBIDDEN)
        for who in NOT_ADMINS
        for query in ("", "?format=csv")
    ),
    *not_signed_in("GET /receivables/aging", "aging"),
    *not_signed_in("GET /receivables/aging?format=csv", "aging as CSV"),
]


# -- the dunning schedule -----------------------------------------------------------------

STEPS = "PUT /dunning/steps"
GOOD_STEPS = [{"offset_days": -3, "action": "reminder"}, {"offset_days": 7, "action": "notice"}]


def steps_case(case_id, status, code, steps, who="admin", **more):
    return case(case_id, f"{who} {STEPS}", status, code, {"steps": steps}, **more)


def step_case(case_id, **changes):
    """The schedule with its second step's fields changed (to `...`: left out)."""
    step = {k: v for k, v in (GOOD_STEPS[1] | changes).items() if v is not ...}
    return steps_case(case_id, 422, INVALID, [GOOD_STEPS[0], step], field="steps")


TWENTY_ONE = [{"offset_days": day, "action": "notice"} for day in range(21)]

DUNNING_CASES = [
    *(
        case(f"steps {name}", f"admin {STEPS}", 422, INVALID, body, field="steps")
        for name, body in (
            ("missing", {}),
            ("null", {"steps": None}),
            ("a step", {"steps": GOOD_STEPS[0]}),
            ("a string", {"steps": "reminder"}),
            ("of nulls", {"steps": [None]}),
            ("of numbers", {"steps": [7]}),
            ("of lists", {"steps": [[7, "notice"]]}),
        )
    ),
    *(
        step_case(f"offset {offset!r}", offset_days=offset)
        for offset in (-366, 3651, 10**30, -(10**30), "7", True, None, [7], ...)
    ),
    *(
        case(f"offset {text}", f"admin {STEPS}", 422, INVALID, text=text_body, field="steps")
        for text, text_body in (
            ("7.0", '{"steps": [{"offset_days": 7.0, "action": "notice"}]}'),
            ("7.5", '{"steps": [{"offset_days": 7.5, "action": "notice"}]}'),
            ("1e1", '{"steps": [{"offset_days": 1e1, "action": "notice"}]}'),
            ("-0.0", '{"steps": [{"offset_days": -0.0, "action": "notice"}]}'),
        )
    ),
    *(
        step_case(f"action {action!r}", action=action)
        for action in ("NOTICE", "call", "email", "", " notice", None, 1, ["notice"], ...)
    ),
    step_case("step unknown field", channel="email"),
    steps_case("21 steps", 422, INVALID, TWENTY_ONE, field="steps"),
    steps_case(
        "21 steps, two alike", 422, INVALID, [*TWENTY_ONE[:20], TWENTY_ONE[0]], field="steps"
    ),
    case(
        "schedule unknown field",
        f"admin {STEPS}",
        422,
        INVALID,
        {"steps": GOOD_STEPS, "replace": True},
        field="replace",
    ),
    steps_case("a step twice", 422, "duplicate_step", [*GOOD_STEPS, GOOD_STEPS[1]]),
    steps_case(
        "a step twice, spelled apart",
        422,
        "duplicate_step",
        [
            {"offset_days": 7, "action": "notice"},
            {"action": "notice", "offset_days": 7},
        ],
    ),
    *body_shape(
        f"admin {STEPS}", "schedule", '{"steps": [{"offset_days": 7, "action": "notice"}]}'
    ),
    # Validation answers first, whoever asks; then the role, before the duplicates.
    steps_case(
        "client's offset of 3651",
        422,
        INVALID,
        [{"offset_days": 3651, "action": "notice"}],
        who="client",
        field="steps",
    ),
    *(steps_case(f"{who} replaces", *FORBIDDEN, GOOD_STEPS, who=who) for who in NOT_ADMINS),
    steps_case("client lists a step twice", *FORBIDDEN, [*GOOD_STEPS, GOOD_STEPS[0]], who="client"),
    steps_case("client empties the schedule", *FORBIDDEN, [], who="client"),
    *not_signed_in(STEPS, "schedule", {"steps": GOOD_STEPS}),
    *(
        case(f"read the schedule as {who}", f"{who} GET /dunning/steps", *FORBIDDEN)
        for who in NOT_ADMINS
    ),
    *not_signed_in("GET /dunning/steps", "read the schedule"),
    *(
        case(f"{method} the schedule", f"admin {method} /dunning/steps", 405, "method_not_allowed")
        for method in ("POST", "DELETE", "PATCH")
    ),
]


# -- an invoice's collection --------------------------------------------------------------

COLLECTION = "GET /invoices/{invoice}/collection"

COLLECTION_CASES = [
    *(case(f"collection as {who}", f"{who} {COLLECTION}", *NOT_INVOICE) for who in OUTSIDERS),
    *(
        case(
            f"settled's collection as {who}",
            f"{who} GET /invoices/{{settled}}/collection",
            *NOT_INVOICE,
        )
        for who in ("rival_client", "li")
    ),
    *not_signed_in(COLLECTION, "collection"),
    *unknown_ids("GET /invoices/{}/collection", NOT_INVOICE, "collection of invoice"),
    *unknown_ids(
        "GET /invoices/{}/collection", NOT_INVOICE, "client's collection of", who="client"
    ),
]


# -- promises -----------------------------------------------------------------------------

PROMISE = "POST /invoices/{invoice}/promises"
GOOD_PROMISE = {"promised_on": "2026-03-20", "note": "Paying on the 20th."}
promise_case = body_case(PROMISE, GOOD_PROMISE)
OUT_OF_RANGE = (422, "promise_out_of_range")

PROMISE_CASES = [
    *(
        promise_case(f"promised_on {day!r}", 422, INVALID, field="promised_on", promised_on=day)
        for day in (
            "2026-02-30",
            "2026-13-01",
            "20/03/2026",
            "2026-3-20",
            "2026-03-20T00:00:00",
            "2026-03-20T00:00:00Z",
            " 2026-03-20",
            "next friday",
            "",
            20260320,
            None,
            ["2026-03-20"],
            {"day": "2026-03-20"},
            ...,
        )
    ),
    # From today to 366 days ahead (2027-03-03), in the business time zone.
    *(
        promise_case(
            f"promised_on {day}",
            *OUT_OF_RANGE,
            details={"today": TODAY},
            promised_on=day,
        )
        for day in ("2026-03-01", "2027-03-04", "0001-01-01", "9999-12-31")
    ),
    *(
        promise_case(f"note {name}", 422, INVALID, field="note", note=note)
        for name, note in (
            ("of 501", "n" * 501),
            ("null", None),
            ("a number", 20),
            ("a list", ["n"]),
            ("with NUL", "pay\x00day"),
        )
    ),
    # A note of 500, or none, is a note: the day is what is refused.
    promise_case("note of 500", *OUT_OF_RANGE, promised_on="2026-03-01", note="n" * 500),
    promise_case("no note", *OUT_OF_RANGE, promised_on="2026-03-01", note=...),
    promise_case("promise unknown field", 422, INVALID, field="amount", amount="0.11"),
    *body_shape(f"admin {PROMISE}", "promise", '{"promised_on": "2026-03-20"}'),
    case(
        "promise on the settled invoice",
        "admin POST /invoices/{settled}/promises",
        *NOT_OPEN,
        GOOD_PROMISE,
    ),
    # Nothing is owed on it: that answers before the day is looked at.
    case(
        "yesterday's promise on the settled invoice",
        "admin POST /invoices/{settled}/promises",
        *NOT_OPEN,
        GOOD_PROMISE | {"promised_on": "2026-03-01"},
    ),
    *unknown_ids("POST /invoices/{}/promises", NOT_INVOICE, "promise on invoice", GOOD_PROMISE),
    # The client sees its invoice but records nothing on it; nobody else sees it.
    promise_case("client promises", *FORBIDDEN, who="client"),
    promise_case("client promises yesterday", *FORBIDDEN, who="client", promised_on="2026-03-01"),
    *(promise_case(f"{who} promises", *NOT_INVOICE, who=who) for who in OUTSIDERS),
    *not_signed_in(PROMISE, "promise", GOOD_PROMISE),
]


# -- disputes and their resolution ----------------------------------------------------------

DISPUTE = "POST /invoices/{invoice}/disputes"
GOOD_DISPUTE = {"reason": "The fee is charged twice."}
dispute_case = body_case(DISPUTE, GOOD_DISPUTE)

DISPUTE_CASES = [
    *text_cases(dispute_case, "reason", 500),
    # One dispute is open on the invoice already.
    dispute_case("disputed again", 409, "already_disputed"),
    dispute_case("reason of 500", 409, "already_disputed", reason="r" * 500),
    dispute_case("dispute unknown field", 422, INVALID, field="amount", amount="0.11"),
    *body_shape(f"admin {DISPUTE}", "dispute", '{"reason": "The fee is charged twice."}'),
    case(
        "dispute of the settled invoice",
        "admin POST /invoices/{settled}/disputes",
        *NOT_OPEN,
        GOOD_DISPUTE,
    ),
    *unknown_ids("POST /invoices/{}/disputes", NOT_INVOICE, "dispute of invoice", GOOD_DISPUTE),
    dispute_case("client disputes", *FORBIDDEN, who="client"),
    case(
        "client disputes the settled invoice",
        "client POST /invoices/{settled}/disputes",
        *FORBIDDEN,
        GOOD_DISPUTE,
    ),
    *(dispute_case(f"{who} disputes", *NOT_INVOICE, who=who) for who in OUTSIDERS),
    *not_signed_in(DISPUTE, "dispute", GOOD_DISPUTE),
]

RESOLVE = "POST /invoice-disputes/{open_dispute}/resolution"
GOOD_RESOLUTION = {"resolution": "The fee was charged once; explained by phone."}
resolution_case = body_case(RESOLVE, GOOD_RESOLUTION)

RESOLUTION_CASES = [
    *text_cases(resolution_case, "resolution", 500),
    resolution_case("resolution unknown field", 422, INVALID, field="reopen", reopen=True),
    *body_shape(f"admin {RESOLVE}", "resolution", '{"resolution": "Explained by phone."}'),
    case(
        "resolved again",
        "admin POST /invoice-disputes/{resolved_dispute}/resolution",
        409,
        "dispute_resolved",
        GOOD_RESOLUTION,
    ),
    *unknown_ids(
        "POST /invoice-disputes/{}/resolution",
        NOT_DISPUTE,
        "resolution of dispute",
        GOOD_RESOLUTION,
    ),
    # Only platform admins resolve: nobody else learns whether a dispute exists.
    *(resolution_case(f"{who} resolves", *FORBIDDEN, who=who) for who in NOT_ADMINS),
    case(
        "client resolves dispute 999999",
        "client POST /invoice-disputes/999999/resolution",
        *FORBIDDEN,
        GOOD_RESOLUTION,
    ),
    case(
        "client resolves the resolved dispute",
        "client POST /invoice-disputes/{resolved_dispute}/resolution",
        *FORBIDDEN,
        GOOD_RESOLUTION,
    ),
    *not_signed_in(RESOLVE, "resolution", GOOD_RESOLUTION),
    case(
        "read a resolution",
        "admin GET /invoice-disputes/{open_dispute}/resolution",
        405,
        "method_not_allowed",
    ),
]


# -- notes --------------------------------------------------------------------------------

NOTE = "POST /invoices/{invoice}/notes"
GOOD_NOTE = {"text": "Called; they pay on Friday."}
note_case = body_case(NOTE, GOOD_NOTE)

NOTE_CASES = [
    *text_cases(note_case, "text", 2000),
    note_case("note unknown field", 422, INVALID, field="private", private=True),
    *body_shape(f"admin {NOTE}", "note", '{"text": "Called; they pay on Friday."}'),
    *unknown_ids("POST /invoices/{}/notes", NOT_INVOICE, "note on invoice", GOOD_NOTE),
    note_case("client notes", *FORBIDDEN, who="client"),
    *(note_case(f"{who} notes", *NOT_INVOICE, who=who) for who in OUTSIDERS),
    *not_signed_in(NOTE, "note", GOOD_NOTE),
]


# -- write-offs ---------------------------------------------------------------------------

WRITE_OFF = "POST /invoices/{invoice}/write-offs"
GOOD_WRITE_OFF = {"amount": "0.01", "reason": "Horizon will not pay for the fee."}
write_off_case = body_case(WRITE_OFF, GOOD_WRITE_OFF)

WRITE_OFF_CASES = [
    *(
        write_off_case(f"write-off amount {amount!r}", 422, BAD_AMOUNT, amount=amount)
        for amount in ("0", "-0", "-0.01", "0.001", "0.105", "1e400", TOO_BIG, 0)
    ),
    *(
        write_off_case(f"write-off amount {amount!r}", 422, INVALID, field="amount", amount=amount)
        for amount in (
            "NaN",
            "sNaN",
            "-Infinity",
            "",
            "one fen",
            "0.0_1",
            "\u0660.\u0660\u0661",
            None,
            True,
            ["0.01"],
            {"amount": "0.01"},
        )
    ),
    case(
        "write-off amount float 0.001",
        f"admin {WRITE_OFF}",
        422,
        BAD_AMOUNT,
        text='{"amount": 0.001, "reason": "x"}',
    ),
    # 0.11 is outstanding.
    write_off_case("more than outstanding", 409, "credit_exceeds_outstanding", amount="0.12"),
    write_off_case("a million", 409, "credit_exceeds_outstanding", amount="1000000"),
    write_off_case(
        "reason of 500", 409, "credit_exceeds_outstanding", amount="0.12", reason="r" * 500
    ),
    *text_cases(write_off_case, "reason", 500),
    write_off_case("write-off unknown field", 422, INVALID, field="currency", currency="CNY"),
    *body_shape(f"admin {WRITE_OFF}", "write-off", '{"amount": "0.01", "reason": "Will not pay."}'),
    *(
        case(
            f"write-off of the settled invoice, {name}",
            "admin POST /invoices/{settled}/write-offs",
            *NOT_OPEN,
            body,
        )
        for name, body in (
            ("a fen", GOOD_WRITE_OFF),
            ("all of it", {"reason": "Will not pay."}),
            ("0.001", GOOD_WRITE_OFF | {"amount": "0.001"}),
        )
    ),
    *unknown_ids(
        "POST /invoices/{}/write-offs", NOT_INVOICE, "write-off on invoice", GOOD_WRITE_OFF
    ),
    write_off_case("client writes off", *FORBIDDEN, who="client"),
    # Authorization comes before the amount's own check.
    write_off_case("client writes off 0.001", *FORBIDDEN, who="client", amount="0.001"),
    write_off_case("client writes off a million", *FORBIDDEN, who="client", amount="1000000"),
    *(write_off_case(f"{who} writes off", *NOT_INVOICE, who=who) for who in OUTSIDERS),
    *not_signed_in(WRITE_OFF, "write-off", GOOD_WRITE_OFF),
]


def test_a_bad_schedule_promise_dispute_note_or_write_off_changes_nothing(
    subtests, app, api, cast, chased
):
    run_receivables(
        subtests,
        app,
        api,
        cast,
        chased,
        AGING_CASES
        + DUNNING_CASES
        + COLLECTION_CASES
        + PROMISE_CASES
        + DISPUTE_CASES
        + RESOLUTION_CASES
        + NOTE_CASES
        + WRITE_OFF_CASES,
    )


# -- credit holds -------------------------------------------------------------------------

HOLD = "POST /clients/{horizon}/credit-holds"
GOOD_HOLD = {"reason": "Sixty days late.", "lifts_when_paid": True}
hold_case = body_case(HOLD, GOOD_HOLD)
LIFT = "POST /clients/{acme}/credit-holds/lift"
GOOD_LIFT = {"reason": "Paid everything."}
lift_case = body_case(LIFT, GOOD_LIFT)
# Parties that are no client: teams and the platform.
NOT_CLIENTS = ("lotus", "tiger", "platform")

HOLD_CASES = [
    # Acme is on hold already; Horizon is not.
    case(
        "Acme held again",
        "admin POST /clients/{acme}/credit-holds",
        409,
        "already_on_hold",
        GOOD_HOLD,
    ),
    *text_cases(hold_case, "reason", 500),
    *(
        hold_case(
            f"lifts_when_paid {value!r}",
            422,
            INVALID,
            field="lifts_when_paid",
            lifts_when_paid=value,
        )
        for value in ("maybe", "", 2, -1, None, [True], {"when": "paid"})
    ),
    hold_case("hold unknown field", 422, INVALID, field="until", until="2026-04-01"),
    *body_shape(f"admin {HOLD}", "hold", '{"reason": "Sixty days late."}'),
    *(
        case(
            f"hold on {party}",
            f"admin POST /clients/{{{party}}}/credit-holds",
            *NOT_CLIENT,
            GOOD_HOLD,
        )
        for party in NOT_CLIENTS
    ),
    *unknown_ids("POST /clients/{}/credit-holds", NOT_CLIENT, "hold on client", GOOD_HOLD),
    # Only platform admins hold: nobody else learns who is a client, or who is held.
    *(hold_case(f"{who} holds Horizon", *FORBIDDEN, who=who) for who in NOT_ADMINS),
    *(
        case(
            f"{who} holds Acme again",
            f"{who} POST /clients/{{acme}}/credit-holds",
            *FORBIDDEN,
            GOOD_HOLD,
        )
        for who in ("client", "rival_client")
    ),
    case("client holds Lotus", "client POST /clients/{lotus}/credit-holds", *FORBIDDEN, GOOD_HOLD),
    *not_signed_in(HOLD, "hold", GOOD_HOLD),
    # Lifting.
    case(
        "Horizon lifted",
        "admin POST /clients/{horizon}/credit-holds/lift",
        409,
        "not_on_hold",
        GOOD_LIFT,
    ),
    *text_cases(lift_case, "reason", 500),
    lift_case("lift unknown field", 422, INVALID, field="lifts_when_paid", lifts_when_paid=True),
    *body_shape(f"admin {LIFT}", "lift", '{"reason": "Paid everything."}'),
    *(
        case(
            f"lift {party}",
            f"admin POST /clients/{{{party}}}/credit-holds/lift",
            *NOT_CLIENT,
            GOOD_LIFT,
        )
        for party in NOT_CLIENTS
    ),
    *unknown_ids("POST /clients/{}/credit-holds/lift", NOT_CLIENT, "lift client", GOOD_LIFT),
    *(lift_case(f"{who} lifts Acme", *FORBIDDEN, who=who) for who in NOT_ADMINS),
    *not_signed_in(LIFT, "lift", GOOD_LIFT),
    case("read a lift", "admin GET /clients/{acme}/credit-holds/lift", 405, "method_not_allowed"),
    # Reading holds.
    *(case(f"holds as {who}", f"{who} GET /credit-holds", *FORBIDDEN) for who in NOT_ADMINS),
    *not_signed_in("GET /credit-holds", "holds"),
    *(
        case(f"{party}'s holds", f"admin GET /clients/{{{party}}}/credit-holds", *NOT_CLIENT)
        for party in NOT_CLIENTS
    ),
    *unknown_ids("GET /clients/{}/credit-holds", NOT_CLIENT, "holds of client"),
    *(
        case(
            f"{client}'s holds as {who}",
            f"{who} GET /clients/{{{client}}}/credit-holds",
            *FORBIDDEN,
        )
        for who in NOT_ADMINS
        for client in ("horizon", "acme")
    ),
    *not_signed_in("GET /clients/{acme}/credit-holds", "Acme's holds"),
]


# -- payment records ----------------------------------------------------------------------

PAYMENT_RECORD_CASES = [
    *(
        case(
            f"{party}'s record as {who}",
            f"{who} GET /clients/{{{party}}}/payment-record",
            *NOT_CLIENT,
        )
        for party in NOT_CLIENTS
        for who in ("admin", "owner", "li", "client")
    ),
    *unknown_ids("GET /clients/{}/payment-record", NOT_CLIENT, "record of client"),
    *unknown_ids("GET /clients/{}/payment-record", NOT_CLIENT, "li's record of client", who="li"),
    *not_signed_in("GET /clients/{horizon}/payment-record", "Horizon's record"),
    *not_signed_in("GET /payment-records", "records"),
]


# -- the outbox and the audit log ---------------------------------------------------------

PAGING = (
    ("limit=0", "limit"),
    ("limit=1001", "limit"),
    ("limit=ten", "limit"),
    ("limit=1.5", "limit"),
    ("limit=", "limit"),
    ("after=-1", "after"),
    ("after=abc", "after"),
    (f"after={HUGE_ID}", "after"),
    (f"after={SIGNED_OVERFLOW}", "after"),
)

OUTBOX_CASES = [
    *(
        query_case(f"outbox {query}", "admin GET /outbox", query, field)
        for query, field in (
            *PAGING,
            ("status=QUEUED", "status"),
            ("status=pending", "status"),
            ("status=", "status"),
            ("status=sent,failed", "status"),
        )
    ),
    query_case("client's outbox status=pending", "client GET /outbox", "status=pending", "status"),
    *(
        case(f"outbox as {who}", f"{who} GET /outbox{query}", *FORBIDDEN)
        for who in NOT_ADMINS
        for query in ("", "?status=failed")
    ),
    *not_signed_in("GET /outbox", "outbox"),
]

AUDIT_CASES = [
    *(
        query_case(f"audit log {query}", "admin GET /audit-log", query, field)
        for query, field in (
            *PAGING,
            ("action=" + "a" * 65, "action"),
            ("subject_type=" + "s" * 33, "subject_type"),
            ("subject_id=0", "subject_id"),
            ("subject_id=-1", "subject_id"),
            ("subject_id=abc", "subject_id"),
            ("subject_id=1.5", "subject_id"),
            ("subject_id=", "subject_id"),
            (f"subject_id={HUGE_ID}", "subject_id"),
            (f"subject_id={SIGNED_OVERFLOW}", "subject_id"),
        )
    ),
    query_case(
        "client's audit log subject_id=0", "client GET /audit-log", "subject_id=0", "subject_id"
    ),
    *(
        case(f"audit log as {who}", f"{who} GET /audit-log{query}", *FORBIDDEN)
        for who in NOT_ADMINS
        for query in ("", "?subject_type=invoice")
    ),
    *not_signed_in("GET /audit-log", "audit log"),
]


def test_a_bad_hold_lift_or_read_of_records_outbox_or_audit_log_changes_nothing(
    subtests, app, api, cast, chased
):
    run_receivables(
        subtests,
        app,
        api,
        cast,
        chased,
        HOLD_CASES + PAYMENT_RECORD_CASES + OUTBOX_CASES + AUDIT_CASES,
    )


# -- aging on any day of the calendar ---------------------------------------------------------


@pytest.mark.parametrize("as_of", ["0001-01-01", "0001-01-02", "9999-12-30"])
def test_aging_as_of_the_calendars_ends_is_answered(api, cast, chased, as_of):
    """The first and last days of the calendar are days to report as of: answered (nothing
    issued by the first; Horizon's open 0.11, over 180 days past due, by the last), never
    a 500."""
    for query in (f"as_of={as_of}", f"as_of={as_of}&format=csv"):
        answer = api.get(f"/receivables/aging?{query}", cast.admin)
        assert answer.status == 200, (query, answer.text[:500])
    report = api.get(f"/receivables/aging?as_of={as_of}", cast.admin).body
    owed = [(row["client_id"], row["total"]) for row in report["clients"]]
    assert owed == ([] if as_of.startswith("0001") else [(chased["horizon"], "0.11")]), report


def test_aging_as_of_the_calendars_last_day_is_refused(app, api, cast, chased):
    """The report reads to the end of its day, and 9999-12-31 has none: 422, not a 500."""
    answer = refused(
        app,
        api,
        "GET",
        "/receivables/aging?as_of=9999-12-31",
        cast.admin,
        422,
        "validation_failed",
    )
    assert "as_of" in str(answer.body["error"]["details"]), answer.body


# -- a promise dated by the business day --------------------------------------------------


def test_a_promise_for_a_day_already_past_in_shanghai_is_refused(
    app, api, cast, chased, frozen_clock
):
    """At 17:00 UTC on 03-02 it is already 03-03 in the business time zone: a promise to
    pay by 03-02 is for a day past, and nothing is written."""
    frozen_clock.stand_at("2026-03-02T17:00:00+00:00")
    answer = refused(
        app,
        api,
        "POST",
        f"/invoices/{chased['invoice']}/promises",
        cast.admin,
        *OUT_OF_RANGE,
        json={"promised_on": "2026-03-02"},
    )
    assert answer.body["error"]["details"] == {"today": "2026-03-03"}, answer.body


# -- a NUL in the audit log's filters -----------------------------------------------------

# No request may carry a NUL (PostgreSQL cannot store or compare one): in a JSON body it is
# refused with 422 naming the field, and so it is in these filters.
NUL_IN_FILTERS = [
    query_case("audit log action with NUL", "admin GET /audit-log", "action=%00", "action"),
    query_case(
        "audit log subject_type with NUL",
        "admin GET /audit-log",
        "subject_type=in%00voice",
        "subject_type",
    ),
]


@pytest.mark.parametrize("bad", NUL_IN_FILTERS, ids=lambda bad: bad.id)
def test_a_nul_in_an_audit_log_filter_is_refused(app, api, cast, chased, bad):
    bad.check(app, api, cast, chased)
