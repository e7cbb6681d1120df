from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from marketplace.web import FreeJSON, PageArgs, Price, not_blank
from marketplace.workers.models import Decision, SubmissionStatus, TaskStatus


class PieceRateIn(Schema):
    unit_price = Price(required=True, metadata={"example": "0.06"})


class PieceRateOut(Schema):
    order_id = fields.Integer()
    team_id = fields.Integer(attribute="team_party_id")
    unit_price = Price(attribute="unit_price_micros")
    currency = fields.String()


class TakeIn(Schema):
    count = fields.Integer(strict=True, load_default=1, validate=validate.Range(min=1, max=500))


class TaskListArgs(PageArgs):
    status = fields.Enum(TaskStatus, by_value=True, load_default=TaskStatus.ASSIGNED)


class TaskOut(Schema):
    id = fields.Integer()
    order_id = fields.Integer()
    batch_id = fields.Integer()
    status = fields.String()
    item_ref = fields.String(attribute="item.ref")
    item_payload = fields.Dict(attribute="item.payload", allow_none=True)
    assigned_at = fields.DateTime(allow_none=True)


class SubmitIn(Schema):
    result = FreeJSON(keys=fields.String(), required=True)


class SubmissionListArgs(PageArgs):
    status = fields.Enum(SubmissionStatus, by_value=True, load_default=SubmissionStatus.SUBMITTED)


class SubmissionOut(Schema):
    id = fields.Integer()
    task_id = fields.Integer()
    order_id = fields.Integer()
    annotator_id = fields.Integer(attribute="annotator_user_id")
    item_ref = fields.String(attribute="task.item.ref")
    result = fields.Dict()
    submitted_at = fields.DateTime()
    status = fields.String()
    reason = fields.String(allow_none=True)
    reviewer_id = fields.Integer(attribute="reviewer_user_id", allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)
    rate = Price(attribute="rate_micros", allow_none=True)


class DecisionIn(Schema):
    decision = fields.Enum(Decision, by_value=True, required=True)
    reason = fields.String(load_default=None, validate=[validate.Length(min=1, max=500), not_blank])

    @validates_schema
    def _reason_for_rejection(self, data, **kwargs):
        if data["decision"] == Decision.REJECT and not data.get("reason"):
            raise ValidationError("A rejection needs a reason.", "reason")


class BulkDecisionIn(DecisionIn):
    submission_id = fields.Integer(strict=True, required=True)


class ReviewIn(Schema):
    decisions = fields.List(
        fields.Nested(BulkDecisionIn), required=True, validate=validate.Length(min=1, max=1000)
    )
