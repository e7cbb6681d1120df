from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from marketplace.orders.result_rules import NAME_PATTERN
from marketplace.web import FreeJSON, PageArgs, Price, Share, not_blank
from marketplace.workers.models import Decision, DisputeStatus, SubmissionStatus, TaskStatus


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
    lease_expires_at = fields.DateTime(allow_none=True)
    reworks = fields.Integer()


class SkipIn(Schema):
    reason = fields.String(required=True, validate=[validate.Length(min=1, max=500), not_blank])


class DisputeIn(Schema):
    reason = fields.String(required=True, validate=[validate.Length(min=1, max=1000), not_blank])


class DisputeDecisionIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["uphold", "dismiss"]))
    note = fields.String(required=True, validate=[validate.Length(min=1, max=1000), not_blank])


class DisputeListArgs(PageArgs):
    status = fields.Enum(DisputeStatus, by_value=True, load_default=None)


class DisputeOut(Schema):
    id = fields.Integer()
    submission_id = fields.Integer()
    team_id = fields.Integer(attribute="team_party_id")
    annotator_id = fields.Integer(attribute="annotator_user_id")
    reviewer_id = fields.Integer(attribute="reviewer_user_id", allow_none=True)
    reason = fields.String()
    status = fields.String(metadata={"description": "open, upheld or dismissed"})
    created_at = fields.DateTime()
    decided_by = fields.Integer(attribute="decided_by_user_id", allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    note = fields.String(allow_none=True)
    reason_code = fields.String(
        allow_none=True, metadata={"description": "Why the item was rejected."}
    )


class BatchReviewOut(Schema):
    batch_id = fields.Integer()
    round = fields.Integer()
    sample_size = fields.Integer()
    accepted = fields.Integer()
    accuracy = Share(attribute="accuracy_bps")
    threshold = Share(attribute="threshold_bps")
    outcome = fields.String(metadata={"description": "passed (the rest accepted) or rework"})
    reviewer_id = fields.Integer(attribute="reviewer_user_id")
    created_at = fields.DateTime()


class SubmitIn(Schema):
    result = FreeJSON(keys=fields.String(), required=True)


class SubmissionListArgs(PageArgs):
    status = fields.Enum(SubmissionStatus, by_value=True, load_default=SubmissionStatus.SUBMITTED)
    sampled = fields.Boolean(
        load_default=None,
        metadata={"description": "true: only items in a review sample; false: only the rest."},
    )


class SubmissionOut(Schema):
    id = fields.Integer()
    task_id = fields.Integer()
    order_id = fields.Integer()
    annotator_id = fields.Integer(attribute="annotator_user_id")
    item_ref = fields.String(attribute="task.item.ref")
    result = fields.Dict()
    submitted_at = fields.DateTime()
    work_seconds = fields.Integer(
        allow_none=True,
        metadata={"description": "Taken to submitted, in seconds, at most the idle limit."},
    )
    batch_id = fields.Integer()
    sample_round = fields.Integer(allow_none=True)
    status = fields.String()
    reason_code = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    reviewer_id = fields.Integer(attribute="reviewer_user_id", allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)
    rate = Price(attribute="rate_micros", allow_none=True)


class DecisionRecordOut(Schema):
    status = fields.String(metadata={"description": "What the item became."})
    source = fields.String(
        metadata={"description": "review, sample_passed, rework, auto (window passed), dispute"}
    )
    reason_code = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    decided_by = fields.Integer(
        attribute="decided_by_user_id",
        allow_none=True,
        metadata={"description": "None: the platform."},
    )
    decided_at = fields.DateTime()


class DecisionIn(Schema):
    decision = fields.Enum(Decision, by_value=True, required=True)
    reason_code = fields.String(
        load_default=None,
        validate=[
            validate.Length(min=1, max=64),
            validate.Regexp(NAME_PATTERN, error="Lowercase letters, digits and _."),
        ],
        metadata={"description": "Why it was rejected: one of the task type's reason codes."},
    )
    reason = fields.String(
        load_default=None,
        validate=[validate.Length(min=1, max=500), not_blank],
        metadata={"description": "A note for the annotator."},
    )

    @validates_schema
    def _reason_for_rejection(self, data, **kwargs):
        if data["decision"] == Decision.REJECT and not data.get("reason_code"):
            raise ValidationError("A rejection needs a reason code.", "reason_code")


class BulkDecisionIn(DecisionIn):
    submission_id = fields.Integer(strict=True, required=True)


class ReviewIn(Schema):
    decisions = fields.List(
        fields.Nested(BulkDecisionIn), required=True, validate=validate.Length(min=1, max=1000)
    )
