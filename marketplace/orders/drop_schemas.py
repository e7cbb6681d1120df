"""Schemas of drops and fair drops: the drop boards, lottery interest, standing claim
rules and published allotments."""

from marshmallow import Schema, fields, validate

from marketplace.orders.schemas import ClaimIn
from marketplace.web import Currency, Price, not_blank


class ZoneArgs(Schema):
    tz = fields.String(
        load_default=None,
        metadata={
            "description": "IANA zone to show times in (default: the plan's).",
            "example": "Europe/Berlin",
        },
    )


class DropOut(Schema):
    id = fields.Integer()
    scheduled_at = fields.DateTime()
    status = fields.String(
        metadata={
            "description": "released; skipped (the scheduler missed it past the grace time); "
            "or held (the client was on credit hold). `reason` says why."
        }
    )
    taken_at = fields.DateTime()
    lateness_seconds = fields.Integer()
    batch_count = fields.Integer()
    reason = fields.String(allow_none=True)
    lottery_seed = fields.String(allow_none=True)


class CreditHoldOut(Schema):
    since = fields.DateTime()
    reason = fields.String()


class UpcomingDropOut(Schema):
    scheduled_at = fields.DateTime()
    batch_count = fields.Integer(metadata={"description": "Batches this drop will release."})
    credit_hold = fields.Nested(
        CreditHoldOut,
        allow_none=True,
        metadata={
            "description": "Set while the client is on credit hold: the drop will not "
            "release until the hold is lifted."
        },
    )


class OrderDropsOut(Schema):
    timezone = fields.String()
    past = fields.List(fields.Nested(DropOut))
    upcoming = fields.List(fields.Nested(UpcomingDropOut))


class NextDropOut(UpcomingDropOut):
    order_id = fields.Integer()
    title = fields.String()
    task_type = fields.String()
    client_id = fields.Integer(
        metadata={"description": "How it pays: GET /clients/{client_id}/payment-record."}
    )
    client_name = fields.String()
    unit_price = Price(attribute="unit_price_micros", allow_none=True)
    currency = fields.String()


class InterestIn(ClaimIn):
    batches = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=1, max=100_000),
        metadata={"description": "How many batches of the next drop your team wants."},
    )


class InterestOut(Schema):
    order_id = fields.Integer()
    team_id = fields.Integer(attribute="team_party_id")
    scheduled_at = fields.DateTime(metadata={"description": "The drop this interest is for."})
    batches = fields.Integer()
    registered_at = fields.DateTime(attribute="created_at")


class ClaimRuleIn(ClaimIn):
    batches_per_drop = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=100_000)
    )
    task_type = fields.String(
        load_default=None, validate=[validate.Length(min=1, max=64), not_blank]
    )
    client_id = fields.Integer(strict=True, load_default=None, attribute="client_party_id")
    currency = Currency(load_default=None)
    min_unit_price = Price(
        load_default=None,
        attribute="min_unit_price_micros",
        metadata={"description": "Only orders paying at least this; give `currency` with it."},
    )
    order_id = fields.Integer(strict=True, load_default=None)
    funded_only = fields.Boolean(
        load_default=False,
        metadata={
            "description": "Only orders whose client's money is reserved before they drop "
            "(funding `prefunded` or `milestones`), never pay-when-paid ones."
        },
    )


class ClaimRuleOut(Schema):
    id = fields.Integer()
    team_id = fields.Integer(attribute="team_party_id")
    batches_per_drop = fields.Integer()
    task_type = fields.String(allow_none=True)
    client_id = fields.Integer(attribute="client_party_id", allow_none=True)
    currency = fields.String(allow_none=True)
    min_unit_price = Price(attribute="min_unit_price_micros", allow_none=True)
    order_id = fields.Integer(allow_none=True)
    funded_only = fields.Boolean()
    created_at = fields.DateTime()


class AllotmentLineOut(Schema):
    team_id = fields.Integer(attribute="team_party_id")
    source = fields.String(metadata={"description": "interest or rule"})
    wanted = fields.Integer()
    allowed = fields.Integer(metadata={"description": "wanted, cut to the order's limits"})
    rank_key = fields.String(metadata={"description": 'SHA-256 hex of "{seed}:{team_id}"'})
    batch_ids = fields.List(fields.Integer())
    note = fields.String(allow_none=True)


class AllotmentOut(Schema):
    drop_id = fields.Integer(attribute="id")
    order_id = fields.Integer()
    scheduled_at = fields.DateTime()
    batch_count = fields.Integer()
    batch_ids = fields.Function(
        lambda drop: [batch.id for batch in drop.batches],
        metadata={"description": "The batches the drop released, in the order the lottery uses."},
    )
    seed = fields.String(attribute="lottery_seed", allow_none=True)
    algorithm = fields.String(attribute="lottery_algorithm", allow_none=True)
    lines = fields.List(fields.Nested(AllotmentLineOut), attribute="allotments")
