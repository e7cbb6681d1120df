"""Write-offs: what a client will not pay comes off its invoice by a credit note of kind
write_off, and off every holder's pending share exactly (pay-when-paid)."""

import pytest
from sqlalchemy import select

from marketplace.db import db
from marketplace.ledger import Account, Entry, LedgerTransaction
from tests.flows import holding, invoiced, ledger_totals
from tests.support import all_at_once, row_counts

# End-to-end walks through the money's life: `make test` runs them, `make check`
# leaves them out.
pytestmark = pytest.mark.slow


def write_off(api, token, invoice: dict, **body):
    return api.post(f"/invoices/{invoice['id']}/write-offs", token, body)


def pay(api, cast, invoice: dict, amount: str, reference: str, received_on="2026-03-02") -> None:
    answer = api.post(
        f"/invoices/{invoice['id']}/payments",
        cast.admin,
        {"amount": amount, "reference": reference, "received_on": received_on},
    )
    assert answer.status == 201, answer.body


def invoice_now(api, cast, invoice: dict) -> dict:
    return api.get(f"/invoices/{invoice['id']}", cast.client).body


def shares(api, cast) -> dict[str, tuple[str, str]]:
    """(pending, available) of Li's and Lotus's shares."""
    li = holding(api, cast.li, "annotator")
    lotus = holding(api, cast.owner, "team")
    return {"li": (li["pending"], li["available"]), "lotus": (lotus["pending"], lotus["available"])}


def write_off_legs(app, cast) -> list[list[tuple[str, str, str, int]]]:
    """Each write_off ledger transaction's legs: (party, user or "", account kind, amount)."""
    names = {party_id: label for label, party_id in cast.party_ids.items()}
    users = {user_id: label for label, user_id in cast.user_ids.items()}
    with app.app_context():
        transactions = db.session.scalars(
            select(LedgerTransaction)
            .where(LedgerTransaction.kind == "write_off")
            .order_by(LedgerTransaction.id)
        ).all()
        return [
            sorted(
                (names[account.party_id], users.get(account.user_id, ""), account.kind, amount)
                for amount, account in db.session.execute(
                    select(Entry.amount_minor, Account)
                    .join(Account, Account.id == Entry.account_id)
                    .where(Entry.transaction_id == transaction.id)
                )
            )
            for transaction in transactions
        ]


def audit(api, cast, invoice: dict) -> list[dict]:
    answer = api.get(
        f"/audit-log?action=invoice.written_off&subject_type=invoice&subject_id={invoice['id']}",
        cast.admin,
    )
    assert answer.status == 200, answer.body
    return answer.body


def test_writing_off_everything_closes_the_invoice_and_every_pending_share(
    app, api, cast, frozen_clock
):
    invoice = invoiced(api, cast)  # 1.00 (Li 0.60, Lotus 0.40) + 0.05 fee = 1.05, due 04-01
    assert shares(api, cast) == {"li": ("0.60", "0.00"), "lotus": ("0.40", "0.00")}
    frozen_clock.stand_at("2026-05-20T11:00:00+08:00")

    answer = write_off(api, cast.admin, invoice, reason="Horizon went bankrupt")

    assert answer.status == 201, answer.body
    note = answer.body
    assert {k: note[k] for k in ("number", "invoice_id", "invoice_number", "amount")} == {
        "number": "CN-2026-000001",
        "invoice_id": invoice["id"],
        "invoice_number": invoice["number"],
        "amount": "1.05",
    }
    assert (note["kind"], note["reason"]) == ("write_off", "Horizon went bankrupt")
    assert note["created_at"] == "2026-05-20T03:00:00+00:00"
    after = invoice_now(api, cast, invoice)
    assert (after["status"], after["credited"], after["paid"], after["outstanding"]) == (
        "written_off",
        "1.05",
        "0.00",
        "0.00",
    )
    assert after["paid_at"] is None
    # Nobody was paid this money, so nobody is paid it now.
    assert shares(api, cast) == {"li": ("0.00", "0.00"), "lotus": ("0.00", "0.00")}
    assert ledger_totals(api, cast.admin) == {"CNY": 0}
    # One balanced transaction: the receivable down 1.05, each pending share down its part.
    assert write_off_legs(app, cast) == [
        [
            ("horizon", "", "receivable", -105),
            ("lotus", "", "pending", 40),
            ("lotus", "li", "pending", 60),
            ("platform", "", "pending", 5),
        ]
    ]
    assert api.get(f"/invoices/{invoice['id']}/credit-notes", cast.client).body == [note]
    assert api.get(f"/invoices/{invoice['id']}/collection", cast.client).body["write_offs"] == [
        note
    ]
    assert audit(api, cast, invoice) == [
        {
            "id": audit(api, cast, invoice)[0]["id"],
            "at": "2026-05-20T03:00:00+00:00",
            "user_id": cast.user_ids["admin"],
            "source": "api",
            "action": "invoice.written_off",
            "subject_type": "invoice",
            "subject_id": invoice["id"],
            "details": {
                "credit_note": "CN-2026-000001",
                "amount": "1.05",
                "currency": "CNY",
                "reason": "Horizon went bankrupt",
            },
        }
    ]

    # Owed in full the day before the write-off (48 days past due), nothing from that day.
    before = api.get("/receivables/aging?as_of=2026-05-19", cast.admin).body
    assert [(r["invoices"], r["buckets"]["31_60"], r["total"]) for r in before["clients"]] == [
        (1, "1.05", "1.05")
    ]
    assert api.get("/receivables/aging?as_of=2026-05-20", cast.admin).body["clients"] == []

    # Written off is not paid: the record counts it late to today, owed nowhere.
    record = api.get(f"/clients/{cast.party_ids['horizon']}/payment-record", cast.li).body
    assert (record["invoices_issued"], record["invoices_paid"], record["paid_on_time"]) == (1, 0, 0)
    assert (record["average_days_late"], record["worst_days_late"]) == ("49.0", 49)
    assert (record["overdue_now"], record["oldest_unpaid_days"]) == ([], None)

    # Nothing is left to write off, pay or dispute.
    counts = row_counts(app)
    again = write_off(api, cast.admin, invoice, reason="twice")
    assert (again.status, again.error_code) == (409, "invoice_not_open")
    assert row_counts(app) == counts


def test_a_partial_write_off_takes_an_exact_part_of_each_share(app, api, cast, frozen_clock):
    invoice = invoiced(api, cast)

    answer = write_off(api, cast.admin, invoice, amount="0.35", reason="Three boxes disputed")

    assert answer.status == 201, answer.body
    assert (answer.body["number"], answer.body["amount"], answer.body["kind"]) == (
        "CN-2026-000001",
        "0.35",
        "write_off",
    )
    after = invoice_now(api, cast, invoice)
    assert (after["status"], after["credited"], after["outstanding"]) == ("open", "0.35", "0.70")
    # 0.35 over the lines 1.00 and 0.05: 33.33 and 1.67 -> 33 and 2 (the fee's .67 is the
    # larger remainder). The items' 0.33 over Li 0.60 and Lotus 0.40: 19.8, 13.2 -> 20, 13.
    assert shares(api, cast) == {"li": ("0.40", "0.00"), "lotus": ("0.27", "0.00")}
    assert ledger_totals(api, cast.admin) == {"CNY": 0}
    assert write_off_legs(app, cast) == [
        [
            ("horizon", "", "receivable", -35),
            ("lotus", "", "pending", 13),
            ("lotus", "li", "pending", 20),
            ("platform", "", "pending", 2),
        ]
    ]

    # A second, smaller write-off, then the client pays the rest: every share settles to
    # exactly what is left of it, and nothing stays pending.
    second = write_off(api, cast.admin, invoice, amount="0.10", reason="One more box")
    assert (second.status, second.body["number"]) == (201, "CN-2026-000002")
    # 0.10 over 0.67 and 0.03: 9.57, 0.43 -> 10, 0. Over Li 0.40 and Lotus 0.27: 5.97, 4.03 -> 6, 4.
    assert shares(api, cast) == {"li": ("0.34", "0.00"), "lotus": ("0.23", "0.00")}
    assert invoice_now(api, cast, invoice)["outstanding"] == "0.60"
    pay(api, cast, invoice, "0.60", "ICBC-1")
    after = invoice_now(api, cast, invoice)
    assert (after["status"], after["credited"], after["paid"], after["outstanding"]) == (
        "paid",
        "0.45",
        "0.60",
        "0.00",
    )
    assert shares(api, cast) == {"li": ("0.00", "0.34"), "lotus": ("0.00", "0.23")}
    assert ledger_totals(api, cast.admin) == {"CNY": 0}
    assert [e["details"]["amount"] for e in audit(api, cast, invoice)] == ["0.35", "0.10"]

    # Paid: nothing is owed, nothing to write off.
    counts = row_counts(app)
    refused = write_off(api, cast.admin, invoice, amount="0.01", reason="late")
    assert (refused.status, refused.error_code) == (409, "invoice_not_open")
    assert row_counts(app) == counts


def test_writing_off_what_a_partial_payment_left(app, api, cast, frozen_clock):
    invoice = invoiced(api, cast)
    pay(api, cast, invoice, "0.50", "ICBC-1")
    # 0.50 over 1.00 and 0.05: 47.62, 2.38 -> 48, 2; the 0.48 over Li and Lotus: 28.8,
    # 19.2 -> 29, 19.
    assert shares(api, cast) == {"li": ("0.31", "0.29"), "lotus": ("0.21", "0.19")}

    # 0.30 of the 0.55 left, over 0.52 and 0.03: 28.36, 1.64 -> 28, 2; the 0.28 over Li's
    # 0.31 and Lotus's 0.21: 16.69, 11.31 -> 17, 11.
    partial = write_off(api, cast.admin, invoice, amount="0.30", reason="Half the boxes")
    assert partial.status == 201, partial.body
    assert shares(api, cast) == {"li": ("0.14", "0.29"), "lotus": ("0.10", "0.19")}

    # The rest, by default: what each share still waited for.
    rest = write_off(api, cast.admin, invoice, reason="Horizon will not pay the rest")
    assert (rest.status, rest.body["amount"]) == (201, "0.25")
    after = invoice_now(api, cast, invoice)
    assert (after["status"], after["credited"], after["paid"], after["outstanding"]) == (
        "written_off",
        "0.55",
        "0.50",
        "0.00",
    )
    # What was paid stays paid; nothing is pending any more.
    assert shares(api, cast) == {"li": ("0.00", "0.29"), "lotus": ("0.00", "0.19")}
    assert ledger_totals(api, cast.admin) == {"CNY": 0}
    assert write_off_legs(app, cast) == [
        [
            ("horizon", "", "receivable", -30),
            ("lotus", "", "pending", 11),
            ("lotus", "li", "pending", 17),
            ("platform", "", "pending", 2),
        ],
        [
            ("horizon", "", "receivable", -25),
            ("lotus", "", "pending", 10),
            ("lotus", "li", "pending", 14),
            ("platform", "", "pending", 1),
        ],
    ]


@pytest.mark.parametrize(
    ("who", "body", "status", "code"),
    [
        ("admin", {"amount": "1.06", "reason": "x"}, 409, "credit_exceeds_outstanding"),
        ("admin", {"amount": "0", "reason": "x"}, 422, "invalid_amount"),
        ("admin", {"amount": "0.00", "reason": "x"}, 422, "invalid_amount"),
        ("admin", {"amount": "-0.10", "reason": "x"}, 422, "invalid_amount"),
        ("admin", {"amount": "0.001", "reason": "x"}, 422, "invalid_amount"),
        ("admin", {"amount": "ten", "reason": "x"}, 422, None),
        ("admin", {"amount": "0.10"}, 422, None),
        ("admin", {"amount": "0.10", "reason": "   "}, 422, None),
        ("admin", {"amount": "0.10", "reason": "x" * 501}, 422, None),
        ("client", {"amount": "0.10", "reason": "x"}, 403, None),
        ("client", {"reason": "please"}, 403, None),
        ("rival_client", {"reason": "x"}, 404, None),
        ("owner", {"reason": "x"}, 404, None),
    ],
)
def test_a_refused_write_off_writes_nothing(app, api, cast, frozen_clock, who, body, status, code):
    invoice = invoiced(api, cast)
    counts = row_counts(app)

    answer = write_off(api, cast.tokens[who], invoice, **body)

    assert answer.status == status, answer.body
    if code:
        assert answer.error_code == code
    if code == "credit_exceeds_outstanding":
        assert answer.body["error"]["details"]["outstanding"] == "1.05"
    assert row_counts(app) == counts
    assert invoice_now(api, cast, invoice)["outstanding"] == "1.05"
    assert shares(api, cast) == {"li": ("0.60", "0.00"), "lotus": ("0.40", "0.00")}


def test_no_write_off_of_an_invoice_that_does_not_exist(app, api, cast):
    counts = row_counts(app)
    answer = api.post("/invoices/999999/write-offs", cast.admin, {"reason": "x"})
    assert answer.status == 404
    assert row_counts(app) == counts


# Races (PostgreSQL: SQLite serializes writers).


@pytest.mark.only_engine("postgresql")
def test_write_offs_racing_on_one_invoice_never_take_off_more_than_is_owed(
    app, api, cast, frozen_clock
):
    invoice = invoiced(api, cast)
    answers = all_at_once(
        app,
        [
            lambda c, n=n: c.post(
                f"/invoices/{invoice['id']}/write-offs",
                cast.admin,
                {"amount": "0.35", "reason": f"race {n}"},
            )
            for n in range(6)
        ],
    )
    assert sorted(a.status for a in answers) == [201] * 3 + [409] * 3
    assert {a.error_code for a in answers if a.status == 409} <= {
        "credit_exceeds_outstanding",
        "invoice_not_open",
    }
    assert sorted(a.body["number"] for a in answers if a.status == 201) == [
        "CN-2026-000001",
        "CN-2026-000002",
        "CN-2026-000003",
    ]
    after = invoice_now(api, cast, invoice)
    assert (after["status"], after["credited"], after["outstanding"]) == (
        "written_off",
        "1.05",
        "0.00",
    )
    assert shares(api, cast) == {"li": ("0.00", "0.00"), "lotus": ("0.00", "0.00")}
    assert ledger_totals(api, cast.admin) == {"CNY": 0}
    assert len(write_off_legs(app, cast)) == 3
    assert len(audit(api, cast, invoice)) == 3


@pytest.mark.only_engine("postgresql")
def test_a_write_off_of_everything_racing_a_payment_in_full_leaves_one_of_two_outcomes(
    app, api, cast, frozen_clock
):
    invoice = invoiced(api, cast)
    written_off, paid = all_at_once(
        app,
        [
            lambda c: c.post(
                f"/invoices/{invoice['id']}/write-offs", cast.admin, {"reason": "gone"}
            ),
            lambda c: c.post(
                f"/invoices/{invoice['id']}/payments",
                cast.admin,
                {"amount": "1.05", "reference": "ICBC-RACE", "received_on": "2026-03-02"},
            ),
        ],
    )
    assert paid.status == 201, paid.body
    after = invoice_now(api, cast, invoice)
    if written_off.status == 201:  # the write-off first: the payment is Horizon's credit
        assert (after["status"], after["credited"], after["paid"]) == (
            "written_off",
            "1.05",
            "0.00",
        )
        assert (paid.body["applied"], paid.body["unapplied"]) == ("0.00", "1.05")
        assert shares(api, cast) == {"li": ("0.00", "0.00"), "lotus": ("0.00", "0.00")}
    else:  # the payment first: nothing was left to write off
        assert written_off.status == 409
        assert (after["status"], after["credited"], after["paid"]) == ("paid", "0.00", "1.05")
        assert shares(api, cast) == {"li": ("0.00", "0.60"), "lotus": ("0.00", "0.40")}
        assert write_off_legs(app, cast) == []
    assert ledger_totals(api, cast.admin) == {"CNY": 0}
