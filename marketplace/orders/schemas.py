from decimal import Decimal

from marshmallow import Schema, fields, validate

from marketplace.money import format_share_bps
from marketplace.orders.models import BillingPeriod, ClaimMode, Funding, Sourcing
from marketplace.wages.schemas import HourlyPayOut
from marketplace.web import Amount, Currency, FreeJSON, Price, Share, not_blank

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


class LimitsIn(Schema):
    batches_held = fields.Integer(
        strict=True,
        load_default=None,
        validate=validate.Range(min=1, max=100_000),
        metadata={"description": "Unfinished batches one team may hold at once."},
    )
    batches_per_drop = fields.Integer(
        strict=True,
        load_default=None,
        validate=validate.Range(min=1, max=100_000),
        metadata={"description": "Batches one team may claim from one drop."},
    )


class TrialIn(Schema):
    batches = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=1, max=1_000),
        metadata={"description": "How many teams may try (one trial batch each)."},
    )
    batch_size = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=MAX_ITEMS)
    )
    pass_score = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=0, max=100),
        metadata={"description": "A trial scored at least this (of 100) passes."},
    )


class ChainCapsIn(Schema):
    max_depth = fields.Integer(
        strict=True,
        load_default=None,
        validate=validate.Range(min=1, max=20),
        metadata={"description": "Links from you to the team doing the work; 1: no middlemen."},
    )
    min_pass_through = Share(
        minimum=Decimal("0.0001"),
        load_default=None,
        metadata={
            "description": "Each subcontract must pay at least this share of your price, "
            'e.g. "0.5"; four decimal places at most.',
            "example": "0.5",
        },
    )


class ReviewTermsIn(Schema):
    sample_rate = Share(
        minimum=Decimal("0.0001"),
        load_default=10_000,
        metadata={
            "description": "The share of each finished batch a reviewer checks (default: all).",
            "example": "0.1",
        },
    )
    accuracy_threshold = Share(
        load_default=0,
        metadata={
            "description": "A batch whose sample is less accurate than this goes back for "
            "rework (default 0: never).",
            "example": "0.95",
        },
    )
    window_days = fields.Integer(
        strict=True,
        load_default=3,
        validate=validate.Range(min=1, max=21),
        metadata={
            "description": "Items nobody reviewed this many days after submission are "
            "accepted; a rejection may be disputed for as long.",
            "example": 3,
        },
    )


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
    billing_period = fields.String(
        load_default=BillingPeriod.WEEKLY.value,
        validate=validate.OneOf([p.value for p in BillingPeriod]),
        metadata={
            "description": "When you are invoiced for accepted items: `weekly` (each Monday, "
            "for the week before), `monthly` (on the 1st) or `on_completion`; one invoice "
            "line per period, in the platform's business time zone."
        },
    )
    funding = fields.String(
        load_default=None,
        validate=validate.OneOf([f.value for f in Funding]),
        metadata={
            "description": "Where the money is before the work: `prefunded` (the whole "
            "order reserved from your balance before its first drop), `milestones` (each "
            "drop's batches reserved before that drop) or `invoiced` (pay-when-paid on your "
            "credit line). Default: `invoiced` with a credit line in the currency, else "
            "`prefunded`."
        },
    )
    estimated_seconds_per_item = fields.Integer(
        strict=True,
        load_default=None,
        validate=validate.Range(min=1, max=24 * 3600),
        metadata={
            "description": "Your estimate of one item's work, in seconds: what an hour "
            "pays is worked out from it until 30 items are measured.",
            "example": 18,
        },
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
    claim_mode = fields.String(
        load_default=ClaimMode.FIRST_COME.value,
        validate=validate.OneOf([m.value for m in ClaimMode]),
        metadata={
            "description": "`lottery`: teams register interest before each drop and the "
            "batches are allotted by a published, seeded lottery; the rest go first-come."
        },
    )
    limits = fields.Nested(LimitsIn, load_default=None)
    lease_hours = fields.Integer(
        strict=True,
        load_default=None,
        validate=validate.Range(min=1, max=24 * 366),
        metadata={
            "description": "A claimed batch must be finished within this many hours; then "
            "its unfinished items go back to the board in the next drop."
        },
    )
    trial = fields.Nested(
        TrialIn,
        load_default=None,
        metadata={"description": "Teams must pass a scored trial batch before regular claims."},
    )
    sourcing = fields.String(
        load_default=Sourcing.CLAIMS.value,
        validate=validate.OneOf([m.value for m in Sourcing]),
        metadata={
            "description": "`claims`: any team claims released batches at the posted price. "
            "`bids`: teams bid their own price and quantity, the client awards bids, and only "
            "holders of a contract (or a subcontract) claim the batches; the posted price is "
            "the client's private budget."
        },
    )
    chain_caps = fields.Nested(ChainCapsIn, load_default=None)
    task_options = FreeJSON(
        keys=fields.String(),
        load_default=None,
        metadata={"description": "What the task type lets you set, e.g. a rating's error types."},
    )
    review = fields.Nested(ReviewTermsIn, load_default=lambda: ReviewTermsIn().load({}))
    task_lease_minutes = fields.Integer(
        strict=True,
        load_default=120,
        validate=validate.Range(min=1, max=7 * 24 * 60),
        metadata={"description": "An annotator holds a task this long before it goes back."},
    )


def chain_caps(order) -> dict:
    """The client's caps on the order's chains, as JSON."""
    share = order.min_pass_through_bps
    return {
        "max_depth": order.max_chain_depth,
        "min_pass_through": None if share is None else format_share_bps(share),
    }


class OrderOut(Schema):
    id = fields.Integer()
    client_id = fields.Integer(attribute="client_party_id")
    client_name = fields.String(attribute="client.name")
    title = fields.String()
    task_type = fields.String()
    instructions = fields.String()
    unit_price = Price(
        attribute="unit_price_micros",
        allow_none=True,
        metadata={"description": "On a bids order, the client's budget: shown to it alone."},
    )
    currency = fields.String()
    quantity = fields.Integer()
    payment_terms_days = fields.Integer()
    billing_period = fields.String()
    funding = fields.String()
    estimated_seconds_per_item = fields.Integer(allow_none=True)
    hourly_pay = fields.Nested(
        HourlyPayOut,
        allow_none=True,
        dump_default=None,
        metadata={
            "description": "In the answers to posting and publishing (yours alone): what an "
            "hour pays at your price and your estimate, beside the reference wage. Measured "
            "figures: GET /orders/{order_id}/hourly-pay."
        },
    )
    batch_size = fields.Integer()
    status = fields.String()
    created_at = fields.DateTime()
    published_at = fields.DateTime(allow_none=True)
    release_plan = fields.Nested(ReleasePlanOut, allow_none=True)
    claim_mode = fields.String()
    limits = fields.Function(
        lambda order: {
            "batches_held": order.max_batches_held,
            "batches_per_drop": order.max_batches_per_drop,
        }
    )
    lease_hours = fields.Integer(allow_none=True)
    sourcing = fields.String()
    chain_caps = fields.Function(chain_caps)
    task_options = fields.Dict(allow_none=True)
    review = fields.Function(
        lambda order: {
            "sample_rate": format_share_bps(order.review_sample_bps),
            "accuracy_threshold": format_share_bps(order.accuracy_threshold_bps),
            "window_days": order.review_window_days,
        }
    )
    task_lease_minutes = fields.Integer()
    trial = fields.Function(
        lambda order: (
            {
                "batches": order.trial_batches,
                "batch_size": order.trial_batch_size,
                "pass_score": order.trial_pass_score,
            }
            if order.trial_batches
            else None
        )
    )


class BatchOut(Schema):
    id = fields.Integer()
    order_id = fields.Integer()
    seq = fields.Integer()
    kind = fields.String(metadata={"description": "regular or trial"})
    item_count = fields.Integer()
    status = fields.String(
        metadata={"description": "scheduled, released, claimed, finished or expired"}
    )
    released_at = fields.DateTime(allow_none=True)
    drop_id = fields.Integer(allow_none=True)
    claimed_by = fields.Integer(attribute="claimed_by_party_id", allow_none=True)
    claimed_at = fields.DateTime(allow_none=True)
    lease_expires_at = fields.DateTime(allow_none=True)
    returned_items = fields.Integer(
        metadata={"description": "Unfinished items sent back to the board when the lease expired."}
    )
    returned_from_batch_id = fields.Integer(allow_none=True)
    title = fields.String(attribute="order.title")
    task_type = fields.String(attribute="order.task_type")
    client_name = fields.String(attribute="order.client.name")
    unit_price = Price(
        attribute="order.listed_price_micros",
        allow_none=True,
        metadata={
            "description": "None on a bids order: its teams work at their contracts' prices."
        },
    )
    sourcing = fields.String(attribute="order.sourcing")
    funding = fields.String(
        attribute="order.funding",
        metadata={
            "description": "prefunded or milestones: the client's money is reserved for this "
            "batch; invoiced: paid when the client pays its invoice (see its payment record)."
        },
    )
    reserved = Amount(
        attribute="reserved_minor",
        currency_attribute="order.currency",
        allow_none=True,
        dump_default=None,
        metadata={
            "description": "On the drop board, a funded order's batch: what the client's "
            "reservation holds for its items at the price shown (all of them unless a refund "
            "or chargeback took part). Null on credit, and on a bids order (sealed price)."
        },
    )
    client_id = fields.Integer(attribute="order.client_party_id")
    client_payment_record = fields.Raw(
        allow_none=True,
        dump_default=None,
        metadata={
            "description": "On the drop board: how the order's client pays, as "
            "GET /clients/{id}/payment-record answers you (on-time share, days late, "
            "overdue invoices, credit hold)."
        },
    )
    below_reference_wage = fields.Boolean(
        allow_none=True,
        dump_default=None,
        metadata={
            "description": "On the drop board: your team's rate card (the least it pays an "
            "annotator per item) pays below the reference wage at the order's median time "
            "(or the client's estimate); null when there is nothing to compare."
        },
    )
    contract_id = fields.Integer(allow_none=True)
    currency = fields.String(attribute="order.currency")
    payment_terms_days = fields.Integer(attribute="order.payment_terms_days")


class ClaimIn(Schema):
    team_id = fields.Integer(
        strict=True,
        load_default=None,
        metadata={"description": "Needed only if you own several teams."},
    )


class TeamArgs(Schema):
    team_id = fields.Integer(
        load_default=None, metadata={"description": "Needed only if you own several teams."}
    )


class TrialScoreIn(Schema):
    score = fields.Integer(strict=True, required=True, validate=validate.Range(min=0, max=100))
    note = fields.String(load_default=None, validate=validate.Length(max=1000))


class TrialOut(Schema):
    order_id = fields.Integer()
    team_id = fields.Integer(attribute="team_party_id")
    batch_id = fields.Integer(attribute="trial_batch_id")
    score = fields.Integer(attribute="trial_score", allow_none=True)
    passed = fields.Boolean(attribute="trial_passed", allow_none=True)
    note = fields.String(attribute="trial_note", allow_none=True)
    scored_at = fields.DateTime(attribute="trial_scored_at", allow_none=True)
