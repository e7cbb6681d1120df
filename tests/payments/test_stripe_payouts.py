"""Payouts through Stripe Connect: every payee with a connected account is paid what is
available, exactly once, and a failure never loses or doubles money.

What the user relies on: a Stripe payout run pays only teams and annotators with a Connect
account (the others keep their money available for a manual run); each payout is one
transfer per invoice whose money it pays, grouped by the invoice number, drawing on the card
charge that paid that invoice (source_transaction), with an idempotency key of its own; a
transfer Stripe refuses is failed with the reason and its money is available again for a
later run; one that could not reach Stripe stays pending and is sent later, once; if Stripe
made the transfer but its answer was lost, resending gets Stripe's first answer back and
no second transfer. The ledger sums to zero and nobody is paid more than was settled.
"""

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marketplace.db import db, unit_of_work
from marketplace.ledger import Account, AccountKind, Entry
from marketplace.payments.connect import connect_payee
from marketplace.payments.models import InvoiceShare, SettlementPart
from tests.flows import holding, ledger_totals
from tests.payments.test_settlement import issue, lotus_order, pay

# Real Stripe-speaking servers on loopback: end-to-end, so `make check` leaves them out.
pytestmark = pytest.mark.slow

# --- the world: two paid invoices, two payees connected ------------------------------------


def two_paid_invoices(api, cast, standin) -> tuple[dict, dict, str]:
    """A: 7 boxes at 0.10 CNY, Lotus at 0.06: Li 4 -> 0.24, Wang 3 -> 0.18, Lotus keeps 0.28,
    fee 0.04; total 0.74, paid by card. B: 2 boxes, Li 2 -> 0.12, Lotus 0.08, fee 0.01;
    total 0.21, paid by bank transfer. Returns A, B and the charge that paid A."""
    a = issue(api, cast, lotus_order(api, cast, 7, li=4, wang=3))
    b = issue(api, cast, lotus_order(api, cast, 2))
    assert (a["total"], b["total"]) == ("0.74", "0.21")
    card = api.post(
        f"/invoices/{a['id']}/card-payments", cast.client, {"payment_method": "pm_card_visa"}
    )
    assert card.status == 201 and card.body["status"] == "succeeded", card.body
    pay(api, cast, b["id"], "0.21", "ICBC-1")
    charge = standin.object(card.body["payment_intent"])["latest_charge"]
    assert charge.startswith("ch_")
    return a, b, charge


def connect(app, **payee) -> str:
    """Give a team (party_id=) or an annotator (user_id=) a new Connect account."""
    with app.app_context(), unit_of_work() as session:
        return connect_payee(session, app.extensions["stripe_gateway"], **payee).stripe_account


def stripe_run(api, cast) -> dict:
    answer = api.post("/payout-runs", cast.admin, {"currency": "CNY", "gateway": "stripe"})
    assert answer.status == 201, answer.body
    return answer.body


def transfers_of(run) -> list[tuple]:
    """Each transfer of a run: (payee, invoice, amount, status, group, source charge)."""
    fields = ("invoice_id", "amount", "status", "transfer_group", "source_charge")
    return [
        (p["payee_name"], *(t[name] for name in fields))
        for p in run["payouts"]
        for t in p["transfers"]
    ]


def money(api, cast) -> dict[str, tuple[str, str, str]]:
    """(available, pending, paid) of Li, Wang and Lotus."""
    found = {}
    for name, token, kind in (("li", cast.li, "annotator"), ("wang", cast.wang, "annotator")):
        h = holding(api, token, kind)
        found[name] = (h["available"], h["pending"], h["paid"])
    h = holding(api, cast.owner, "team")
    found["lotus"] = (h["available"], h["pending"], h["paid"])
    return found


def settled_and_paid(app) -> dict[tuple[int, int | None], tuple[int, int]]:
    """Every earner's (settled, paid) in fen, from the settlement parts and the ledger."""
    with app.app_context():
        parts = func.sum(SettlementPart.amount_minor)
        settled = db.session.execute(
            select(InvoiceShare.party_id, InvoiceShare.user_id, parts)
            .join(SettlementPart, SettlementPart.share_id == InvoiceShare.id)
            .group_by(InvoiceShare.party_id, InvoiceShare.user_id)
        ).all()
        paid = dict(
            ((party, user), -int(total))
            for party, user, total in db.session.execute(
                select(Account.party_id, Account.user_id, func.sum(Entry.amount_minor))
                .join(Entry, Entry.account_id == Account.id)
                .where(Account.kind == AccountKind.PAID)
                .group_by(Account.party_id, Account.user_id)
            )
        )
    return {(p, u): (int(s), paid.get((p, u), 0)) for p, u, s in settled}


def assert_sound(app, api, cast):
    assert ledger_totals(api, cast.admin) == {"CNY": 0}
    for holder, (settled, paid) in settled_and_paid(app).items():
        assert 0 <= paid <= settled, holder


@pytest.fixture
def world(app, api, cast, frozen_clock, standin):
    """Both invoices paid; Lotus and Li have Connect accounts on the stand-in, Wang none."""
    a, b, charge = two_paid_invoices(api, cast, standin)
    accounts = {
        "lotus": connect(app, party_id=cast.party_ids["lotus"]),
        "li": connect(app, user_id=cast.user_ids["li"]),
    }
    assert all(account.startswith("acct_") for account in accounts.values())
    assert money(api, cast) == {
        "li": ("0.36", "0.00", "0.00"),
        "wang": ("0.18", "0.00", "0.00"),
        "lotus": ("0.36", "0.00", "0.00"),
    }
    standin.requests.clear()
    return {"a": a, "b": b, "charge": charge, "accounts": accounts}


def transfer_calls(standin) -> list:
    return [r for r in standin.requests if (r.method, r.path) == ("POST", "/v1/transfers")]


# --- the tests -------------------------------------------------------------------------------


def test_a_stripe_run_pays_connected_payees_one_transfer_per_invoice(
    app, api, cast, standin, world
):
    a, b, charge, accounts = world["a"], world["b"], world["charge"], world["accounts"]
    run = stripe_run(api, cast)
    assert (run["gateway"], run["total"], run["failed"]) == ("stripe", "0.72", "0.00")
    # Lotus (the team, no user) first, then Li; each payout split by invoice, oldest first.
    assert transfers_of(run) == [
        ("Lotus", a["id"], "0.28", "sent", a["number"], charge),
        ("Lotus", b["id"], "0.08", "sent", b["number"], None),
        ("Li", a["id"], "0.24", "sent", a["number"], charge),
        ("Li", b["id"], "0.12", "sent", b["number"], None),
    ]
    assert [p["stripe_account"] for p in run["payouts"]] == [accounts["lotus"], accounts["li"]]
    calls = transfer_calls(standin)
    expected = []
    for payout in run["payouts"]:
        for t in payout["transfers"]:
            params = {
                "amount": str(int(Decimal(t["amount"]) * 100)),
                "currency": "cny",
                "destination": payout["stripe_account"],
                "transfer_group": t["transfer_group"],
                "metadata": {
                    "piecework_transfer": str(t["id"]),
                    "payout_id": str(payout["id"]),
                    "run_id": str(run["id"]),
                },
            }
            if t["source_charge"]:
                params["source_transaction"] = t["source_charge"]
            key = f"piecework-payout-{payout['id']}-transfer-{t['id']}"
            expected.append((params, key, 200, t["gateway_id"]))
    made = [standin.object(t["gateway_id"]) for p in run["payouts"] for t in p["transfers"]]
    assert len(calls) == len(made) == len(standin.events_of("transfer.created")) == 4
    pairs = zip(calls, made, strict=True)
    seen = [(c.params, c.idempotency_key, c.status, m["id"]) for c, m in pairs]
    assert seen == expected
    assert [m["amount"] for m in made] == [28, 8, 24, 12]

    assert money(api, cast) == {
        "li": ("0.00", "0.00", "0.36"),
        "wang": ("0.18", "0.00", "0.00"),  # no account: kept for a manual run
        "lotus": ("0.00", "0.00", "0.36"),
    }
    assert_sound(app, api, cast)
    # A second Stripe run finds nothing to pay; a manual run pays Wang alone.
    assert stripe_run(api, cast)["payouts"] == []
    manual = api.post("/payout-runs", cast.admin, {"currency": "CNY"})
    assert manual.status == 201, manual.body
    assert [(p["payee_name"], p["amount"]) for p in manual.body["payouts"]] == [("Wang", "0.18")]
    assert len(transfer_calls(standin)) == 4
    assert money(api, cast)["wang"] == ("0.00", "0.00", "0.18")
    assert {k: v for k, v in settled_and_paid(app).items() if v[1]} == {
        (cast.party_ids["lotus"], None): (36, 36),
        (cast.party_ids["lotus"], cast.user_ids["li"]): (36, 36),
        (cast.party_ids["lotus"], cast.user_ids["wang"]): (18, 18),
    }
    assert_sound(app, api, cast)


def test_a_refused_transfer_fails_with_its_reason_and_a_later_run_pays_it(
    app, api, cast, standin, world
):
    standin.fail_transfers_to(world["accounts"]["li"])
    run = stripe_run(api, cast)
    [lotus, li] = run["payouts"]
    assert [(t["status"], t["failure"]) for t in lotus["transfers"]] == [("sent", None)] * 2
    reason = f"account_closed: Transfers to {world['accounts']['li']} cannot be made"
    assert [(t["amount"], t["status"], t["gateway_id"]) for t in li["transfers"]] == [
        ("0.24", "failed", None),
        ("0.12", "failed", None),
    ]
    assert all(t["failure"] == f"{reason} (account_closed)." for t in li["transfers"])
    assert (li["status"], li["failed"], run["failed"], run["total"]) == (
        "failed",
        "0.36",
        "0.36",
        "0.72",
    )
    assert money(api, cast)["li"] == ("0.36", "0.00", "0.00")  # back, to be paid again
    assert len(standin.events_of("transfer.created")) == 2
    assert_sound(app, api, cast)

    # Li gives a working account; the next run pays her, invoice by invoice again.
    new_account = connect(app, user_id=cast.user_ids["li"])
    again = stripe_run(api, cast)
    assert [(p["payee_name"], p["stripe_account"]) for p in again["payouts"]] == [
        ("Li", new_account)
    ]
    assert transfers_of(again) == [
        ("Li", world["a"]["id"], "0.24", "sent", world["a"]["number"], world["charge"]),
        ("Li", world["b"]["id"], "0.12", "sent", world["b"]["number"], None),
    ]
    assert money(api, cast)["li"] == ("0.00", "0.00", "0.36")
    assert len(standin.events_of("transfer.created")) == 4
    assert_sound(app, api, cast)


@pytest.mark.parametrize("outage", ["dropped", "500"])
def test_a_transfer_that_cannot_reach_stripe_stays_pending_and_is_sent_later_once(
    app, api, cast, standin, world, outage
):
    # The SDK retries twice itself: three failures in a row are an outage.
    for _ in range(3):
        if outage == "dropped":
            standin.fail_next("/v1/transfers", drop=True)
        else:
            standin.fail_next("/v1/transfers", 500)
    run = stripe_run(api, cast)
    assert [t[3] for t in transfers_of(run)] == ["pending"] * 4
    assert [p["status"] for p in run["payouts"]] == ["pending", "pending"]
    assert standin.events_of("transfer.created") == []
    first_key = transfer_calls(standin)[0].idempotency_key
    assert [c.idempotency_key for c in transfer_calls(standin)] == [first_key] * 3
    # Pending money is out of available, not yet anyone's twice.
    assert money(api, cast)["li"] == ("0.00", "0.00", "0.36")
    assert_sound(app, api, cast)

    sent = api.post(f"/payout-runs/{run['id']}/send", cast.admin)
    assert sent.status == 200, sent.body
    assert [t[3] for t in transfers_of(sent.body)] == ["sent"] * 4
    assert len(standin.events_of("transfer.created")) == 4
    again = api.post(f"/payout-runs/{run['id']}/send", cast.admin)
    assert again.status == 200 and again.body == sent.body
    assert len(transfer_calls(standin)) == 3 + 4
    assert_sound(app, api, cast)


def test_a_transfer_made_whose_answer_was_lost_is_recorded_once_on_resume(
    app, api, cast, standin, world
):

    # Stripe makes the transfer, but the answer never comes back, nor to the SDK's retries.
    standin.fail_next("/v1/transfers", drop=True, processed=True)
    standin.fail_next("/v1/transfers", drop=True)
    standin.fail_next("/v1/transfers", drop=True)
    run = stripe_run(api, cast)
    assert [t[3] for t in transfers_of(run)] == ["pending"] * 4
    [made] = standin.events_of("transfer.created")
    first = run["payouts"][0]["transfers"][0]
    key = f"piecework-payout-{run['payouts'][0]['id']}-transfer-{first['id']}"
    assert made["request"]["idempotency_key"] == key

    resumed = api.post(f"/payout-runs/{run['id']}/send", cast.admin)
    assert resumed.status == 200, resumed.body
    [resent] = resumed.body["payouts"][0]["transfers"][:1]
    assert (resent["status"], resent["gateway_id"]) == ("sent", made["data"]["object"]["id"])
    calls = [c for c in transfer_calls(standin) if c.idempotency_key == key]
    assert [(c.status, c.replayed) for c in calls] == [(None, False)] * 3 + [(200, True)]
    # Exactly one Stripe transfer per transfer of ours.
    assert len(standin.events_of("transfer.created")) == 4
    assert [t[3] for t in transfers_of(resumed.body)] == ["sent"] * 4
    assert money(api, cast)["lotus"] == ("0.00", "0.00", "0.36")
    assert_sound(app, api, cast)


def test_the_cli_runs_a_stripe_payout_with_counts(app, api, cast, standin, world):
    runner = app.test_cli_runner()
    wang = runner.invoke(args=["connect-account", "--user", str(cast.user_ids["wang"])])
    assert wang.exit_code == 0, wang.output
    name, account = wang.output.strip().split(": ")
    assert name == "Wang" and account.startswith("acct_")

    for _ in range(3):  # Stripe down from the first transfer on
        standin.fail_next("/v1/transfers", drop=True)
    result = runner.invoke(args=["payout-run", "--currency", "CNY", "--gateway", "stripe"])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert re.fullmatch(r"payout run \d+: 3 payouts, 0\.90 CNY", lines[0]), lines
    assert "0 sent, 0 failed, 5 pending" in result.output
    assert "run `marketplace send-payouts` again later" in result.output

    resumed = runner.invoke(args=["send-payouts"])
    assert resumed.exit_code == 0, resumed.output
    assert resumed.output.strip().splitlines()[-1] == "5 sent, 0 failed, 0 pending"
    assert "Sending transfers" in resumed.output
    assert (
        runner.invoke(args=["send-payouts"]).output.strip().endswith("0 sent, 0 failed, 0 pending")
    )
    assert len(standin.events_of("transfer.created")) == 5
    assert money(api, cast)["wang"] == ("0.00", "0.00", "0.18")
    assert_sound(app, api, cast)
