"""Funded orders: the client's money is reserved before its work drops (docs/money.md).

A client's balance in a currency is its `credit` account: money that arrived and no
invoice has taken. Releasing a funded order's work moves what that work will cost
(items x the order's price, rounded once, plus the platform fee) from the balance to
the client's `reserved` account: a pending transfer, recorded beside the order as a
`Reservation` and in the ledger as one balanced transaction. A prefunded order
reserves all its items at its first release; a milestones order, each drop's.

Accepted work posts its part: a statement of it is issued and paid from the
reservation at once (payments/invoices.py). What the reservation holds beyond the
cost of the order's outstanding work (items sent back by an expired lease, what is
left when the order is done) is voided back to the balance. Reserving locks the
client first, so two drops racing for the last of a balance reserve one after the
other and never take it below zero.

An invoiced order is not reserved: it is released against the client's credit line,
while what the client owes plus what its released work will cost stays within it.
"""

from dataclasses import dataclass, replace

from flask import current_app
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.errors import Conflict
from marketplace.identity.models import CreditLine
from marketplace.identity.standing import hold_client
from marketplace.ledger import AccountKind
from marketplace.money import fee_minor, format_minor, line_minor
from marketplace.orders.models import (
    Batch,
    BatchStatus,
    Funding,
    Order,
    OrderStatus,
    Reservation,
    ReservationKind,
)

# How a drop held for want of money begins its reason: a top-up looks for these.
WAITING_FOR_FUNDS = "waiting for funds"


@dataclass(frozen=True)
class Short:
    """Why released work must wait for money: `reason` for a drop's record, which teams
    read too (so it names no amount: a sealed price or the client's balance would show),
    and `detail` with the figures, for the client."""

    reason: str
    detail: str


def fee_bps() -> int:
    """The platform's fee, charged on top of the items: a reservation holds it too."""
    return current_app.config["PLATFORM_FEE_BPS"]


def work_cost(order: Order, items: int) -> int:
    """What `items` of the order cost the client: the items line, rounded once, and the fee."""
    items_minor = line_minor(items, order.unit_price_micros, order.currency)
    return items_minor + fee_minor(items_minor, fee_bps())


def client_balance(session: Session, client_party_id: int, currency: str) -> int:
    """The client's unreserved balance: money it sent that no invoice nor reservation took."""
    return ledger.balance(session, _account(session, client_party_id, AccountKind.CREDIT, currency))


@dataclass(frozen=True)
class Pot:
    """An order's reservation: what it holds now, the items its statements billed and
    what they took, and the items it was voided for (rejected: never to be billed)."""

    held_minor: int
    posted_items: int
    posted_minor: int
    voided_items: int


def pot(session: Session, order_id: int) -> Pot:
    sign = case((Reservation.kind == ReservationKind.RESERVE, 1), else_=-1)
    posted = Reservation.kind == ReservationKind.POST
    voided = Reservation.kind == ReservationKind.VOID
    held, items, amount, closed = session.execute(
        select(
            func.coalesce(func.sum(sign * Reservation.amount_minor), 0),
            func.coalesce(func.sum(case((posted, Reservation.items), else_=0)), 0),
            func.coalesce(func.sum(case((posted, Reservation.amount_minor), else_=0)), 0),
            func.coalesce(func.sum(case((voided, Reservation.items), else_=0)), 0),
        ).where(Reservation.order_id == order_id)
    ).one()
    return Pot(int(held), int(items), int(amount), int(closed))


def shortfall(session: Session, order: Order, releasing: int = 0) -> int:
    """What the order's reservation lacks (below zero: holds beyond) to pay for its
    outstanding work, with `releasing` more items about to go out.

    Counted on the whole order, as its statements are (each statement's fee is the fee
    on everything billed so far, less the fees billed before).
    """
    return _shortfall(session, order, pot(session, order.id), releasing)


def _shortfall(session: Session, order: Order, held: Pot, releasing: int = 0) -> int:
    # The outstanding items' cost on the order's whole bill: what all its billed and
    # outstanding items cost, less what its billed ones cost. Not less what statements
    # took: a bids order's statements bill its contracts' prices, and what a statement
    # could not take from the reservation its invoice collects, so neither may keep
    # money reserved once nothing is outstanding.
    cover = items_to_cover(session, order, held, releasing)
    billed = held.posted_items
    return work_cost(order, billed + cover) - work_cost(order, billed) - held.held_minor


def released_items(session: Session, order_id: int) -> int:
    """Items of the order out of the scheduled batches: on the board, being worked, done."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(Batch.item_count), 0)).where(
                Batch.order_id == order_id, Batch.status != BatchStatus.SCHEDULED
            )
        )
    )


def items_to_cover(session: Session, order: Order, held: Pot, releasing: int = 0) -> int:
    """Items the reservation must cover, with `releasing` more about to go out: every
    item neither billed nor rejected (prefunded), or every such item released
    (milestones)."""
    done = held.posted_items + held.voided_items
    if order.funding == Funding.PREFUNDED:
        return max(order.quantity - done, 0)
    return max(released_items(session, order.id) + releasing - done, 0)


def note_reserved(session: Session, batches: list[Batch]) -> None:
    """Mark each batch on the drop board with what its funded order's reservation holds for
    its items at the price the board shows (`reserved_minor`): all of it while the
    reservation covers the order's outstanding work, its share of what is held when a
    refund or chargeback took part of it. None on invoiced orders, and on bids orders,
    whose client price is sealed (the fee is the client's, never shown to a team)."""
    covered: dict[int, tuple[int, int]] = {}
    for batch in batches:
        order = batch.order
        batch.reserved_minor = None
        if order.funding == Funding.INVOICED or order.listed_price_micros is None:
            continue
        if order.id not in covered:
            held = pot(session, order.id)
            covered[order.id] = (
                max(held.held_minor, 0),
                held.held_minor + _shortfall(session, order, held),
            )
        held_minor, need = covered[order.id]
        cost = line_minor(batch.item_count, order.unit_price_micros, order.currency)
        batch.reserved_minor = cost if held_minor >= need else cost * held_minor // need


def fund_release(
    session: Session, order: Order, releasing: int, *, drop_id: int | None = None
) -> Short | None:
    """Make sure the money for `releasing` more items of the order is there; None when it
    is (and now reserved), else why the work must wait (and nothing was written).

    Funded orders reserve from the client's balance whatever their outstanding work
    will cost beyond what their reservation holds; invoiced orders must stay within
    the client's credit line.
    """
    hold_client(session, order.client_party_id)
    if order.funding == Funding.INVOICED:
        return _beyond_credit_line(session, order, releasing)
    need = shortfall(session, order, releasing)
    if need <= 0:
        return None
    balance = client_balance(session, order.client_party_id, order.currency)
    if balance < need:
        return Short(
            f"{WAITING_FOR_FUNDS}: the client's balance does not cover this work yet",
            f"the work needs {_money(need, order)} more reserved, "
            f"the client's balance is {_money(balance, order)}",
        )
    _move(session, order, ReservationKind.RESERVE, need, items=releasing, drop_id=drop_id)
    return None


def require_funds(session: Session, order: Order, items: int, doing: str) -> None:
    """`fund_release` for work released at once (publication without a plan, items added
    to a published one): 409 `funds_short` (`beyond_credit_line` for an invoiced order),
    with the figures, if its money is not there."""
    short = fund_release(session, order, items)
    if short is not None:
        raise Conflict(
            f"{doing} would release work whose money is not there: {short.detail}.",
            code="funds_short" if order.funding != Funding.INVOICED else "beyond_credit_line",
            funding=order.funding,
        )


def void_excess(session: Session, order: Order, *, rejected: int = 0) -> int:
    """Give back to the client's balance what the order's reservation holds beyond the cost
    of its outstanding work, `rejected` more items of which will never be billed; the
    amount given back. The rejected items are recorded with the void (if nothing is
    left to give back, with a void of nothing), so they are counted out once."""
    if order.funding == Funding.INVOICED:
        return 0
    hold_client(session, order.client_party_id)
    held = pot(session, order.id)
    if rejected:
        held = replace(held, voided_items=held.voided_items + rejected)
    excess = -_shortfall(session, order, held)
    if excess > 0 or rejected:
        _move(session, order, ReservationKind.VOID, max(excess, 0), items=rejected)
    return max(excess, 0)


def post_statement(
    session: Session, order: Order, *, invoice_id: int, items: int, total_minor: int
) -> int:
    """Take a statement of `items` accepted items out of the order's reservation, back to
    the client's balance, for the statement to be paid from at once; the amount taken.
    A reservation a fen short (a price finer than a fen rounds per statement) takes
    the rest from the balance first; a statement the two cannot pay stays open for the
    difference, like any invoice. Then void what is no longer needed."""
    hold_client(session, order.client_party_id)
    held = pot(session, order.id).held_minor
    if held < total_minor:
        balance = client_balance(session, order.client_party_id, order.currency)
        topping = min(total_minor - held, balance)
        if topping > 0:
            _move(session, order, ReservationKind.RESERVE, topping, items=0)
            held += topping
    amount = min(held, total_minor)
    # Recorded even when nothing could be taken: the items are billed, and their invoice,
    # not the reservation, collects what is missing.
    _move(session, order, ReservationKind.POST, amount, items=items, invoice_id=invoice_id)
    void_excess(session, order)
    return amount


def void_for_reversal(session: Session, client_party_id: int, currency: str, amount: int) -> int:
    """Give back to the client's balance up to `amount` of what its funded orders hold
    reserved, the latest orders first, for a refund or chargeback to take; the amount
    given back. Their released work is then short of money, and their next drops wait."""
    hold_client(session, client_party_id)
    orders = session.scalars(
        select(Order)
        .where(
            Order.client_party_id == client_party_id,
            Order.currency == currency,
            Order.id.in_(select(Reservation.order_id)),
        )
        .order_by(Order.id.desc())
    ).all()
    given_back = 0
    for order in orders:
        part = min(amount - given_back, pot(session, order.id).held_minor)
        if part > 0:
            _move(session, order, ReservationKind.VOID, part, items=0)
            given_back += part
    return given_back


def _beyond_credit_line(session: Session, order: Order, releasing: int) -> Short | None:
    line = session.scalar(
        select(CreditLine).where(
            CreditLine.party_id == order.client_party_id, CreditLine.currency == order.currency
        )
    )
    if line is None:
        reason = f"the client has no credit line in {order.currency}"
        return Short(reason, reason)
    exposure = credit_exposure(session, order.client_party_id, order.currency)
    adding = work_cost(order, releasing)
    if exposure + adding > line.limit_minor:
        return Short(
            "beyond the client's credit line",
            f"beyond the client's credit line: it owes or has work out for "
            f"{_money(exposure, order)}, this needs {_money(adding, order)} more, "
            f"the line is {_money(line.limit_minor, order)}",
        )
    return None


def credit_exposure(session: Session, client_party_id: int, currency: str) -> int:
    """What the client's invoiced orders put on its credit line: what it owes on the
    invoices it was sent, and what its published invoiced orders' released work not yet
    on an invoice will cost (each order's price, rounded once, with the fee)."""
    unbilled = session.execute(
        select(Order, func.sum(Batch.item_count))
        .join(Batch, Batch.order_id == Order.id)
        .where(
            Order.client_party_id == client_party_id,
            Order.currency == currency,
            Order.funding == Funding.INVOICED,
            Order.status == OrderStatus.PUBLISHED,
            Batch.status != BatchStatus.SCHEDULED,
        )
        .group_by(Order.id)
    ).all()
    coming = sum(
        work_cost(order, max(int(released), order.billed_items))
        - work_cost(order, order.billed_items)
        for order, released in unbilled
    )
    owed = ledger.balance(
        session, _account(session, client_party_id, AccountKind.RECEIVABLE, currency)
    )
    return max(owed, 0) + coming


def _account(session: Session, party_id: int, kind: AccountKind, currency: str) -> ledger.Account:
    return ledger.account(session, party_id=party_id, kind=kind, currency=currency)


def _move(
    session: Session,
    order: Order,
    kind: ReservationKind,
    amount: int,
    *,
    items: int,
    drop_id: int | None = None,
    invoice_id: int | None = None,
) -> Reservation:
    """Record one movement of the order's reservation and its balanced ledger transaction:
    the balance into the reservation (reserve), or the reservation back (post, void)."""
    credit = _account(session, order.client_party_id, AccountKind.CREDIT, order.currency)
    reserved = _account(session, order.client_party_id, AccountKind.RESERVED, order.currency)
    memo = {
        ReservationKind.RESERVE: f"Reserved for {items} items of order {order.id}",
        ReservationKind.POST: f"Posted to the statement of {items} accepted items",
        ReservationKind.VOID: f"Voided: given back from order {order.id}",
    }[kind]
    movement = Reservation(
        order_id=order.id,
        kind=kind,
        amount_minor=amount,
        items=items,
        drop_id=drop_id,
        invoice_id=invoice_id,
        ledger_key="",
        memo=memo,
    )
    session.add(movement)
    session.flush()
    movement.ledger_key = f"reservation:{movement.id}"
    if amount == 0:  # items counted (rejected, or billed), with no money to move
        return movement
    into, out_of = (reserved, credit) if kind == ReservationKind.RESERVE else (credit, reserved)
    ledger.post(
        session,
        key=movement.ledger_key,
        kind=f"reservation_{kind}",
        currency=order.currency,
        legs=[ledger.debit(out_of, amount), ledger.credit(into, amount)],
        memo=memo,
    )
    return movement


def _money(minor: int, order: Order) -> str:
    return f"{format_minor(minor, order.currency)} {order.currency}"
