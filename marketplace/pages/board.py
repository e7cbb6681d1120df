"""The team owner's drop board: the released batches her team may claim, the drops to
come with a live countdown, her team's batches with their lease timers, and one-click
claims (issue 20, "The team owner").

Every read and write is the API's own service with the session's actor: the board is
GET /api/v1/batches (`orders.service.board`, with the `board_read` signal that puts the
client's payment record and the rate-card flag beside each batch), the drops are
GET /drops/upcoming, a claim is POST /batches/{id}/claim (`claims.claim_batch`). The
page is the claimer's: whoever may not claim (403 from the claim service: no team
owner) may not open it either. Lottery interest and standing rules are in fair.py.
"""

import math
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from marketplace import clock
from marketplace.db import MAX_ID, db, unit_of_work
from marketplace.errors import Conflict
from marketplace.identity.actor import Actor
from marketplace.identity.models import Party, Role
from marketplace.money import to_minor
from marketplace.orders import claims
from marketplace.orders import service as orders
from marketplace.orders.events import board_read
from marketplace.orders.models import Batch, BatchStatus, Order
from marketplace.orders.schemas import ClaimIn
from marketplace.pages.form_input import FormErrors, load_form
from marketplace.pages.refusals import refusal_text
from marketplace.pages.viewer import Viewer, signed_in, viewer
from marketplace.wages.service import HourlyPay
from marketplace.workers.hours import order_pace, pay_at_pace

blp = Blueprint("board", __name__)

# The board shows the oldest released batches first, as the API's first page does.
BOARD_PAGE = 200


def nav_links(viewer: Viewer) -> list[tuple[str, str]]:
    """The drop board in the header, for who may claim: a team's owner."""
    if not may_claim(viewer):
        return []
    return [("pages.board.board", _("Drop board"))]


def may_claim(viewer: Viewer) -> bool:
    """Whether the viewer claims for a team (the claim service's own role check)."""
    return viewer.actor.has(Role.TEAM_OWNER)


def owner() -> Actor:
    """The session's actor, if she owns a team (403 otherwise, as the claim service
    answers an annotator or a reviewer)."""
    actor = viewer().actor
    actor.require(Role.TEAM_OWNER)
    return actor


def owned_teams(actor: Actor) -> list[Party]:
    """The teams she owns, by id: the choice a form offers when she owns several."""
    ids = actor.party_ids(Role.TEAM_OWNER)
    return list(db.session.scalars(select(Party).where(Party.id.in_(ids)).order_by(Party.id)))


@dataclass
class OrderOnBoard:
    """One order's released batches, with what a team weighs before it claims them."""

    order: Order
    payment_record: dict
    overdue_bands: list[tuple[int, int, str]]
    hourly: HourlyPay | None
    below_reference_wage: bool | None
    batches: list[Batch] = field(default_factory=list)

    @property
    def reserved_minor(self) -> int | None:
        reserved = [b.reserved_minor for b in self.batches if b.reserved_minor is not None]
        return sum(reserved) if reserved else None


@blp.get("/board")
@signed_in
def board():
    """The drop board: drops to come (countdown), released batches by order, her batches."""
    return render_board(owner())


@blp.post("/board/batches/<int:batch_id>/claim")
@signed_in
def claim(batch_id: int):
    """Claim a released batch for her team, as POST /batches/{id}/claim does: the first
    claimer wins. A 409 (taken first, not dropped yet, a limit, a trial) is said on the
    board in her language, with the API's status; nothing is written."""
    actor = viewer().actor
    try:
        team_id = load_form(ClaimIn(), request.form)["team_id"]
    except FormErrors:
        abort(422)  # a team id that is no number: the API's 422
    try:
        with unit_of_work() as session:
            batch = claims.claim_batch(session, actor, batch_id, team_id)
            claimed = {"seq": batch.seq, "title": batch.order.title, "items": batch.item_count}
    except Conflict as refused:
        return render_board(
            owner(), refusal=refusal_text(refused), refused=db.session.get(Batch, batch_id)
        ), 409
    flash(_("Claimed: batch %(seq)s of “%(title)s”, %(items)s items.", **claimed), "info")
    return redirect(url_for(".board", _anchor="held"))


@blp.get("/board/held/<int:batch_id>")
@signed_in
def held_batch(batch_id: int):
    """One batch her team holds, with its lease timer; 404 for any other batch (another
    team's batch is not hers to read)."""
    actor = owner()
    batch = db.session.get(Batch, batch_id) if 0 < batch_id <= MAX_ID else None
    if batch is None or batch.claimed_by_party_id not in actor.party_ids(Role.TEAM_OWNER):
        abort(404)
    return render_template("board/held.html", batch=batch, now=clock.now())


def render_board(actor: Actor, *, refusal: str | None = None, refused: Batch | None = None):
    """The board as `actor` reads it through the API's services, at the clock's now."""
    batches = orders.board(db.session, actor, limit=BOARD_PAGE, after=0)
    board_read.send(db.session, actor=actor, batches=batches)
    return render_template(
        "board/board.html",
        on_board=_by_order(batches),
        drops=orders.next_drops(db.session, actor, viewer().timezone),
        held=held_batches(actor),
        teams=owned_teams(actor),
        now=clock.now(),
        refusal=refusal,
        refused=refused,
        full=len(batches) == BOARD_PAGE,
    )


def held_batches(actor: Actor) -> list[Batch]:
    """The batches her teams hold now (claimed, not finished), the soonest lease first."""
    query = (
        select(Batch)
        .where(
            Batch.claimed_by_party_id.in_(actor.party_ids(Role.TEAM_OWNER)),
            Batch.status == BatchStatus.CLAIMED,
        )
        .order_by(Batch.lease_expires_at.is_(None), Batch.lease_expires_at, Batch.id)
    )
    return list(db.session.scalars(query))


def _by_order(batches: list[Batch]) -> list[OrderOnBoard]:
    """The board's batches grouped by order, in the board's order (oldest batch first)."""
    grouped: dict[int, OrderOnBoard] = {}
    for batch in batches:
        entry = grouped.get(batch.order_id)
        if entry is None:
            order = batch.order
            record = batch.client_payment_record
            entry = grouped[order.id] = OrderOnBoard(
                order=order,
                payment_record=record,
                overdue_bands=_bands(record),
                hourly=_hourly(order),
                below_reference_wage=batch.below_reference_wage,
            )
        entry.batches.append(batch)
    return list(grouped.values())


def _hourly(order: Order) -> HourlyPay | None:
    """What an hour of the order's work pays at the price on the board and the order's
    pace (the median of its measured items, else the client's estimate); None on a bids
    order, whose price is sealed."""
    price = order.listed_price_micros
    if price is None:
        return None
    return pay_at_pace(db.session, price, order.currency, order_pace(db.session, order))


def _bands(record: dict) -> list[tuple[int, int, str]]:
    """The record's overdue money as a team reads it: a band per currency, in minor units."""
    return [
        (
            to_minor(Decimal(band["at_least"]), band["currency"]),
            to_minor(Decimal(band["below"]), band["currency"]),
            band["currency"],
        )
        for band in record["overdue_now"]
    ]


def countdown(until: datetime, now: datetime) -> str:
    """What is left until `until`, as H:MM:SS (hours may pass 24): the server's figure,
    which the page's script then counts down from."""
    seconds = max(0, math.ceil((until - now).total_seconds()))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


@blp.app_template_filter("countdown")
def _countdown_filter(until: datetime, now: datetime) -> str:
    return countdown(until, now)
