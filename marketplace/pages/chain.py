"""Getting work down the chain, the team owner's side: tenders and her bids, offers made to
her team or by it, the contracts she works under and the subcontracts she passed down,
her margin per order, and her cost floors, whose warnings follow every price below them.

Every read and write is the API's own service with the session's actor, so she sees
what the API shows her and nothing more: the prices of her own links only, never one
above hers (`chains.chain_view`, `offers.list_offers`, `margins.margin_report`).
"""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from marketplace.db import db, unit_of_work
from marketplace.errors import DomainError
from marketplace.identity.actor import Actor
from marketplace.identity.models import Party, PartyKind, Role
from marketplace.orders.schemas import ClaimIn
from marketplace.pages.board import may_claim, owned_teams, owner
from marketplace.pages.form_input import FormErrors, load_form
from marketplace.pages.formatting import exact_price
from marketplace.pages.refusals import refusal_text
from marketplace.pages.viewer import Viewer, signed_in, viewer
from marketplace.payments.margins import margin_report
from marketplace.subcontract import bids, chains, floors, offers, service
from marketplace.subcontract.schemas import BidIn, CostFloorIn, OfferIn

blp = Blueprint("chain", __name__)


def nav_links(viewer: Viewer) -> list[tuple[str, str]]:
    """The chain page in the header, for a team's owner (who bids, offers and accepts)."""
    if not may_claim(viewer):
        return []
    return [("pages.chain.chain", _("Chain"))]


@blp.get("/chain")
@signed_in
def chain():
    """Tenders, offers, contracts and subcontracts, margins and cost floors."""
    return render_chain(owner())


@blp.get("/chain/contracts/<int:contract_id>")
@signed_in
def contract(contract_id: int):
    """One chain as she may see it (GET /contracts/{id}/chain): every link and quantity,
    the prices of her own links only; 404 for a chain her team is no link of."""
    actor = owner()
    view = chains.chain_view(db.session, actor, contract_id)
    return render_template(
        "chain/contract.html",
        view=view,
        mine=actor.party_ids(Role.TEAM_OWNER),
        contract_id=contract_id,
    )


@blp.post("/chain/tenders/<int:order_id>/bids")
@signed_in
def bid_on_tender(order_id: int):
    """Bid her price and quantity for a bids order (POST /orders/{id}/bids)."""
    return _act(
        f"tender-{order_id}",
        BidIn(),
        lambda session, actor, data: bids.bid_on_order(session, actor, order_id, data),
        _("Your bid is placed."),
    )


@blp.post("/chain/offers/<int:offer_id>/bids")
@signed_in
def bid_on_offer(offer_id: int):
    """Bid her price for an offer open to all (POST /offers/{id}/bids)."""
    return _act(
        f"offer-{offer_id}",
        BidIn(),
        lambda session, actor, data: bids.bid_on_offer(session, actor, offer_id, data),
        _("Your bid is placed."),
    )


@blp.post("/chain/offers/<int:offer_id>/accept")
@signed_in
def accept_offer(offer_id: int):
    """Take an offer whole at its price (POST /offers/{id}/accept): the subcontract, with
    the warning when its price is below her team's cost floor."""

    def accept(session, actor, data):
        made, _offer = offers.accept_offer(session, actor, offer_id, data["team_id"])
        return made

    return _act(f"offer-{offer_id}", ClaimIn(), accept, _("You took the offer."))


@blp.post("/chain/offers/<int:offer_id>/withdraw")
@signed_in
def withdraw_offer(offer_id: int):
    """Withdraw an open offer of hers (DELETE /offers/{id})."""
    return _act(
        f"offer-{offer_id}",
        None,
        lambda session, actor, data: offers.withdraw_offer(session, actor, offer_id),
        _("Your offer is withdrawn."),
    )


@blp.post("/chain/contracts/<int:contract_id>/offers")
@signed_in
def pass_down(contract_id: int):
    """Pass items of her contract down (POST /contracts/{id}/offers): to one team, or
    open to every team's bid."""
    return _act(
        f"contract-{contract_id}",
        OfferIn(),
        lambda session, actor, data: offers.make_offer(session, actor, contract_id, data),
        _("Your offer is made."),
    )


@blp.post("/chain/floors")
@signed_in
def set_floor():
    """Set her team's cost floor for a task type (PUT /cost-floors)."""
    return _act(
        "floor",
        CostFloorIn(),
        lambda session, actor, data: floors.set_cost_floor(session, actor, data),
        _("Your cost floor is saved."),
    )


@blp.post("/chain/floors/<int:floor_id>/delete")
@signed_in
def delete_floor(floor_id: int):
    """Remove one of her team's cost floors (DELETE /cost-floors/{id})."""
    return _act(
        "floor",
        None,
        lambda session, actor, data: floors.delete_cost_floor(session, actor, floor_id),
        _("The cost floor is removed."),
    )


def _act(form_id: str, schema, call, done: str):
    """Parse the form with the API's schema, run the service in a unit of work, and go
    back to the chain page; a 409 or 422 is said beside the form that caused it, with
    the API's status, and nothing is written. A deal below her floor is said too."""
    actor = viewer().actor
    try:
        data = load_form(schema, request.form) if schema is not None else {}
    except FormErrors as invalid:
        return render_chain(owner(), failed=form_id, field_errors=invalid.errors), 422
    try:
        with unit_of_work() as session:
            result = call(session, actor, data)
            below = getattr(result, "below_cost_floor", False)
            floor = getattr(result, "cost_floor_micros", None)
            currency = getattr(result, "currency", None)
    except DomainError as refused:
        if refused.status not in (409, 422):
            raise
        return render_chain(owner(), failed=form_id, refusal=refusal_text(refused)), refused.status
    flash(done, "info")
    if below:
        flash(_below_floor_text(floor, currency), "warning")
    return redirect(url_for(".chain", _anchor=form_id))


def _below_floor_text(floor_micros: int, currency: str) -> str:
    return _(
        "Warning: this price is below your cost floor of %(floor)s an item.",
        floor=exact_price(floor_micros, currency),
    )


def render_chain(
    actor: Actor,
    *,
    failed: str | None = None,
    refusal: str | None = None,
    field_errors: dict | None = None,
):
    """The chain page as `actor` reads it through the API's services."""
    session = db.session
    teams = owned_teams(actor)
    mine = {team.id for team in teams}
    contracts = floors.flag_downstream(session, actor, service.list_contracts(session, actor))
    held = [c for c in contracts if c.downstream_party_id in mine]
    seen = offers.list_offers(session, actor, status=None, team_id=None)
    tenders = bids.tenders(session, actor)
    return render_template(
        "chain/chain.html",
        tenders=tenders,
        tender_bids={t.id: bids.order_bids(session, actor, t.id) for t in tenders},
        offers_to_me=[o for o in seen if o.from_party_id not in mine],
        offers_by_me=[o for o in seen if o.from_party_id in mine],
        held=[(c, service.room_of(session, c.deal)) for c in held],
        passed=[c for c in contracts if c.upstream_party_id in mine],
        margins=_margins(session, actor, held),
        cost_floors=floors.list_cost_floors(session, actor),
        other_teams=_other_teams(mine),
        teams=teams,
        failed=failed,
        refusal=refusal,
        field_errors=field_errors or {},
    )


def _margins(session, actor: Actor, held) -> list[dict]:
    """Her margin report per order she holds a contract of, per team (the API's
    GET /orders/{id}/margins): line, passed down, kept."""
    pairs = sorted({(c.order_id, c.downstream_party_id) for c in held})
    return [margin_report(session, actor, order_id, team) for order_id, team in pairs]


def _other_teams(mine: set[int]) -> list[Party]:
    """Teams she may pass work to: every team but her own (the API takes any team id)."""
    return list(
        db.session.scalars(
            select(Party)
            .where(Party.kind == PartyKind.TEAM, Party.id.not_in(mine))
            .order_by(Party.name)
        )
    )
