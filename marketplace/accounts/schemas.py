from zoneinfo import available_timezones

from marshmallow import Schema, ValidationError, fields, validate

from marketplace.accounts.models import SignupStatus
from marketplace.identity.schemas import UserOut
from marketplace.web import PageArgs, not_blank

# The languages the platform speaks, as people write them, and as users.locale keeps them
# (CLDR, which babel formats numbers and dates with).
LOCALES = {"zh-CN": "zh_CN", "en": "en"}
# IANA names of places; the tz database's others follow the server's own settings.
TIMEZONES = frozenset(available_timezones() - {"Factory", "localtime", "posixrules"})
PASSWORD = validate.Length(min=8, max=200)
SECRET = validate.Length(min=1, max=200)


def iana_zone(name: str) -> None:
    if name not in TIMEZONES:
        raise ValidationError("Not an IANA time zone name, such as Asia/Shanghai.")


class LocaleField(fields.String):
    """`zh-CN` or `en` in JSON; the CLDR locale (zh_CN, en) inside."""

    def __init__(self, **kwargs):
        metadata = {"enum": list(LOCALES), **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        language = super()._deserialize(value, attr, data, **kwargs)
        if language not in LOCALES:
            raise ValidationError(f"One of: {', '.join(LOCALES)}.")
        return LOCALES[language]


class Address(fields.Email):
    """An e-mail address; blanks around a pasted one are no part of it."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(
            value.strip() if isinstance(value, str) else value, attr, data, **kwargs
        )


class SignupIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["client", "team"]))
    email = Address(required=True, validate=validate.Length(max=254))
    name = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=200), not_blank],
        metadata={"description": "Your name, as others on the platform see it."},
    )
    password = fields.String(required=True, validate=PASSWORD)
    party_name = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=200), not_blank],
        metadata={"description": "The client's or the team's name.", "example": "Lotus Labs"},
    )
    locale = LocaleField(load_default="zh_CN")
    timezone = fields.String(
        load_default="Asia/Shanghai",
        validate=iana_zone,
        metadata={"description": "An IANA time zone: where your day begins and ends."},
    )


class SignupOut(Schema):
    id = fields.Integer()
    party_id = fields.Integer()
    party_name = fields.String(attribute="party.name")
    kind = fields.String(attribute="party.kind")
    user_id = fields.Integer()
    email = fields.String(attribute="user.email")
    email_verified = fields.Function(lambda signup: signup.user.email_verified_at is not None)
    status = fields.String(metadata={"enum": [str(s) for s in SignupStatus]})
    reason = fields.String(allow_none=True)
    signed_up_at = fields.DateTime(attribute="created_at")
    decided_at = fields.DateTime(allow_none=True)


class StandingOut(Schema):
    email = fields.String()
    email_verified = fields.Boolean()
    signup = fields.Nested(
        SignupOut,
        allow_none=True,
        metadata={"description": "None: an operator or an invite made the account."},
    )


class SignedUpOut(Schema):
    signup = fields.Nested(SignupOut)
    user = fields.Nested(UserOut)
    token = fields.String(metadata={"description": "Send as 'Authorization: Bearer <token>'."})


class SignupArgs(PageArgs):
    status = fields.String(
        load_default=None, validate=validate.OneOf([str(s) for s in SignupStatus])
    )


class SignupDecisionIn(Schema):
    reason = fields.String(load_default=None, validate=[validate.Length(min=1, max=500), not_blank])


class SecretIn(Schema):
    token = fields.String(required=True, validate=SECRET)


class ResetRequestIn(Schema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))


class ResetCompleteIn(SecretIn):
    password = fields.String(required=True, validate=PASSWORD)


class PasswordChangeIn(Schema):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=200))
    new_password = fields.String(required=True, validate=PASSWORD)


class TokenIn(Schema):
    name = fields.String(required=True, validate=[validate.Length(min=1, max=100), not_blank])
    expires_at = fields.AwareDateTime(
        load_default=None, metadata={"description": "Unset: until revoked."}
    )


class ApiTokenOut(Schema):
    id = fields.Integer()
    name = fields.String()
    created_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class NewTokenOut(ApiTokenOut):
    token = fields.String(
        metadata={"description": "The secret: shown this once. Send as 'Authorization: Bearer'."}
    )


class VerifiedOut(Schema):
    email = fields.String()
    email_verified_at = fields.DateTime()


class SentOut(Schema):
    message = fields.String(metadata={"description": "What was sent, for people."})


class LocaleIn(Schema):
    locale = LocaleField(required=True, metadata={"description": "zh-CN or en."})


class LocaleOut(Schema):
    locale = fields.Function(
        lambda user: {cldr: tag for tag, cldr in LOCALES.items()}.get(user.locale, user.locale)
    )
