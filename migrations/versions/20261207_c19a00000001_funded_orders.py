"""funded orders — order funding and estimate, reservations, credit lines

Revision ID: c19a00000001
Revises: c18d00000004
Create Date: 2026-12-07 14:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c19a00000001'
down_revision: str | None = 'c18d00000004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('funding', sa.String(length=16), server_default='invoiced', nullable=False))
        batch.add_column(sa.Column('estimated_seconds_per_item', sa.Integer(), nullable=True))
    with op.batch_alter_table('claim_rules') as batch:
        batch.add_column(sa.Column('funded_only', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table('reservations',
    sa.Column('order_id', ID, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('drop_id', ID, nullable=True),
    sa.Column('invoice_id', ID, nullable=True),
    sa.Column('ledger_key', sa.String(length=200), nullable=False),
    sa.Column('memo', sa.String(length=300), nullable=False),
    sa.Column('id', ID, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_minor >= 0', name=op.f('ck_reservations_nonnegative_amount')),
    sa.ForeignKeyConstraint(['drop_id'], ['drops.id'], name=op.f('fk_reservations_drop_id_drops')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_reservations_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_reservations_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reservations')),
    sa.UniqueConstraint('ledger_key', name=op.f('uq_reservations_ledger_key'))
    )
    op.create_index(op.f('ix_reservations_order_id'), 'reservations', ['order_id'], unique=False)
    op.create_table('credit_lines',
    sa.Column('party_id', ID, nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('limit_minor', sa.BigInteger(), nullable=False),
    sa.Column('set_by_user_id', ID, nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('id', ID, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('limit_minor > 0', name=op.f('ck_credit_lines_positive_limit')),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_credit_lines_party_id_parties')),
    sa.ForeignKeyConstraint(['set_by_user_id'], ['users.id'], name=op.f('fk_credit_lines_set_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_lines')),
    sa.UniqueConstraint('party_id', 'currency', name=op.f('uq_credit_lines_party_id_currency'))
    )
    op.create_table('balance_refunds',
    sa.Column('client_party_id', ID, nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_by_user_id', ID, nullable=False),
    sa.Column('decided_by_user_id', ID, nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reference', sa.String(length=200), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('id', ID, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_balance_refunds_positive_amount')),
    sa.ForeignKeyConstraint(['client_party_id'], ['parties.id'], name=op.f('fk_balance_refunds_client_party_id_parties')),
    sa.ForeignKeyConstraint(['decided_by_user_id'], ['users.id'], name=op.f('fk_balance_refunds_decided_by_user_id_users')),
    sa.ForeignKeyConstraint(['requested_by_user_id'], ['users.id'], name=op.f('fk_balance_refunds_requested_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_balance_refunds'))
    )
    op.create_index(op.f('ix_balance_refunds_client_party_id'), 'balance_refunds', ['client_party_id'], unique=False)
    # Clients that posted orders before funding existed had them all pay-when-paid: they
    # keep that, on a line no drop of theirs reaches, until an admin sets a real limit.
    op.execute(
        "INSERT INTO credit_lines (party_id, currency, limit_minor, reason, created_at) "
        "SELECT DISTINCT client_party_id, currency, 1000000000000000, "
        "'kept at the upgrade to funded orders: invoiced before', CURRENT_TIMESTAMP "
        "FROM orders"
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_balance_refunds_client_party_id'), table_name='balance_refunds')
    op.drop_table('balance_refunds')
    op.drop_table('credit_lines')
    op.drop_index(op.f('ix_reservations_order_id'), table_name='reservations')
    op.drop_table('reservations')
    with op.batch_alter_table('claim_rules') as batch:
        batch.drop_column('funded_only')
    with op.batch_alter_table('orders') as batch:
        batch.drop_column('estimated_seconds_per_item')
        batch.drop_column('funding')
