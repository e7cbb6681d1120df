"""Write-offs of a client's negative balance: platform admins record them; the client's
admins and platform admins read them."""

from flask.views import MethodView

from marketplace.db import db, unit_of_work
from marketplace.identity.auth import BEARER_AUTH, current_actor
from marketplace.payments import write_offs
from marketplace.payments.schemas import BalanceWriteOffArgs, BalanceWriteOffIn, BalanceWriteOffOut
from marketplace.web import Blueprint

blp = Blueprint(
    "write_offs",
    __name__,
    url_prefix="/api/v1",
    description="Write-offs of clients' negative balances: the platform's losses",
)


@blp.route("/clients/<int:client_id>/write-offs")
class ClientWriteOffs(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(BalanceWriteOffArgs, location="query")
    @blp.response(200, BalanceWriteOffOut(many=True))
    def get(self, args, client_id):
        """What was written off of the client's negative balance, oldest first (its client
        admins, platform admins)"""
        return write_offs.client_write_offs(db.session, current_actor(), client_id, **args)

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(BalanceWriteOffIn)
    @blp.response(201, BalanceWriteOffOut)
    def post(self, data, client_id):
        """Write off what the client owes of a negative balance (platform admins)

        A refund or chargeback that took back money its funded work was already paid from
        leaves the client's balance below zero. Writing it off books it as the platform's
        loss (Dr platform loss, Cr the client's balance), with its reason, never beyond
        zero (409 `write_off_exceeds_debt`; 409 `balance_not_negative` if it owes nothing).
        The client's credit hold stays until an admin lifts it."""
        with unit_of_work() as session:
            return write_offs.write_off_balance(session, current_actor(), client_id, **data)
