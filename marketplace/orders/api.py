from flask import current_app
from flask.views import MethodView

from marketplace.db import db, unit_of_work
from marketplace.identity.auth import BEARER_AUTH, current_actor
from marketplace.orders import claims, interest, rules, service, task_types, trials
from marketplace.orders.drop_schemas import (
    AllotmentOut,
    ClaimRuleIn,
    ClaimRuleOut,
    InterestIn,
    InterestOut,
    NextDropOut,
    OrderDropsOut,
    ZoneArgs,
)
from marketplace.orders.events import board_read
from marketplace.orders.schemas import (
    BatchOut,
    ClaimIn,
    OrderIn,
    OrderOut,
    TeamArgs,
    TrialOut,
    TrialScoreIn,
)
from marketplace.orders.task_type_schemas import TaskTypeIn, TaskTypeOut
from marketplace.wages.service import pay_at_estimate
from marketplace.web import Blueprint, PageArgs

blp = Blueprint("orders", __name__, url_prefix="/api/v1", description="Orders, batches and claims")


def with_hourly_pay(session, order):
    """The order for its client's answer at posting and publishing, with what an hour of
    its work pays at the client's estimate beside the reference wage."""
    order.hourly_pay = pay_at_estimate(session, order)
    return order


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
            return with_hourly_pay(session, service.create_order(session, current_actor(), data))


@blp.route("/orders/<int:order_id>")
class OrderById(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, OrderOut)
    def get(self, order_id):
        """One order (a bids order's price is its client's alone)"""
        return service.read_order(db.session, current_actor(), order_id)


@blp.route("/orders/<int:order_id>/publish")
class PublishOrder(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, OrderOut)
    def post(self, order_id):
        """Publish a draft: cut it into batches and release them for claiming"""
        with unit_of_work() as session:
            order = service.publish_order(
                session, current_actor(), order_id, wage_floor=current_app.config["WAGE_FLOOR"]
            )
            return with_hourly_pay(session, order)


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
        actor = current_actor()
        batches = service.board(db.session, actor, **page)
        board_read.send(db.session, actor=actor, batches=batches)
        return batches


@blp.route("/batches/<int:batch_id>/claim")
class ClaimBatch(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(ClaimIn)
    @blp.response(200, BatchOut)
    @blp.alt_response(409, description="Taken first, not dropped, or against the order's rules.")
    def post(self, data, batch_id):
        """Claim a released batch for your team; the first claimer wins, the rest get 409

        Also 409 when the order's trial or per-team limits forbid the claim
        (`trial_required`, `trial_failed`, `trial_already_taken`,
        `claim_limit_reached` with the limit in the details), and on a bids
        order when none of your team's contracts has room for the batch
        (`no_contract_room`).
        """
        with unit_of_work() as session:
            return claims.claim_batch(session, current_actor(), batch_id, data["team_id"])


@blp.route("/orders/<int:order_id>/interest")
class OrderInterest(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(InterestIn)
    @blp.response(200, InterestOut)
    def put(self, data, order_id):
        """Ask for batches of a lottery order's next drop (asking again replaces the count)"""
        with unit_of_work() as session:
            return interest.register_interest(
                session, current_actor(), order_id, data["team_id"], data["batches"]
            )

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(TeamArgs, location="query")
    @blp.response(204)
    def delete(self, args, order_id):
        """Take back your team's interest in the order's next drop"""
        with unit_of_work() as session:
            interest.withdraw_interest(session, current_actor(), order_id, args["team_id"])


@blp.route("/interests")
class Interests(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, InterestOut(many=True))
    def get(self):
        """Your teams' interests in drops still to come"""
        return interest.my_interests(db.session, current_actor())


@blp.route("/drops/<int:drop_id>/allotment")
class DropAllotment(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, AllotmentOut)
    def get(self, drop_id):
        """A drop's published lottery: seed, algorithm, and what each team asked and got"""
        return service.drop_allotment(db.session, current_actor(), drop_id)


@blp.route("/claim-rules")
class ClaimRules(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, ClaimRuleOut(many=True))
    def get(self):
        """Your teams' standing claim rules"""
        return rules.team_rules(db.session, current_actor())

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(ClaimRuleIn)
    @blp.response(201, ClaimRuleOut)
    def post(self, data):
        """Save a standing rule: at each drop of matching orders, claim up to N batches"""
        with unit_of_work() as session:
            return rules.save_rule(session, current_actor(), data)


@blp.route("/claim-rules/<int:rule_id>")
class ClaimRuleById(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(204)
    def delete(self, rule_id):
        """Delete a standing claim rule"""
        with unit_of_work() as session:
            rules.delete_rule(session, current_actor(), rule_id)


@blp.route("/orders/<int:order_id>/trials")
class OrderTrials(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, TrialOut(many=True))
    def get(self, order_id):
        """The order's trials and their scores (a team sees its own)"""
        return trials.order_trials(db.session, current_actor(), order_id)


@blp.route("/batches/<int:batch_id>/trial-score")
class TrialScore(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(TrialScoreIn)
    @blp.response(200, TrialOut)
    def post(self, data, batch_id):
        """Score a team's finished trial batch (the order's client, once)"""
        with unit_of_work() as session:
            return trials.score_trial(
                session, current_actor(), batch_id, data["score"], data["note"]
            )


@blp.route("/task-types")
class TaskTypes(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, TaskTypeOut(many=True))
    def get(self):
        """Every task type: its result schema, rules and reason codes (the platform's first)"""
        current_actor()
        return task_types.list_task_types(db.session)

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(TaskTypeIn)
    @blp.response(201, TaskTypeOut)
    def post(self, data):
        """Add your own task type by posting its result schema and rules"""
        with unit_of_work() as session:
            return task_types.create_task_type(session, current_actor(), data)


@blp.route("/task-types/<key>")
class TaskTypeByKey(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, TaskTypeOut)
    def get(self, key):
        """One task type"""
        current_actor()
        return task_types.get_task_type(db.session, key)
