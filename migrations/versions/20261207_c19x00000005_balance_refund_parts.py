"""balance refund parts — what of each payment a balance refund sends back, by card or bank transfer

Paying a balance refund kept its plan and each card refund as audit entries
(balance_refund.sending, balance_refund.card_refunded) and read them back; it now keeps
them here. The upgrade writes the parts those entries describe, so a request a failure
left half sent resumes from its own plan and sends nothing twice; and, for requests
refunded before there were plans (bank transfer alone), the refunds of its payments it
recorded. The audit entries stay, as the record they are. A downgrade drops the parts:
finish or refuse the requests left open before going down.

Revision ID: c19x00000005
Revises: c19w00000004
Create Date: 2026-12-07 19:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c19x00000005'
down_revision: str | None = 'c19w00000004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('balance_refund_parts',
    sa.Column('refund_id', ID, nullable=False),
    sa.Column('payment_id', ID, nullable=False),
    sa.Column('way', sa.String(length=16), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('stripe_refund', sa.String(length=200), nullable=True),
    sa.Column('reversal_id', ID, nullable=True),
    sa.Column('sent_at', MOMENT, nullable=True),
    sa.Column('id', ID, nullable=False),
    sa.Column('created_at', MOMENT, nullable=False),
    sa.CheckConstraint("(status = 'sent') = (sent_at IS NOT NULL)", name=op.f('ck_balance_refund_parts_sent_when_sent')),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_balance_refund_parts_positive_amount')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_balance_refund_parts_payment_id_payments')),
    sa.ForeignKeyConstraint(['refund_id'], ['balance_refunds.id'], name=op.f('fk_balance_refund_parts_refund_id_balance_refunds')),
    sa.ForeignKeyConstraint(['reversal_id'], ['payment_reversals.id'], name=op.f('fk_balance_refund_parts_reversal_id_payment_reversals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_balance_refund_parts')),
    sa.UniqueConstraint('refund_id', 'payment_id', name=op.f('uq_balance_refund_parts_refund_id_payment_id'))
    )
    _parts_from_what_was_kept()


def downgrade() -> None:
    op.drop_table('balance_refund_parts')


refunds = sa.table('balance_refunds', sa.column('id', ID), sa.column('status', sa.String))
audit_log = sa.table(
    'audit_log',
    sa.column('id', ID),
    sa.column('action', sa.String),
    sa.column('subject_type', sa.String),
    sa.column('subject_id', ID),
    sa.column('details', sa.JSON),
    sa.column('created_at', MOMENT),
)
reversals = sa.table(
    'payment_reversals',
    sa.column('id', ID),
    sa.column('payment_id', ID),
    sa.column('kind', sa.String),
    sa.column('reference', sa.String),
    sa.column('reason', sa.String),
    sa.column('amount_minor', sa.BigInteger),
    sa.column('created_at', MOMENT),
)
payments = sa.table('payments', sa.column('id', ID), sa.column('gateway', sa.String))
parts = sa.table(
    'balance_refund_parts',
    sa.column('refund_id', ID),
    sa.column('payment_id', ID),
    sa.column('way', sa.String),
    sa.column('amount_minor', sa.BigInteger),
    sa.column('status', sa.String),
    sa.column('stripe_refund', sa.String),
    sa.column('reversal_id', ID),
    sa.column('sent_at', MOMENT),
    sa.column('created_at', MOMENT),
)


def _parts_from_what_was_kept() -> None:
    connection = op.get_bind()

    def entries(action: str):
        return connection.execute(
            sa.select(audit_log.c.subject_id, audit_log.c.details, audit_log.c.created_at)
            .where(audit_log.c.subject_type == 'balance_refund', audit_log.c.action == action)
            .order_by(audit_log.c.id)
        ).all()

    def our_refund_of(refund_id: int, payment_id: int, reference: str | None = None):
        """The refund of the payment this request recorded (under `reference`, if named)."""
        query = sa.select(reversals.c.id).where(
            reversals.c.payment_id == payment_id,
            reversals.c.kind == 'refund',
            reversals.c.reason == f'balance refund {refund_id}',
        )
        if reference is not None:
            query = query.where(reversals.c.reference == reference)
        return connection.scalar(query.order_by(reversals.c.id).limit(1))

    plans = {}  # the latest plan of each request
    for refund_id, details, at in entries('balance_refund.sending'):
        plans[refund_id] = (details, at)
    card_refunds = {}
    for refund_id, details, at in entries('balance_refund.card_refunded'):
        card_refunds[(refund_id, details['payment_id'])] = (details, at)

    rows = []
    for refund_id, (plan, planned_at) in plans.items():
        for part in plan['by_bank_transfer']:
            # Recorded with the plan, under the bank transfer's reference.
            reversal = our_refund_of(refund_id, part['payment_id'], plan.get('reference'))
            rows.append(_row(refund_id, part, 'bank_transfer', planned_at, planned_at, reversal))
        for part in plan['by_card']:
            refunded = card_refunds.get((refund_id, part['payment_id']))
            if refunded is None:
                rows.append(_row(refund_id, part, 'card', planned_at))
                continue
            details, sent_at = refunded
            reversal = our_refund_of(refund_id, part['payment_id'])
            rows.append(
                _row(refund_id, part, 'card', planned_at, sent_at, reversal, details['stripe_refund'])
            )

    # Refunded before there were plans: by bank transfer alone, as the refunds it recorded.
    earlier = connection.execute(
        sa.select(refunds.c.id).where(refunds.c.status == 'refunded')
    ).scalars()
    for refund_id in earlier:
        if refund_id in plans:
            continue
        for reversal_id, payment_id, amount, gateway, at in connection.execute(
            sa.select(
                reversals.c.id,
                reversals.c.payment_id,
                reversals.c.amount_minor,
                payments.c.gateway,
                reversals.c.created_at,
            )
            .join(payments, payments.c.id == reversals.c.payment_id)
            .where(
                reversals.c.kind == 'refund',
                reversals.c.reason == f'balance refund {refund_id}',
            )
            .order_by(reversals.c.id)
        ):
            way = 'card' if gateway == 'stripe' else 'bank_transfer'
            part = {'payment_id': payment_id, 'amount_minor': amount}
            rows.append(_row(refund_id, part, way, at, at, reversal_id))
    if rows:
        op.bulk_insert(parts, rows)


def _row(refund_id, part, way, created_at, sent_at=None, reversal_id=None, stripe_refund=None):
    return {
        'refund_id': refund_id,
        'payment_id': part['payment_id'],
        'way': way,
        'amount_minor': part['amount_minor'],
        'status': 'planned' if sent_at is None else 'sent',
        'stripe_refund': stripe_refund,
        'reversal_id': reversal_id,
        'sent_at': sent_at,
        'created_at': created_at,
    }
