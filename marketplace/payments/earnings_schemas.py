"""What parties earn: earnings views, statements, per-day work, and margin reports."""

from marshmallow import Schema, fields, validate

from marketplace.web import Amount, Price


class WaitingOn(Schema):
    invoice_id = fields.Integer()
    invoice_number = fields.String()
    client_name = fields.String()
    due_on = fields.Date()
    items = fields.Integer()
    amount = Amount(attribute="amount_minor")
    late = fields.Boolean(metadata={"description": "The client is past its due date."})
    days_late = fields.Integer(metadata={"description": "Days past its due date; 0 if not due."})
    client_on_credit_hold = fields.Boolean(
        metadata={"description": "The platform stopped the client's new work until it pays."}
    )


class Unbilled(Schema):
    items = fields.Integer()
    amount = Amount(attribute="amount_minor")


class FundedInReview(Schema):
    order_id = fields.Integer()
    title = fields.String()
    funding = fields.String()
    items = fields.Integer()
    amount = Amount(attribute="amount_minor")
    review_until = fields.Date(
        metadata={
            "description": "Funded, in review until this day: then its review window accepts "
            "what no reviewer decided, and the money is available within minutes."
        }
    )


class WorkOut(Schema):
    submitted = fields.Integer()
    accepted = fields.Integer()
    rejected = fields.Integer()
    earned = Price(
        attribute="earned_micros",
        metadata={
            "description": "Accepted items x their rates, exact (rounded once, on the invoice)."
        },
    )


class HoldingOut(Schema):
    holder = fields.String(metadata={"description": "annotator (you), team or platform"})
    party_id = fields.Integer()
    party_name = fields.String()
    currency = fields.String()
    pending = Amount(
        attribute="pending_minor",
        metadata={"description": "Invoiced, waiting on the client's money."},
    )
    available = Amount(
        attribute="available_minor",
        metadata={"description": "Arrived and settled; paid in the next run."},
    )
    paid = Amount(attribute="paid_minor")
    waiting_on = fields.List(fields.Nested(WaitingOn))
    unbilled = fields.Nested(
        Unbilled,
        allow_none=True,
        metadata={
            "description": "Accepted work not invoiced yet: an annotator's pay, or a team's "
            "margins on every link it holds."
        },
    )

    funded_in_review = fields.List(
        fields.Nested(FundedInReview),
        metadata={
            "description": "Your submitted work on funded orders: its money is reserved, and "
            "waits for the review alone, never for an invoice."
        },
    )

    today = fields.Nested(
        WorkOut,
        metadata={"description": "Your items and exact pay today, in your team's day."},
    )
    this_month = fields.Nested(WorkOut)


class EarningsOut(Schema):
    holdings = fields.List(fields.Nested(HoldingOut))


class DaysArgs(Schema):
    """A period of days in the team's time zone."""

    from_ = fields.Date(
        data_key="from",
        attribute="from",
        load_default=None,
        metadata={"description": "Default: the 1st of this month."},
    )
    to = fields.Date(load_default=None, metadata={"description": "Default: today."})


class PeriodArgs(DaysArgs):
    team_id = fields.Integer(
        load_default=None, metadata={"description": "Needed if you annotate for several teams."}
    )


class StatementArgs(PeriodArgs):
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(["json", "csv"]),
        metadata={"description": "`csv` answers text/csv, numbers written for your locale."},
    )
    locale = fields.String(
        load_default=None,
        validate=validate.Length(min=2, max=35),
        metadata={"description": "A CLDR locale such as de_DE; default: your own."},
    )


class DayOut(WorkOut):
    day = fields.Date()
    currency = fields.String()


class WorkDaysOut(Schema):
    team_id = fields.Integer()
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()
    days = fields.List(fields.Nested(DayOut))


class StatementRowOut(DayOut):
    accrued = Amount(metadata={"description": "Invoiced to the client: pending from now."})
    settled = Amount(metadata={"description": "The client's money arrived: available."})
    paid_out = Amount()


class BalanceOut(Schema):
    currency = fields.String()
    pending = Amount()
    available = Amount()
    paid = Amount()


class StatementOut(Schema):
    team_id = fields.Integer()
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()
    rows = fields.List(fields.Nested(StatementRowOut))
    balances = fields.List(fields.Nested(BalanceOut))


class MemberEarningsOut(Schema):
    user_id = fields.Integer()
    name = fields.String()
    currency = fields.String()
    today = fields.Nested(WorkOut)
    this_month = fields.Nested(WorkOut)
    pending = Amount(attribute="pending_minor")
    available = Amount(attribute="available_minor")
    paid = Amount(attribute="paid_minor")


class MarginArgs(Schema):
    team_id = fields.Integer(
        load_default=None,
        metadata={"description": "Needed if you own several teams; admins name any team."},
    )
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(["json", "csv"]),
        metadata={"description": "`csv` answers text/csv: a row per link, then the totals."},
    )


class SubcontractLineOut(Schema):
    contract_id = fields.Integer()
    downstream_name = fields.String()
    unit_price = Price(attribute="unit_price_micros")
    items = fields.Integer()
    line = Amount()


class AnnotatorLinesOut(Schema):
    items = fields.Integer(metadata={"description": "Items your own annotators did."})
    line = Amount(metadata={"description": "What your annotators earn on them."})


class MarginLinkOut(Schema):
    contract_id = fields.Integer()
    depth = fields.Integer()
    upstream_name = fields.String()
    unit_price = Price(attribute="unit_price_micros")
    items = fields.Integer(metadata={"description": "Accepted under this link and below it."})
    upstream_line = Amount(metadata={"description": "items x your price, rounded once."})
    subcontracts = fields.List(fields.Nested(SubcontractLineOut))
    annotators = fields.Nested(AnnotatorLinesOut)
    downstream_lines = Amount()
    margin = Amount(metadata={"description": "upstream_line - downstream_lines"})
    invoiced_items = fields.Integer(metadata={"description": "Items invoiced so far."})
    invoiced_margin = Amount(
        metadata={"description": "The margin the invoices so far credited (the ledger's)."}
    )


class MarginTotalsOut(Schema):
    items = fields.Integer()
    upstream_line = Amount()
    downstream_lines = Amount()
    margin = Amount()
    invoiced_items = fields.Integer()
    invoiced_margin = Amount()


class MarginReportOut(Schema):
    order_id = fields.Integer()
    order_title = fields.String()
    team_id = fields.Integer()
    team_name = fields.String()
    currency = fields.String()
    links = fields.List(fields.Nested(MarginLinkOut))
    totals = fields.Nested(MarginTotalsOut)
