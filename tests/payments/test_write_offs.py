"""A chargeback after funded work was posted: what the client's balance and reservations
could not cover leaves the balance below zero (the reversal says how much, to the fen),
the client on credit hold; a platform admin writes it off with a reason as the
platform's loss, never beyond zero, and the hold stays.

At the default 5 % fee, 10 boxes at 0.10 reserve 1.05; 6 accepted post 0.63.
"""

import pytest
from sqlalchemy import select

from marketplace import ledger
from marketplace.db import db, unit_of_work
from marketplace.identity.models import AuditEntry
from marketplace.ledger import balance
from marketplace.payments.accounts import platform_bank
from marketplace.payments.models import BalanceWriteOff
from marketplace.payments.write_offs import platform_loss
from tests import flows
from tests.flows import claim, ledger_totals, review, submit
from tests.flows import set_rate as set_piece_rate
from tests.payments.test_funded_orders import funded_order, settle
from tests.support import row_counts

# End to end through real servers: `make test` runs them, `make check` stays under a
# minute.
pytestmark = pytest.mark.slow

CHARGEBACK = {"kind": "chargeback", "reason": "card disputed"}


def cny(api, cast) -> dict:
    [found] = [b for b in api.get("/balance", cast.client).body if b["currency"] == "CNY"]
    return found


def top_up(api, cast, amount: str, reference: str) -> int:
    return flows.top_up(api, cast.admin, cast.party_ids["horizon"], amount, reference)["id"]


def charge_back(api, cast, payment: int, amount: str, reference: str) -> dict:
    body = CHARGEBACK | {"amount": amount, "reference": reference}
    answer = api.post(f"/payments/{payment}/reversals", cast.admin, body)
    assert answer.status == 201, answer.body
    return answer.body


def ledger_is_balanced(api, cast) -> None:
    totals = ledger_totals(api, cast.admin)
    assert totals and all(total == 0 for total in totals.values()), totals


def held(api, cast) -> dict | None:
    horizon = cast.party_ids["horizon"]
    return api.get(f"/clients/{horizon}/payment-record", cast.admin).body["credit_hold"]


def loss(app) -> int:
    with app.app_context():
        return balance(db.session, platform_loss(db.session, "CNY"))


@pytest.fixture
def charged_back(app, api, cast, frozen_clock) -> dict:
    """Horizon tops up 1.50; its prefunded order reserves 1.05 (0.45 stays its balance);
    Li's 6 accepted boxes post 0.63, 0.42 stays reserved; then the bank takes the whole
    1.50 back: the 0.45 balance, the 0.42 reservation, and 0.63 nothing covers."""
    payment = top_up(api, cast, "1.50", "ICBC-TOPUP-1")
    order = funded_order(api, cast, "prefunded", items=10, batch_size=10)
    assert api.post(f"/orders/{order}/publish", cast.client).status == 200
    assert (cny(api, cast)["available"], cny(api, cast)["reserved"]) == ("0.45", "1.05")
    claim(api, cast.owner, order)
    set_piece_rate(api, cast.owner, order, "0.06")
    done = submit(api, cast.li, 10)
    review(api, cast.reviewer, accept=done[:6])
    [(_, total, status)] = settle(app)
    assert (total, status) == (63, "paid")
    reversal = charge_back(api, cast, payment, "1.50", "CB-1")
    return {"payment": payment, "reversal": reversal, "order": order}


def test_a_chargeback_after_posted_work_leaves_the_uncovered_part_below_zero(
    app, api, cast, charged_back
):
    reversal = charged_back["reversal"]
    assert (reversal["amount"], reversal["uncovered"], reversal["absorbed"]) == (
        "1.50",
        "0.63",
        "0.00",
    )
    [listed] = api.get(f"/payments/{charged_back['payment']}/reversals", cast.admin).body
    assert listed["uncovered"] == "0.63"
    money = cny(api, cast)
    assert (money["available"], money["reserved"]) == ("-0.63", "0.00")
    assert held(api, cast)["reason"].startswith("a chargeback took its CNY balance below zero")
    # Li keeps what she was paid: 6 x 0.06.
    assert flows.holding(api, cast.li, "annotator")["available"] == "0.36"
    assert loss(app) == 0  # owed, not yet given up
    ledger_is_balanced(api, cast)


def test_a_top_up_repays_a_negative_balance_and_a_later_chargeback_counts_only_its_own(
    app, api, cast, charged_back
):
    """0.30 arrives: the balance is -0.33. The bank takes it back too: -0.63 again, and that
    chargeback left 0.30 uncovered (the 0.33 owed before is not its doing)."""
    again = top_up(api, cast, "0.30", "ICBC-TOPUP-2")
    assert cny(api, cast)["available"] == "-0.33"
    assert charge_back(api, cast, again, "0.30", "CB-2")["uncovered"] == "0.30"
    assert cny(api, cast)["available"] == "-0.63"
    ledger_is_balanced(api, cast)


def test_a_write_off_books_the_loss_brings_the_balance_to_zero_and_keeps_the_hold(
    app, api, cast, charged_back
):
    horizon = cast.party_ids["horizon"]
    reason = "Horizon's card issuer upheld the dispute; not worth pursuing"
    body = {"currency": "CNY", "amount": "0.63", "reason": reason}
    body["reversal_id"] = charged_back["reversal"]["id"]
    answer = api.post(f"/clients/{horizon}/write-offs", cast.admin, body)
    assert answer.status == 201, answer.body
    written = answer.body
    assert (written["client_id"], written["currency"], written["amount"]) == (
        horizon,
        "CNY",
        "0.63",
    )
    assert (written["reason"], written["reversal_id"]) == (reason, charged_back["reversal"]["id"])
    assert written["recorded_by_user_id"] == cast.user_ids["admin"]

    money = cny(api, cast)
    assert (money["available"], money["reserved"]) == ("0.00", "0.00")
    assert loss(app) == 63
    ledger_is_balanced(api, cast)
    # Not lifted: an admin lifts the hold, separately.
    assert held(api, cast)["reason"].startswith("a chargeback took its CNY balance below zero")

    # The client reads it, in its history and its list; the admin's action is audited.
    history = api.get("/balance/history?currency=CNY", cast.client).body
    last = history[-1]
    assert (last["kind"], last["account"], last["change"]) == (
        "balance_write_off",
        "balance",
        "0.63",
    )
    assert last["memo"] == f"written off: {reason}"
    for token in (cast.client, cast.admin):
        listed = api.get(f"/clients/{horizon}/write-offs", token)
        assert [w["id"] for w in listed.body] == [written["id"]], listed.body
    assert api.get(f"/clients/{horizon}/write-offs?currency=USD", cast.admin).body == []
    with app.app_context():
        [entry] = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "balance.written_off")
        ).all()
        assert (entry.subject_type, entry.subject_id, entry.user_id) == (
            "balance_write_off",
            written["id"],
            cast.user_ids["admin"],
        )
        assert entry.details["amount"] == "0.63" and entry.details["reason"] == reason

    # Nothing more is owed: a second write-off is refused, and writes nothing.
    before = row_counts(app)
    again = api.post(f"/clients/{horizon}/write-offs", cast.admin, body | {"amount": "0.01"})
    assert (again.status, again.error_code) == (409, "balance_not_negative")
    assert row_counts(app) == before

    # The reconciliation of the period names the uncovered part and the loss, and agrees.
    report = api.get("/reconciliation?currency=CNY&from=2026-01-01&to=2026-03-31", cast.admin)
    assert report.status == 200, report.body
    assert report.body["losses"] == {"uncovered": "0.63", "written_off": "0.63"}
    assert report.body["mismatches"] == []


def test_a_write_off_may_be_partial_and_the_next_top_up_repays_the_rest(
    app, api, cast, charged_back
):
    horizon = cast.party_ids["horizon"]
    body = {"currency": "CNY", "amount": "0.13", "reason": "goodwill: half a box of fees"}
    assert api.post(f"/clients/{horizon}/write-offs", cast.admin, body).status == 201
    assert cny(api, cast)["available"] == "-0.50"
    top_up(api, cast, "0.80", "ICBC-TOPUP-3")
    assert cny(api, cast)["available"] == "0.30"
    assert loss(app) == 13
    ledger_is_balanced(api, cast)


def test_a_bad_write_off_is_refused_clearly_and_writes_nothing(app, api, cast, charged_back):
    horizon, acme, lotus = (cast.party_ids[p] for p in ("horizon", "acme", "lotus"))
    good = {"currency": "CNY", "amount": "0.63", "reason": "gave up"}
    # A top-up of 0.30 repays part of the 0.63, and its chargeback takes it back again:
    # the balance owes 0.63, and that second chargeback left 0.30 of it uncovered.
    again = top_up(api, cast, "0.30", "ICBC-TOPUP-2")
    second = charge_back(api, cast, again, "0.30", "CB-2")
    assert cny(api, cast)["available"] == "-0.63"
    path = f"/clients/{horizon}/write-offs"
    cases = [
        # (who, path, body, status, code, field or details)
        ("admin", path, {k: v for k, v in good.items() if k != "reason"}, 422, "validation_failed"),
        ("admin", path, good | {"reason": ""}, 422, "validation_failed"),
        ("admin", path, good | {"reason": "  \n "}, 422, "validation_failed"),
        ("admin", path, good | {"reason": None}, 422, "validation_failed"),
        ("admin", path, good | {"reason": "x" * 481}, 422, "validation_failed"),
        ("admin", path, good | {"amount": "0"}, 422, "invalid_amount"),
        ("admin", path, good | {"amount": "0.00"}, 422, "invalid_amount"),
        ("admin", path, good | {"amount": "-0.63"}, 422, "invalid_amount"),
        ("admin", path, good | {"amount": "0.001"}, 422, "invalid_amount"),
        ("admin", path, good | {"amount": "NaN"}, 422, "validation_failed"),
        ("admin", path, good | {"amount": 0.001}, 422, "invalid_amount"),
        ("admin", path, {k: v for k, v in good.items() if k != "amount"}, 422, "validation_failed"),
        ("admin", path, good | {"currency": "XYZ"}, 422, "validation_failed"),
        ("admin", path, good | {"reversal_id": "1"}, 422, "validation_failed"),
        ("admin", path, good | {"reversal_id": 0}, 422, "validation_failed"),
        ("admin", path, good | {"reversal_id": 999_999}, 422, "unknown_reversal"),
        ("admin", path, good | {"surprise": 1}, 422, "validation_failed"),
        # More than owed; nothing owed in USD; more than the reversal left uncovered.
        ("admin", path, good | {"amount": "0.64"}, 409, "write_off_exceeds_debt"),
        ("admin", path, good | {"currency": "USD", "amount": "1.00"}, 409, "balance_not_negative"),
        (
            "admin",
            path,
            good | {"amount": "0.31", "reversal_id": second["id"]},
            409,
            "write_off_exceeds_uncovered",
        ),
        # Another client's write-off naming Horizon's chargeback: no reversal of its own.
        (
            "admin",
            f"/clients/{acme}/write-offs",
            good | {"reversal_id": second["id"]},
            422,
            "unknown_reversal",
        ),
        ("admin", f"/clients/{acme}/write-offs", good, 409, "balance_not_negative"),
        ("admin", f"/clients/{lotus}/write-offs", good, 404, "client_not_found"),
        ("admin", "/clients/999999/write-offs", good, 404, "client_not_found"),
        # Platform admins only: the client's own admins see it but may not; another
        # client does not see it; a team holds no client role.
        ("client", path, good, 403, "forbidden"),
        ("rival_client", path, good, 404, "client_not_found"),
        ("owner", path, good, 403, "forbidden"),
        ("li", path, good, 403, "forbidden"),
        (None, path, good, 401, "missing_token"),
    ]
    before = row_counts(app)
    for who, where, body, status, code in cases:
        token = getattr(cast, who) if who else None
        answer = api.post(where, token, body)
        assert (answer.status, answer.error_code) == (status, code), (who, where, body, answer.body)
    assert row_counts(app) == before
    details = api.post(path, cast.admin, good | {"amount": "0.64"}).body["error"]["details"]
    assert details == {"owed": "0.63"}
    reversal = good | {"amount": "0.31", "reversal_id": second["id"]}
    details = api.post(path, cast.admin, reversal).body["error"]["details"]
    assert details == {"uncovered": "0.30"}
    assert cny(api, cast)["available"] == "-0.63"
    with app.app_context():
        assert db.session.scalars(select(BalanceWriteOff)).all() == []

    # Reading the list: the client's admins and platform admins; nobody else.
    assert api.get(path, cast.client).status == 200
    for who, status, code in (
        ("rival_client", 404, "client_not_found"),
        ("owner", 403, "forbidden"),
        ("li", 403, "forbidden"),
    ):
        answer = api.get(path, getattr(cast, who))
        assert (answer.status, answer.error_code) == (status, code), (who, answer.body)


def test_the_reconciliation_names_a_write_off_missing_from_the_ledger_and_a_stray_loss(
    app, api, cast, charged_back
):
    """Bugs simulated by hand: a write-off recorded without its ledger transaction, and a
    loss posted without a write-off; the reconciliation names each."""
    horizon = cast.party_ids["horizon"]
    with app.app_context(), unit_of_work() as session:
        unbooked = BalanceWriteOff(
            client_party_id=horizon,
            currency="CNY",
            amount_minor=10,
            reason="never posted",
            recorded_by_user_id=cast.user_ids["admin"],
        )
        session.add(unbooked)
        session.flush()
        unbooked_id = unbooked.id
        ledger.post(
            session,
            key="stray-loss:1",
            kind="adjustment",
            currency="CNY",
            legs=[
                ledger.debit(platform_loss(session, "CNY"), 5),
                ledger.credit(platform_bank(session, "CNY"), 5),
            ],
        )
    report = api.get("/reconciliation?currency=CNY&from=2026-03-01&to=2026-03-31", cast.admin)
    assert report.body["losses"] == {"uncovered": "0.00", "written_off": "0.10"}
    assert report.body["mismatches"] == [
        {
            "kind": "write_off_not_in_ledger",
            "expected": "0.10",
            "found": "0.00",
            "write_off_id": unbooked_id,
        },
        {"kind": "loss_without_write_off", "reference": "stray-loss:1", "found": "0.05"},
    ]
