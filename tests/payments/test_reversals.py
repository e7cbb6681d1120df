"""Refunds and chargebacks through the API: money that goes back to the client comes back
down every chain, exactly, and never from an annotator's pocket.

What the user relies on: a refund or chargeback takes the payment's unapplied credit first,
then what it paid of its invoices (the latest applied first); those invoices are owed again
and their shares go back from available to pending, split by largest remainder over what
each had settled. An annotator already paid out keeps her money: her team absorbs it (its
available may go below zero) and is made whole when the client pays again, without paying
her twice. A reversal is recorded once per reference, never more than what is left of the
payment, only by platform admins; the ledger balances throughout.
"""

import pytest

from tests.flows import holding, ledger_totals
from tests.payments.test_settlement import (
    CHAIN_SHARES,
    applications,
    chain_invoice,
    invoice_state,
    issue,
    lotus_order,
    money,
    pay,
    transfer,
)
from tests.support import row_counts

# End-to-end walks through the money's life: `make test` runs them, `make check`
# leaves them out.
pytestmark = pytest.mark.slow


def reverse(api, token, payment_id, amount, reference, kind="refund"):
    return api.post(
        f"/payments/{payment_id}/reversals",
        token,
        {"kind": kind, "amount": amount, "reference": reference, "reason": "client asked"},
    )


def seven_boxes(api, cast) -> dict:
    """7 boxes at 0.10 CNY done by Lotus, invoiced: Li 4 x 0.07 = 0.28, Wang 3 x 0.07 = 0.21,
    Lotus keeps 0.21, fee 3.5 -> 0.04; total 0.74."""
    invoice = issue(api, cast, lotus_order(api, cast, 7, rate="0.07", li=4, wang=3))
    assert invoice["total"] == "0.74"
    return invoice


def lotus_holders(cast) -> dict[str, tuple[str, str]]:
    return {
        "li": (cast.li, "annotator"),
        "wang": (cast.wang, "annotator"),
        "lotus": (cast.owner, "team"),
        "platform": (cast.admin, "platform"),
    }


def paid_of(api, token, kind) -> str:
    return holding(api, token, kind)["paid"]


def test_a_full_refund_makes_the_invoice_owed_again_and_every_share_pending(
    app, api, cast, frozen_clock
):
    invoice = seven_boxes(api, cast)
    holders = lotus_holders(cast)
    payment = pay(api, cast, invoice["id"], "0.74", "ICBC-1")

    refund = reverse(api, cast.admin, payment["id"], "0.74", "RF-1")
    assert refund.status == 201, refund.body
    assert (refund.body["kind"], refund.body["amount"], refund.body["absorbed"]) == (
        "refund",
        "0.74",
        "0.00",
    )
    assert invoice_state(api, cast, invoice["id"]) == ("open", "0.00", "0.74")
    assert api.get(f"/invoices/{invoice['id']}", cast.admin).body["paid_at"] is None
    assert money(api, holders, invoice["id"]) == {
        "li": ("0.00", "0.28", "0.28"),
        "wang": ("0.00", "0.21", "0.21"),
        "lotus": ("0.00", "0.21", "0.21"),
        "platform": ("0.00", "0.04", "0.04"),
    }
    after = api.get(f"/payments/{payment['id']}", cast.client).body
    assert (after["applied"], after["returned"], after["unapplied"]) == ("0.00", "0.74", "0.00")
    assert applications(api, cast, payment["id"]) == [
        (invoice["id"], "0.74"),
        (invoice["id"], "-0.74"),
    ]
    assert ledger_totals(api, cast.admin) == {"CNY": 0}

    # The same refund reported again is the same refund, and writes nothing.
    before = row_counts(app)
    again = reverse(api, cast.admin, payment["id"], "0.74", "RF-1")
    assert (again.status, again.body["id"]) == (200, refund.body["id"])
    # The same reference for another amount or kind is another reversal: refused.
    for amount, kind in (("0.50", "refund"), ("0.74", "chargeback")):
        other = reverse(api, cast.admin, payment["id"], amount, "RF-1", kind)
        assert (other.status, other.error_code) == (409, "reference_reused")
    # Nothing is left of the payment to give back.
    more = reverse(api, cast.admin, payment["id"], "0.01", "RF-2")
    assert (more.status, more.error_code) == (409, "reversal_exceeds_payment")
    assert more.body["error"]["details"]["left"] == "0.00"
    assert row_counts(app) == before
    listed = api.get(f"/payments/{payment['id']}/reversals", cast.client)
    assert [(r["reference"], r["amount"]) for r in listed.body] == [("RF-1", "0.74")]


def test_a_partial_chargeback_takes_back_an_exact_split(app, api, cast, frozen_clock):
    invoice, holders = chain_invoice(app, api, cast)
    payment = pay(api, cast, invoice["id"], "1.12", "SWIFT-1")
    assert invoice_state(api, cast, invoice["id"]) == ("paid", "1.12", "0.00")

    # 0.45 back, over what each share had settled: the lines (58, 49, 5)/112: 23.30,
    # 19.69, 2.01 -> 23, 19 + 1, 2. Lotus's 23 over (39, 12, 7)/58: 15.47, 4.76, 2.78 ->
    # 15, 4 + 1, 2 + 1. Apex's 20 over (19, 2, 28)/49: 7.76, 0.82, 11.43 -> 7 + 1, 0 + 1, 11.
    chargeback = reverse(api, cast.admin, payment["id"], "0.45", "DSP-1", "chargeback")
    assert chargeback.status == 201, chargeback.body
    assert (chargeback.body["kind"], chargeback.body["absorbed"]) == ("chargeback", "0.00")
    assert invoice_state(api, cast, invoice["id"]) == ("open", "0.67", "0.45")
    assert money(api, holders, invoice["id"]) == {
        "lotus": ("0.24", "0.15", "0.15"),
        "li": ("0.07", "0.05", "0.05"),
        "wang": ("0.04", "0.03", "0.03"),
        "apex": ("0.11", "0.08", "0.08"),
        "bridge": ("0.01", "0.01", "0.01"),
        "bridge_annotator": ("0.17", "0.11", "0.11"),
        "platform": ("0.03", "0.02", "0.02"),
    }
    assert applications(api, cast, payment["id"]) == [
        (invoice["id"], "1.12"),
        (invoice["id"], "-0.45"),
    ]
    assert ledger_totals(api, cast.admin) == {"CNY": 0}

    # The client pays the 0.45 again: every share is whole.
    pay(api, cast, invoice["id"], "0.45", "SWIFT-2")
    assert invoice_state(api, cast, invoice["id"]) == ("paid", "1.12", "0.00")
    assert money(api, holders) == {name: (share, "0.00") for name, share in CHAIN_SHARES.items()}
    assert ledger_totals(api, cast.admin) == {"CNY": 0}


def test_a_refund_gives_back_the_credit_first_then_the_latest_invoice_paid(
    app, api, cast, frozen_clock
):
    # X: 4 boxes, Li 0.24, Lotus 0.16, fee 0.02: 0.42, due 1 April. Y (a day later, due
    # 2 April): the seven boxes, 0.74. One transfer of 1.42 pays X, then Y, and leaves 0.26.
    x = issue(api, cast, lotus_order(api, cast, 4))
    frozen_clock.step(days=1)
    y = seven_boxes(api, cast)
    payment = transfer(api, cast, "1.42", "ABC-1").body
    assert applications(api, cast, payment["id"]) == [(x["id"], "0.42"), (y["id"], "0.74")]
    holders = lotus_holders(cast)
    settled = {
        "li": ("0.52", "0.00"),
        "wang": ("0.21", "0.00"),
        "lotus": ("0.37", "0.00"),
        "platform": ("0.06", "0.00"),
    }
    assert money(api, holders) == settled

    # 0.20 back: all of it from the credit; no invoice and no earner is touched.
    assert reverse(api, cast.admin, payment["id"], "0.20", "RF-1").status == 201
    after = api.get(f"/payments/{payment['id']}", cast.admin).body
    assert (after["applied"], after["returned"], after["unapplied"]) == ("1.16", "0.20", "0.06")
    assert len(after["applications"]) == 2
    assert invoice_state(api, cast, x["id"]) == ("paid", "0.42", "0.00")
    assert invoice_state(api, cast, y["id"]) == ("paid", "0.74", "0.00")
    assert money(api, holders) == settled

    # 0.10 back: the last 0.06 of credit, then 0.04 of Y, the latest it paid; X is untouched.
    # Y's lines by what they settled (70, 4)/74: 3.78, 0.22 -> 3 + 1, 0; the items line's 4
    # over Lotus 21, Li 28, Wang 21 (/70): 1.2, 1.6, 1.2 -> 1, 1 + 1, 1.
    assert reverse(api, cast.admin, payment["id"], "0.10", "RF-2").status == 201
    after = api.get(f"/payments/{payment['id']}", cast.admin).body
    assert (after["applied"], after["returned"], after["unapplied"]) == ("1.12", "0.30", "0.00")
    assert applications(api, cast, payment["id"])[2:] == [(y["id"], "-0.04")]
    assert invoice_state(api, cast, x["id"]) == ("paid", "0.42", "0.00")
    assert invoice_state(api, cast, y["id"]) == ("open", "0.70", "0.04")
    assert money(api, holders, y["id"]) == {
        "li": ("0.50", "0.02", "0.02"),
        "wang": ("0.20", "0.01", "0.01"),
        "lotus": ("0.36", "0.01", "0.01"),
        "platform": ("0.06", "0.00", None),  # the fee line gave nothing back
    }
    listed = api.get(f"/payments/{payment['id']}/reversals", cast.client).body
    assert [(r["reference"], r["amount"]) for r in listed] == [("RF-1", "0.20"), ("RF-2", "0.10")]
    assert ledger_totals(api, cast.admin) == {"CNY": 0}


def test_money_paid_out_to_an_annotator_is_absorbed_by_her_team_and_made_whole_once(
    app, api, cast, frozen_clock
):
    invoice = seven_boxes(api, cast)
    holders = lotus_holders(cast)
    first = pay(api, cast, invoice["id"], "0.74", "ICBC-1")
    # A run with a 0.25 minimum pays Li's 0.28 only; Wang's and Lotus's 0.21 stay available.
    run = api.post("/payout-runs", cast.admin, {"currency": "CNY", "minimum": "0.25"}).body
    assert [(p["user_id"], p["amount"]) for p in run["payouts"]] == [(cast.user_ids["li"], "0.28")]

    refund = reverse(api, cast.admin, first["id"], "0.74", "RF-1")
    assert refund.status == 201, refund.body
    # Li cannot give back the 0.28 she was paid: Lotus gives it instead, on top of its own
    # 0.21, and its margin waits for 0.21 + 0.28 in her place.
    assert refund.body["absorbed"] == "0.28"
    assert money(api, holders, invoice["id"]) == {
        "li": ("0.00", "0.00", None),  # she kept her share: she waits for nothing
        "wang": ("0.00", "0.21", "0.21"),
        "lotus": ("-0.28", "0.49", "0.49"),
        "platform": ("0.00", "0.04", "0.04"),
    }
    assert paid_of(api, cast.li, "annotator") == "0.28"
    assert invoice_state(api, cast, invoice["id"]) == ("open", "0.00", "0.74")
    assert ledger_totals(api, cast.admin) == {"CNY": 0}

    # The client pays again: Lotus is made whole, Li is not paid twice.
    pay(api, cast, invoice["id"], "0.74", "ICBC-2")
    assert invoice_state(api, cast, invoice["id"]) == ("paid", "0.74", "0.00")
    assert money(api, holders) == {
        "li": ("0.00", "0.00"),
        "wang": ("0.21", "0.00"),
        "lotus": ("0.21", "0.00"),
        "platform": ("0.04", "0.00"),
    }
    assert paid_of(api, cast.li, "annotator") == "0.28"
    run = api.post("/payout-runs", cast.admin, {"currency": "CNY"}).body
    assert {(p["user_id"], p["amount"]) for p in run["payouts"]} == {
        (cast.user_ids["wang"], "0.21"),
        (None, "0.21"),
    }
    assert ledger_totals(api, cast.admin) == {"CNY": 0}


def test_down_a_chain_each_annotators_own_team_absorbs_her_paid_out_share(
    app, api, cast, frozen_clock
):
    invoice, holders = chain_invoice(app, api, cast)
    payment = pay(api, cast, invoice["id"], "1.12", "SWIFT-1")
    run = api.post("/payout-runs", cast.admin, {"currency": "CNY"}).body
    assert run["total"] == "1.07"  # everybody's share but the platform's fee

    refund = reverse(api, cast.admin, payment["id"], "1.12", "RF-1")
    # Li's 0.12 and Wang's 0.07 are Lotus's to cover, Bridge's annotator's 0.28 Bridge's;
    # Apex, above Bridge, gives back its own 0.19 and nothing of hers.
    assert refund.body["absorbed"] == "0.47"
    assert money(api, holders) == {
        "lotus": ("-0.58", "0.58"),
        "li": ("0.00", "0.00"),
        "wang": ("0.00", "0.00"),
        "apex": ("-0.19", "0.19"),
        "bridge": ("-0.30", "0.30"),
        "bridge_annotator": ("0.00", "0.00"),
        "platform": ("0.00", "0.05"),
    }
    pay(api, cast, invoice["id"], "1.12", "SWIFT-2")
    assert money(api, holders) == {
        "lotus": ("0.00", "0.00"),
        "li": ("0.00", "0.00"),
        "wang": ("0.00", "0.00"),
        "apex": ("0.00", "0.00"),
        "bridge": ("0.00", "0.00"),
        "bridge_annotator": ("0.00", "0.00"),
        "platform": ("0.05", "0.00"),
    }
    # Everybody but the platform was paid its share once, by the first run.
    paid = {name: holding(api, token, kind)["paid"] for name, (token, kind) in holders.items()}
    assert paid == CHAIN_SHARES | {"platform": "0.00"}
    assert api.post("/payout-runs", cast.admin, {"currency": "CNY"}).body["payouts"] == []
    assert ledger_totals(api, cast.admin) == {"CNY": 0}


def test_an_annotator_gives_back_what_she_still_holds_and_her_team_the_rest(
    app, api, cast, frozen_clock
):
    invoice = seven_boxes(api, cast)
    holders = lotus_holders(cast)
    first = pay(api, cast, invoice["id"], "0.74", "ICBC-1")
    api.post("/payout-runs", cast.admin, {"currency": "CNY", "minimum": "0.25"})  # Li's 0.28
    # Another invoice, paid: 2 boxes, Li 2 x 0.07 = 0.14, Lotus 0.06, fee 0.01: 0.21.
    other = issue(api, cast, lotus_order(api, cast, 2, rate="0.07"))
    pay(api, cast, other["id"], "0.21", "ICBC-2")
    assert money(api, {"li": holders["li"], "lotus": holders["lotus"]}) == {
        "li": ("0.14", "0.00"),
        "lotus": ("0.27", "0.00"),
    }

    # Li's 0.28 goes back: 0.14 from what she holds, 0.14 absorbed by Lotus (0.21 + 0.14).
    refund = reverse(api, cast.admin, first["id"], "0.74", "RF-1")
    assert refund.body["absorbed"] == "0.14"
    assert money(api, holders, invoice["id"]) == {
        "li": ("0.00", "0.14", "0.14"),
        "wang": ("0.00", "0.21", "0.21"),
        "lotus": ("-0.08", "0.35", "0.35"),
        "platform": ("0.01", "0.04", "0.04"),
    }
    pay(api, cast, invoice["id"], "0.74", "ICBC-3")
    # Li: 0.28 paid + 0.14 available = her two shares; Lotus: 0.21 + 0.06, its two margins.
    assert money(api, holders) == {
        "li": ("0.14", "0.00"),
        "wang": ("0.21", "0.00"),
        "lotus": ("0.27", "0.00"),
        "platform": ("0.05", "0.00"),
    }
    assert paid_of(api, cast.li, "annotator") == "0.28"
    assert ledger_totals(api, cast.admin) == {"CNY": 0}


def test_only_platform_admins_record_reversals_and_only_the_client_sees_them(
    app, api, cast, frozen_clock
):
    invoice = seven_boxes(api, cast)
    payment = pay(api, cast, invoice["id"], "0.74", "ICBC-1")
    before = row_counts(app)
    denied = reverse(api, cast.client, payment["id"], "0.74", "RF-1")
    assert (denied.status, denied.error_code) == (403, "forbidden"), denied.body
    for token in (cast.rival_client, cast.owner, cast.li):
        assert api.get(f"/payments/{payment['id']}", token).status == 404
        assert api.get(f"/payments/{payment['id']}/reversals", token).status == 404
        hidden = reverse(api, token, payment["id"], "0.74", "RF-1")
        assert (hidden.status, hidden.error_code) == (404, "payment_not_found")
    assert row_counts(app) == before
    assert api.get(f"/payments/{payment['id']}/reversals", cast.client).body == []
    assert invoice_state(api, cast, invoice["id"]) == ("paid", "0.74", "0.00")
