"""Credit holds as admins and the schedule use them: placed, lifted, and lifting
themselves once the client owes nothing overdue."""

from datetime import date, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from marketplace.db import find
from marketplace.errors import Conflict, NotFound
from marketplace.identity import audit
from marketplace.identity.actor import Actor
from marketplace.identity.models import CreditHold, Party, PartyKind, Role
from marketplace.identity.standing import active_hold, lift_hold, place_hold
from marketplace.payments.models import Invoice
from marketplace.receivables.dunning import owing


def client_party(session: Session, client_id: int) -> Party:
    """The client with this id; 404 `client_not_found` for any other party or none."""
    client = find(session, Party, client_id)
    if client is None or client.kind != PartyKind.CLIENT:
        raise NotFound(f"No client {client_id}.", code="client_not_found")
    return client


def put_on_hold(
    session: Session, actor: Actor, client_id: int, *, reason: str, lifts_when_paid: bool
) -> CreditHold:
    """Put a client on credit hold (platform admins): it posts no orders and its drops
    do not release until the hold is lifted, by an admin or, with `lifts_when_paid`,
    by itself once nothing it owes is overdue. 409 if it is on hold already."""
    actor.require(Role.PLATFORM_ADMIN)
    client = client_party(session, client_id)
    hold = place_hold(
        session, client.id, reason=reason, by_user_id=actor.user_id, lifts_when_paid=lifts_when_paid
    )
    if hold is None:
        raise Conflict("The client is on credit hold already.", code="already_on_hold")
    session.flush()
    audit.record(
        session,
        actor,
        "credit_hold.placed",
        ("client", client.id),
        hold_id=hold.id,
        reason=reason,
        lifts_when_paid=lifts_when_paid,
    )
    return hold


def lift_client_hold(session: Session, actor: Actor, client_id: int, *, reason: str) -> CreditHold:
    """Lift the client's hold now (platform admins); its next drops release as planned.
    409 if it is not on hold."""
    actor.require(Role.PLATFORM_ADMIN)
    client = client_party(session, client_id)
    hold = active_hold(session, client.id, for_update=True)
    if hold is None:
        raise Conflict("The client is not on credit hold.", code="not_on_hold")
    lift_hold(session, hold, reason=reason, by_user_id=actor.user_id)
    audit.record(
        session, actor, "credit_hold.lifted", ("client", client.id), hold_id=hold.id, reason=reason
    )
    return hold


def client_holds(session: Session, actor: Actor, client_id: int) -> list[CreditHold]:
    """The client's holds, in force and past, newest first (platform admins)."""
    actor.require(Role.PLATFORM_ADMIN)
    client = client_party(session, client_id)
    return list(
        session.scalars(
            select(CreditHold)
            .where(CreditHold.party_id == client.id)
            .order_by(CreditHold.id.desc())
        )
    )


def holds_in_force(session: Session, actor: Actor) -> list[CreditHold]:
    """Every hold in force, oldest first (platform admins)."""
    actor.require(Role.PLATFORM_ADMIN)
    return list(
        session.scalars(
            select(CreditHold).where(CreditHold.lifted_at.is_(None)).order_by(CreditHold.id)
        )
    )


def lift_paid_holds(session: Session, *, today: date) -> list[CreditHold]:
    """Lift every self-lifting hold whose client owes nothing overdue any more (paid,
    credited or written off). Idempotent."""
    # Owed and due before today. A disputed invoice counts: a dispute pauses the letters,
    # but only the money, a credit note, a write-off or an admin ends a hold.
    overdue = exists().where(
        Invoice.client_party_id == CreditHold.party_id, owing(today - timedelta(days=1))
    )
    holds = session.scalars(
        select(CreditHold)
        .where(CreditHold.lifted_at.is_(None), CreditHold.lifts_when_paid.is_(True), ~overdue)
        .order_by(CreditHold.id)
        .with_for_update(skip_locked=True)
    ).all()
    for hold in holds:
        lift_hold(session, hold, reason="nothing it owes is overdue any more", by_user_id=None)
        audit.record(
            session,
            None,
            "credit_hold.lifted",
            ("client", hold.party_id),
            hold_id=hold.id,
            reason=hold.lift_reason,
        )
    return list(holds)
