"""Use cases of the team's work on an order: its tasks, piece rates, and hand-overs."""

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.db import MAX_ID
from marketplace.errors import Conflict, Forbidden
from marketplace.identity.actor import Actor
from marketplace.identity.models import Role
from marketplace.orders.claims import lock_claimant
from marketplace.orders.models import Batch, Item
from marketplace.orders.service import get_order
from marketplace.subcontract.models import Contract
from marketplace.subcontract.service import performing_contracts
from marketplace.workers.levels import highest_level_rate
from marketplace.workers.models import (
    PieceRate,
    Task,
    TaskStatus,
)

REVIEWER_ROLES = (Role.REVIEWER, Role.TEAM_OWNER)


def open_tasks(session: Session, *, batch: Batch) -> None:
    """React to a claim: every item of the batch becomes an open task of the claiming team."""
    session.execute(
        insert(Task).from_select(
            ["item_id", "batch_id", "order_id", "team_party_id", "status", "created_at"],
            select(
                Item.id,
                Item.batch_id,
                Item.order_id,
                literal(batch.claimed_by_party_id),
                literal(TaskStatus.OPEN.value),
                literal(clock.now(), type_=Task.__table__.c.created_at.type),
            ).where(Item.batch_id == batch.id),
        )
    )


def set_piece_rate(
    session: Session, actor: Actor, order_id: int, unit_price_micros: int
) -> PieceRate:
    """Set what the team pays its annotators per accepted item of an order.

    Any team holding a contract on the order sets it, batches claimed or not. The
    rate may not exceed what the team's own contracts pay it (the lowest, if it
    works under several): the team would pay out money nobody owes it.
    Items already accepted keep the rate they got.
    """
    working = [
        team
        for team in sorted(actor.party_ids(Role.TEAM_OWNER))
        if 0 < order_id <= MAX_ID and performing_contracts(session, order_id=order_id, team_id=team)
    ]
    if not working:
        get_order(session, actor, order_id)  # 404 for an order the caller may not see
        raise Forbidden("Only the owner of a team working this order sets its piece rate.")
    team = working[0]
    # Deals that give the team a new contract hold this lock too: the rate and the
    # prices it must stay within are read one after the other, never interleaved.
    lock_claimant(session, order_id, team)
    contracts = performing_contracts(session, order_id=order_id, team_id=team)
    order = contracts[0].order
    cheapest = min(contracts, key=lambda contract: contract.unit_price_micros)
    if unit_price_micros > cheapest.unit_price_micros:
        raise Conflict(
            "The piece rate is above what the contract pays the team.",
            code="rate_above_contract_price",
            contract_id=cheapest.id,
        )
    rate = session.scalar(
        select(PieceRate).where(PieceRate.team_party_id == team, PieceRate.order_id == order.id)
    )
    if rate is None:
        rate = PieceRate(team_party_id=team, order_id=order.id)
        session.add(rate)
    rate.unit_price_micros = unit_price_micros
    rate.currency = order.currency
    rate.set_by_user_id = actor.user_id
    session.flush()
    return rate


def check_piece_rate_within(session: Session, *, contract: Contract) -> None:
    """React to a new contract: refuse it (409 `rate_above_contract_price`) if its team
    already pays its annotators more per item of the order than it pays (its piece rate
    of the order, or a level's rate for the order's task type). The deal holds the
    team's standing on the order locked, as `set_piece_rate` does."""
    order = contract.order
    team = contract.downstream_party_id
    piece_rate = session.scalar(
        select(PieceRate.unit_price_micros).where(
            PieceRate.team_party_id == team, PieceRate.order_id == contract.order_id
        )
    )
    level_rate = highest_level_rate(session, team, order.task_type, order.currency)
    rate = max((r for r in (piece_rate, level_rate) if r is not None), default=None)
    if rate is not None and rate > contract.unit_price_micros:
        # No rate in the details: when the link above awards the team's bid, the answer
        # is the awarder's, and a team's annotator rates are its own (README, Privacy).
        raise Conflict(
            "The team pays its annotators more per item of this order than this contract "
            "pays; it lowers its piece rate (or its levels' rates) first.",
            code="rate_above_contract_price",
        )


def check_claimed_pay(session: Session, *, batch: Batch) -> None:
    """React to a claim, once the batch is under the team's contract: refuse it (409
    `rate_above_contract_price`) if the team pays its annotators more per item than that
    contract pays, so no team claims work it would lose money on."""
    contract = session.get(Contract, batch.contract_id)
    check_piece_rate_within(session, contract=contract)


def hand_over_tasks(session: Session, *, batch_ids: list[int], team_id: int) -> None:
    """React to batches passed down a chain: their tasks become the new team's.

    Only batches nobody has started go down: 409 `batch_not_passable` if an
    annotator took or did any of their tasks, even one taken a moment ago (the
    move takes only open tasks, and a task being taken waits or is skipped).
    """
    of_batches = Task.batch_id.in_(batch_ids)
    moved = session.scalars(
        update(Task)
        .where(of_batches, Task.status == TaskStatus.OPEN)
        .values(team_party_id=team_id)
        .returning(Task.id)
    ).all()
    if len(moved) != session.scalar(select(func.count()).where(of_batches)):
        started = session.scalar(
            select(Task.batch_id).where(of_batches, Task.status != TaskStatus.OPEN).limit(1)
        )
        raise Conflict(
            f"Batch {started} cannot be passed down: your annotators have started it.",
            code="batch_not_passable",
            batch_id=started,
        )
