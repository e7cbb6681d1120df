"""The ledger: balanced, idempotent, append-only; balances split pending/available/paid."""

import threading

import pytest
from sqlalchemy import func, select

from marketplace import ledger
from marketplace.db import db, unit_of_work
from marketplace.errors import Conflict
from marketplace.identity import service as identity
from marketplace.identity.models import PartyKind
from marketplace.ledger import AccountKind, Entry, LedgerTransaction


@pytest.fixture
def holders(app):
    with app.app_context(), unit_of_work() as session:
        client = identity.create_party(session, kind=PartyKind.CLIENT, name="Client")
        team = identity.create_party(session, kind=PartyKind.TEAM, name="Team")
        return client.id, team.id


def accounts(session, client_id, team_id, currency="CNY"):
    def open_(party, kind):
        return ledger.account(session, party_id=party, kind=kind, currency=currency)

    return (
        open_(client_id, AccountKind.RECEIVABLE),
        open_(team_id, AccountKind.PENDING),
        open_(team_id, AccountKind.AVAILABLE),
        open_(team_id, AccountKind.PAID),
    )


def accrue(session, client_id, team_id, key="accrual-1", amount=7852):
    receivable, pending, *_ = accounts(session, client_id, team_id)
    return ledger.post(
        session,
        key=key,
        kind="test",
        currency="CNY",
        legs=[ledger.debit(receivable, amount), ledger.credit(pending, amount)],
    )


def test_earnings_move_from_pending_to_available_to_paid(app, holders):
    client_id, team_id = holders
    with app.app_context(), unit_of_work() as session:
        receivable, pending, available, paid = accounts(session, client_id, team_id)
        accrue(session, client_id, team_id)
        [cny] = ledger.earnings(session, party_id=team_id)
        assert (cny.pending, cny.available, cny.paid) == (7852, 0, 0)
        ledger.post(
            session,
            key="settle",
            kind="test",
            currency="CNY",
            legs=[ledger.debit(pending, 7852), ledger.credit(available, 7852)],
        )
        ledger.post(
            session,
            key="payout",
            kind="test",
            currency="CNY",
            legs=[ledger.debit(available, 5000), ledger.credit(paid, 5000)],
        )
        [cny] = ledger.earnings(session, party_id=team_id)
        assert (cny.pending, cny.available, cny.paid) == (0, 2852, 5000)
        assert ledger.balance(session, receivable) == 7852
        assert ledger.totals_by_currency(session) == {"CNY": 0}


def test_posting_a_key_again_returns_the_first_transaction_and_moves_nothing(app, holders):
    with app.app_context(), unit_of_work() as session:
        first = accrue(session, *holders)
        again = accrue(session, *holders)
        assert again.id == first.id
        assert session.scalar(select(func.count()).select_from(Entry)) == 2
        [cny] = ledger.earnings(session, party_id=holders[1])
        assert cny.pending == 7852


def test_the_same_key_for_another_movement_is_a_conflict(app, holders):
    with app.app_context(), unit_of_work() as session:
        accrue(session, *holders)
        with pytest.raises(Conflict) as refused:
            accrue(session, *holders, amount=1)
        assert refused.value.code == "idempotency_conflict"


def test_unbalanced_empty_or_mixed_currency_transactions_are_refused(app, holders):
    client_id, team_id = holders
    with app.app_context(), unit_of_work() as session:
        receivable, pending, *_ = accounts(session, client_id, team_id)
        usd_pending = ledger.account(
            session, party_id=team_id, kind=AccountKind.PENDING, currency="USD"
        )
        for legs in (
            [ledger.debit(receivable, 100), ledger.credit(pending, 99)],
            [],
            [ledger.debit(receivable, 0), ledger.credit(pending, 0)],
            [ledger.debit(receivable, 100), ledger.credit(usd_pending, 100)],
        ):
            with pytest.raises(ValueError):
                ledger.post(session, key="bad", kind="test", currency="CNY", legs=legs)
        assert session.scalar(select(func.count()).select_from(LedgerTransaction)) == 0


def test_an_account_is_opened_once_per_holder_kind_and_currency(app, holders):
    client_id, team_id = holders
    with app.app_context(), unit_of_work() as session:
        first = accounts(session, client_id, team_id)
        assert accounts(session, client_id, team_id) == first
        member = identity.create_user(session, email="a@example.com", name="A", password="x" * 8)
        own = ledger.account(
            session, party_id=team_id, user_id=member.id, kind=AccountKind.PENDING, currency="CNY"
        )
        assert own.id != first[1].id


@pytest.mark.slow
@pytest.mark.only_engine("postgresql")
def test_concurrent_posts_of_one_key_record_one_transaction(app, holders):
    barrier = threading.Barrier(8)
    ids, errors = [], []

    def post_once():
        try:
            with app.app_context():
                barrier.wait()
                with unit_of_work() as session:
                    ids.append(accrue(session, *holders, key="race").id)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=post_once) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(set(ids)) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LedgerTransaction)) == 1
        [cny] = ledger.earnings(db.session, party_id=holders[1])
        assert cny.pending == 7852
