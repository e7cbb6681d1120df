"""Reference wages in and out, and an hour's pay beside the wage."""

from marshmallow import Schema, fields, validate

from marketplace.web import Amount, Currency, DecimalString, not_blank


class ReferenceWageIn(Schema):
    currency = Currency(required=True, metadata={"example": "CNY"})
    region = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=100), not_blank],
        metadata={"description": "Where the wage holds, e.g. a city.", "example": "Shanghai"},
    )
    hourly_wage = DecimalString(
        required=True,
        metadata={
            "type": "string",
            "example": "24.00",
            "description": "Per hour, in the currency; positive, at most its minor unit.",
        },
    )
    source = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=500), not_blank],
        metadata={
            "description": "Where the figure comes from: a law, a government page.",
            "example": "Shanghai Municipal Human Resources Bureau, 2025 minimum wage notice",
        },
    )
    effective_on = fields.Date(required=True, metadata={"example": "2025-07-01"})


class ReferenceWageOut(Schema):
    id = fields.Integer()
    currency = fields.String()
    region = fields.String()
    hourly_wage = Amount(attribute="amount_minor")
    source = fields.String()
    effective_on = fields.Date()
    set_by_user_id = fields.Integer()
    created_at = fields.DateTime()


class WageInForceOut(Schema):
    hourly_wage = Amount(attribute="amount_minor")
    region = fields.String()
    source = fields.String()
    effective_on = fields.Date()


class HourlyPayOut(Schema):
    currency = fields.String()
    basis = fields.String(
        metadata={
            "description": "`measured`: the median seconds of the accepted items (at least "
            "30); `estimate`: the client's estimate per item, until then."
        }
    )
    seconds_per_item = fields.Decimal(as_string=True, allow_none=True)
    hourly_pay = Amount(
        attribute="hourly_minor",
        allow_none=True,
        metadata={"description": "Price x 3600 / seconds per item, rounded once, half-up."},
    )
    reference_wage = fields.Nested(
        WageInForceOut,
        attribute="wage",
        allow_none=True,
        metadata={"description": "The highest regional wage in force for the currency."},
    )
    below_reference_wage = fields.Boolean(allow_none=True)
