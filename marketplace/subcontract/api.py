"""Contracts, chains and offers of subcontracts."""

from flask.views import MethodView

from marketplace.db import db, unit_of_work
from marketplace.identity.auth import BEARER_AUTH, current_actor
from marketplace.orders.schemas import ClaimIn, TeamArgs
from marketplace.subcontract import bids, chains, floors, offers, service
from marketplace.subcontract.schemas import (
    AcceptedOut,
    BidIn,
    BidOut,
    ChainOut,
    ContractOut,
    FlaggedContractOut,
    OfferArgs,
    OfferIn,
    OfferOut,
)
from marketplace.web import Blueprint

blp = Blueprint("subcontract", __name__, url_prefix="/api/v1", description="Contracts and chains")


@blp.route("/contracts")
class Contracts(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, FlaggedContractOut(many=True))
    def get(self):
        """Contracts your party is upstream or downstream of, flagged below your cost floors"""
        session, actor = db.session, current_actor()
        return floors.flag_downstream(session, actor, service.list_contracts(session, actor))


@blp.route("/contracts/<int:contract_id>")
class ContractById(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, FlaggedContractOut)
    def get(self, contract_id):
        """One contract of yours"""
        session, actor = db.session, current_actor()
        contract = service.get_contract(session, actor, contract_id)
        return floors.flag_downstream(session, actor, [contract])[0]


@blp.route("/contracts/<int:contract_id>/subcontracts")
class Subcontracts(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, ContractOut(many=True))
    def get(self, contract_id):
        """The subcontracts you made under your contract"""
        return service.subcontracts(db.session, current_actor(), contract_id)


@blp.route("/contracts/<int:contract_id>/chain")
class Chain(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, ChainOut)
    def get(self, contract_id):
        """The chain this contract is a link of, as you may see it

        Every party of the chain sees its links and quantities, and the prices
        of its own links only. The client also sees the depth and the
        pass-through share, never a middleman's price.
        """
        return chains.chain_view(db.session, current_actor(), contract_id)


@blp.route("/contracts/<int:contract_id>/offers")
class ContractOffers(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(OfferIn)
    @blp.response(201, OfferOut)
    @blp.alt_response(409, description="Over the contract's room, the price or the client's caps.")
    def post(self, data, contract_id):
        """Offer items of your contract to another team, or to any team's bid

        409: `quantity_exceeds_room`, `price_above_contract`, `party_in_chain`,
        `chain_too_deep`, `pass_through_too_low`, `batch_not_passable`.
        """
        with unit_of_work() as session:
            return offers.make_offer(session, current_actor(), contract_id, data)


@blp.route("/offers")
class Offers(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(OfferArgs, location="query")
    @blp.response(200, OfferOut(many=True))
    def get(self, args):
        """Offers made to your team, open to all, or made by you; flagged below your floors"""
        return offers.list_offers(db.session, current_actor(), **args)


@blp.route("/offers/<int:offer_id>")
class OfferById(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(TeamArgs, location="query")
    @blp.response(200, OfferOut)
    def get(self, args, offer_id):
        """One offer, flagged against your team's cost floor"""
        return offers.read_offer(db.session, current_actor(), offer_id, args["team_id"])

    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, OfferOut)
    def delete(self, offer_id):
        """Withdraw an open offer of yours"""
        with unit_of_work() as session:
            return offers.withdraw_offer(session, current_actor(), offer_id)


@blp.route("/offers/<int:offer_id>/accept")
class AcceptOffer(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(ClaimIn)
    @blp.response(201, AcceptedOut)
    def post(self, data, offer_id):
        """Take an offer whole at its price: the subcontract, flagged against your floor"""
        with unit_of_work() as session:
            contract, offer = offers.accept_offer(
                session, current_actor(), offer_id, data["team_id"]
            )
            return {"contract": contract, "offer": offer}


@blp.route("/offers/<int:offer_id>/bids")
class OfferBids(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, BidOut(many=True))
    def get(self, offer_id):
        """Bids on an open offer: all, for its maker; your own, for a bidder"""
        return bids.offer_bids(db.session, current_actor(), offer_id)

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(BidIn)
    @blp.response(201, BidOut)
    def post(self, data, offer_id):
        """Bid your price for an open offer"""
        with unit_of_work() as session:
            return bids.bid_on_offer(session, current_actor(), offer_id, data)
