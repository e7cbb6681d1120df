"""Schemas of a team's ladder: levels, rate cards, members and their level history."""

from marshmallow import Schema, fields, validate

from marketplace.web import Currency, Price, Share, not_blank


class PromotionIn(Schema):
    min_accuracy = Share(required=True, metadata={"example": "0.95"})
    over_items = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=1, max=100_000),
        metadata={"description": "Over the member's last so many reviewed items.", "example": 500},
    )


class LevelIn(Schema):
    name = fields.String(required=True, validate=[validate.Length(min=1, max=64), not_blank])
    rank = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=0, max=1000),
        metadata={"description": "Higher is senior; promotion goes to the next rank up."},
    )
    daily_quota = fields.Integer(
        strict=True,
        load_default=None,
        validate=validate.Range(min=1, max=1_000_000),
        metadata={"description": "Items a member at this level submits in the team's day."},
    )
    reviews = fields.Boolean(
        load_default=False,
        metadata={"description": "Members at this level review the team's work (inspectors)."},
    )
    promotion = fields.Nested(
        PromotionIn,
        load_default=None,
        allow_none=True,
        metadata={"description": "What makes a member of the level below eligible for this one."},
    )


class LevelPatch(LevelIn):
    """Only the fields sent change: load it with `partial=True` (marshmallow 4 has no
    `Meta.partial`), which also leaves out the defaults."""


class LevelRateIn(Schema):
    task_type = fields.String(required=True, validate=validate.Length(min=1, max=64))
    currency = Currency(required=True)
    unit_price = Price(required=True)


class LevelRateOut(Schema):
    task_type = fields.String()
    currency = fields.String()
    unit_price = Price(attribute="unit_price_micros")


class PromotionOut(Schema):
    min_accuracy = Share(attribute="promote_min_accuracy_bps")
    over_items = fields.Integer(attribute="promote_over_items")


class LevelOut(Schema):
    id = fields.Integer()
    team_id = fields.Integer(attribute="team_party_id")
    name = fields.String()
    rank = fields.Integer()
    daily_quota = fields.Integer(allow_none=True)
    reviews = fields.Boolean()
    promotion = fields.Function(
        lambda level: PromotionOut().dump(level) if level.promote_over_items else None
    )
    rates = fields.List(fields.Nested(LevelRateOut))


class LevelRefOut(Schema):
    id = fields.Integer()
    name = fields.String()
    rank = fields.Integer()


class NextLevelOut(Schema):
    level = fields.Nested(LevelRefOut)
    eligible = fields.Boolean()
    accepted = fields.Integer(metadata={"description": "Accepted of her last reviewed items."})
    reviewed = fields.Integer()


class MemberOut(Schema):
    user_id = fields.Integer()
    name = fields.String()
    role = fields.String(metadata={"description": "annotator or reviewer: one row a role."})
    active = fields.Boolean(metadata={"description": "False once the owner deactivated her."})
    deactivated_at = fields.DateTime(allow_none=True)
    level = fields.Nested(LevelRefOut, allow_none=True)
    submitted_today = fields.Integer()
    next = fields.Nested(NextLevelOut, allow_none=True)


class LevelChangeIn(Schema):
    level_id = fields.Integer(strict=True, required=True)
    note = fields.String(load_default=None, validate=validate.Length(max=500))


class LevelChangeOut(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    level_id = fields.Integer()
    from_level_id = fields.Integer(allow_none=True)
    changed_by = fields.Integer(attribute="changed_by_user_id")
    note = fields.String(allow_none=True)
    accuracy = Share(attribute="accuracy_bps", allow_none=True)
    created_at = fields.DateTime()


class TeamIn(Schema):
    timezone = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={
            "description": "An IANA time zone: the team's day starts at its midnight.",
            "example": "Asia/Shanghai",
        },
    )


class TeamOut(Schema):
    id = fields.Integer()
    name = fields.String()
    timezone = fields.String()
