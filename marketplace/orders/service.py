"""Use cases of orders: post, publish and cut into batches, the drop board, claims."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, insert, or_, select, update
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.db import MAX_ID, find, keyset_page
from marketplace.errors import Conflict, Invalid, NotFound
from marketplace.identity.actor import Actor
from marketplace.identity.models import Role
from marketplace.orders.drops import check_plan, history, upcoming, zone_named
from marketplace.orders.events import batch_claimed
from marketplace.orders.models import (
    Batch,
    BatchStatus,
    Drop,
    Item,
    Order,
    OrderStatus,
    ReleasePlan,
)

TEAM_ROLES = (Role.TEAM_OWNER, Role.REVIEWER, Role.ANNOTATOR)


def _only_party(actor: Actor, role: Role, requested: int | None, what: str) -> int:
    """The party the actor acts for in `role`: the requested one, or its only one."""
    parties = actor.party_ids(role)
    if requested is not None:
        if requested not in parties:
            raise NotFound(f"No {what} {requested} that you act for.", code=f"{what}_not_found")
        return requested
    if len(parties) != 1:
        raise Invalid(
            f"Name the {what} you act for.", code=f"{what}_required", choices=sorted(parties)
        )
    return next(iter(parties))


def visible_orders(actor: Actor) -> Select:
    """Orders the actor may read: its client's, any it holds batches of, or all for admins."""
    query = select(Order)
    if actor.is_platform_admin:
        return query
    held = select(Batch.order_id).where(Batch.claimed_by_party_id.in_(actor.party_ids(*TEAM_ROLES)))
    return query.where(
        or_(
            Order.client_party_id.in_(actor.party_ids(Role.CLIENT_ADMIN)),
            Order.id.in_(held),
        )
    )


def create_order(session: Session, actor: Actor, data: dict[str, Any]) -> Order:
    """Post a draft order with all its items in one unit of work.

    The order's quantity is the number of items. Nothing is released until the
    order is published.
    """
    actor.require(Role.CLIENT_ADMIN)
    client_id = _only_party(actor, Role.CLIENT_ADMIN, data.pop("client_id", None), "client")
    items = data.pop("items")
    plan = data.pop("release_plan", None)
    order = Order(client_party_id=client_id, quantity=len(items), **data)
    if plan is not None:
        order.release_plan = _release_plan(plan)
    session.add(order)
    session.flush()
    session.execute(
        insert(Item),
        [
            {"order_id": order.id, "seq": seq, "ref": item["ref"], "payload": item.get("payload")}
            for seq, item in enumerate(items, start=1)
        ],
    )
    return order


def _release_plan(plan: dict[str, Any]) -> ReleasePlan:
    check_plan(plan["cron"], plan["timezone"])
    if plan["starts_at"] and plan["ends_at"] and plan["ends_at"] <= plan["starts_at"]:
        raise Invalid("The release window ends before it starts.", code="invalid_window")
    return ReleasePlan(
        cron=plan["cron"],
        timezone=plan["timezone"],
        batches_per_drop=plan["batches_per_drop"],
        starts_at=plan["starts_at"],
        ends_at=plan["ends_at"],
        grace_seconds=plan["grace_minutes"] * 60,
    )


def get_order(session: Session, actor: Actor, order_id: int) -> Order:
    """The order if the actor may see it; 404 otherwise, whether or not it exists."""
    order = None
    if 0 < order_id <= MAX_ID:
        order = session.scalar(visible_orders(actor).where(Order.id == order_id))
    if order is None:
        raise NotFound(f"No order {order_id}.", code="order_not_found")
    return order


def list_orders(session: Session, actor: Actor, *, limit: int, after: int) -> list[Order]:
    return keyset_page(session, visible_orders(actor), limit=limit, after=after)


def publish_order(session: Session, actor: Actor, order_id: int) -> Order:
    """Cut a draft order into batches of `batch_size` items.

    Without a release plan every batch is released at once; with one they wait,
    scheduled, for the plan's drops (`release_due_batches`).
    """
    order = get_order(session, actor, order_id)
    actor.require(Role.CLIENT_ADMIN, party_id=order.client_party_id)
    if order.status != OrderStatus.DRAFT:
        raise Conflict("The order is already published.", code="order_not_draft")
    now = clock.now()
    scheduled = order.release_plan is not None
    batch_count = -(-order.quantity // order.batch_size)
    session.execute(
        insert(Batch),
        [
            {
                "order_id": order.id,
                "seq": seq,
                "item_count": min(order.batch_size, order.quantity - (seq - 1) * order.batch_size),
                "status": BatchStatus.SCHEDULED if scheduled else BatchStatus.RELEASED,
                "released_at": None if scheduled else now,
                "created_at": now,
            }
            for seq in range(1, batch_count + 1)
        ],
    )
    # Item n (from 1) belongs to batch (n - 1) // batch_size + 1, set in one statement.
    batch_of_item = (
        select(Batch.id)
        .where(Batch.order_id == order.id, Batch.seq == (Item.seq - 1) // order.batch_size + 1)
        .scalar_subquery()
    )
    session.execute(update(Item).where(Item.order_id == order.id).values(batch_id=batch_of_item))
    order.status = OrderStatus.PUBLISHED
    order.published_at = now
    return order


def order_batches(session: Session, actor: Actor, order_id: int) -> list[Batch]:
    """An order's batches, for its client and admins."""
    order = get_order(session, actor, order_id)
    if not actor.is_platform_admin:
        actor.require(Role.CLIENT_ADMIN, party_id=order.client_party_id)
    return list(
        session.scalars(select(Batch).where(Batch.order_id == order.id).order_by(Batch.seq))
    )


def board(session: Session, actor: Actor, *, limit: int, after: int) -> list[Batch]:
    """Released batches any team may claim, oldest first."""
    if not actor.is_platform_admin:
        actor.require(*TEAM_ROLES)
    released = select(Batch).where(Batch.status == BatchStatus.RELEASED)
    return keyset_page(session, released, limit=limit, after=after)


def claim_batch(session: Session, actor: Actor, batch_id: int, team_id: int | None) -> Batch:
    """Give a released batch to the caller's team, atomically.

    The claim is one conditional UPDATE, so of any number of concurrent claimers
    exactly one wins; the others get 409. Subscribers of `batch_claimed` run in
    the same unit of work.
    """
    batch = find(session, Batch, batch_id)
    if batch is None or (
        batch.status != BatchStatus.RELEASED and not _may_see_claimed(actor, batch)
    ):
        raise NotFound(f"No batch {batch_id}.", code="batch_not_found")
    actor.require(Role.TEAM_OWNER)
    team = _only_party(actor, Role.TEAM_OWNER, team_id, "team")
    won = session.execute(
        update(Batch)
        .where(Batch.id == batch_id, Batch.status == BatchStatus.RELEASED)
        .values(status=BatchStatus.CLAIMED, claimed_by_party_id=team, claimed_at=clock.now())
        .returning(Batch.id)
    ).first()
    if won is None:
        if batch.status == BatchStatus.SCHEDULED:
            raise Conflict("This batch has not dropped yet.", code="batch_not_released")
        raise Conflict("Another team claimed this batch first.", code="batch_taken")
    session.refresh(batch)
    batch_claimed.send(session, batch=batch)
    return batch


def _may_see_claimed(actor: Actor, batch: Batch) -> bool:
    """A claimed batch stays visible to every team (a late claimer learns it lost, 409)."""
    return bool(actor.party_ids(*TEAM_ROLES, Role.PLATFORM_ADMIN)) or (
        batch.order.client_party_id in actor.party_ids(Role.CLIENT_ADMIN)
    )


def order_drops(session: Session, actor: Actor, order_id: int, tz: str | None) -> dict[str, Any]:
    """The order's past drops (released, late or skipped, with why) and its next five,
    with times in `tz` (default: the plan's zone)."""
    order = get_order(session, actor, order_id)
    zone = zone_named(tz or (order.release_plan.timezone if order.release_plan else "UTC"))
    past = [_in_zone(_drop_row(drop), zone) for drop in history(session, order)]
    coming = [_in_zone(drop, zone) for drop in upcoming(session, order, count=5)]
    return {"timezone": zone.key, "past": past, "upcoming": coming}


def next_drops(session: Session, actor: Actor, tz: str | None) -> list[dict[str, Any]]:
    """What drops next, soonest first: the next drop of every order with batches waiting."""
    if not actor.is_platform_admin:
        actor.require(*TEAM_ROLES)
    zone = zone_named(tz or "UTC")
    waiting = select(Batch.order_id).where(Batch.status == BatchStatus.SCHEDULED)
    board_ = []
    for order in session.scalars(
        select(Order).where(Order.status == OrderStatus.PUBLISHED, Order.id.in_(waiting))
    ):
        for drop in upcoming(session, order, count=1):
            board_.append(
                _in_zone(
                    {
                        **drop,
                        "order_id": order.id,
                        "title": order.title,
                        "task_type": order.task_type,
                        "client_name": order.client.name,
                        "unit_price_micros": order.unit_price_micros,
                        "currency": order.currency,
                    },
                    zone,
                )
            )
    return sorted(board_, key=lambda drop: drop["scheduled_at"])


def _drop_row(drop: Drop) -> dict[str, Any]:
    return {column.key: getattr(drop, column.key) for column in Drop.__table__.columns}


def _in_zone(row: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    return {k: v.astimezone(zone) if isinstance(v, datetime) else v for k, v in row.items()}
