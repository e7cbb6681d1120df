"""What the workers package tells the parties' systems (notices/events.py): rejections
and disputes to the team, a batch whose every item is accepted to the order's client."""

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.notices.events import publish
from marketplace.notices.preferences import mark_once
from marketplace.orders.models import Batch
from marketplace.workers.models import Dispute, Submission, SubmissionStatus, Task, TaskStatus


def announce_decided(session: Session, ids: Iterable[int], status: str, source: str) -> None:
    """After submissions `ids` were decided `status` (by `source`): rejections to their
    team, one event per batch; each batch this leaves wholly accepted to its client."""
    ids = sorted(ids)
    if status == SubmissionStatus.REJECTED:
        _rejected(session, ids, source)
    elif status == SubmissionStatus.ACCEPTED:
        _results_ready(session, ids)


def _rejected(session: Session, ids: list[int], source: str) -> None:
    by_batch = defaultdict(list)
    for start in range(0, len(ids), 1000):
        # Columns, not entities: decide() updated the rows behind the session's back.
        rows = session.execute(
            select(
                Submission.batch_id,
                Submission.order_id,
                Submission.team_party_id,
                Submission.id,
                Submission.task_id,
                Submission.reason_code,
                Submission.reason,
            )
            .where(Submission.id.in_(ids[start : start + 1000]))
            .order_by(Submission.id)
        ).all()
        for batch_id, order_id, team, submission_id, task_id, reason_code, reason in rows:
            by_batch[(batch_id, order_id, team)].append(
                {
                    "submission_id": submission_id,
                    "task_id": task_id,
                    "reason_code": reason_code,
                    "reason": reason,
                }
            )
    for (batch_id, order_id, team), rejected in sorted(by_batch.items()):
        data = {
            "batch_id": batch_id,
            "order_id": order_id,
            "source": source,
            "submissions": rejected,
        }
        publish(session, "submission.rejected", [team], data)


def _results_ready(session: Session, ids: list[int]) -> None:
    batch_ids = set()
    for start in range(0, len(ids), 1000):
        batch_ids.update(
            session.scalars(
                select(Submission.batch_id).where(Submission.id.in_(ids[start : start + 1000]))
            )
        )
    for batch_id in sorted(batch_ids):
        tasks, accepted = session.execute(
            select(func.count(), func.count().filter(Task.status == TaskStatus.ACCEPTED)).where(
                Task.batch_id == batch_id
            )
        ).one()
        if not tasks or accepted < tasks or not mark_once(session, "results_ready", str(batch_id)):
            continue
        batch = session.get(Batch, batch_id)
        data = {
            "batch_id": batch_id,
            "order_id": batch.order_id,
            "accepted_items": accepted,
            "results_url": f"/api/v1/orders/{batch.order_id}/results?batch_id={batch_id}",
        }
        publish(session, "results.ready", [batch.order.client_party_id], data)


def announce_dispute(session: Session, dispute: Dispute) -> None:
    """A decided dispute, to the team whose reviewer and annotator it was between."""
    data = {
        "dispute_id": dispute.id,
        "submission_id": dispute.submission_id,
        "status": dispute.status,
        "decided_at": dispute.decided_at.isoformat(),
    }
    publish(session, "dispute.decided", [dispute.team_party_id], data)
