"""hourly pay — seconds worked per submission, reference wages

Revision ID: c19b00000002
Revises: c19a00000001
Create Date: 2026-12-07 15:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c19b00000002'
down_revision: str | None = 'c19a00000001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('submissions') as batch:
        batch.add_column(sa.Column('work_seconds', sa.Integer(), nullable=True))
    op.create_table('reference_wages',
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('region', sa.String(length=100), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('set_by_user_id', ID, nullable=False),
    sa.Column('id', ID, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_reference_wages_positive_wage')),
    sa.ForeignKeyConstraint(['set_by_user_id'], ['users.id'], name=op.f('fk_reference_wages_set_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_wages')),
    sa.UniqueConstraint('currency', 'region', 'effective_on', name=op.f('uq_reference_wages_currency_region_effective_on'))
    )


def downgrade() -> None:
    op.drop_table('reference_wages')
    with op.batch_alter_table('submissions') as batch:
        batch.drop_column('work_seconds')
