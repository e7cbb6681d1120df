"""Tenders, bids and awards, and the teams' cost floors."""

from flask.views import MethodView

from marketplace.db import db, unit_of_work
from marketplace.identity.auth import BEARER_AUTH, current_actor
from marketplace.subcontract import bids, floors
from marketplace.subcontract.schemas import (
    AwardIn,
    BidIn,
    BidOut,
    CostFloorIn,
    CostFloorOut,
    TenderOut,
)
from marketplace.web import Blueprint

blp = Blueprint("bids", __name__, url_prefix="/api/v1", description="Bids, awards, cost floors")


@blp.route("/tenders")
class Tenders(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, TenderOut(many=True))
    def get(self):
        """Published bids orders, open to your team's bid (the client's budget stays sealed)"""
        return bids.tenders(db.session, current_actor())


@blp.route("/orders/<int:order_id>/bids")
class OrderBids(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, BidOut(many=True))
    def get(self, order_id):
        """Bids on a bids order: all, for its client; your own, for a team"""
        return bids.order_bids(db.session, current_actor(), order_id)

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(BidIn)
    @blp.response(201, BidOut)
    def post(self, data, order_id):
        """Bid your price and quantity for a bids order"""
        with unit_of_work() as session:
            return bids.bid_on_order(session, current_actor(), order_id, data)


@blp.route("/bids/<int:bid_id>")
class BidById(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, BidOut)
    def get(self, bid_id):
        """One bid: your team's, or one on your order or offer"""
        return bids.get_bid(db.session, current_actor(), bid_id)

    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, BidOut)
    def delete(self, bid_id):
        """Withdraw an open bid of your team's"""
        with unit_of_work() as session:
            return bids.withdraw_bid(session, current_actor(), bid_id)


@blp.route("/bids/<int:bid_id>/award")
class AwardBid(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(AwardIn)
    @blp.response(200, BidOut)
    @blp.alt_response(409, description="Over what is left, or against the client's caps.")
    def post(self, data, bid_id):
        """Award a bid (or part of it): a contract at the bid's price

        The client awards bids on its order; an offer's maker awards bids on its
        offer, within the client's caps.
        """
        with unit_of_work() as session:
            return bids.award_bid(session, current_actor(), bid_id, data["quantity"])


@blp.route("/cost-floors")
class CostFloors(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, CostFloorOut(many=True))
    def get(self):
        """Your teams' cost floors"""
        return floors.list_cost_floors(db.session, current_actor())

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(CostFloorIn)
    @blp.response(200, CostFloorOut)
    def put(self, data):
        """Set your team's cost floor for a task type: lower prices are flagged to you"""
        with unit_of_work() as session:
            return floors.set_cost_floor(session, current_actor(), data)


@blp.route("/cost-floors/<int:floor_id>")
class CostFloorById(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(204)
    def delete(self, floor_id):
        """Remove a cost floor of your team's"""
        with unit_of_work() as session:
            floors.delete_cost_floor(session, current_actor(), floor_id)
