"""Results as the API asks for them."""

from marshmallow import Schema, fields, validate

from marketplace.db import MAX_ID
from marketplace.results.exports import FORMATS, STATUSES


class ResultsArgs(Schema):
    format = fields.String(
        load_default="jsonl",
        validate=validate.OneOf(FORMATS),
        metadata={
            "description": "`jsonl` (any task type), `csv` (results of scalar fields: ratings, "
            "scores, classes) or `coco` (boxes)."
        },
    )
    status = fields.String(
        load_default="accepted",
        validate=validate.OneOf(list(STATUSES)),
        metadata={
            "description": "`accepted` (what is billed), or `all`: the rejected too, with "
            "their reasons, for audits."
        },
    )
    batch_id = fields.Integer(
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "Only this batch's items (a batch of the order)."},
    )
    since = fields.AwareDateTime(
        metadata={
            "description": "Only items decided after this moment: ISO 8601 with an offset, "
            "e.g. 2026-03-01T00:00:00+08:00."
        },
    )
