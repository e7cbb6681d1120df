"""E-mail ahead of a drop, for team owners who asked (PUT /api/v1/me/notice-preferences):
"20 batches of Driving scenes drop at 03:00 Asia/Shanghai; Lotus's lottery interest: 2",
sent the owner's chosen number of minutes before the drop, once per drop, owner and team:
an owner of two teams that may claim it gets one for each, with that team's interest."""

from datetime import timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, selectinload

from marketplace import clock
from marketplace.identity.models import Membership, Party, Role, User
from marketplace.notices.letters import drop_ahead
from marketplace.notices.mail import queue
from marketplace.notices.models import NoticePreference
from marketplace.notices.preferences import MAX_LEAD_MINUTES, mark_once
from marketplace.orders.announce import claimers
from marketplace.orders.drops import upcoming
from marketplace.orders.models import Batch, BatchStatus, Interest, Order, OrderStatus


def remind_owners_of_drops(session: Session) -> int:
    """Queue the e-mail to every owner who asked for it whose chosen lead time before the
    next drop of an order her team may claim has come (drops held for credit are not
    coming); each (drop, owner, team) once, whoever runs this. How many were queued."""
    now = clock.now()
    owners = session.execute(
        select(User, NoticePreference.lead_minutes, Membership.party_id, Party.name)
        .join(NoticePreference, NoticePreference.user_id == User.id)
        .join(Membership, Membership.user_id == User.id)
        .join(Party, Party.id == Membership.party_id)
        .where(NoticePreference.drop_released_email.is_(True), Membership.role == Role.TEAM_OWNER)
        .order_by(User.id, Membership.party_id)
    ).all()
    if not owners:
        return 0
    waiting = exists().where(Batch.order_id == Order.id, Batch.status == BatchStatus.SCHEDULED)
    orders = session.scalars(
        select(Order)
        .where(Order.status == OrderStatus.PUBLISHED, waiting)
        .options(selectinload(Order.release_plan))
        .order_by(Order.id)
    ).all()
    queued = 0
    for order in orders:
        coming = upcoming(session, order, 1)
        if not coming or coming[0]["credit_hold"]:
            continue
        moment, batches = coming[0]["scheduled_at"], coming[0]["batch_count"]
        if moment - now > timedelta(minutes=MAX_LEAD_MINUTES):
            continue
        teams = set(session.scalars(claimers(order)))
        for owner, lead, team, team_name in owners:
            if team not in teams or now < moment - timedelta(minutes=lead):
                continue
            key = f"{order.id}@{moment.isoformat()}:{owner.id}:{team}"
            if not mark_once(session, "drop_ahead", key):
                continue
            interest = session.scalar(
                select(Interest.batches).where(
                    Interest.order_id == order.id,
                    Interest.scheduled_at == moment,
                    Interest.team_party_id == team,
                )
            )
            subject, body = drop_ahead(
                owner,
                batches=batches,
                title=order.title,
                at=moment,
                timezone=order.release_plan.timezone,
                team=team_name,
                interest=interest,
                order_id=order.id,
            )
            queue(session, owner.email, subject, body)
            queued += 1
    return queued
