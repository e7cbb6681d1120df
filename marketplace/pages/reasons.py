"""The words of review as people read them: reason codes, decision sources, dispute
states, levels' figures. The codes themselves and their rules stay in the domain (a task
type's `reason_codes`); a client's own code the catalogs do not know is shown as it is.
"""

from decimal import Decimal

from babel.numbers import format_percent
from flask_babel import get_locale, lazy_gettext

from marketplace.workers.models import DecisionSource, DisputeStatus, SubmissionStatus

# The built-in task types' reason codes (orders/task_types.py BUILT_IN).
REASON_CODES = {
    "box_off_target": lazy_gettext("Box off target"),
    "object_missed": lazy_gettext("Object missed"),
    "wrong_label": lazy_gettext("Wrong label"),
    "wrong_rating": lazy_gettext("Wrong rating"),
    "error_type_missing": lazy_gettext("Error type missing"),
    "error_type_wrong": lazy_gettext("Wrong error type"),
    "wrong_score": lazy_gettext("Wrong score"),
    "other": lazy_gettext("Other"),
}

SUBMISSION_STATES = {
    SubmissionStatus.SUBMITTED: lazy_gettext("Waiting for review"),
    SubmissionStatus.ACCEPTED: lazy_gettext("Accepted"),
    SubmissionStatus.REJECTED: lazy_gettext("Rejected"),
    SubmissionStatus.RETURNED: lazy_gettext("Sent back for rework"),
}

DECISION_SOURCES = {
    DecisionSource.REVIEW: lazy_gettext("by a reviewer"),
    DecisionSource.SAMPLE_PASSED: lazy_gettext("its batch's sample passed"),
    DecisionSource.REWORK: lazy_gettext("its batch's sample failed"),
    DecisionSource.AUTO: lazy_gettext("nobody reviewed it in time"),
    DecisionSource.DISPUTE: lazy_gettext("a dispute was decided"),
}

DISPUTE_STATES = {
    DisputeStatus.OPEN: lazy_gettext("Open: waiting for a decision"),
    DisputeStatus.UPHELD: lazy_gettext("Upheld: your item is accepted"),
    DisputeStatus.DISMISSED: lazy_gettext("Dismissed: the rejection stands"),
}


def reason_label(code: str | None) -> str:
    """A reason code in the viewer's words (a client's own code as it is)."""
    if code is None:
        return ""
    return str(REASON_CODES.get(code, code))


def label_of(table: dict, key: str | None) -> str:
    """A state or source in the viewer's words; an unknown one as it is."""
    return "" if key is None else str(table.get(key, key))


def share(bps: int | None) -> str:
    """A share in basis points as the viewer writes a percentage: 95%, 97.5%."""
    if bps is None:
        return ""
    return format_percent(Decimal(bps).scaleb(-4), locale=get_locale(), decimal_quantization=False)


FILTERS = {
    "share": share,
    "reason_label": reason_label,
    "submission_state": lambda key: label_of(SUBMISSION_STATES, key),
    "decision_source": lambda key: label_of(DECISION_SOURCES, key),
    "dispute_state": lambda key: label_of(DISPUTE_STATES, key),
}

# The review services' and schemas' own messages, marked for the catalogs (messages.py
# looks them up by their English text when a page shows them beside a field).
KNOWN = (
    # workers/schemas.py DecisionIn, DisputeIn, DisputeDecisionIn
    lazy_gettext("A rejection needs a reason code."),
    lazy_gettext("Length must be between 1 and 500."),
    lazy_gettext("Length must be between 1 and 1000."),
    lazy_gettext("Must be one of: uphold, dismiss."),
    lazy_gettext("May not be blank."),
    # workers/review.py, workers/disputes.py
    lazy_gettext("Nobody reviews her own work."),
    lazy_gettext("This submission was already reviewed."),
    lazy_gettext("Reviewers, owners and quality inspectors of the team review its work."),
    lazy_gettext("Reviewers, owners and quality inspectors decide disputes."),
    lazy_gettext("Your team has deactivated you: you no longer review its work."),
    lazy_gettext("Only a rejection can be disputed."),
    lazy_gettext("The time to dispute this rejection has passed."),
    lazy_gettext("This rejection is already disputed."),
    lazy_gettext("Nobody decides her own dispute."),
    lazy_gettext("Someone other than the reviewer who rejected the item decides."),
    lazy_gettext("This dispute was decided."),
)
