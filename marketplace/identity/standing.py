"""Credit holds: a client that may not post orders nor have its drops released.

The hold lives here, with the parties, so that `orders` can obey it without
knowing why it was placed; `receivables` places and lifts it (by an admin, by the
dunning schedule, or by itself once the client owes nothing overdue).
"""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.errors import Conflict
from marketplace.identity.models import CreditHold, Party


def active_hold(session: Session, party_id: int, *, for_update: bool = False) -> CreditHold | None:
    """The client's hold in force, if any; `for_update` locks it until the unit of work
    ends, so that two lifting it at once lift it once."""
    query = select(CreditHold).where(
        CreditHold.party_id == party_id, CreditHold.lifted_at.is_(None)
    )
    return session.scalar(query.with_for_update() if for_update else query)


def held_parties(session: Session, party_ids: set[int]) -> dict[int, CreditHold]:
    """The holds in force on any of `party_ids`, by party."""
    if not party_ids:
        return {}
    holds = session.scalars(
        select(CreditHold).where(CreditHold.party_id.in_(party_ids), CreditHold.lifted_at.is_(None))
    )
    return {hold.party_id: hold for hold in holds}


def refuse_if_held(session: Session, party_id: int) -> None:
    """409 `client_on_credit_hold` while the client is on hold."""
    hold = active_hold(session, party_id)
    if hold is not None:
        raise Conflict(
            "The client is on credit hold until its overdue invoices are paid or an admin "
            "lifts the hold.",
            code="client_on_credit_hold",
            reason=hold.reason,
            since=hold.created_at.isoformat(),
        )


def place_hold(
    session: Session,
    party_id: int,
    *,
    reason: str,
    by_user_id: int | None,
    lifts_when_paid: bool,
) -> CreditHold | None:
    """Put the client on hold; None if it already is (the hold in force stays as it was).

    A unique index admits one hold in force per client, so two processes placing
    one at once leave one; the loser gets None.
    """
    if active_hold(session, party_id) is not None:
        return None
    hold = CreditHold(
        party_id=party_id,
        reason=reason,
        placed_by_user_id=by_user_id,
        lifts_when_paid=lifts_when_paid,
    )
    try:
        with session.begin_nested():
            session.add(hold)
    except IntegrityError:  # another process's hold took the unique index first
        return None
    return hold


def lift_hold(
    session: Session, hold: CreditHold, *, reason: str, by_user_id: int | None
) -> CreditHold:
    """End the hold now; the client's next drops release as planned."""
    hold.lifted_at = clock.now()
    hold.lift_reason = reason
    hold.lifted_by_user_id = by_user_id
    return hold


def hold_client(session: Session, client_party_id: int) -> None:
    """Queue the unit of work behind any other moving this client's money.

    Every use case that records, applies or gives back a client's money takes this
    lock first, before the rows it writes lock anything (a payment's foreign key
    share-locks its invoice), so two of them never wait on each other in a circle.
    """
    session.execute(
        select(Party.id).where(Party.id == client_party_id).with_for_update(key_share=True)
    )
