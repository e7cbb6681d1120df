"""Money: invoices and payments, payout runs, earnings (holdings, days, statements, a
team's), the ledger's totals, and margin reports."""

from collections.abc import Callable

import pytest

from tests.authorization.matrix import (
    CREATED,
    FORBIDDEN,
    LOTUS,
    NOT_THE_ORDER,
    NOT_THE_TEAM,
    OK,
    TIGER,
    Check,
    Matrix,
    Row,
    Want,
    World,
    by_endpoint,
    conflict,
    field_is,
    id_is,
    ids_are,
    missing,
    only,
    table,
)
from tests.flows import review
from tests.support import ApiClient, Response

pytestmark = pytest.mark.slow


def earnings_are(matrix: Matrix, caller: str, answer: Response) -> str | None:
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


def bank_file_is_csv(matrix: Matrix, caller: str, answer: Response) -> str | None:
    header = "payout_id,payee,bank_account,currency,amount,reference"
    return None if answer.text.splitlines() == [header] else f"bank file {answer.text!r}"


def accept_the_waiting_submission(api: ApiClient, world: World) -> None:
    review(api, world.cast.reviewer, accept=[world.waiting])


def margins_are(links: Callable[[World, str], tuple[int, set[int], str]]) -> Check:
    """The report's team, its links, and its total margin."""

    def check(matrix: Matrix, caller: str, answer: Response) -> str | None:
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


def margin_csv(matrix: Matrix, caller: str, answer: Response) -> str | None:
    header, *rows = answer.text.splitlines()
    ok = header.startswith("order_id,contract_id,") and len(rows) == 2  # a link, the totals
    return None if ok else f"margin csv {answer.text!r}"


TODAY = "2026-03-02"  # the frozen clock's day in Shanghai, where every team works
TEAM_REQUIRED: Want = (422, "team_required")


def work_of(caller: str) -> tuple[str, list[tuple]]:
    """Each annotator's team and her work today: (submitted, accepted, rejected, earned)."""
    return {
        "li": ("lotus", [(TODAY, "CNY", 2, 1, 0, "0.06")]),
        "wang": ("lotus", [(TODAY, "CNY", 2, 0, 2, "0")]),
        "zhang": ("lotus", []),
        "rival_annotator": ("tiger", [(TODAY, "CNY", 1, 0, 0, "0")]),
    }[caller]


def days_are(matrix: Matrix, caller: str, answer: Response) -> str | None:
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


def statement_is(matrix: Matrix, caller: str, answer: Response) -> str | None:
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


def statement_csv_is(matrix: Matrix, caller: str, answer: Response) -> str | None:
    """A header and a line per day worked (zh_CN: a decimal point, commas between)."""
    header, *lines = answer.text.splitlines()
    _, work = work_of(caller)
    ok = header == "day,currency,submitted,accepted,rejected,earned,accrued,settled,paid_out"
    return None if ok and len(lines) == len(work) else f"csv {answer.text!r}"


def team_earnings_are(matrix: Matrix, caller: str, answer: Response) -> str | None:
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


READS = [
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
]


@pytest.mark.parametrize("rows", by_endpoint(WRITES))
def test_writes(app, api, world, rows):
    """Every write endpoint, by every caller, each call on a fresh world."""
    [prepare] = {row.prepare for row in rows}
    matrix = Matrix(app, api, world, prepare=prepare)
    wrong = matrix.run_rows(rows)
    assert not wrong, "\n".join(wrong)
