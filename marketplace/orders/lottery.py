"""Fair drops: at a drop, a published, seeded lottery allots batches; the rest go first-come.

Who takes part: on a `lottery` order, every team that registered interest in
this drop; on any order, every team whose standing claim rule matches it (an
interest wins over a rule of the same team). Nobody has to be awake at the
drop. The algorithm, re-runnable by any team from what the drop publishes
(`GET /drops/{id}/allotment`: seed, algorithm, each team's allowed count):

1. Each team's *allowed* count is what it asked for, cut to the order's
   per-team limits; a team whose trial has not passed is allowed 0.
2. Teams are ranked by the SHA-256 hex digest of ``"{seed}:{team id}"``,
   ascending.
3. Going round that ranking, each team still short of its allowed count takes
   the next of the drop's batches in `seq` order, round after round, until the
   batches or the wants run out.
"""

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from marketplace.errors import Conflict
from marketplace.orders.claims import (
    check_trial_passed,
    give,
    has_rules,
    limits_of,
    lock_order,
    standing_of,
)
from marketplace.orders.models import (
    Allotment,
    Batch,
    ClaimMode,
    ClaimRule,
    Drop,
    Funding,
    Interest,
    Order,
    Sourcing,
)

ALGORITHM = "sha256-rank-round-robin/1"


def rank_key(seed: str, team_id: int) -> str:
    """A team's place in a drop's ranking: the SHA-256 hex digest of "{seed}:{team id}"."""
    return hashlib.sha256(f"{seed}:{team_id}".encode()).hexdigest()


def allot(seed: str, allowed: dict[int, int], batch_ids: list[int]) -> dict[int, list[int]]:
    """The lottery itself, a pure function: which batches each team gets."""
    got: dict[int, list[int]] = {team: [] for team in allowed}
    ranking = sorted((t for t, n in allowed.items() if n > 0), key=lambda t: rank_key(seed, t))
    left = iter(batch_ids)
    while ranking:
        for team in ranking:
            batch_id = next(left, None)
            if batch_id is None:
                return got
            got[team].append(batch_id)
        ranking = [team for team in ranking if len(got[team]) < allowed[team]]
    return got


def allot_drop(session: Session, order: Order, drop: Drop, batches: list[Batch]) -> None:
    """Run the drop's lottery over its just-released `batches` and claim the winners' shares.

    Does nothing when nobody asked. The seed, algorithm and every team's line
    are recorded on the drop, in the drop's unit of work.
    """
    if order.claim_mode == ClaimMode.LOTTERY:
        # Registrations lock the order too: none slips in between this read and the allotment.
        lock_order(session, order.id)
    demand = _demand(session, order, drop.scheduled_at)
    if not demand:
        return
    seed = secrets.token_hex(16)
    lines = {}
    for team, (source, wanted) in sorted(demand.items()):
        allowed, note = _allowed(session, order, team, drop, wanted)
        lines[team] = Allotment(
            drop_id=drop.id,
            team_party_id=team,
            source=source,
            wanted=wanted,
            allowed=allowed,
            rank_key=rank_key(seed, team),
            batch_ids=[],
            note=note,
        )
    by_id = {batch.id: batch for batch in batches}
    won = allot(seed, {team: line.allowed for team, line in lines.items()}, list(by_id))
    for team, batch_ids in won.items():
        for batch_id in batch_ids:
            give(session, by_id[batch_id], team, drop.taken_at)
        lines[team].batch_ids = batch_ids
    session.add_all(lines.values())
    drop.lottery_seed = seed
    drop.lottery_algorithm = ALGORITHM


def _allowed(
    session: Session, order: Order, team: int, drop: Drop, wanted: int
) -> tuple[int, str | None]:
    if not has_rules(order):
        return wanted, None
    try:
        check_trial_passed(order, standing_of(session, order.id, team))
    except Conflict as refusal:
        return 0, refusal.message
    lefts = [limit.left for limit in limits_of(session, order, team, drop.id)]
    allowed = min([wanted, *lefts])
    return allowed, None if allowed == wanted else "cut to the order's per-team limits"


def _demand(session: Session, order: Order, moment: datetime) -> dict[int, tuple[str, int]]:
    """What each team asks of this drop: its interest, or else its largest matching rule.

    Rules take no part in a bids order's drops: only its contract holders claim them.
    """
    if order.sourcing != Sourcing.CLAIMS:
        return {}
    demand = {
        team: ("rule", batches)
        for team, batches in session.execute(
            matching_rules(order)
            .with_only_columns(ClaimRule.team_party_id, func.max(ClaimRule.batches_per_drop))
            .group_by(ClaimRule.team_party_id)
        )
    }
    if order.claim_mode == ClaimMode.LOTTERY:
        for interest in session.scalars(
            select(Interest).where(Interest.order_id == order.id, Interest.scheduled_at == moment)
        ):
            demand[interest.team_party_id] = ("interest", interest.batches)
    return demand


def matching_rules(order: Order):
    """The standing claim rules whose filters this order meets."""
    return select(ClaimRule).where(
        or_(ClaimRule.order_id.is_(None), ClaimRule.order_id == order.id),
        or_(ClaimRule.task_type.is_(None), ClaimRule.task_type == order.task_type),
        or_(
            ClaimRule.client_party_id.is_(None), ClaimRule.client_party_id == order.client_party_id
        ),
        or_(ClaimRule.currency.is_(None), ClaimRule.currency == order.currency),
        or_(
            ClaimRule.min_unit_price_micros.is_(None),
            ClaimRule.min_unit_price_micros <= order.unit_price_micros,
        ),
        or_(ClaimRule.funded_only.is_(False), order.funding != Funding.INVOICED),
    )
