from marshmallow import Schema, fields, validate


class LoginIn(Schema):
    # A string, not an Email field: a pasted address with stray spaces or capitals still logs in.
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


class MembershipOut(Schema):
    party_id = fields.Integer()
    party_name = fields.String(attribute="party.name")
    party_kind = fields.String(attribute="party.kind")
    role = fields.String()


class UserOut(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    memberships = fields.List(fields.Nested(MembershipOut))


class TokenOut(Schema):
    token = fields.String(metadata={"description": "Send as 'Authorization: Bearer <token>'."})
    user = fields.Nested(UserOut)
