"""Use cases of orders: post, publish and cut into batches, the drop board, claims."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, insert, or_, select, update
from sqlalchemy.orm import Session, selectinload

from marketplace import clock
from marketplace.accounts.signup import refuse_unless_approved
from marketplace.db import MAX_ID, find, keyset_page
from marketplace.errors import Conflict, Invalid, NotFound
from marketplace.identity.actor import Actor
from marketplace.identity.models import TEAM_ROLES, CreditLine, Role
from marketplace.identity.standing import refuse_if_held
from marketplace.orders.drops import check_plan, history, upcoming, zone_named
from marketplace.orders.funding import note_reserved, require_funds
from marketplace.orders.models import (
    Batch,
    BatchKind,
    BatchStatus,
    Claimant,
    ClaimMode,
    Drop,
    Funding,
    Item,
    Order,
    OrderStatus,
    ReleasePlan,
    Sourcing,
)
from marketplace.orders.task_types import check_order_terms, task_type_for_order
from marketplace.wages.service import WageFloor, refuse_below_reference_wage


def visible_orders(actor: Actor) -> Select:
    """Orders the actor may read: its client's, any it holds batches of or has a standing
    on (a trial, a lottery entry, a contract of its chain: `enroll`), or all for admins."""
    query = select(Order).options(selectinload(Order.release_plan))
    if actor.is_platform_admin:
        return query
    teams = actor.party_ids(*TEAM_ROLES)
    held = select(Batch.order_id).where(Batch.claimed_by_party_id.in_(teams))
    standing = select(Claimant.order_id).where(Claimant.team_party_id.in_(teams))
    return query.where(
        or_(
            Order.client_party_id.in_(actor.party_ids(Role.CLIENT_ADMIN)),
            Order.id.in_(held),
            Order.id.in_(standing),
        )
    )


# The order's review terms as the API names them -> its columns.
REVIEW_TERMS = {
    "sample_rate": "review_sample_bps",
    "accuracy_threshold": "accuracy_threshold_bps",
    "window_days": "review_window_days",
}


def create_order(session: Session, actor: Actor, data: dict[str, Any]) -> Order:
    """Post a draft order with all its items in one unit of work.

    The order's quantity is the number of items, each with its own ref (422
    `duplicate_ref` naming the item). Nothing is released until the
    order is published. A client on credit hold posts nothing (409).
    """
    actor.require(Role.CLIENT_ADMIN)
    client_id = actor.acting_for(Role.CLIENT_ADMIN, data.pop("client_id", None), "client")
    refuse_if_held(session, client_id)
    items = data.pop("items")
    plan = data.pop("release_plan", None)
    limits = data.pop("limits", None) or {}
    trial = data.pop("trial", None)
    caps = data.pop("chain_caps", None) or {}
    # Terms left out keep the model's defaults (a whole-batch review, a 3-day window).
    terms = data.pop("review", None) or {}
    review = {
        column: terms[term] for term, column in REVIEW_TERMS.items() if terms.get(term) is not None
    }
    data["funding"] = _funding(session, client_id, data["currency"], data.pop("funding", None))
    task_type = task_type_for_order(session, data["task_type"], client_id)
    check_order_terms(task_type, data.get("task_options"), items)
    first_of_ref: dict[str, int] = {}
    for index, item in enumerate(items):
        if first_of_ref.setdefault(item["ref"], index) != index:
            raise Invalid(
                "Each item of an order has its own ref.",
                code="duplicate_ref",
                item_index=index,
                first_index=first_of_ref[item["ref"]],
            )
    order = Order(
        client_party_id=client_id,
        quantity=len(items),
        max_batches_held=limits.get("batches_held"),
        max_batches_per_drop=limits.get("batches_per_drop"),
        max_chain_depth=caps.get("max_depth"),
        min_pass_through_bps=caps.get("min_pass_through"),
        **review,
        **data,
    )
    if order.sourcing == Sourcing.BIDS and (order.claim_mode == ClaimMode.LOTTERY or trial):
        raise Invalid(
            "A bids order's batches go to the teams holding its contracts, first-come among "
            "them: it takes no lottery and no trial.",
            code="bids_order_claims_first_come",
        )
    if plan is not None:
        order.release_plan = _release_plan(plan)
    elif order.claim_mode == ClaimMode.LOTTERY:
        raise Invalid(
            "A lottery allots the batches of scheduled drops: give the order a release plan.",
            code="lottery_needs_release_plan",
        )
    if trial is not None:
        if trial["batches"] * trial["batch_size"] >= len(items):
            raise Invalid(
                "The trial batches would take every item; leave items for the regular batches.",
                code="trial_too_large",
                trial_items=trial["batches"] * trial["batch_size"],
                quantity=len(items),
            )
        order.trial_batches = trial["batches"]
        order.trial_batch_size = trial["batch_size"]
        order.trial_pass_score = trial["pass_score"]
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


def _funding(session: Session, client_id: int, currency: str, asked: str | None) -> str:
    """The order's funding: as asked, or invoiced for a client with a credit line in the
    currency and prefunded for any other; invoiced without a line is refused (409)."""
    has_line = session.scalar(
        select(CreditLine.id).where(
            CreditLine.party_id == client_id, CreditLine.currency == currency
        )
    )
    if asked is None:
        return Funding.INVOICED if has_line else Funding.PREFUNDED
    if asked == Funding.INVOICED and not has_line:
        raise Conflict(
            f"Invoiced orders are for clients an admin has given a credit line in {currency}; "
            "fund this order from your balance (prefunded or milestones).",
            code="no_credit_line",
            currency=currency,
        )
    return asked


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


class SealedPrice:
    """A bids order as a team sees it: everything but the client's budget price."""

    unit_price_micros = None

    def __init__(self, order: Order) -> None:
        self._order = order

    def __getattr__(self, name: str) -> Any:
        return getattr(self._order, name)


def as_seen_by(actor: Actor, order: Order) -> Order | SealedPrice:
    """The order with its price, unless the caller is a team and the price is sealed."""
    if (
        order.listed_price_micros is not None
        or actor.is_platform_admin
        or actor.has(Role.CLIENT_ADMIN, order.client_party_id)
    ):
        return order
    return SealedPrice(order)


def read_order(session: Session, actor: Actor, order_id: int) -> Order | SealedPrice:
    """One order as the caller may read it (`get_order`, the price sealed from teams)."""
    return as_seen_by(actor, get_order(session, actor, order_id))


def get_order(session: Session, actor: Actor, order_id: int) -> Order:
    """The order if the actor may see it; 404 otherwise, whether or not it exists."""
    order = None
    if 0 < order_id <= MAX_ID:
        order = session.scalar(visible_orders(actor).where(Order.id == order_id))
    if order is None:
        raise NotFound(f"No order {order_id}.", code="order_not_found")
    return order


def open_order(session: Session, actor: Actor, order_id: int, *, what: str = "order") -> Order:
    """A published order as teams see it on the board, or any order for its client and
    admins; else 404 (`{what}_not_found`, naming what the caller asked for)."""
    order = session.get(Order, order_id) if 0 < order_id <= MAX_ID else None
    if order is None or not (
        actor.is_platform_admin
        or (order.status == OrderStatus.PUBLISHED and actor.party_ids(*TEAM_ROLES))
        or order.client_party_id in actor.party_ids(Role.CLIENT_ADMIN)
    ):
        raise NotFound(f"No {what} {order_id}.", code=f"{what}_not_found")
    return order


def list_orders(
    session: Session, actor: Actor, *, limit: int, after: int
) -> list[Order | SealedPrice]:
    orders = keyset_page(session, visible_orders(actor), limit=limit, after=after)
    return [as_seen_by(actor, order) for order in orders]


def publish_order(
    session: Session, actor: Actor, order_id: int, *, wage_floor: str = WageFloor.OFF
) -> Order:
    """Cut a draft order into its trial batches, then batches of `batch_size` items.

    Trial batches are released at once. Without a release plan so is every
    regular batch; with one they wait, scheduled, for the plan's drops
    (`release_due_batches`). A client on credit hold publishes nothing (409); nor does
    a user before she verified her e-mail address, nor a client whose sign-up an admin
    has not approved (403).
    """
    order = get_order(session, actor, order_id)
    actor.require(Role.CLIENT_ADMIN, party_id=order.client_party_id)
    actor.require_verified()
    refuse_unless_approved(session, order.client_party_id)
    if order.status != OrderStatus.DRAFT:
        raise Conflict("The order is already published.", code="order_not_draft")
    refuse_if_held(session, order.client_party_id)
    refuse_below_reference_wage(session, order, wage_floor)
    now = clock.now()
    scheduled = order.release_plan is not None
    trial_size = order.trial_batch_size or 1
    trial_items = order.trial_batches * trial_size
    regular_items = order.quantity - trial_items
    released = trial_items + (0 if scheduled else regular_items)
    if released:
        require_funds(session, order, released, "Publishing")
    trials = [
        {"kind": BatchKind.TRIAL, "item_count": trial_size, "status": BatchStatus.RELEASED}
        for _ in range(order.trial_batches)
    ]
    regulars = [
        {
            "kind": BatchKind.REGULAR,
            "item_count": min(order.batch_size, regular_items - n * order.batch_size),
            "status": BatchStatus.SCHEDULED if scheduled else BatchStatus.RELEASED,
        }
        for n in range(-(-regular_items // order.batch_size))
    ]
    session.execute(
        insert(Batch),
        [
            {
                **batch,
                "order_id": order.id,
                "seq": seq,
                "released_at": now if batch["status"] == BatchStatus.RELEASED else None,
                "created_at": now,
            }
            for seq, batch in enumerate(trials + regulars, start=1)
        ],
    )
    # Trial batches come first, then the regular ones; set every item's batch in one statement.
    seq_of_batch = case(
        (Item.seq <= trial_items, (Item.seq - 1) // trial_size + 1),
        else_=order.trial_batches + (Item.seq - trial_items - 1) // order.batch_size + 1,
    )
    batch_of_item = (
        select(Batch.id)
        .where(Batch.order_id == order.id, Batch.seq == seq_of_batch)
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
    """Released batches any team may claim, oldest first, each with what its funded
    order's reservation holds for it."""
    if not actor.is_platform_admin:
        actor.require(*TEAM_ROLES)
    released = select(Batch).where(Batch.status == BatchStatus.RELEASED)
    batches = keyset_page(session, released, limit=limit, after=after)
    note_reserved(session, batches)
    return batches


def order_drops(session: Session, actor: Actor, order_id: int, tz: str | None) -> dict[str, Any]:
    """The order's past drops (released, late or skipped, with why) and its next five,
    with times in `tz` (default: the plan's zone)."""
    order = get_order(session, actor, order_id)
    zone = zone_named(tz or (order.release_plan.timezone if order.release_plan else "UTC"))
    past = [_in_zone(_drop_row(drop), zone) for drop in history(session, order)]
    coming = [_in_zone(drop, zone) for drop in upcoming(session, order, count=5)]
    return {"timezone": zone.key, "past": past, "upcoming": coming}


def drop_allotment(session: Session, actor: Actor, drop_id: int) -> Drop:
    """A drop with its published lottery, for any team, the order's client and admins."""
    drop = find(session, Drop, drop_id)
    if drop is None:
        raise NotFound(f"No drop {drop_id}.", code="drop_not_found")
    try:
        open_order(session, actor, drop.order_id)
    except NotFound:
        raise NotFound(f"No drop {drop_id}.", code="drop_not_found") from None
    return drop


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
                        "client_id": order.client_party_id,
                        "client_name": order.client.name,
                        "unit_price_micros": order.listed_price_micros,
                        "currency": order.currency,
                    },
                    zone,
                )
            )
    return sorted(board_, key=lambda drop: drop["scheduled_at"])


def _drop_row(drop: Drop) -> dict[str, Any]:
    return {column.key: getattr(drop, column.key) for column in Drop.__table__.columns}


def _in_zone(row: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """The row with every moment in it, nested ones too, shown in `zone`."""
    return {k: _moment_in_zone(v, zone) for k, v in row.items()}


def _moment_in_zone(value: Any, zone: ZoneInfo) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(zone)
    if isinstance(value, dict):
        return _in_zone(value, zone)
    return value
