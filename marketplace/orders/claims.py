"""Claims: which team may take which batch, within the order's rules, exactly once.

A claim is one conditional UPDATE, so of any number of concurrent claimers of
one batch exactly one wins. An order with per-team limits or a trial first
locks the team's `Claimant` row, so one team's concurrent claims are counted
one after another and never overshoot a limit.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.db import MAX_ID, find, upsert
from marketplace.errors import Conflict, NotFound
from marketplace.identity.actor import Actor
from marketplace.identity.models import TEAM_ROLES, Role
from marketplace.orders.events import batch_claimed
from marketplace.orders.models import Batch, BatchKind, BatchStatus, Claimant, Order, Sourcing


def claim_batch(session: Session, actor: Actor, batch_id: int, team_id: int | None) -> Batch:
    """Give a released batch to the caller's team if the order's rules allow it.

    Refused with 409: a batch another team won (`batch_taken`), one not dropped
    yet (`batch_not_released`), a second trial (`trial_already_taken`), a regular
    batch before a passed trial (`trial_required`, `trial_failed`), or a claim
    over a per-team limit (`claim_limit_reached`, with the limit in the details).
    Subscribers of `batch_claimed` run in the same unit of work (on a bids order the
    team's contract must have room for the batch: `no_contract_room`). A user who has
    not verified her e-mail address claims nothing (403 `email_not_verified`).
    """
    actor.require_verified()
    team = _only_owned_team(actor, team_id)
    if team is not None and 0 < batch_id <= MAX_ID:
        batch = _claim_plain(session, batch_id, team, clock.now())
        if batch is not None:
            return batch
    batch = find(session, Batch, batch_id)
    if batch is None or (batch.status != BatchStatus.RELEASED and not may_see_batch(actor, batch)):
        raise NotFound(f"No batch {batch_id}.", code="batch_not_found")
    actor.require(Role.TEAM_OWNER)
    team = actor.acting_for(Role.TEAM_OWNER, team_id, "team")
    if batch.status == BatchStatus.RELEASED:
        admit(session, batch.order, team, batch)
    give(session, batch, team, clock.now())
    return batch


def _only_owned_team(actor: Actor, team_id: int | None) -> int | None:
    """The team an owner claims for, when that is plain without asking the database."""
    owned = actor.party_ids(Role.TEAM_OWNER)
    if team_id is None:
        return next(iter(owned)) if len(owned) == 1 else None
    return team_id if team_id in owned else None


def _claim_plain(session: Session, batch_id: int, team: int, now: datetime) -> Batch | None:
    """The storm's fast path, one statement: claim a released batch of a claims order
    without limits, trial or lease. None if that did not happen, for whatever reason; the
    full path then finds the reason (or claims under the order's rules)."""
    plain_order = exists().where(
        Order.id == Batch.order_id,
        Order.sourcing == Sourcing.CLAIMS,
        Order.trial_batches == 0,
        Order.max_batches_held.is_(None),
        Order.max_batches_per_drop.is_(None),
        Order.lease_hours.is_(None),
    )
    batch = session.scalars(
        update(Batch)
        .where(Batch.id == batch_id, Batch.status == BatchStatus.RELEASED, plain_order)
        .values(status=BatchStatus.CLAIMED, claimed_by_party_id=team, claimed_at=now)
        .returning(Batch)
    ).one_or_none()
    if batch is not None:
        batch_claimed.send(session, batch=batch)
    return batch


def may_see_batch(actor: Actor, batch: Batch) -> bool:
    """Every batch is visible to every team (a late claimer learns it lost, 409), to the
    order's client and to admins."""
    return bool(actor.party_ids(*TEAM_ROLES, Role.PLATFORM_ADMIN)) or (
        batch.order.client_party_id in actor.party_ids(Role.CLIENT_ADMIN)
    )


def has_rules(order: Order) -> bool:
    """Whether the order limits claims per team or asks for a trial."""
    return bool(order.trial_batches or order.max_batches_held or order.max_batches_per_drop)


def admit(session: Session, order: Order, team: int, batch: Batch) -> None:
    """Refuse (409) a claim of `batch` by `team` that the order's trial or limits forbid.

    Locks the team's standing on the order for the rest of the unit of work.
    """
    if not has_rules(order):
        return
    claimant = lock_claimant(session, order.id, team)
    if batch.kind == BatchKind.TRIAL:
        if claimant.trial_batch_id is not None:
            raise Conflict(
                "Your team has already taken its trial of this order.",
                code="trial_already_taken",
                trial_batch_id=claimant.trial_batch_id,
            )
        return
    check_trial_passed(order, claimant)
    refusal = over_limit(limits_of(session, order, team, batch.drop_id), wanted=1)
    if refusal is not None:
        raise refusal


def check_trial_passed(order: Order, claimant: Claimant) -> None:
    """Refuse (409) regular work to a team whose trial of the order has not passed."""
    if not order.trial_batches or claimant.trial_passed:
        return
    if claimant.trial_passed is None:
        raise Conflict(
            "This order needs a passed trial first: claim a trial batch and wait for its score.",
            code="trial_required",
            trial_batch_id=claimant.trial_batch_id,
            pass_score=order.trial_pass_score,
        )
    raise Conflict(
        "Your team's trial of this order did not pass.",
        code="trial_failed",
        score=claimant.trial_score,
        pass_score=order.trial_pass_score,
    )


def lock_order(session: Session, order_id: int) -> None:
    """Lock the order's row for the rest of the unit of work. Lottery registrations and
    the drop's allotment queue on it, as do batches cut from an expired lease and awards.

    FOR NO KEY UPDATE: it queues on itself, but not on the key-share locks that
    inserting a row referencing the order takes (a standing, a batch), which two
    units of work may each hold before they ask for this one.
    """
    session.scalars(
        select(Order.id).where(Order.id == order_id).with_for_update(key_share=True)
    ).one()


def enroll(session: Session, order_id: int, team: int) -> None:
    """Give the team a standing on the order (once: a second call changes nothing). A team
    with a standing reads the order, as one holding its batches does."""
    session.execute(
        upsert(session, Claimant)
        .values(order_id=order_id, team_party_id=team)
        .on_conflict_do_nothing(index_elements=["order_id", "team_party_id"])
    )


def lock_claimant(session: Session, order_id: int, team: int) -> Claimant:
    """The team's standing on the order, created on first use and locked (FOR UPDATE).

    One team's claims, deals and piece rate on an order queue on this row. It is
    locked before any batch, order or contract, so those locks keep one order.
    """
    enroll(session, order_id, team)
    return standing_of(session, order_id, team)


def standing_of(session: Session, order_id: int, team: int) -> Claimant:
    """The team's standing on the order, locked, if it has one; else a blank one, not
    stored (asking about a trial or a lottery gives no standing, and no right to read)."""
    found = session.scalars(
        select(Claimant)
        .where(Claimant.order_id == order_id, Claimant.team_party_id == team)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    return found or Claimant(order_id=order_id, team_party_id=team)


@dataclass(frozen=True)
class Limit:
    """One of the order's per-team limits and how much of it the team has used."""

    name: str  # batches_held or batches_per_drop
    max: int
    used: int

    @property
    def left(self) -> int:
        return max(0, self.max - self.used)


def limits_of(
    session: Session, order: Order, team: int, drop_id: int | None, *, coming: bool = False
) -> list[Limit]:
    """The order's limits as they stand for the team, for a claim from drop `drop_id`
    (or from a drop still to come, where nothing is claimed yet)."""
    limits = []
    if order.max_batches_held is not None:
        held = session.scalar(_regular_of(order, team).where(Batch.status == BatchStatus.CLAIMED))
        limits.append(Limit("batches_held", order.max_batches_held, held))
    if order.max_batches_per_drop is not None:
        # Batches released at publication (no plan) or returned without one form one release.
        same = Batch.drop_id.is_(None) if drop_id is None else Batch.drop_id == drop_id
        claimed = 0 if coming else session.scalar(_regular_of(order, team).where(same))
        limits.append(Limit("batches_per_drop", order.max_batches_per_drop, claimed))
    return limits


def over_limit(limits: list[Limit], wanted: int) -> Conflict | None:
    """The 409 for the first limit that `wanted` more batches would break, if any."""
    for limit in limits:
        if wanted > limit.left:
            what = "unfinished batches at once" if limit.name == "batches_held" else "per drop"
            return Conflict(
                f"The client allows {limit.max} batches {what}; your team has {limit.used} "
                f"and asks for {wanted} more.",
                code="claim_limit_reached",
                limit=limit.name,
                max=limit.max,
                used=limit.used,
                wanted=wanted,
            )
    return None


def _regular_of(order: Order, team: int):
    return select(func.count()).where(
        Batch.order_id == order.id,
        Batch.claimed_by_party_id == team,
        Batch.kind == BatchKind.REGULAR,
    )


def give(session: Session, batch: Batch, team: int, now: datetime) -> None:
    """Hand a released batch to the team, or 409 if it is taken or not released yet.

    Starts the lease if the order has one, records a trial, and announces the claim.
    """
    order = batch.order
    lease = now + timedelta(hours=order.lease_hours) if order.lease_hours else None
    won = session.execute(
        update(Batch)
        .where(Batch.id == batch.id, Batch.status == BatchStatus.RELEASED)
        .values(
            status=BatchStatus.CLAIMED,
            claimed_by_party_id=team,
            claimed_at=now,
            lease_expires_at=lease,
        )
        .returning(Batch.id)
    ).first()
    if won is None:
        if batch.status == BatchStatus.SCHEDULED:
            raise Conflict("This batch has not dropped yet.", code="batch_not_released")
        raise Conflict("Another team claimed this batch first.", code="batch_taken")
    session.refresh(batch)
    if batch.kind == BatchKind.TRIAL:
        claimant = lock_claimant(session, order.id, team)
        claimant.trial_batch_id = claimant.trial_batch_id or batch.id
    batch_claimed.send(session, batch=batch)
