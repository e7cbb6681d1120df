"""Trials: a small batch a team works first, scored by the client, that gates regular claims."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.db import find
from marketplace.errors import Conflict, NotFound
from marketplace.identity.actor import Actor
from marketplace.identity.models import TEAM_ROLES, Role
from marketplace.orders.claims import may_see_batch
from marketplace.orders.models import Batch, BatchKind, BatchStatus, Claimant
from marketplace.orders.service import open_order


def score_trial(
    session: Session, actor: Actor, batch_id: int, score: int, note: str | None
) -> Claimant:
    """The client scores a team's finished (or expired) trial batch, once.

    A score at or above the order's pass score lets the team claim regular
    batches; below it, the team is refused them (409 `trial_failed`).
    """
    batch = find(session, Batch, batch_id)
    if batch is None or not may_see_batch(actor, batch):
        raise NotFound(f"No batch {batch_id}.", code="batch_not_found")
    order = batch.order
    actor.require(Role.CLIENT_ADMIN, party_id=order.client_party_id)
    if batch.kind != BatchKind.TRIAL:
        raise Conflict("Only a trial batch is scored.", code="not_a_trial")
    if batch.status not in (BatchStatus.FINISHED, BatchStatus.EXPIRED):
        raise Conflict(
            "The team has not finished this trial yet.",
            code="trial_not_finished",
            status=batch.status,
        )
    claimant = session.scalars(
        select(Claimant).where(Claimant.trial_batch_id == batch.id).with_for_update()
    ).one()
    if claimant.trial_score is not None:
        raise Conflict(
            "This trial was already scored.",
            code="trial_already_scored",
            score=claimant.trial_score,
        )
    claimant.trial_score = score
    claimant.trial_passed = score >= order.trial_pass_score
    claimant.trial_note = note
    claimant.trial_scored_by_user_id = actor.user_id
    claimant.trial_scored_at = clock.now()
    session.flush()
    return claimant


def order_trials(session: Session, actor: Actor, order_id: int) -> list[Claimant]:
    """The order's trials: all of them for its client and admins, a team's own for a team."""
    order = open_order(session, actor, order_id)
    trials = select(Claimant).where(
        Claimant.order_id == order.id, Claimant.trial_batch_id.is_not(None)
    )
    if not (actor.is_platform_admin or order.client_party_id in actor.party_ids(Role.CLIENT_ADMIN)):
        trials = trials.where(Claimant.team_party_id.in_(actor.party_ids(*TEAM_ROLES)))
    return list(session.scalars(trials.order_by(Claimant.id)))
