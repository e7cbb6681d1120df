"""The client's balance: see it and its history, top it up by card; credit lines for admins."""

from flask.views import MethodView

from marketplace.db import db, unit_of_work
from marketplace.errors import Invalid
from marketplace.identity.auth import BEARER_AUTH, current_actor
from marketplace.money import MoneyError, check_currency
from marketplace.payments import balance_refunds, balances, refund_sending, stripe_collection
from marketplace.payments.amounts import minor_units
from marketplace.payments.api import stripe_gateway
from marketplace.payments.balance_schemas import (
    ClientAmountIn,
    ClientArgs,
    ClientBalanceOut,
    CreditLineIn,
    CreditLineOut,
    HistoryArgs,
    MovementOut,
    RefundOut,
    RefundPaidIn,
    RefundRefusedIn,
    TopUpIn,
)
from marketplace.payments.schemas import CardPaymentOut
from marketplace.web import Blueprint, PageArgs

blp = Blueprint(
    "balances",
    __name__,
    url_prefix="/api/v1",
    description="A client's balance, what its funded orders hold reserved, and credit lines",
)


@blp.route("/balance")
class ClientBalance(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(ClientArgs, location="query")
    @blp.response(200, ClientBalanceOut(many=True))
    def get(self, args):
        """Your balance per currency: available, reserved by each funded order, credit line"""
        return balances.client_balances(db.session, current_actor(), args["client_id"])


@blp.route("/balance/history")
class BalanceHistory(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(HistoryArgs, location="query")
    @blp.response(200, MovementOut(many=True))
    def get(self, args):
        """Every movement of your balance and reservations in a currency, oldest first"""
        return balances.balance_history(db.session, current_actor(), **args)


@blp.route("/balance/top-ups")
class TopUps(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(TopUpIn)
    @blp.response(201, CardPaymentOut)
    def post(self, data):
        """Add money to your balance by card (Stripe); a bank transfer is recorded by an admin

        It pays your open invoices first; the rest funds your orders' drops, and the
        drops that waited for it go out at once."""
        with unit_of_work() as session:
            return stripe_collection.top_up_by_card(
                session,
                current_actor(),
                stripe_gateway(),
                client_id=data["client_id"],
                amount_minor=minor_units(data["amount"], data["currency"], "amount"),
                currency=data["currency"],
                payment_method=data["payment_method"],
                attempt=data["attempt"],
            )


@blp.route("/balance/refunds")
class Refunds(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, RefundOut(many=True))
    def get(self, page):
        """Your client's requests for its balance back (everyone's, for platform admins)"""
        return balance_refunds.list_refunds(db.session, current_actor(), **page)

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(ClientAmountIn)
    @blp.response(201, RefundOut)
    def post(self, data):
        """Ask for your unreserved balance back (client admins)

        No more than what no invoice or funded order holds, less your open requests
        (409 `refund_exceeds_balance`); an admin sends it, or says why not."""
        with unit_of_work() as session:
            return balance_refunds.request_refund(session, current_actor(), **data)


@blp.route("/balance/refunds/<int:refund_id>/paid")
class RefundPaid(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(RefundPaidIn)
    @blp.response(200, RefundOut)
    @blp.alt_response(
        409,
        description="Decided already, beyond the balance, card money without Stripe "
        "(`refund_at_gateway`), a reference the cards do not need, or Stripe refused a "
        "card refund (`card_refund_refused`).",
    )
    @blp.alt_response(
        503, description="Stripe unreachable (`gateway_unavailable`): pay it again to finish."
    )
    def post(self, data, refund_id):
        """Send a requested refund back (platform admins): card money to its cards through
        Stripe, the rest by the bank transfer you record

        The client's card payments go back first, the latest first, refunded through
        Stripe by the platform (each once, whatever is retried; Stripe's `charge.refunded`
        events then change nothing). What they do not cover goes back by the bank transfer
        you sent: name its `reference` (422 without it, with the amount it must carry); a
        refund the cards take whole needs none. Without Stripe configured it all goes by
        bank transfer, and card money is refused (409 `refund_at_gateway`). If Stripe
        refuses or cannot be reached halfway, what was sent stays sent and recorded, the
        request stays open (`sent_by_card` says how far it got), and paying it again
        finishes it."""
        actor = current_actor()
        refund_sending.pay_refund(
            actor, stripe_gateway(), refund_id, reference=data.get("reference")
        )
        return balance_refunds.get_refund(db.session, actor, refund_id)


@blp.route("/balance/refunds/<int:refund_id>/refused")
class RefundRefused(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(RefundRefusedIn)
    @blp.response(200, RefundOut)
    def post(self, data, refund_id):
        """Refuse a requested refund, saying why (platform admins)"""
        with unit_of_work() as session:
            return balance_refunds.refuse_refund(session, current_actor(), refund_id, **data)


@blp.route("/clients/<int:client_id>/credit-lines/<currency>")
class CreditLineByCurrency(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(CreditLineIn)
    @blp.response(200, CreditLineOut)
    def put(self, data, client_id, currency):
        """Give a client a credit line, or change it (platform admins): it may then post
        invoiced orders, pay-when-paid, within the limit"""
        with unit_of_work() as session:
            return balances.set_credit_line(
                session, current_actor(), client_id, _currency(currency), **data
            )

    @blp.doc(security=BEARER_AUTH)
    @blp.response(204)
    def delete(self, client_id, currency):
        """End a client's credit line (platform admins)"""
        with unit_of_work() as session:
            balances.remove_credit_line(session, current_actor(), client_id, _currency(currency))


def _currency(code: str) -> str:
    try:
        return check_currency(code)
    except MoneyError as exc:
        raise Invalid(str(exc), code="invalid_currency", field="currency") from exc
