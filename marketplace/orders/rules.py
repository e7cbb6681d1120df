"""Standing claim rules: "at each drop of orders like these, claim up to N batches for us"."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.db import find
from marketplace.errors import Invalid, NotFound
from marketplace.identity.actor import Actor
from marketplace.identity.models import Party, PartyKind, Role
from marketplace.orders.models import ClaimRule
from marketplace.orders.service import open_order


def save_rule(session: Session, actor: Actor, data: dict[str, Any]) -> ClaimRule:
    """Save a standing rule for the owner's team; it takes part in every later matching drop.

    Unset filters match everything. A drop executes the rules of all teams in
    the fair order of its lottery (orders/lottery.py), within the order's limits.
    """
    actor.require(Role.TEAM_OWNER)
    actor.require_verified()
    team = actor.acting_for(Role.TEAM_OWNER, data.pop("team_id", None), "team")
    client = data.get("client_party_id")
    party = find(session, Party, client) if client is not None else None
    if client is not None and (party is None or party.kind != PartyKind.CLIENT):
        raise Invalid(f"No client {client}.", code="unknown_client", field="client_id")
    if data.get("min_unit_price_micros") is not None and data.get("currency") is None:
        raise Invalid(
            "A minimum price means nothing without its currency.",
            code="currency_required",
            field="currency",
        )
    if data.get("order_id") is not None:
        try:
            open_order(session, actor, data["order_id"])
        except NotFound:
            raise Invalid(
                f"No order {data['order_id']}.", code="unknown_order", field="order_id"
            ) from None
    rule = ClaimRule(team_party_id=team, created_by_user_id=actor.user_id, **data)
    session.add(rule)
    session.flush()
    return rule


def team_rules(session: Session, actor: Actor) -> list[ClaimRule]:
    """The rules of the teams the caller owns."""
    actor.require(Role.TEAM_OWNER)
    return list(
        session.scalars(
            select(ClaimRule)
            .where(ClaimRule.team_party_id.in_(actor.party_ids(Role.TEAM_OWNER)))
            .order_by(ClaimRule.id)
        )
    )


def delete_rule(session: Session, actor: Actor, rule_id: int) -> None:
    """Delete one of the caller's team's rules; later drops no longer run it."""
    rule = find(session, ClaimRule, rule_id)
    if rule is None or rule.team_party_id not in actor.party_ids(Role.TEAM_OWNER):
        raise NotFound(f"No claim rule {rule_id}.", code="claim_rule_not_found")
    session.delete(rule)
