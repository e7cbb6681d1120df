from flask.views import MethodView

from marketplace.db import db, unit_of_work
from marketplace.identity import service
from marketplace.identity.auth import BEARER_AUTH, bearer_token, current_actor
from marketplace.identity.models import User
from marketplace.identity.schemas import UserOut
from marketplace.web import Blueprint

# Signing in (POST /auth/tokens) is in accounts/api.py, with its throttling and lockout.
blp = Blueprint("identity", __name__, url_prefix="/api/v1", description="Log out and who am I")


@blp.route("/auth/tokens/current")
class CurrentToken(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(204)
    def delete(self):
        """Log out: revoke the token this request carries"""
        current_actor()
        with unit_of_work() as session:
            service.revoke_token(session, bearer_token())


@blp.route("/me")
class Me(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, UserOut)
    def get(self):
        """The caller, with the parties and roles it acts in"""
        return db.session.get(User, current_actor().user_id)
