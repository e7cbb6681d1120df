"""Interest in a coming lottery drop: a team asks for batches in advance, asleep or not."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.errors import Conflict, NotFound
from marketplace.identity.actor import Actor
from marketplace.identity.models import TEAM_ROLES, Role
from marketplace.identity.standing import refuse_if_held
from marketplace.orders.claims import (
    check_trial_passed,
    has_rules,
    limits_of,
    lock_order,
    over_limit,
    standing_of,
)
from marketplace.orders.drops import upcoming
from marketplace.orders.models import ClaimMode, Interest, Order
from marketplace.orders.service import open_order


def register_interest(
    session: Session, actor: Actor, order_id: int, team_id: int | None, batches: int
) -> Interest:
    """Ask for `batches` of the lottery order's next drop; asking again replaces the count.

    Refused with 409 if the order is not a lottery (`not_a_lottery`), no drop is
    coming (`no_drop_coming`), the client is on credit hold, so its drops will not
    release (`client_on_credit_hold`), the team's trial has not passed, or the count
    is over the per-team limits (`claim_limit_reached`).
    """
    order = open_order(session, actor, order_id)
    actor.require(Role.TEAM_OWNER)
    actor.require_verified()
    refuse_if_held(session, order.client_party_id)
    team = actor.acting_for(Role.TEAM_OWNER, team_id, "team")
    _lock_lottery(session, order)
    moment = _next_drop(session, order)
    if has_rules(order):
        check_trial_passed(order, standing_of(session, order.id, team))
        refusal = over_limit(limits_of(session, order, team, None, coming=True), wanted=batches)
        if refusal is not None:
            raise refusal
    interest = _interest(session, order.id, team, moment)
    if interest is None:
        interest = Interest(order_id=order.id, team_party_id=team, scheduled_at=moment)
        session.add(interest)
    interest.batches = batches
    interest.registered_by_user_id = actor.user_id
    session.flush()
    return interest


def withdraw_interest(session: Session, actor: Actor, order_id: int, team_id: int | None) -> None:
    """Take back the team's interest in the order's next drop (404 if it has none)."""
    order = open_order(session, actor, order_id)
    actor.require(Role.TEAM_OWNER)
    team = actor.acting_for(Role.TEAM_OWNER, team_id, "team")
    _lock_lottery(session, order)
    interest = _interest(session, order.id, team, _next_drop(session, order))
    if interest is None:
        raise NotFound(
            "Your team has no interest in this order's next drop.", code="interest_not_found"
        )
    session.delete(interest)


def my_interests(session: Session, actor: Actor) -> list[Interest]:
    """The interests of the caller's teams in drops still to come, soonest first."""
    actor.require(*TEAM_ROLES)
    return list(
        session.scalars(
            select(Interest)
            .where(
                Interest.team_party_id.in_(actor.party_ids(*TEAM_ROLES)),
                Interest.scheduled_at > clock.now(),
            )
            .order_by(Interest.scheduled_at, Interest.id)
        )
    )


def _lock_lottery(session: Session, order: Order) -> None:
    """Lock the order (the drop's allotment locks it too, so a registration lands before
    it or after it) and refuse an order that is not a lottery."""
    lock_order(session, order.id)
    if order.claim_mode != ClaimMode.LOTTERY:
        raise Conflict("This order's batches go first come, first served.", code="not_a_lottery")


def _next_drop(session: Session, order: Order):
    coming = upcoming(session, order, count=1)
    if not coming:
        raise Conflict("No drop of this order is coming.", code="no_drop_coming")
    return coming[0]["scheduled_at"]


def _interest(session: Session, order_id: int, team: int, moment) -> Interest | None:
    return session.scalar(
        select(Interest).where(
            Interest.order_id == order_id,
            Interest.team_party_id == team,
            Interest.scheduled_at == moment,
        )
    )
