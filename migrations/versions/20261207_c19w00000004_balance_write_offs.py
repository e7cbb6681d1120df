"""balance write-offs — the platform's loss on a client's negative balance; what a reversal left uncovered

Revision ID: c19w00000004
Revises: c19c00000003
Create Date: 2026-12-07 18:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c19w00000004'
down_revision: str | None = 'c19c00000003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    # Reversals recorded before this read 0: what they left uncovered was not kept.
    with op.batch_alter_table('payment_reversals') as batch:
        batch.add_column(
            sa.Column('uncovered_minor', sa.BigInteger(), server_default='0', nullable=False)
        )
    op.create_table('balance_write_offs',
    sa.Column('client_party_id', ID, nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('reversal_id', ID, nullable=True),
    sa.Column('recorded_by_user_id', ID, nullable=False),
    sa.Column('id', ID, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_balance_write_offs_positive_amount')),
    sa.CheckConstraint("reason <> ''", name=op.f('ck_balance_write_offs_reason_given')),
    sa.ForeignKeyConstraint(['client_party_id'], ['parties.id'], name=op.f('fk_balance_write_offs_client_party_id_parties')),
    sa.ForeignKeyConstraint(['recorded_by_user_id'], ['users.id'], name=op.f('fk_balance_write_offs_recorded_by_user_id_users')),
    sa.ForeignKeyConstraint(['reversal_id'], ['payment_reversals.id'], name=op.f('fk_balance_write_offs_reversal_id_payment_reversals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_balance_write_offs'))
    )
    op.create_index(op.f('ix_balance_write_offs_client_party_id'), 'balance_write_offs', ['client_party_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_balance_write_offs_client_party_id'), table_name='balance_write_offs')
    op.drop_table('balance_write_offs')
    with op.batch_alter_table('payment_reversals') as batch:
        batch.drop_column('uncovered_minor')
