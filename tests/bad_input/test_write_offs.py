"""Writing off a client's negative balance, and reading its write-offs: on the paid story
(see the `paid` fixture), with Horizon's CNY balance 0.50 below zero (`owing`), as a
chargeback of money its funded work was paid from leaves it. Every case is refused,
writes nothing, and the balance still owes 0.50 at the end."""

import pytest

from marketplace import ledger
from marketplace.db import unit_of_work
from marketplace.payments.accounts import client_books, platform_bank
from tests.bad_input.cases import (
    FORM,
    HUGE_ID,
    SIGNED_OVERFLOW,
    TEXT,
    TOO_BIG,
    case,
    query_case,
    run,
)

pytestmark = pytest.mark.slow

INVALID = "validation_failed"
BAD_AMOUNT = "invalid_amount"
NOT_THE_CLIENT = (404, "client_not_found")

WRITE_OFFS = "/clients/{horizon}/write-offs"
POST = f"admin POST {WRITE_OFFS}"
GOOD = {"currency": "CNY", "amount": "0.50", "reason": "The card issuer upheld the dispute."}


@pytest.fixture
def owing(app, api, cast, paid) -> dict[str, int]:
    """The paid story; then the ledger's movement of a chargeback that took back 0.50 of
    money Horizon's funded work had been paid from: its CNY balance is -0.50."""
    with app.app_context(), unit_of_work() as session:
        ledger.post(
            session,
            key="test:horizon-charged-back",
            kind="chargeback",
            currency="CNY",
            legs=[
                ledger.credit(platform_bank(session, "CNY"), 50),
                ledger.debit(client_books(session, paid["horizon"], "CNY").credit, 50),
            ],
        )
    assert balance(api, cast, paid) == "-0.50"
    return paid


def balance(api, cast, ids) -> str:
    answer = api.get(f"/balance?client_id={ids['horizon']}", cast.admin)
    return next(b["available"] for b in answer.body if b["currency"] == "CNY")


def write_off(
    case_id,
    status,
    code,
    who="admin",
    field=None,
    details=None,
    path=WRITE_OFFS,
    reversal=None,
    **changes,
):
    """The right write-off of all 0.50 Horizon owes, fields changed (to `...`: left out),
    naming the `reversal` (a label of the story's ids) if given."""
    body = {key: value for key, value in (GOOD | changes).items() if value is not ...}
    named = (lambda ids: body | {"reversal_id": ids[reversal]}) if reversal else body
    return case(case_id, f"{who} POST {path}", status, code, named, field=field, details=details)


WRITE_OFF_CASES = [
    # The reason: required, not blank, at most 480 characters of text.
    *(
        write_off(f"reason {name}", 422, INVALID, field="reason", reason=reason)
        for name, reason in (
            ("missing", ...),
            ("null", None),
            ("empty", ""),
            ("blank", " \t\n "),
            ("of 481", "r" * 481),
            ("a number", 42),
            ("a list", ["gave up"]),
            ("with NUL", "gave\x00up"),
        )
    ),
    # The amount: positive, in whole fen, a decimal.
    *(
        write_off(f"amount {amount!r}", 422, BAD_AMOUNT, amount=amount)
        for amount in ("0", "-0", "0.00", "-0.01", "-0.50", "0.001", "0.505", "1e400", TOO_BIG)
    ),
    write_off("amount 1.5 JPY", 422, BAD_AMOUNT, amount="1.5", currency="JPY"),
    *(
        write_off(f"amount {amount!r}", 422, INVALID, field="amount", amount=amount)
        for amount in ("", " ", "NaN", "Infinity", "half", "0_50", None, True, ["0.50"], ...)
    ),
    case(
        "amount float 0.001",
        POST,
        422,
        BAD_AMOUNT,
        text='{"amount": 0.001, "currency": "CNY", "reason": "gave up"}',
    ),
    *(
        write_off(f"currency {currency!r}", 422, INVALID, field="currency", currency=currency)
        for currency in ("XYZ", "cny", "RMB", "XXX", "", 156, None, ...)
    ),
    # The reversal it came from: an id of one of Horizon's CNY refunds or chargebacks.
    *(
        write_off(f"reversal_id {value!r}", 422, INVALID, field="reversal_id", reversal_id=value)
        for value in (0, -1, HUGE_ID, SIGNED_OVERFLOW, "abc", "", True, [1], 1.5, "1")
    ),
    write_off("reversal_id of nothing", 422, "unknown_reversal", reversal_id=999_999),
    write_off(
        "reversal_id beyond what it left uncovered",
        409,
        "write_off_exceeds_uncovered",
        details={"uncovered": "0.00"},
        amount="0.01",
        reversal="refund",
    ),
    write_off(
        "reversal_id of another currency",
        422,
        "unknown_reversal",
        currency="USD",
        reversal="refund",
    ),
    write_off(
        "reversal_id of another client",
        422,
        "unknown_reversal",
        path="/clients/{acme}/write-offs",
        reversal="refund",
    ),
    write_off("write-off unknown field", 422, INVALID, field="reference", reference="W-1"),
    case("write-off a list", POST, 422, INVALID, text="[]"),
    case("write-off a string", POST, 422, INVALID, text='"0.50"'),
    case("write-off null", POST, 422, INVALID, text="null"),
    case("write-off truncated", POST, 400, "malformed_json", text='{"amount": "0.50", '),
    case("write-off as text", POST, 415, "unsupported_media_type", text="0.50", content_type=TEXT),
    case(
        "write-off form-encoded",
        POST,
        415,
        "unsupported_media_type",
        text="amount=0.50&currency=CNY&reason=x",
        content_type=FORM,
    ),
    case("write-off without a body", POST, 422, INVALID),
    # What the balance allows: back to zero at most; nothing where nothing is owed.
    write_off(
        "more than owed", 409, "write_off_exceeds_debt", details={"owed": "0.50"}, amount="0.51"
    ),
    write_off("in USD, owing nothing", 409, "balance_not_negative", currency="USD"),
    write_off("in JPY, owing nothing", 409, "balance_not_negative", currency="JPY", amount="1"),
    write_off(
        "Acme, owing nothing",
        409,
        "balance_not_negative",
        path="/clients/{acme}/write-offs",
    ),
    # Clients that are not.
    write_off("a team", *NOT_THE_CLIENT, path="/clients/{lotus}/write-offs"),
    *(
        write_off(f"client {n}", *NOT_THE_CLIENT, path=f"/clients/{n}/write-offs")
        for n in (0, 999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    *(
        write_off(f"client {n}", 404, "not_found", path=f"/clients/{n}/write-offs")
        for n in ("-1", "abc", "1.5")
    ),
    # Platform admins alone: Horizon's admins see its write-offs but may not write one off;
    # another client does not see them; a team holds no client role. The body first.
    write_off("by Horizon, reason blank", 422, INVALID, who="client", field="reason", reason=" "),
    write_off("by Horizon", 403, "forbidden", who="client"),
    write_off("by Acme", *NOT_THE_CLIENT, who="rival_client"),
    *(
        write_off(f"by {who}", 403, "forbidden", who=who)
        for who in ("owner", "reviewer", "li", "rival_owner", "rival_annotator")
    ),
    write_off("by anonymous", 401, "missing_token", who="anonymous"),
    write_off("by a stranger", 401, "invalid_token", who="stranger"),
]

LIST = f"GET {WRITE_OFFS}"
WRITE_OFF_LIST_CASES = [
    *(
        query_case(f"write-offs {query}", f"client {LIST}", query, field)
        for query, field in (
            ("limit=0", "limit"),
            ("limit=1001", "limit"),
            ("limit=ten", "limit"),
            ("after=-1", "after"),
            (f"after={HUGE_ID}", "after"),
            ("currency=XYZ", "currency"),
            ("currency=cny", "currency"),
        )
    ),
    case("write-offs of Horizon, by Acme", f"rival_client {LIST}", *NOT_THE_CLIENT),
    case("write-offs of a team", "admin GET /clients/{lotus}/write-offs", *NOT_THE_CLIENT),
    case("write-offs of nobody", "admin GET /clients/999999/write-offs", *NOT_THE_CLIENT),
    case("write-offs by an owner", f"owner {LIST}", 403, "forbidden"),
    case("write-offs by an annotator", f"li {LIST}", 403, "forbidden"),
    case("write-offs by anonymous", f"anonymous {LIST}", 401, "missing_token"),
    case("write-offs by a stranger", f"stranger {LIST}", 401, "invalid_token"),
]


def test_a_bad_write_off_changes_nothing(subtests, app, api, cast, owing):
    run(subtests, app, api, cast, owing, WRITE_OFF_CASES + WRITE_OFF_LIST_CASES)
    assert balance(api, cast, owing) == "-0.50"
    assert api.get(f"/clients/{owing['horizon']}/write-offs", cast.admin).body == []
