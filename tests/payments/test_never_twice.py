"""Never twice: a crash between any two steps of settlement or of a payout run, then a rerun,
pays nobody twice and loses no fen; a failed transfer's money is available again, with why.

The method. A world is made once through the API: Horizon's two open invoices, the first
over a two-link chain (Lotus with Li and Wang; Apex passing its batch to Bridge and Bridge's
annotator), the second Lotus's alone (Wang's two boxes). Every table is then copied
(`tests.crashes.snapshot`), so that each crash starts from the same world. For each use case:

1. The call runs once, its steps counted: each statement sent to the database and each
   commit, through SQLAlchemy's events on the app's engine (`tests.crashes.Steps`; nothing
   of ours is mocked). That gives K, and `books`: the money after an uninterrupted run, by
   names rather than ids (every ledger transaction with its legs, each holder's balances,
   invoices, payments and what they paid, payouts and their transfers, the rows of every
   table).
2. For every n in 1..K the world is put back and the same call dies at step n (`Crash`, a
   BaseException, as a killed process; SQLAlchemy drops the connection). A use case of one
   unit of work must then have left every table exactly as it was, row for row, or, when the
   crash came after its commit, the books exactly as the uninterrupted run left them. A
   Stripe payout run is several units of work (the run, then one per transfer, each after
   its call to Stripe), so a crash may leave it part sent: every payout must still be whole,
   the ledger balanced, and nobody holding more on Stripe than our books say we paid them.
3. The same call is made again, as an operator would (the same bank reference; the same
   payout run; a Stripe run recorded before the crash is resumed with
   POST /payout-runs/{id}/send), and the books must equal the uninterrupted run's exactly;
   on Stripe, each sent payout transfer is exactly one transfer.

Stripe is our stand-in (tests/stripe_standin/), whose Idempotency-Key replays answers as
Stripe does. The three annotators have Connect accounts (the teams wait for a bank run); Li's
refuses transfers in the swept run, so crashes while her money is given back are swept too.
A transfer made whose answers were all lost, and a refused one, are tested on their own; a
strict xfail shows what happens when a pending transfer is resumed after Stripe has
forgotten its idempotency key.
"""

import contextlib
import re
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from marketplace.db import db, unit_of_work
from marketplace.identity.models import Party, User
from marketplace.ledger import Account, Entry, LedgerTransaction, totals_by_currency
from marketplace.payments.connect import connect_payee
from marketplace.payments.models import Application, Invoice, Payment, Payout, PayoutTransfer
from marketplace.payments.stripe_gateway import StripeGateway
from tests.crashes import Crash, Steps, restore, snapshot
from tests.flows import holding, ledger_totals
from tests.payments.test_settlement import chain_invoice, issue, lotus_order
from tests.support import row_counts

pytestmark = pytest.mark.slow

PAYMENT = {"currency": "CNY", "amount": "1.25", "reference": "BOC-77", "received_on": "2026-03-02"}
STRIPE_RUN = {"currency": "CNY", "gateway": "stripe"}
ACCOUNT = re.compile(r"acct_\w+")  # Stripe's ids differ from one crash to the next
ANNOTATORS = ("Li", "Wang", "Bridge annotator")  # on Stripe; the teams wait for a bank run


@pytest.fixture
def standin(app, stripe_standin):
    """The app's Stripe is the stand-in for this test (as STRIPE_API_BASE would make it)."""
    saved = app.extensions["stripe_gateway"]
    app.extensions["stripe_gateway"] = StripeGateway("sk_test_twice", api_base=stripe_standin.url)
    yield stripe_standin
    app.extensions["stripe_gateway"] = saved


@pytest.fixture
def world(app, api, cast, frozen_clock) -> dict:
    """Two open invoices of Horizon's: 1.12 over the chain, 0.21 for Wang's 2 boxes."""
    first, _ = chain_invoice(app, api, cast)
    second = issue(api, cast, lotus_order(api, cast, 2, wang=2))
    assert (first["total"], second["total"]) == ("1.12", "0.21")
    return snapshot(app)


@pytest.fixture
def settled(app, api, cast, world) -> dict:
    """The world after Horizon's 1.25: all of the first invoice, 0.13 of the second."""
    assert pay(api, cast).status == 201
    return snapshot(app)


def pay(api, cast):
    """Horizon's bank transfer BOC-77, naming no invoice, recorded by the platform admin."""
    return api.post("/payments", cast.admin, PAYMENT | {"client_id": cast.party_ids["horizon"]})


def books(app) -> dict:
    """The money as it stands, by names: what a rerun must reproduce exactly."""
    rows = row_counts(app)  # first: on SQLite every transaction takes the write lock
    with app.app_context():
        session = db.session
        person = aliased(User)
        holders = {
            id_: (party, name or "", kind)
            for id_, party, name, kind in session.execute(
                select(Account.id, Party.name, person.name, Account.kind)
                .join(Party, Party.id == Account.party_id)
                .outerjoin(person, person.id == Account.user_id)
            )
        }
        transactions: dict[int, tuple[str, list]] = {}
        for tx, kind, account, amount in session.execute(
            select(
                LedgerTransaction.id, LedgerTransaction.kind, Entry.account_id, Entry.amount_minor
            ).join(Entry, Entry.transaction_id == LedgerTransaction.id)
        ):
            transactions.setdefault(tx, (kind, []))[1].append((holders[account], amount))
        balances = Counter()
        for _, legs in transactions.values():
            for holder, amount in legs:
                balances[holder] -= amount  # what each holds: credits are negative entries
        number = dict(session.execute(select(Invoice.id, Invoice.number)).all())

        def transfer(t: PayoutTransfer) -> tuple:
            failure = ACCOUNT.sub("acct", t.failure or "")
            return number.get(t.invoice_id, ""), t.amount_minor, t.status, failure

        return {
            "ledger": sorted((kind, tuple(sorted(legs))) for kind, legs in transactions.values()),
            "balances": {holder: amount for holder, amount in balances.items() if amount},
            "totals": totals_by_currency(session),
            "invoices": session.execute(
                select(Invoice.number, Invoice.status, Invoice.paid_minor).order_by(Invoice.number)
            ).all(),
            "payments": session.execute(
                select(Payment.reference, Payment.amount_minor, Payment.applied_minor)
            ).all(),
            "applications": sorted(
                (number[invoice], amount)
                for invoice, amount in session.execute(
                    select(Application.invoice_id, Application.amount_minor)
                )
            ),
            "payouts": sorted(
                (p.payee_name, p.amount_minor, tuple(sorted(map(transfer, p.transfers))))
                for p in session.scalars(select(Payout))
            ),
            "runs that paid": session.scalar(select(func.count(Payout.run_id.distinct()))),
            # A rerun after the run committed makes an empty run: it pays nothing (and the
            # audit log says an admin started it).
            "rows": {
                table: count
                for table, count in rows.items()
                if table not in ("payout_runs", "audit_log")
            },
        }


def sweep(app, prepare, call, check_crash, recover) -> list[str]:
    """Count `call`'s steps on a `prepare`d world and take its books; then for each step n,
    prepare again, crash the call at step n, `check_crash`, `recover`, and compare the books
    with the uninterrupted run's. Returns the steps of the uninterrupted run."""
    with app.app_context():
        engine = db.engine
    prepare()
    with Steps(engine) as counted:
        call()
    expected = books(app)
    for n in range(1, counted.count + 1):
        prepare()
        with Steps(engine, crash_at=n) as steps, contextlib.suppress(Crash):
            call()
        where = f"a crash at step {n} of {counted.count} ({steps.crashed})"
        if steps.crashed is None:  # this time the call took fewer steps than n
            assert books(app) == expected, where
            continue
        check_crash(steps, expected, where)
        recover(steps, where)
        assert books(app) == expected, f"after a rerun after {where}"
    return counted.log


def whole_or_nothing(app, before):
    """A crash in one unit of work left the tables as before, or, after its commit, the books
    as the uninterrupted run left them."""

    def check(steps, expected, where):
        if "COMMIT" in steps.log[:-1]:
            assert books(app) == expected, where
        else:
            assert snapshot(app) == before, f"half-done after {where}"

    return check


def test_a_payment_crashed_at_any_step_and_recorded_again_settles_once(app, api, cast, world):
    def rerun(steps, where):
        answer = pay(api, cast)
        recorded = "COMMIT" in steps.log[:-1]  # then the rerun finds it: 200, nothing moves
        assert answer.status == (200 if recorded else 201), (where, answer.body)

    log = sweep(
        app,
        lambda: restore(app, world),
        lambda: pay(api, cast),
        whole_or_nothing(app, world),
        rerun,
    )
    assert len(log) > 40 and log.count("COMMIT") == 1
    money = books(app)
    assert money["invoices"] == [("INV-2026-000001", "paid", 112), ("INV-2026-000002", "open", 13)]
    available = held(money, "available")
    assert sum(available.values()) == 125 and money["totals"] == {"CNY": 0}  # not a fen lost
    assert [available[n] for n in ("Li", "Apex", "Bridge", "Bridge annotator")] == [12, 19, 2, 28]


def test_a_bank_payout_run_crashed_at_any_step_and_run_again_pays_each_earner_once(
    app, api, cast, settled
):
    def run():
        return api.post("/payout-runs", cast.admin, {"currency": "CNY"})

    def rerun(steps, where):  # after a committed run, the new one finds nothing to pay
        assert run().status == 201, where

    before = books(app)
    log = sweep(app, lambda: restore(app, settled), run, whole_or_nothing(app, settled), rerun)
    assert len(log) > 40 and log.count("COMMIT") == 1
    money = books(app)
    # Everything available (but the platform's fee) is paid, to each holder, once.
    available = held(before, "available")
    assert held(money, "paid") == {n: a for n, a in available.items() if n != "Piecework"}
    assert held(money, "available") == {"Piecework": available["Piecework"]}
    assert money["runs that paid"] == 1 and money["totals"] == {"CNY": 0}


# --- Stripe ------------------------------------------------------------------------------


def connect_annotators(app, standin) -> dict[str, str]:
    """An emptied Stripe with money, and a Connect account there for each of ANNOTATORS."""
    standin.reset()
    standin.set_balance("cny", 1_000_000)
    client, accounts = standin.client(), {}
    with app.app_context(), unit_of_work() as session:
        for user in session.scalars(select(User).where(User.name.in_(ANNOTATORS))):
            accounts[user.name] = client.v1.accounts.create(params={"type": "express"}).id
            connect_payee(session, None, user_id=user.id, account=accounts[user.name])
    return accounts


def on_stripe(standin) -> dict[str, tuple[str, int]]:
    """Every transfer Stripe made: its id -> (destination, amount)."""
    made = [event["data"]["object"] for event in standin.events_of("transfer.created")]
    return {t["id"]: (t["destination"], t["amount"]) for t in made}


def sent(app) -> dict[str, tuple[str, int]]:
    """Every payout transfer our books hold as made on Stripe, the same way."""
    with app.app_context():
        rows = db.session.execute(
            select(PayoutTransfer.gateway_id, Payout.stripe_account, PayoutTransfer.amount_minor)
            .join(Payout, Payout.id == PayoutTransfer.payout_id)
            .where(PayoutTransfer.gateway_id.is_not(None))
        )
        return {gateway_id: (account, amount) for gateway_id, account, amount in rows}


def by_payee(standin, accounts: dict[str, str]) -> dict[str, int]:
    """What Stripe sent to each payee's account, in all."""
    total = dict.fromkeys(accounts, 0)
    payee = {account: name for name, account in accounts.items()}
    for destination, amount in on_stripe(standin).values():
        total[payee[destination]] += amount
    return total


def held(money: dict, kind: str) -> dict[str, int]:
    """What each person (or team) holds of one kind, by name."""
    return {
        name or party: amount for (party, name, k), amount in money["balances"].items() if k == kind
    }


def test_a_stripe_payout_run_crashed_at_any_step_and_resumed_makes_each_transfer_once(
    app, api, cast, settled, standin
):
    accounts: dict[str, str] = {}
    made_not_recorded = []  # crashes after Stripe made a transfer, before we committed it

    def prepare():
        restore(app, settled)
        accounts.update(connect_annotators(app, standin))
        standin.fail_transfers_to(accounts["Li"])

    def run():
        return api.post("/payout-runs", cast.admin, STRIPE_RUN)

    prepare()
    before = books(app)

    def check(steps, expected, where):
        now = books(app)
        assert now["totals"] == {"CNY": 0}, where
        if not now["runs that paid"]:
            assert now == before, f"half-done after {where}"
        else:  # the run committed: every payout whole, some transfers maybe not sent yet
            whole = [(name, amount, [t[:2] for t in ts]) for name, amount, ts in now["payouts"]]
            assert whole == [(n, a, [t[:2] for t in ts]) for n, a, ts in expected["payouts"]]
        assert sent(app).items() <= on_stripe(standin).items(), where
        if len(on_stripe(standin)) > len(sent(app)):
            made_not_recorded.append(steps.crashed)
        paid = held(now, "paid")
        for payee, amount in by_payee(standin, accounts).items():
            assert amount <= paid.get(payee, 0), f"{payee} got more than we paid, after {where}"

    def recover(steps, where):
        """As an operator would: resume the run if it was recorded, else start it again."""
        runs = api.get("/payout-runs", cast.admin).body
        for past in runs:
            assert api.post(f"/payout-runs/{past['id']}/send", cast.admin).status == 200, where
        if not runs:
            assert run().status == 201, where
        assert sent(app) == on_stripe(standin), f"not one transfer each after {where}"

    log = sweep(app, prepare, run, check, recover)
    assert log.count("COMMIT") == 6  # the run, the pending list, then one per transfer
    # Wang's two transfers and Bridge's annotator's: each crashed after Stripe made it, at
    # least just before its commit (and where the statements allow, at its record too).
    assert made_not_recorded.count("COMMIT") == 3 and len(made_not_recorded) >= 3
    after = books(app)
    available = held(before, "available")
    assert by_payee(standin, accounts) == {
        "Li": 0,
        "Wang": available["Wang"],
        "Bridge annotator": available["Bridge annotator"],
    }
    assert held(after, "available")["Li"] == available["Li"] == 12
    [li] = [p for p in after["payouts"] if p[0] == "Li"]
    assert li[2][0][2:] == (
        "failed",
        "account_closed: Transfers to acct cannot be made (account_closed).",
    )
    assert after["totals"] == {"CNY": 0}


def test_a_transfer_whose_answers_are_all_lost_is_resumed_and_made_once(
    app, api, cast, settled, standin
):
    """Stripe makes the transfer but its answer never comes back, nor the SDK's two retries'
    (each replayed): the transfer stays pending and sending stops. Resuming gets Stripe's
    first answer back under the same idempotency key: one transfer, recorded as sent."""
    available = held(books(app), "available")
    accounts = connect_annotators(app, standin)
    for _ in range(3):
        standin.fail_next("/v1/transfers", drop=True, processed=True)
    started = api.post("/payout-runs", cast.admin, STRIPE_RUN)
    assert started.status == 201, started.body
    transfers = [t for p in started.body["payouts"] for t in p["transfers"]]
    assert [t["status"] for t in transfers] == ["pending"] * 4
    assert len(on_stripe(standin)) == 1 and sent(app) == {}

    resumed = api.post(f"/payout-runs/{started.body['id']}/send", cast.admin)
    assert resumed.status == 200, resumed.body
    assert {t["status"] for p in resumed.body["payouts"] for t in p["transfers"]} == {"sent"}
    assert sent(app) == on_stripe(standin) and len(sent(app)) == 4
    assert by_payee(standin, accounts) == {name: available[name] for name in ANNOTATORS}
    keys = [r.idempotency_key for r in standin.requests if r.path == "/v1/transfers"]
    assert len(keys) == 3 + 4 and len(set(keys)) == 4  # the first key 4 times, then 3 more
    assert holding(api, cast.li, "annotator")["paid"] == "0.12"
    assert ledger_totals(api, cast.admin) == {"CNY": 0}


def test_a_refused_transfer_gives_its_money_back_to_available_with_the_reason(
    app, api, cast, settled, standin
):
    available = held(books(app), "available")
    accounts = connect_annotators(app, standin)
    standin.fail_transfers_to(accounts["Li"], message="The account was closed by its owner.")
    run = api.post("/payout-runs", cast.admin, STRIPE_RUN)
    assert run.status == 201, run.body
    run = api.get(f"/payout-runs/{run.body['id']}", cast.admin).body
    [li] = [p for p in run["payouts"] if p["payee_name"] == "Li"]
    assert (li["amount"], li["failed"], li["status"]) == ("0.12", "0.12", "failed")
    assert [(t["status"], t["failure"]) for t in li["transfers"]] == [
        ("failed", "account_closed: The account was closed by its owner.")
    ]
    assert run["failed"] == "0.12"
    li_now = holding(api, cast.li, "annotator")
    assert (li_now["available"], li_now["paid"]) == ("0.12", "0.00")
    assert ledger_totals(api, cast.admin) == {"CNY": 0}

    # Li gives a new account: the next run pays her the 0.12 once, and nobody else again.
    new = standin.client().v1.accounts.create(params={"type": "express"}).id
    with app.app_context(), unit_of_work() as session:
        connect_payee(session, None, user_id=cast.user_ids["li"], account=new)
    again = api.post("/payout-runs", cast.admin, STRIPE_RUN).body
    assert [(p["payee_name"], p["amount"], p["status"]) for p in again["payouts"]] == [
        ("Li", "0.12", "sent")
    ]
    assert by_payee(standin, accounts | {"Li, again": new}) == {
        "Li": 0,
        "Wang": available["Wang"],
        "Bridge annotator": available["Bridge annotator"],
        "Li, again": 12,
    }
    li_now = holding(api, cast.li, "annotator")
    assert (li_now["available"], li_now["paid"]) == ("0.00", "0.12")
    assert ledger_totals(api, cast.admin) == {"CNY": 0}


def test_a_transfer_resumed_after_stripe_forgot_its_key_is_not_made_twice(
    app, api, cast, settled, standin, frozen_clock
):
    available = held(books(app), "available")
    accounts = connect_annotators(app, standin)
    for _ in range(3):  # Stripe makes Li's transfer; no answer reaches us
        standin.fail_next("/v1/transfers", drop=True, processed=True)
    started = api.post("/payout-runs", cast.admin, STRIPE_RUN).body
    assert len(on_stripe(standin)) == 1 and sent(app) == {}
    frozen_clock.step(days=2)  # the operator runs `marketplace send-payouts` on Monday
    standin.forget_idempotency_keys()  # as Stripe has by then (it keeps them 24 hours)
    api.post(f"/payout-runs/{started['id']}/send", cast.admin)
    assert by_payee(standin, accounts) == {name: available[name] for name in ANNOTATORS}
