"""Notices: a party's webhook endpoints and their delivery logs, a user's e-mail choices."""

from flask import current_app
from flask.views import MethodView

from marketplace.db import db, unit_of_work
from marketplace.identity.auth import BEARER_AUTH, current_actor
from marketplace.notices import endpoints, preferences
from marketplace.notices.schemas import (
    DeliveryOut,
    EndpointChangeIn,
    EndpointIn,
    EndpointOut,
    EndpointWithSecretOut,
    PreferencesIn,
    PreferencesOut,
)
from marketplace.web import Blueprint, PageArgs

blp = Blueprint(
    "notices",
    __name__,
    url_prefix="/api/v1",
    description="Signed webhooks for a client's or team's events; e-mail preferences",
)


def _allow_private() -> bool:
    return current_app.config["WEBHOOK_ALLOW_PRIVATE_URLS"]


@blp.route("/webhook-endpoints")
class WebhookEndpoints(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, EndpointOut(many=True))
    def get(self):
        """Your parties' webhook endpoints (client admins, team owners)"""
        return endpoints.list_endpoints(db.session, current_actor())

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(EndpointIn)
    @blp.response(201, EndpointWithSecretOut)
    def post(self, data):
        """Register a webhook endpoint; the answer holds its signing secret, shown only once

        Events are POSTed as JSON with a `Piecework-Signature` header (docs/webhooks.md)."""
        with unit_of_work() as session:
            return endpoints.register_endpoint(
                session, current_actor(), allow_private=_allow_private(), **data
            )


@blp.route("/webhook-endpoints/<int:endpoint_id>")
class WebhookEndpoint(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, EndpointOut)
    def get(self, endpoint_id):
        """One of your parties' webhook endpoints"""
        return endpoints.get_endpoint(db.session, current_actor(), endpoint_id)

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(EndpointChangeIn)
    @blp.response(200, EndpointOut)
    def patch(self, changes, endpoint_id):
        """Change the endpoint's URL, events or description, or disable and enable it"""
        with unit_of_work() as session:
            return endpoints.update_endpoint(
                session, current_actor(), endpoint_id, changes, allow_private=_allow_private()
            )

    @blp.doc(security=BEARER_AUTH)
    @blp.response(204)
    def delete(self, endpoint_id):
        """Remove the endpoint and its delivery log"""
        with unit_of_work() as session:
            endpoints.delete_endpoint(session, current_actor(), endpoint_id)


@blp.route("/webhook-endpoints/<int:endpoint_id>/rotate-secret")
class WebhookSecret(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, EndpointWithSecretOut)
    def post(self, endpoint_id):
        """Replace the endpoint's signing secret at once; the new one is shown only now"""
        with unit_of_work() as session:
            return endpoints.rotate_secret(session, current_actor(), endpoint_id)


@blp.route("/webhook-endpoints/<int:endpoint_id>/deliveries")
class WebhookDeliveries(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, DeliveryOut(many=True))
    def get(self, args, endpoint_id):
        """The endpoint's delivery log: each event, its attempts and what the endpoint answered"""
        return endpoints.list_deliveries(db.session, current_actor(), endpoint_id, **args)


@blp.route("/me/notice-preferences")
class NoticePreferences(MethodView):
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, PreferencesOut)
    def get(self):
        """What you are told by e-mail"""
        return preferences.preferences_of(db.session, current_actor().user_id)

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(PreferencesIn)
    @blp.response(200, PreferencesOut)
    def put(self, changes):
        """Choose what you are told by e-mail (the fields you send change; others stay)"""
        with unit_of_work() as session:
            return preferences.set_preferences(session, current_actor(), changes)
