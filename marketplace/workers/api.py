from flask.views import MethodView

from marketplace.db import db, unit_of_work
from marketplace.identity.auth import BEARER_AUTH, current_actor
from marketplace.web import Blueprint
from marketplace.workers import service
from marketplace.workers.schemas import (
    DecisionIn,
    PieceRateIn,
    PieceRateOut,
    ReviewIn,
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
        return service.my_tasks(db.session, current_actor(), **args)


@blp.route("/tasks/next")
class NextTasks(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(TakeIn)
    @blp.response(200, TaskOut(many=True))
    def post(self, data):
        """Take the next open tasks of your team's claimed batches (empty when none are left)"""
        with unit_of_work() as session:
            return service.take_tasks(session, current_actor(), count=data["count"])


@blp.route("/tasks/<int:task_id>/submit")
class SubmitTask(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(SubmitIn)
    @blp.response(201, SubmissionOut)
    def post(self, data, task_id):
        """Submit your result for a task in your hands"""
        with unit_of_work() as session:
            return service.submit(session, current_actor(), task_id, data["result"])


@blp.route("/submissions")
class Submissions(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(SubmissionListArgs, location="query")
    @blp.response(200, SubmissionOut(many=True))
    def get(self, args):
        """Your team's submissions, by status (default: waiting for review)"""
        return service.list_submissions(db.session, current_actor(), **args)


@blp.route("/submissions/<int:submission_id>/review")
class ReviewSubmission(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(DecisionIn)
    @blp.response(200, SubmissionOut)
    def post(self, data, submission_id):
        """Accept a submitted item, or reject it with a reason"""
        with unit_of_work() as session:
            [reviewed] = service.review(
                session, current_actor(), [{"submission_id": submission_id, **data}]
            )
            return reviewed


@blp.route("/reviews")
class Reviews(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(ReviewIn)
    @blp.response(200, SubmissionOut(many=True))
    def post(self, data):
        """Review up to 1,000 submissions at once; all decisions apply or none"""
        with unit_of_work() as session:
            return service.review(session, current_actor(), data["decisions"])
