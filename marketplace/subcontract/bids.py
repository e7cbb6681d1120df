"""Bids: teams offer their price and quantity for a bids order, or for an open offer, and
the client (or the offer's maker) awards them into contracts."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.db import find
from marketplace.errors import Conflict, Invalid, NotFound
from marketplace.identity.actor import Actor
from marketplace.identity.models import Role
from marketplace.orders.claims import lock_claimant
from marketplace.orders.models import Order, OrderStatus, Sourcing
from marketplace.orders.service import open_order
from marketplace.subcontract.links import award_top, awarded_of, subcontract
from marketplace.subcontract.models import Bid, DealStatus, Offer
from marketplace.subcontract.offers import check_open, get_offer, lock_open_offer, take_from


def tenders(session: Session, actor: Actor) -> list[Order]:
    """Published bids orders with items not awarded yet, for teams to bid on (their posted
    price stays the client's)."""
    if not actor.is_platform_admin:
        actor.require(Role.TEAM_OWNER)
    awarded = awarded_of(Order.id).scalar_subquery()
    return list(
        session.scalars(
            select(Order)
            .where(
                Order.status == OrderStatus.PUBLISHED,
                Order.sourcing == Sourcing.BIDS,
                awarded < Order.quantity,
            )
            .order_by(Order.id)
        )
    )


def bid_on_order(session: Session, actor: Actor, order_id: int, data: dict[str, Any]) -> Bid:
    """A team's bid for items of a published bids order, at its price, up to the order's
    quantity; 409 `not_open_for_bids` for a claims order or a draft."""
    order = open_order(session, actor, order_id)
    actor.require(Role.TEAM_OWNER)
    team = actor.acting_for(Role.TEAM_OWNER, data.get("team_id"), "team")
    if order.sourcing != Sourcing.BIDS or order.status != OrderStatus.PUBLISHED:
        raise Conflict(
            "This order takes claims of its batches, not bids."
            if order.sourcing != Sourcing.BIDS
            else "This order is not published yet.",
            code="not_open_for_bids",
        )
    _within(data["quantity"], order.quantity, "the order's quantity")
    return _place(session, actor, order, None, team, data)


def bid_on_offer(session: Session, actor: Actor, offer_id: int, data: dict[str, Any]) -> Bid:
    """A team's bid for an open offer, at its own price, up to what is left of the offer
    (all of it, for an offer with batches)."""
    offer = get_offer(session, actor, offer_id)
    actor.require(Role.TEAM_OWNER)
    team = actor.acting_for(Role.TEAM_OWNER, data.get("team_id"), "team")
    if offer.to_party_id is not None or offer.from_party_id == team:
        raise Conflict("Only an offer open to all takes bids.", code="offer_not_open")
    check_open(offer)
    _check_offer_quantity(offer, data["quantity"])
    return _place(session, actor, offer.order, offer, team, data)


def _check_offer_quantity(offer: Offer, quantity: int) -> None:
    """422 unless `quantity` fits what is left of the offer (all of it, with batches)."""
    if offer.batch_ids and quantity != offer.open_quantity:
        raise Invalid(
            "This offer carries batches: it goes down whole.",
            code="quantity_mismatch",
            offer_quantity=offer.open_quantity,
        )
    _within(quantity, offer.open_quantity, "what is left of the offer")


def _within(quantity: int, most: int, what: str) -> None:
    if quantity > most:
        raise Invalid(f"A bid is for at most {what}.", code="quantity_too_large", most=most)


def _place(
    session: Session,
    actor: Actor,
    order: Order,
    offer: Offer | None,
    team: int,
    data: dict[str, Any],
) -> Bid:
    # Bidding is asking for work: not before the bidder verified her e-mail address.
    actor.require_verified()
    bid = Bid(
        order_id=order.id,
        offer_id=offer.id if offer else None,
        team_party_id=team,
        unit_price_micros=data["unit_price_micros"],
        currency=order.currency,
        quantity=data["quantity"],
        note=data.get("note") or "",
        created_by_user_id=actor.user_id,
    )
    session.add(bid)
    session.flush()
    return bid


def order_bids(session: Session, actor: Actor, order_id: int) -> list[Bid]:
    """Bids on a bids order: all of them for its client (and admins), a team's own for it."""
    order = open_order(session, actor, order_id)
    query = select(Bid).where(Bid.order_id == order.id, Bid.offer_id.is_(None))
    return _seen(session, actor, query, order.client_party_id, Role.CLIENT_ADMIN)


def offer_bids(session: Session, actor: Actor, offer_id: int) -> list[Bid]:
    """Bids on an open offer: all of them for its maker (and admins), a team's own for it."""
    offer = get_offer(session, actor, offer_id)
    query = select(Bid).where(Bid.offer_id == offer.id)
    return _seen(session, actor, query, offer.from_party_id, Role.TEAM_OWNER)


def _seen(session: Session, actor: Actor, query, owner: int, role: Role) -> list[Bid]:
    if not (actor.is_platform_admin or actor.has(role, owner)):
        query = query.where(Bid.team_party_id.in_(actor.party_ids(Role.TEAM_OWNER)))
    return list(session.scalars(query.order_by(Bid.id)))


def get_bid(session: Session, actor: Actor, bid_id: int) -> Bid:
    """A bid the caller may see: its own team's, or one on its order or offer; else 404."""
    bid = find(session, Bid, bid_id)
    if bid is not None and not actor.is_platform_admin:
        offer = session.get(Offer, bid.offer_id) if bid.offer_id else None
        mine = (
            bid.team_party_id in actor.party_ids(Role.TEAM_OWNER)
            or (offer is None and actor.has(Role.CLIENT_ADMIN, bid.order.client_party_id))
            or (offer is not None and actor.has(Role.TEAM_OWNER, offer.from_party_id))
        )
        bid = bid if mine else None
    if bid is None:
        raise NotFound(f"No bid {bid_id}.", code="bid_not_found")
    return bid


def award_bid(session: Session, actor: Actor, bid_id: int, quantity: int | None) -> Bid:
    """Award a bid, all of it or `quantity`: a contract at the bid's price.

    On an order the client awards, within what is not awarded yet (409
    `quantity_exceeded`); on an open offer its maker awards, within what is left
    of the offer and the client's caps. 409 `bid_closed` for a bid withdrawn or
    awarded before.
    """
    bid = get_bid(session, actor, bid_id)
    offer = session.get(Offer, bid.offer_id) if bid.offer_id else None
    if offer is None:
        actor.require(Role.CLIENT_ADMIN, party_id=bid.order.client_party_id)
    else:
        actor.require(Role.TEAM_OWNER, party_id=offer.from_party_id)
    _lock(session, bid)
    if bid.status != DealStatus.OPEN:
        raise Conflict("The bid was withdrawn or awarded before.", code="bid_closed")
    # The winner's standing before any batch, order or contract: see `lock_claimant`.
    lock_claimant(session, bid.order_id, bid.team_party_id)
    quantity = bid.quantity if quantity is None else quantity
    _within(quantity, bid.quantity, "the bid's quantity")
    if offer is None:
        contract = award_top(session, bid.order, bid.team_party_id, bid.unit_price_micros, quantity)
    else:
        lock_open_offer(session, offer)
        _check_offer_quantity(offer, quantity)
        contract = subcontract(session, offer, bid.team_party_id, bid.unit_price_micros, quantity)
        take_from(offer, quantity)
    bid.status = DealStatus.AWARDED
    bid.awarded_quantity = quantity
    bid.contract_id = contract.id
    return bid


def _lock(session: Session, bid: Bid) -> None:
    """Lock the bid's row and read it afresh: awards and withdrawals of it queue."""
    session.scalars(select(Bid.id).where(Bid.id == bid.id).with_for_update()).one()
    session.refresh(bid)


def withdraw_bid(session: Session, actor: Actor, bid_id: int) -> Bid:
    """Withdraw an open bid of the caller's team."""
    bid = get_bid(session, actor, bid_id)
    actor.require(Role.TEAM_OWNER, party_id=bid.team_party_id)
    _lock(session, bid)
    if bid.status != DealStatus.OPEN:
        raise Conflict("The bid was withdrawn or awarded before.", code="bid_closed")
    bid.status = DealStatus.WITHDRAWN
    return bid
