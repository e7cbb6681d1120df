"""What the owner's pages say when a claim, an interest, a rule, a bid or an offer is
refused (409 and 422 of the orders and subcontract services), in her language.

The rules stay in the services; only their words are here. A refusal whose message is
fixed is looked up by that message (marked below for the catalogs, as messages.py
does); one whose message carries numbers (a per-team limit) is said again from its
code and details. Anything else falls back to `messages.error_text`.
"""

from flask_babel import gettext, lazy_gettext

from marketplace.errors import DomainError
from marketplace.pages.messages import error_text

# The services' fixed messages, marked for `pybabel extract`.
KNOWN = (
    # orders/claims.py
    lazy_gettext("Another team claimed this batch first."),
    lazy_gettext("This batch has not dropped yet."),
    lazy_gettext("Your team has already taken its trial of this order."),
    lazy_gettext(
        "This order needs a passed trial first: claim a trial batch and wait for its score."
    ),
    lazy_gettext("Your team's trial of this order did not pass."),
    # subcontract/service.py, on a bids order's batch
    lazy_gettext(
        "Only teams holding a contract for this order's items claim its batches, and none of "
        "your team's contracts has room for this batch."
    ),
    # identity/standing.py
    lazy_gettext(
        "The client is on credit hold until its overdue invoices are paid or an admin "
        "lifts the hold."
    ),
    # orders/interest.py
    lazy_gettext("This order's batches go first come, first served."),
    lazy_gettext("No drop of this order is coming."),
    lazy_gettext("Your team has no interest in this order's next drop."),
    # orders/rules.py
    lazy_gettext("A minimum price means nothing without its currency."),
    # subcontract: offers and bids
    lazy_gettext("The offer was taken or withdrawn."),
    lazy_gettext("This offer is not made to your team."),
    lazy_gettext("Only an offer open to all takes bids."),
    lazy_gettext("The contract has not that many items left to pass down."),
    lazy_gettext("Give the quantity to pass down, or the batches."),
    lazy_gettext("This order takes claims of its batches, not bids."),
    lazy_gettext("This order is not published yet."),
    lazy_gettext("A subcontract cannot pay more per item than its parent contract pays."),
    lazy_gettext("This team is already a link of the chain."),
    lazy_gettext("These two parties already have a contract on this order, on other terms."),
)


def refusal_text(error: DomainError) -> str:
    """The refusal in the viewer's language: spelled out from its code where the
    service's message carries numbers, else its own message, else general words."""
    details = error.details
    if error.code == "claim_limit_reached":
        if details.get("limit") == "batches_held":
            return gettext(
                "Limit reached: the client lets a team hold %(max)d unfinished batches at "
                "once, and your team holds %(used)d.",
                max=details["max"],
                used=details["used"],
            )
        return gettext(
            "Limit reached: the client lets a team take %(max)d batches of one drop, and "
            "your team has taken %(used)d.",
            max=details["max"],
            used=details["used"],
        )
    if error.code == "trial_failed":
        return gettext(
            "Your team's trial of this order did not pass: it scored %(score)s, the pass "
            "mark is %(pass_score)s.",
            score=details.get("score"),
            pass_score=details.get("pass_score"),
        )
    if error.code == "batch_not_passable":
        return gettext("Batch %(id)s cannot be passed down.", id=details.get("batch_id"))
    if error.code == "chain_too_deep":
        return gettext(
            "The client allows chains of at most %(max)d links.", max=details["max_depth"]
        )
    if error.code == "pass_through_too_low":
        return gettext(
            "The client wants at least %(share)s of its price to reach each link.",
            share=details["min_pass_through"],
        )
    if error.code == "quantity_too_large":
        return gettext("A bid is for at most %(most)s items.", most=details.get("most"))
    if error.code == "email_not_verified":
        return gettext("Verify your e-mail address first: follow the link we sent you.")
    return error_text(error) or gettext(
        "The request was refused. Go back and try again; if it happens again, tell the platform."
    )
