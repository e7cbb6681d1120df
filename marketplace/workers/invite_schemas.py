"""Schemas of team invites, their acceptance, and a member's deactivation."""

from marshmallow import Schema, fields, validate

from marketplace import clock
from marketplace.accounts.schemas import Address, LocaleField
from marketplace.identity.schemas import UserOut
from marketplace.web import PageArgs, not_blank
from marketplace.workers.invites import (
    DEFAULT_EXPIRY_DAYS,
    INVITED_ROLES,
    MAX_EXPIRY_DAYS,
)
from marketplace.workers.models import InviteStatus

LANGUAGE = {"description": "The language of the invitation mail and of her account."}


class InviteIn(Schema):
    email = Address(required=True, validate=validate.Length(max=254))
    role = fields.String(required=True, validate=validate.OneOf([str(r) for r in INVITED_ROLES]))
    level_id = fields.Integer(
        strict=True,
        load_default=None,
        metadata={"description": "Her starting level: one of your team's levels."},
    )
    locale = LocaleField(load_default="zh_CN", metadata=LANGUAGE)
    expires_in_days = fields.Integer(
        strict=True,
        load_default=DEFAULT_EXPIRY_DAYS,
        validate=validate.Range(min=1, max=MAX_EXPIRY_DAYS),
        metadata={"description": "How long the e-mailed link works."},
    )


class InviteOut(Schema):
    id = fields.Integer()
    team_id = fields.Integer(attribute="team_party_id")
    email = fields.String()
    role = fields.String()
    level_id = fields.Integer(allow_none=True)
    status = fields.Function(
        lambda invite: str(invite.status_at(clock.now())),
        metadata={"enum": [str(s) for s in InviteStatus]},
    )
    invited_by = fields.Integer(attribute="invited_by_user_id")
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    accepted_at = fields.DateTime(allow_none=True)
    accepted_by = fields.Integer(attribute="accepted_by_user_id", allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class InviteListArgs(PageArgs):
    status = fields.Enum(InviteStatus, by_value=True, load_default=None)


class AcceptIn(Schema):
    token = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "The invite code from the e-mail."},
    )
    name = fields.String(
        load_default=None,
        validate=[validate.Length(min=1, max=200), not_blank],
        metadata={"description": "New to Piecework: your name."},
    )
    password = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=200),
        metadata={
            "description": "New to Piecework: the password to set. Already have an account "
            "with this e-mail: its password (or call with your bearer token instead)."
        },
    )
    locale = LocaleField(load_default=None, metadata=LANGUAGE)


class AcceptOut(Schema):
    token = fields.String(metadata={"description": "Send as 'Authorization: Bearer <token>'."})
    user = fields.Nested(UserOut)
    team_id = fields.Integer()
    role = fields.String()


class MemberStateOut(Schema):
    team_id = fields.Integer()
    user_id = fields.Integer()
    roles = fields.List(fields.String())
    active = fields.Boolean()
    deactivated_at = fields.DateTime(allow_none=True)
    tasks_returned = fields.Integer(
        metadata={"description": "Tasks in her hands that went back to the team's open tasks."}
    )
