"""Reference wages: read by everyone signed in, set by platform admins."""

from flask.views import MethodView

from marketplace.db import db, unit_of_work
from marketplace.identity.auth import BEARER_AUTH, current_actor
from marketplace.wages import service
from marketplace.wages.schemas import ReferenceWageIn, ReferenceWageOut
from marketplace.web import Blueprint

blp = Blueprint(
    "wages", __name__, url_prefix="/api/v1", description="Reference wages: what an hour should pay"
)


@blp.route("/reference-wages")
class ReferenceWages(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, ReferenceWageOut(many=True))
    def get(self):
        """Every reference wage per currency and region, with its source and the day it
        took effect (the latest first)"""
        current_actor()
        return service.list_wages(db.session)

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(ReferenceWageIn)
    @blp.response(201, ReferenceWageOut)
    def post(self, data):
        """Set a region's reference wage from a day on (platform admins); the same
        currency, region and day again replaces it"""
        with unit_of_work() as session:
            return service.save_wage(session, current_actor(), data)
