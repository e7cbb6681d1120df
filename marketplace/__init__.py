"""Piecework: a marketplace and payout backend for piece-rate data-labeling work."""

from typing import Any

from flask import Flask

from marketplace.config import Config
from marketplace.db import db
from marketplace.identity.auth import authenticate_request
from marketplace.identity.service import use_password_profile
from marketplace.limits import limiter
from marketplace.web import Api, register_error_handlers, swagger_ui


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints, error handlers."""
    app = Flask(__name__)
    app.config.from_object(Config())
    app.config.update(overrides or {})

    db.init_app(app)
    limiter.init_app(app)
    use_password_profile(app.config["PASSWORD_HASH_PROFILE"])
    api = Api(
        app,
        spec_kwargs={
            "info": {
                "description": "Orders, drops, chains, work and payouts, exact to the fen. "
                "Authenticate with `Authorization: Bearer <token>` (POST /api/v1/auth/tokens)."
            },
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        },
    )
    # Authentication first: an anonymous request gets 401 before any other answer.
    app.before_request(authenticate_request)
    register_error_handlers(app)
    app.register_blueprint(swagger_ui)

    from marketplace.accounts.api import blp as accounts_blp
    from marketplace.identity.api import blp as identity_blp
    from marketplace.notices.api import blp as notices_blp
    from marketplace.orders.announce import announce_claim
    from marketplace.orders.api import blp as orders_blp
    from marketplace.orders.events import batch_claimed, board_read, items_added
    from marketplace.orders.items_api import blp as items_blp
    from marketplace.payments.api import blp as payments_blp
    from marketplace.payments.balance_api import blp as balances_blp
    from marketplace.payments.earnings_api import blp as earnings_blp
    from marketplace.payments.stripe_gateway import StripeGateway
    from marketplace.payments.write_off_api import blp as write_offs_blp
    from marketplace.receivables.api import blp as receivables_blp
    from marketplace.receivables.record import note_payment_records
    from marketplace.results.api import blp as results_blp
    from marketplace.subcontract.added_items import grow_sole_award
    from marketplace.subcontract.api import blp as subcontract_blp
    from marketplace.subcontract.bids_api import blp as bids_blp
    from marketplace.subcontract.events import batches_handed_down, contract_made
    from marketplace.subcontract.service import hold_claimed_batch
    from marketplace.wages.api import blp as wages_blp
    from marketplace.workers.api import blp as workers_blp
    from marketplace.workers.hours import note_board
    from marketplace.workers.levels_api import blp as levels_blp
    from marketplace.workers.members_api import blp as members_blp
    from marketplace.workers.service import (
        check_claimed_pay,
        check_piece_rate_within,
        hand_over_tasks,
        open_tasks,
    )

    blueprints = (
        identity_blp,
        accounts_blp,
        orders_blp,
        items_blp,
        subcontract_blp,
        bids_blp,
        workers_blp,
        levels_blp,
        members_blp,
        payments_blp,
        balances_blp,
        write_offs_blp,
        earnings_blp,
        receivables_blp,
        results_blp,
        notices_blp,
        wages_blp,
    )
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    # The people's pages beside the API, on the same services (marketplace/pages).
    from marketplace.pages import init_pages

    init_pages(app, blueprints)
    # None without a key: the manual gateway (recorded transfers, bank files) is the default.
    app.extensions["stripe_gateway"] = StripeGateway.from_config(app.config)

    # A claim puts the batch under the team's contract, then opens its tasks and is
    # announced to the team's and the client's webhook endpoints; batches
    # passed down a chain take their tasks along; a contract, new or claimed under, never
    # pays less than its team already pays its annotators. All in the same unit of work.
    batch_claimed.connect(hold_claimed_batch)
    batch_claimed.connect(check_claimed_pay)
    batch_claimed.connect(open_tasks)
    batch_claimed.connect(announce_claim)
    batches_handed_down.connect(hand_over_tasks)
    contract_made.connect(check_piece_rate_within)
    items_added.connect(grow_sole_award)
    # The drop board tells each team whether its own rate card pays the reference wage,
    # and how each order's client pays.
    board_read.connect(note_board)
    board_read.connect(note_payment_records)

    from marketplace.cli import register_commands

    register_commands(app)
    return app
