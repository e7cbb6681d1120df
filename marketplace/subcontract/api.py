from flask.views import MethodView

from marketplace.db import db
from marketplace.identity.auth import BEARER_AUTH, current_actor
from marketplace.subcontract import service
from marketplace.subcontract.schemas import ContractOut
from marketplace.web import Blueprint

blp = Blueprint("subcontract", __name__, url_prefix="/api/v1", description="Contracts and chains")


@blp.route("/contracts")
class Contracts(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, ContractOut(many=True))
    def get(self):
        """Contracts your party is upstream or downstream of"""
        return service.list_contracts(db.session, current_actor())


@blp.route("/contracts/<int:contract_id>")
class ContractById(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, ContractOut)
    def get(self, contract_id):
        """One contract of yours"""
        return service.get_contract(db.session, current_actor(), contract_id)
