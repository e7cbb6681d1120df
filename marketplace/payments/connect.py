"""Stripe Connect accounts: where a Stripe payout run sends a team's or annotator's money."""

from sqlalchemy.orm import Session

from marketplace.db import find
from marketplace.errors import Conflict, Invalid, NotFound
from marketplace.identity.models import Party, PartyKind, User
from marketplace.payments.stripe_gateway import GatewayRefused, StripeGateway, StripeNotConfigured


def connect_payee(
    session: Session,
    stripe: StripeGateway | None,
    *,
    party_id: int | None = None,
    user_id: int | None = None,
    account: str | None = None,
    country: str | None = None,
) -> Party | User:
    """Record the payee's Connect account: `account` if given (one made on Stripe's
    dashboard), else a new Express account made through the gateway. A team or an
    annotator only; clients are never paid out."""
    payee = find(session, User, user_id) if user_id else find(session, Party, party_id or 0)
    if payee is None or (isinstance(payee, Party) and payee.kind != PartyKind.TEAM):
        raise NotFound("No such team or annotator.", code="payee_not_found")
    if account is not None:
        if not account.startswith("acct_"):
            raise Invalid("A Connect account id starts with acct_.", code="invalid_account")
        payee.stripe_account = account
        return payee
    if stripe is None:
        raise StripeNotConfigured("Stripe is not configured: set STRIPE_SECRET_KEY.")
    email = payee.email if isinstance(payee, User) else None
    try:
        payee.stripe_account = stripe.create_account(email=email, country=country)
    except GatewayRefused as refused:
        raise Conflict(
            refused.message, code="stripe_refused", stripe_code=refused.code
        ) from refused
    return payee
