"""Offers: a contract holder passes items down, to one team or open to any team's bid."""

from typing import Any

from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import Session

from marketplace.db import MAX_ID, find
from marketplace.errors import Conflict, Invalid, NotFound
from marketplace.identity.actor import Actor
from marketplace.identity.models import Party, PartyKind, Role
from marketplace.orders.claims import lock_claimant
from marketplace.subcontract.floors import Flagged, flag_for
from marketplace.subcontract.links import (
    check_link,
    lock_batches,
    passable_batches,
    subcontract,
)
from marketplace.subcontract.models import Contract, DealStatus, Offer
from marketplace.subcontract.service import chain_path, get_contract, lock_contract, room_of


def make_offer(session: Session, actor: Actor, contract_id: int, data: dict[str, Any]) -> Offer:
    """Offer items of the caller's contract to another team (`to_team_id`) or to all.

    The offer reserves its quantity out of the contract: at most what is not
    yet passed down, worked or on offer (409 `quantity_exceeds_room`). With
    `batch_ids` it carries claimed batches not yet started, and its quantity is
    theirs. A price or team the chain forbids is refused at once (`check_link`).
    """
    parent = get_contract(session, actor, contract_id)
    actor.require(Role.TEAM_OWNER, party_id=parent.downstream_party_id)
    to_team = data.get("to_team_id")
    if to_team is not None:
        party = find(session, Party, to_team)
        if party is None or party.kind != PartyKind.TEAM:
            raise Invalid(f"No team {to_team}.", code="unknown_team", team_id=to_team)
    batch_ids = sorted(set(data.get("batch_ids") or []))
    lock_batches(session, batch_ids)
    parent = lock_contract(session, parent.id)
    quantity = _quantity_to_offer(session, parent, data.get("quantity"), batch_ids)
    check_link(session, parent, to_team, data["unit_price_micros"])
    offer = Offer(
        order_id=parent.order_id,
        contract_id=parent.id,
        from_party_id=parent.downstream_party_id,
        to_party_id=to_team,
        unit_price_micros=data["unit_price_micros"],
        currency=parent.currency,
        quantity=quantity,
        open_quantity=quantity,
        batch_ids=batch_ids,
        note=data.get("note") or "",
        created_by_user_id=actor.user_id,
    )
    session.add(offer)
    session.flush()
    return offer


def _quantity_to_offer(
    session: Session, parent: Contract, quantity: int | None, batch_ids: list[int]
) -> int:
    """The batches' items, or `quantity` if the contract has room for it."""
    if batch_ids:
        items = passable_batches(session, parent, batch_ids)
        if quantity not in (None, items):
            raise Invalid(
                "An offer with batches passes exactly their items.",
                code="quantity_mismatch",
                batch_items=items,
            )
        return items
    if quantity is None:
        raise Invalid("Give the quantity to pass down, or the batches.", code="quantity_required")
    room = room_of(session, parent)
    if quantity > room:
        raise Conflict(
            "The contract has not that many items left to pass down.",
            code="quantity_exceeds_room",
            room=room,
        )
    return quantity


def visible_offers(actor: Actor):
    """Offers a team owner may see: its teams', those made to them, and every open offer
    to all (but those of the links below it: `_above`); every offer, for admins."""
    query = select(Offer)
    if actor.is_platform_admin:
        return query
    teams = actor.party_ids(Role.TEAM_OWNER)
    if not teams:
        return query.where(false())
    return query.where(
        or_(
            Offer.from_party_id.in_(teams),
            Offer.to_party_id.in_(teams),
            and_(Offer.to_party_id.is_(None), Offer.status == DealStatus.OPEN),
        )
    )


def list_offers(
    session: Session, actor: Actor, *, status: str | None, team_id: int | None
) -> list[Flagged]:
    """The offers the caller may see, oldest first, flagged against its team's cost floors
    (the team named, or its only one)."""
    if not actor.is_platform_admin:
        actor.require(Role.TEAM_OWNER)
    query = visible_offers(actor).order_by(Offer.id)
    if status is not None:
        query = query.where(Offer.status == status)
    offers = [offer for offer in session.scalars(query) if not _above(session, actor, offer)]
    return flag_for(session, _viewing_team(actor, team_id), offers)


def _above(session: Session, actor: Actor, offer: Offer) -> bool:
    """Whether the caller's team is a link above the maker of this open offer: its price
    is two links below that team, so the offer stays hidden from it."""
    if actor.is_platform_admin or offer.to_party_id is not None:
        return False
    upper = {link.downstream_party_id for link in chain_path(session, offer.contract)[:-1]}
    return bool(upper & actor.party_ids(Role.TEAM_OWNER))


def get_offer(session: Session, actor: Actor, offer_id: int) -> Offer:
    """An offer the caller may see; 404 otherwise."""
    offer = None
    if find(session, Offer, offer_id) is not None:
        offer = session.scalar(visible_offers(actor).where(Offer.id == offer_id))
    if offer is None or _above(session, actor, offer):
        raise NotFound(f"No offer {offer_id}.", code="offer_not_found")
    return offer


def read_offer(session: Session, actor: Actor, offer_id: int, team_id: int | None) -> Flagged:
    """An offer the caller may see, flagged against its team's cost floor."""
    offer = get_offer(session, actor, offer_id)
    return flag_for(session, _viewing_team(actor, team_id), [offer])[0]


def accept_offer(
    session: Session, actor: Actor, offer_id: int, team_id: int | None
) -> tuple[Flagged, Flagged]:
    """Take an offer whole, at its price: made to the caller's team, or open to all.

    Makes the subcontract (with the offer's batches, if any) and answers it
    flagged against the team's cost floor. 409 `offer_closed` if it was taken or
    withdrawn first.
    """
    offer = get_offer(session, actor, offer_id)
    actor.require(Role.TEAM_OWNER)
    if team_id is None and offer.to_party_id in actor.party_ids(Role.TEAM_OWNER):
        team = offer.to_party_id
    else:
        team = actor.acting_for(Role.TEAM_OWNER, team_id, "team")
    if offer.to_party_id not in (None, team) or offer.from_party_id == team:
        raise Conflict("This offer is not made to your team.", code="offer_not_for_you")
    lock_claimant(session, offer.order_id, team)  # first: see `lock_claimant`
    lock_open_offer(session, offer)
    contract = subcontract(session, offer, team, offer.unit_price_micros, offer.open_quantity)
    take_from(offer, offer.open_quantity)
    flagged_contract, flagged_offer = flag_for(session, team, [contract, offer])
    return flagged_contract, flagged_offer


def lock_open_offer(session: Session, offer: Offer) -> None:
    """Lock the offer's batches and contract (deals on one contract queue on it) and read
    the offer afresh: 409 `offer_closed` unless it is still open."""
    lock_batches(session, offer.batch_ids)  # batches first: see `lock_batches`
    lock_contract(session, offer.contract_id)
    session.refresh(offer)
    check_open(offer)


def check_open(offer: Offer) -> None:
    if offer.status != DealStatus.OPEN:
        raise Conflict(
            "The offer was taken or withdrawn.", code="offer_closed", status=offer.status
        )


def take_from(offer: Offer, quantity: int) -> None:
    """`quantity` of the offer went into a contract; the offer is taken once nothing is left."""
    offer.open_quantity -= quantity
    if offer.open_quantity == 0:
        offer.status = DealStatus.TAKEN


def withdraw_offer(session: Session, actor: Actor, offer_id: int) -> Offer:
    """Withdraw an open offer of the caller's team; what it reserved is free again."""
    offer = get_offer(session, actor, offer_id)
    actor.require(Role.TEAM_OWNER, party_id=offer.from_party_id)
    lock_open_offer(session, offer)
    offer.status = DealStatus.WITHDRAWN
    return offer


def _viewing_team(actor: Actor, team_id: int | None) -> int | None:
    """The team whose floors flag what the caller sees: the one named (any, for admins),
    or its only one."""
    if team_id is not None and actor.is_platform_admin:
        if not 0 < team_id <= MAX_ID:
            raise NotFound(f"No team {team_id}.", code="team_not_found")
        return team_id
    if team_id is not None:
        return actor.acting_for(Role.TEAM_OWNER, team_id, "team")
    owned = actor.party_ids(Role.TEAM_OWNER)
    return next(iter(owned)) if len(owned) == 1 else None
