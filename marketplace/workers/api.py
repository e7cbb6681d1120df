from flask import current_app
from flask.views import MethodView

from marketplace.db import db, unit_of_work
from marketplace.identity.auth import BEARER_AUTH, current_actor
from marketplace.web import Blueprint
from marketplace.workers import disputes, review, service, tasks
from marketplace.workers.schemas import (
    BatchReviewOut,
    DecisionIn,
    DecisionRecordOut,
    DisputeDecisionIn,
    DisputeIn,
    DisputeListArgs,
    DisputeOut,
    PieceRateIn,
    PieceRateOut,
    ReviewIn,
    SkipIn,
    SubmissionListArgs,
    SubmissionOut,
    SubmitIn,
    TakeIn,
    TaskListArgs,
    TaskOut,
)

blp = Blueprint(
    "workers", __name__, url_prefix="/api/v1", description="Piece rates, tasks and review"
)


@blp.route("/orders/<int:order_id>/piece-rate")
class PieceRate(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(PieceRateIn)
    @blp.response(200, PieceRateOut)
    def put(self, data, order_id):
        """Set what your team pays its annotators per accepted item of this order"""
        with unit_of_work() as session:
            return service.set_piece_rate(session, current_actor(), order_id, data["unit_price"])


@blp.route("/tasks")
class Tasks(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(TaskListArgs, location="query")
    @blp.response(200, TaskOut(many=True))
    def get(self, args):
        """Your tasks, by status (default: the ones in your hands)"""
        return tasks.my_tasks(db.session, current_actor(), **args)


@blp.route("/tasks/next")
class NextTasks(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(TakeIn)
    @blp.response(200, TaskOut(many=True))
    def post(self, data):
        """Take the next open tasks of your team's claimed batches (empty when none are left)"""
        with unit_of_work() as session:
            return tasks.take_tasks(session, current_actor(), count=data["count"])


@blp.route("/tasks/<int:task_id>/submit")
class SubmitTask(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(SubmitIn)
    @blp.response(201, SubmissionOut)
    def post(self, data, task_id):
        """Submit your result for a task in your hands"""
        with unit_of_work() as session:
            return tasks.submit(
                session,
                current_actor(),
                task_id,
                data["result"],
                idle_limit_seconds=current_app.config["IDLE_LIMIT_SECONDS"],
            )


@blp.route("/tasks/<int:task_id>/skip")
class SkipTask(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(SkipIn)
    @blp.response(200, TaskOut)
    def post(self, data, task_id):
        """Put a task in your hands back, with a reason; you are not handed it again"""
        with unit_of_work() as session:
            return tasks.skip(session, current_actor(), task_id, data["reason"])


@blp.route("/submissions")
class Submissions(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(SubmissionListArgs, location="query")
    @blp.response(200, SubmissionOut(many=True))
    def get(self, args):
        """Your team's submissions by status (default: waiting for review); an annotator's own"""
        return review.list_submissions(db.session, current_actor(), **args)


@blp.route("/submissions/<int:submission_id>/review")
class ReviewSubmission(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(DecisionIn)
    @blp.response(200, SubmissionOut)
    def post(self, data, submission_id):
        """Accept a submitted item, or reject it with a reason code"""
        with unit_of_work() as session:
            [reviewed] = review.review(
                session, current_actor(), [{"submission_id": submission_id, **data}]
            )
            return reviewed


@blp.route("/submissions/<int:submission_id>/decisions")
class SubmissionDecisions(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, DecisionRecordOut(many=True))
    def get(self, submission_id):
        """Every decision on an item, oldest first: who, when, why and how"""
        return review.decision_history(db.session, current_actor(), submission_id)


@blp.route("/reviews")
class Reviews(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(ReviewIn)
    @blp.response(200, SubmissionOut(many=True))
    def post(self, data):
        """Review up to 1,000 submissions at once; all decisions apply or none"""
        with unit_of_work() as session:
            return review.review(session, current_actor(), data["decisions"])


@blp.route("/batches/<int:batch_id>/sample")
class BatchSample(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, SubmissionOut(many=True))
    def get(self, batch_id):
        """The finished batch's current review sample"""
        return review.batch_sample(db.session, current_actor(), batch_id)


@blp.route("/batches/<int:batch_id>/reviews")
class BatchReviews(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, BatchReviewOut(many=True))
    def get(self, batch_id):
        """Each concluded round of the batch's review: sample, accuracy, outcome"""
        return review.batch_reviews(db.session, current_actor(), batch_id)


@blp.route("/submissions/<int:submission_id>/dispute")
class DisputeSubmission(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(DisputeIn)
    @blp.response(201, DisputeOut)
    def post(self, data, submission_id):
        """Dispute the rejection of your item, within the order's review window"""
        with unit_of_work() as session:
            return disputes.open_dispute(session, current_actor(), submission_id, data["reason"])


@blp.route("/disputes")
class Disputes(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(DisputeListArgs, location="query")
    @blp.response(200, DisputeOut(many=True))
    def get(self, args):
        """Your disputes, and those of the teams you review for"""
        return disputes.list_disputes(db.session, current_actor(), **args)


@blp.route("/disputes/<int:dispute_id>")
class DisputeById(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, DisputeOut)
    def get(self, dispute_id):
        """One dispute and its state"""
        return disputes.get_dispute(db.session, current_actor(), dispute_id)


@blp.route("/disputes/<int:dispute_id>/decision")
class DecideDispute(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(DisputeDecisionIn)
    @blp.response(200, DisputeOut)
    def post(self, data, dispute_id):
        """Uphold (the item is accepted) or dismiss a dispute you did not cause"""
        with unit_of_work() as session:
            return disputes.decide_dispute(
                session,
                current_actor(),
                dispute_id,
                uphold=data["decision"] == "uphold",
                note=data["note"],
            )
