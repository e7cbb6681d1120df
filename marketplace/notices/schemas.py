"""Webhook endpoints, their deliveries and notice preferences as the API reads and writes them."""

from marshmallow import Schema, fields, validate

from marketplace.db import MAX_ID
from marketplace.notices.events import CATALOGUE, EVERY_TYPE
from marketplace.notices.models import DeliveryStatus
from marketplace.notices.preferences import MAX_LEAD_MINUTES
from marketplace.web import not_blank

EVENT_TYPES = [*CATALOGUE, EVERY_TYPE]


def _url(**kwargs) -> fields.Url:
    return fields.Url(
        schemes={"http", "https"},
        require_tld=False,
        validate=validate.Length(max=2048),
        metadata={"description": "Where events are POSTed: an http or https URL."},
        **kwargs,
    )


def _events(**kwargs) -> fields.List:
    return fields.List(
        fields.String(validate=validate.OneOf(EVENT_TYPES)),
        validate=validate.Length(min=1, max=len(EVENT_TYPES)),
        metadata={"description": f'Event types to receive, or ["{EVERY_TYPE}"] for all.'},
        **kwargs,
    )


def _description(**kwargs) -> fields.String:
    return fields.String(validate=[validate.Length(min=1, max=500), not_blank], **kwargs)


class EndpointIn(Schema):
    url = _url(required=True)
    events = _events(required=True)
    description = _description(load_default=None)
    party_id = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "The client or team it is for (default: your only one)."},
    )


class EndpointChangeIn(Schema):
    url = _url()
    events = _events()
    description = _description(allow_none=True)
    enabled = fields.Boolean()


class EndpointOut(Schema):
    id = fields.Integer()
    party_id = fields.Integer()
    url = fields.String()
    events = fields.List(fields.String())
    description = fields.String(allow_none=True)
    enabled = fields.Boolean()
    created_at = fields.DateTime()


class EndpointWithSecretOut(EndpointOut):
    secret = fields.String(
        metadata={"description": "whsec_...: verify signatures with it. Shown only now."}
    )


class EventOut(Schema):
    id = fields.String(attribute="public_id", metadata={"example": "evt_4f1c..."})
    type = fields.String()
    created = fields.DateTime(attribute="created_at")
    data = fields.Dict()


class DeliveryOut(Schema):
    id = fields.Integer()
    event = fields.Nested(EventOut)
    status = fields.String(metadata={"description": ", ".join(s.value for s in DeliveryStatus)})
    attempts = fields.Integer()
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    last_attempt_at = fields.DateTime(allow_none=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)


class PreferencesIn(Schema):
    drop_released_email = fields.Boolean(
        metadata={"description": "Team owners: an e-mail ahead of each drop your team may claim."}
    )
    lead_minutes = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=MAX_LEAD_MINUTES),
        metadata={"description": "How long before the drop that e-mail comes."},
    )
    earnings_email = fields.Boolean(
        metadata={"description": "Annotators: an e-mail when earnings become available or paid."}
    )


class PreferencesOut(Schema):
    drop_released_email = fields.Boolean()
    lead_minutes = fields.Integer()
    earnings_email = fields.Boolean()
