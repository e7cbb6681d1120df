from flask.views import MethodView

from marketplace.db import db, unit_of_work
from marketplace.identity.auth import BEARER_AUTH, current_actor
from marketplace.web import Blueprint
from marketplace.workers import levels
from marketplace.workers.level_schemas import (
    LevelChangeIn,
    LevelChangeOut,
    LevelIn,
    LevelOut,
    LevelPatch,
    LevelRateIn,
    MemberOut,
    TeamIn,
    TeamOut,
)

blp = Blueprint(
    "levels", __name__, url_prefix="/api/v1", description="A team's levels, rates and quotas"
)


@blp.route("/teams/<int:team_id>")
class Team(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(TeamIn)
    @blp.response(200, TeamOut)
    def patch(self, data, team_id):
        """Set your team's time zone: its day, quotas and tallies start at its midnight"""
        with unit_of_work() as session:
            return levels.set_team_timezone(session, current_actor(), team_id, data["timezone"])


@blp.route("/teams/<int:team_id>/levels")
class Levels(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, LevelOut(many=True))
    def get(self, team_id):
        """Your team's levels, lowest first, with their rate cards"""
        return levels.list_levels(db.session, current_actor(), team_id)

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(LevelIn)
    @blp.response(201, LevelOut)
    def post(self, data, team_id):
        """Add a level to your team's ladder"""
        with unit_of_work() as session:
            return levels.save_level(session, current_actor(), data, team_id=team_id)


@blp.route("/levels/<int:level_id>")
class LevelById(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(LevelPatch(partial=True))
    @blp.response(200, LevelOut)
    def patch(self, data, level_id):
        """Change a level's name, rank, quota, reviewing or promotion rule"""
        with unit_of_work() as session:
            return levels.save_level(session, current_actor(), data, level_id=level_id)


@blp.route("/levels/<int:level_id>/rates")
class LevelRates(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(LevelRateIn)
    @blp.response(200, LevelOut)
    def put(self, data, level_id):
        """Set the level's pay per accepted item of a task type, in a currency"""
        with unit_of_work() as session:
            return levels.set_level_rate(
                session,
                current_actor(),
                level_id,
                task_type=data["task_type"],
                currency=data["currency"],
                micros=data["unit_price"],
            )


@blp.route("/teams/<int:team_id>/members")
class Members(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, MemberOut(many=True))
    def get(self, team_id):
        """Your team's annotators: level, today's items, and the next level's eligibility"""
        return levels.members(db.session, current_actor(), team_id)


@blp.route("/teams/<int:team_id>/members/<int:user_id>/levels")
class MemberLevels(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, LevelChangeOut(many=True))
    def get(self, team_id, user_id):
        """A member's level history, oldest first"""
        return levels.level_history(db.session, current_actor(), team_id, user_id)

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(LevelChangeIn)
    @blp.response(201, LevelChangeOut)
    def post(self, data, team_id, user_id):
        """Move a member to a level (a move up needs her eligible under its rule)"""
        with unit_of_work() as session:
            return levels.change_level(
                session, current_actor(), team_id, user_id, data["level_id"], data["note"]
            )
