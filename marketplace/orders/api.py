from flask.views import MethodView

from marketplace.db import db, unit_of_work
from marketplace.identity.auth import BEARER_AUTH, current_actor
from marketplace.orders import service
from marketplace.orders.schemas import (
    BatchOut,
    ClaimIn,
    NextDropOut,
    OrderDropsOut,
    OrderIn,
    OrderOut,
    ZoneArgs,
)
from marketplace.web import Blueprint, PageArgs

blp = Blueprint("orders", __name__, url_prefix="/api/v1", description="Orders, batches and claims")


@blp.route("/orders")
class Orders(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, OrderOut(many=True))
    def get(self, page):
        """Orders you may see: your client's, or those your team works on"""
        return service.list_orders(db.session, current_actor(), **page)

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(OrderIn)
    @blp.response(201, OrderOut)
    def post(self, data):
        """Post a draft order with its items (up to 100,000 in one request)"""
        with unit_of_work() as session:
            return service.create_order(session, current_actor(), data)


@blp.route("/orders/<int:order_id>")
class OrderById(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, OrderOut)
    def get(self, order_id):
        """One order"""
        return service.get_order(db.session, current_actor(), order_id)


@blp.route("/orders/<int:order_id>/publish")
class PublishOrder(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, OrderOut)
    def post(self, order_id):
        """Publish a draft: cut it into batches and release them for claiming"""
        with unit_of_work() as session:
            return service.publish_order(session, current_actor(), order_id)


@blp.route("/orders/<int:order_id>/batches")
class OrderBatches(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, BatchOut(many=True))
    def get(self, order_id):
        """The order's batches and who holds them (the client's view)"""
        return service.order_batches(db.session, current_actor(), order_id)


@blp.route("/orders/<int:order_id>/drops")
class OrderDrops(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(ZoneArgs, location="query")
    @blp.response(200, OrderDropsOut)
    def get(self, args, order_id):
        """The order's drops: past ones (on time, late or skipped, with why) and the next ones"""
        return service.order_drops(db.session, current_actor(), order_id, args["tz"])


@blp.route("/drops/upcoming")
class UpcomingDrops(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(ZoneArgs, location="query")
    @blp.response(200, NextDropOut(many=True))
    def get(self, args):
        """What drops next across all orders, soonest first, in your time zone"""
        return service.next_drops(db.session, current_actor(), args["tz"])


@blp.route("/batches")
class Board(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, BatchOut(many=True))
    def get(self, page):
        """The drop board: released batches a team may claim"""
        return service.board(db.session, current_actor(), **page)


@blp.route("/batches/<int:batch_id>/claim")
class ClaimBatch(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(ClaimIn)
    @blp.response(200, BatchOut)
    @blp.alt_response(409, description="Another team claimed the batch first.")
    def post(self, data, batch_id):
        """Claim a released batch for your team; the first claimer wins, the rest get 409"""
        with unit_of_work() as session:
            return service.claim_batch(session, current_actor(), batch_id, data["team_id"])
