"""Fair drops, the owner's side: interest in a coming lottery drop, and standing claim
rules that claim for her team at every matching drop while she sleeps.

The same services as PUT/DELETE /orders/{id}/interest, GET /interests and
GET/POST/DELETE /claim-rules (`orders.interest`, `orders.rules`), with the session's
actor; their refusals are said in her language beside the form that caused them.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from marketplace.db import db, unit_of_work
from marketplace.errors import DomainError, Invalid
from marketplace.identity.models import Party
from marketplace.orders import interest, rules
from marketplace.orders import service as orders
from marketplace.orders.drop_schemas import ClaimRuleIn, InterestIn
from marketplace.orders.models import ClaimMode, Order, OrderStatus
from marketplace.orders.schemas import TeamArgs
from marketplace.pages.board import owned_teams, owner
from marketplace.pages.form_input import FormErrors, load_form
from marketplace.pages.messages import translated
from marketplace.pages.refusals import refusal_text
from marketplace.pages.viewer import signed_in, viewer

blp = Blueprint("fair", __name__)


def nav_links(viewer) -> list[tuple[str, str]]:
    """Reached from the drop board's own sub-navigation, not the header."""
    return []


@blp.get("/board/fair")
@signed_in
def fair():
    """Her interests in coming lottery drops, the lottery orders she may ask for, and her
    team's standing claim rules."""
    return render_fair()


@blp.post("/board/orders/<int:order_id>/interest")
@signed_in
def register(order_id: int):
    """Ask for batches of the lottery order's next drop (PUT /orders/{id}/interest)."""
    actor = viewer().actor
    try:
        data = load_form(InterestIn(), request.form)
        with unit_of_work() as session:
            interest.register_interest(session, actor, order_id, data["team_id"], data["batches"])
    except FormErrors as invalid:
        return render_fair(interest_errors={order_id: invalid.errors}), 422
    except DomainError as refused:
        if refused.status not in (409, 422):
            raise
        return render_fair(refusal=refusal_text(refused)), refused.status
    flash(_("Your interest is registered for the next drop."), "info")
    return redirect(url_for(".fair"))


@blp.post("/board/orders/<int:order_id>/interest/withdraw")
@signed_in
def withdraw(order_id: int):
    """Take back the team's interest in the order's next drop (DELETE .../interest)."""
    try:
        team_id = load_form(TeamArgs(), request.form)["team_id"]
    except FormErrors:
        abort(400)
    try:
        with unit_of_work() as session:
            interest.withdraw_interest(session, viewer().actor, order_id, team_id)
    except DomainError as refused:
        if refused.status != 409:
            raise
        return render_fair(refusal=refusal_text(refused)), 409
    flash(_("Your interest is withdrawn."), "info")
    return redirect(url_for(".fair"))


@blp.post("/board/rules")
@signed_in
def save_rule():
    """Save a standing claim rule for her team (POST /claim-rules)."""
    try:
        data = load_form(ClaimRuleIn(), request.form)
        with unit_of_work() as session:
            rules.save_rule(session, viewer().actor, data)
    except FormErrors as invalid:
        return render_fair(rule_errors=invalid.errors, rule_form=request.form), 422
    except Invalid as refused:  # beside the field it names, as the API's details do
        name = _form_field(refused.details.get("field"))
        errors = {name: translated(refused.message)}
        return render_fair(rule_errors=errors, rule_form=request.form), 422
    flash(_("The rule is saved: it claims for your team at every matching drop."), "info")
    return redirect(url_for(".fair", _anchor="rules"))


@blp.post("/board/rules/<int:rule_id>/delete")
@signed_in
def delete_rule(rule_id: int):
    """Delete one of her team's rules (DELETE /claim-rules/{id}); 404 for anyone else's."""
    with unit_of_work() as session:
        rules.delete_rule(session, viewer().actor, rule_id)
    flash(_("The rule is deleted."), "info")
    return redirect(url_for(".fair", _anchor="rules"))


def _form_field(name: str | None) -> str:
    """The form's field for a service's field name (client_id is chosen as `client_id`)."""
    return name or "batches_per_drop"


def render_fair(
    *,
    refusal: str | None = None,
    interest_errors: dict | None = None,
    rule_errors: dict | None = None,
    rule_form=None,
):
    actor = owner()
    session = db.session
    drops = orders.next_drops(session, actor, viewer().timezone)
    lottery = [d for d in drops if _is_lottery(d["order_id"])]
    clients = session.scalars(
        select(Party)
        .where(
            Party.id.in_(select(Order.client_party_id).where(Order.status == OrderStatus.PUBLISHED))
        )
        .order_by(Party.name)
    ).all()
    names = {party.id: party.name for party in clients}
    mine = interest.my_interests(session, actor)
    standing = rules.team_rules(session, actor)
    return render_template(
        "board/fair.html",
        lottery=lottery,
        interests=mine,
        rules=standing,
        clients=clients,
        client_names=names,
        order_titles=_titles(session, [i.order_id for i in mine] + [r.order_id for r in standing]),
        teams=owned_teams(actor),
        refusal=refusal,
        interest_errors=interest_errors or {},
        rule_errors=rule_errors or {},
        rule_form=rule_form or {},
    )


def _is_lottery(order_id: int) -> bool:
    return db.session.get(Order, order_id).claim_mode == ClaimMode.LOTTERY


def _titles(session, order_ids: list[int | None]) -> dict[int, str]:
    """The titles of the orders her interests and rules name (orders she may read)."""
    ids = {order_id for order_id in order_ids if order_id is not None}
    return dict(session.execute(select(Order.id, Order.title).where(Order.id.in_(ids))).all())
