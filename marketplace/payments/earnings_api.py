"""What parties earn, as they read it: earnings, per day, statements, per member, margins."""

from flask.views import MethodView

from marketplace.db import db
from marketplace.identity.auth import BEARER_AUTH, current_actor
from marketplace.payments import earnings, hourly_pay, margins, work_days
from marketplace.payments.earnings_schemas import (
    DaysArgs,
    EarningsOut,
    MarginArgs,
    MarginReportOut,
    MemberEarningsOut,
    PeriodArgs,
    StatementArgs,
    StatementOut,
    WorkDaysOut,
)
from marketplace.payments.hourly_schemas import (
    AnnotatorHoursOut,
    OrderHourlyPayOut,
    TeamHoursOut,
)
from marketplace.web import Blueprint, csv_download

blp = Blueprint(
    "earnings",
    __name__,
    url_prefix="/api/v1",
    description="Earnings: pending, available and paid, per day, statements, margins",
)


@blp.route("/orders/<int:order_id>/margins")
class MarginReport(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(MarginArgs, location="query")
    @blp.response(200, MarginReportOut)
    @blp.alt_response(200, content_type="text/csv", description="With `format=csv`.")
    def get(self, args, order_id):
        """Your team's margin on each of its links of the order, over the accepted items"""
        report = margins.margin_report(db.session, current_actor(), order_id, args["team_id"])
        if args["format"] == "csv":
            return csv_download(margins.margin_csv(report), f"margins-order-{order_id}.csv")
        return report


@blp.route("/me/earnings")
class MyEarnings(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, EarningsOut)
    def get(self):
        """What you earned: pending (with the invoices it waits on), available, paid"""
        return {"holdings": earnings.earnings_of(db.session, current_actor())}


@blp.route("/me/earnings/days")
class MyEarningsDays(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(PeriodArgs, location="query")
    @blp.response(200, WorkDaysOut)
    def get(self, args):
        """Your items and exact pay per day of a period in your team's time zone, for a chart"""
        return work_days.annotator_days(
            db.session, current_actor(), args["team_id"], args["from"], args["to"]
        )


@blp.route("/me/earnings/statement")
class MyStatement(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(StatementArgs, location="query")
    @blp.response(200, StatementOut)
    @blp.alt_response(200, content_type="text/csv", description="With `format=csv`.")
    def get(self, args):
        """Your statement of a period: work and money in, settled and paid out, per day"""
        actor = current_actor()
        report = work_days.statement(db.session, actor, args["team_id"], args["from"], args["to"])
        if args["format"] == "csv":
            locale = work_days.statement_locale(db.session, actor, args["locale"])
            name = f"statement-{report['from']}-{report['to']}.csv"
            return csv_download(work_days.statement_csv(report, locale), name)
        return report


@blp.route("/teams/<int:team_id>/earnings")
class TeamEarnings(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, MemberEarningsOut(many=True))
    def get(self, team_id):
        """Per member of your team: today's and this month's work, pending, available, paid"""
        return work_days.team_members_earnings(db.session, current_actor(), team_id)


@blp.route("/me/earnings/hourly")
class MyHourlyPay(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(PeriodArgs, location="query")
    @blp.response(200, AnnotatorHoursOut)
    def get(self, args):
        """What an hour of your work paid, per task type and per day of a period: your piece
        rate x 3600 / your median seconds per accepted item, beside the reference wage"""
        return hourly_pay.annotator_hours(
            db.session, current_actor(), args["team_id"], args["from"], args["to"]
        )


@blp.route("/teams/<int:team_id>/hourly-pay")
class TeamHourlyPay(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(DaysArgs, location="query")
    @blp.response(200, TeamHoursOut)
    def get(self, args, team_id):
        """Per order and per member of your team: what an hour paid its annotators, and
        whether your rate card pays below the reference wage (team owners)"""
        return hourly_pay.team_hours(db.session, current_actor(), team_id, args["from"], args["to"])


@blp.route("/orders/<int:order_id>/hourly-pay")
class OrderHourlyPay(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, OrderHourlyPayOut)
    def get(self, order_id):
        """What an hour of the order's work pays at your price and what reaches the
        performing teams, at its median time per item (your estimate until 30 items are
        measured), beside the reference wage (the order's client)"""
        return hourly_pay.order_hours(db.session, current_actor(), order_id)
