from marshmallow import Schema, fields, validate

from marketplace.web import Currency, FreeJSON, Price, not_blank

MAX_ITEMS = 100_000


class ItemIn(Schema):
    ref = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=2048), not_blank],
        metadata={
            "description": "Where the item is, e.g. an image URL.",
            "example": "s3://set/0001.jpg",
        },
    )
    payload = FreeJSON(
        keys=fields.String(),
        load_default=None,
        metadata={"description": "Anything the task needs."},
    )


class ReleasePlanIn(Schema):
    cron = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Five-field cron, in `timezone`.", "example": "0 3 * * *"},
    )
    timezone = fields.String(required=True, metadata={"example": "Asia/Shanghai"})
    batches_per_drop = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=10_000)
    )
    starts_at = fields.AwareDateTime(load_default=None)
    ends_at = fields.AwareDateTime(load_default=None)
    grace_minutes = fields.Integer(
        strict=True,
        load_default=60,
        validate=validate.Range(min=0, max=7 * 24 * 60),
        metadata={
            "description": "A drop the scheduler missed by up to this long is released "
            "late; later than that, it is skipped (with the reason)."
        },
    )


class ReleasePlanOut(Schema):
    cron = fields.String()
    timezone = fields.String()
    batches_per_drop = fields.Integer()
    starts_at = fields.DateTime(allow_none=True)
    ends_at = fields.DateTime(allow_none=True)
    grace_minutes = fields.Function(lambda plan: plan.grace_seconds // 60)


class OrderIn(Schema):
    client_id = fields.Integer(
        strict=True,
        load_default=None,
        metadata={"description": "Needed only if you administer several clients."},
    )
    title = fields.String(required=True, validate=[validate.Length(min=1, max=200), not_blank])
    task_type = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=64), not_blank],
        metadata={"example": "bbox_2d"},
    )
    instructions = fields.String(load_default="", validate=validate.Length(max=20_000))
    unit_price = Price(required=True, data_key="unit_price", attribute="unit_price_micros")
    currency = Currency(required=True, metadata={"example": "CNY"})
    payment_terms_days = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=0, max=365),
        metadata={"example": 30},
    )
    batch_size = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=1, max=MAX_ITEMS),
        metadata={"example": 500},
    )
    items = fields.List(
        fields.Nested(ItemIn), required=True, validate=validate.Length(min=1, max=MAX_ITEMS)
    )
    release_plan = fields.Nested(
        ReleasePlanIn,
        load_default=None,
        metadata={
            "description": "Drop the batches on a schedule; without it, publishing "
            "releases every batch at once."
        },
    )


class OrderOut(Schema):
    id = fields.Integer()
    client_id = fields.Integer(attribute="client_party_id")
    client_name = fields.String(attribute="client.name")
    title = fields.String()
    task_type = fields.String()
    instructions = fields.String()
    unit_price = Price(attribute="unit_price_micros")
    currency = fields.String()
    quantity = fields.Integer()
    payment_terms_days = fields.Integer()
    batch_size = fields.Integer()
    status = fields.String()
    created_at = fields.DateTime()
    published_at = fields.DateTime(allow_none=True)
    release_plan = fields.Nested(ReleasePlanOut, allow_none=True)


class BatchOut(Schema):
    id = fields.Integer()
    order_id = fields.Integer()
    seq = fields.Integer()
    item_count = fields.Integer()
    status = fields.String()
    released_at = fields.DateTime(allow_none=True)
    claimed_by = fields.Integer(attribute="claimed_by_party_id", allow_none=True)
    claimed_at = fields.DateTime(allow_none=True)
    title = fields.String(attribute="order.title")
    task_type = fields.String(attribute="order.task_type")
    client_name = fields.String(attribute="order.client.name")
    unit_price = Price(attribute="order.unit_price_micros")
    currency = fields.String(attribute="order.currency")
    payment_terms_days = fields.Integer(attribute="order.payment_terms_days")


class ClaimIn(Schema):
    team_id = fields.Integer(
        strict=True,
        load_default=None,
        metadata={"description": "Needed only if you own several teams."},
    )


class ZoneArgs(Schema):
    tz = fields.String(
        load_default=None,
        metadata={
            "description": "IANA zone to show times in (default: the plan's).",
            "example": "Europe/Berlin",
        },
    )


class DropOut(Schema):
    scheduled_at = fields.DateTime()
    status = fields.String(metadata={"description": "released or skipped"})
    taken_at = fields.DateTime()
    lateness_seconds = fields.Integer()
    batch_count = fields.Integer()
    reason = fields.String(allow_none=True)


class UpcomingDropOut(Schema):
    scheduled_at = fields.DateTime()
    batch_count = fields.Integer(metadata={"description": "Batches this drop will release."})


class OrderDropsOut(Schema):
    timezone = fields.String()
    past = fields.List(fields.Nested(DropOut))
    upcoming = fields.List(fields.Nested(UpcomingDropOut))


class NextDropOut(UpcomingDropOut):
    order_id = fields.Integer()
    title = fields.String()
    task_type = fields.String()
    client_name = fields.String()
    unit_price = Price(attribute="unit_price_micros")
    currency = fields.String()
