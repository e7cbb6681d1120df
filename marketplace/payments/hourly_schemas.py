"""What an hour of the work pays, as each party reads it."""

from marshmallow import Schema, fields

from marketplace.wages.schemas import HourlyPayOut
from marketplace.web import Price

PAY = "Mean piece rate x 3600 / median seconds of these items, beside the reference wage."


class HourlyRowOut(Schema):
    task_type = fields.String()
    currency = fields.String()
    items = fields.Integer(metadata={"description": "Accepted items whose time was measured."})
    earned = Price(
        attribute="earned_micros", metadata={"description": "Their piece rates, summed, exact."}
    )
    pay = fields.Nested(HourlyPayOut, allow_none=True, metadata={"description": PAY})


class HourlyDayOut(HourlyRowOut):
    day = fields.Date()


class TeamPeriodOut(Schema):
    team_id = fields.Integer()
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()


class AnnotatorHoursOut(TeamPeriodOut):
    task_types = fields.List(fields.Nested(HourlyRowOut))
    days = fields.List(fields.Nested(HourlyDayOut))


class OrderHoursRowOut(HourlyRowOut):
    order_id = fields.Integer()
    title = fields.String()
    rate_card_below_reference_wage = fields.Boolean(
        allow_none=True,
        metadata={
            "description": "The least your rate card pays an annotator per item of the order "
            "pays below the reference wage at the order's median time (or the estimate)."
        },
    )


class MemberHoursOut(HourlyRowOut):
    user_id = fields.Integer()


class TeamHoursOut(TeamPeriodOut):
    orders = fields.List(fields.Nested(OrderHoursRowOut))
    members = fields.List(fields.Nested(MemberHoursOut))


class PaceOut(Schema):
    basis = fields.String(
        metadata={"description": "measured (from 30 accepted items on) or estimate (yours)."}
    )
    seconds = fields.Decimal(as_string=True, allow_none=True)
    measured_items = fields.Integer()


class OrderHourlyPayOut(Schema):
    order_id = fields.Integer()
    currency = fields.String()
    pace = fields.Nested(PaceOut)
    task_type_pace = fields.Nested(
        PaceOut,
        allow_none=True,
        metadata={
            "description": "The task type's median seconds per accepted item over every "
            "order, once 30 are measured: what such an item takes elsewhere."
        },
    )
    at_your_price = fields.Nested(
        HourlyPayOut,
        metadata={
            "description": "Your price x 3600 / seconds per item, if all of it reached "
            "the annotator."
        },
    )
    pass_through = fields.Decimal(
        as_string=True,
        allow_none=True,
        metadata={"description": "The share of your lines that reaches the performing teams."},
    )
    reaching_performers = fields.Nested(
        HourlyPayOut,
        allow_none=True,
        metadata={
            "description": "Your price x the pass-through x 3600 / seconds per item: what "
            "an hour pays the performing teams (how a team pays its annotators is its own)."
        },
    )
