"""subcontracting chains: bids, offers, cost floors

Existing contracts become top contracts made by claims; existing orders become
claims orders; each claimed batch is worked under its team's contract, and each
share of an invoice is earned on the contract of its team. Margins may now be a
fen below zero (sub-fen prices, each line rounded once); downgrading puts the old
check back, so it fails while such a share exists.

Revision ID: 1868530ca73c
Revises: 0421777b2c55
Create Date: 2026-11-25 09:55:34.605430
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '1868530ca73c'
down_revision: str | None = '0421777b2c55'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('cost_floors',
    sa.Column('team_party_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('task_type', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('unit_price_micros', sa.BigInteger(), nullable=False),
    sa.Column('set_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('unit_price_micros > 0', name=op.f('ck_cost_floors_positive_price')),
    sa.ForeignKeyConstraint(['set_by_user_id'], ['users.id'], name=op.f('fk_cost_floors_set_by_user_id_users')),
    sa.ForeignKeyConstraint(['team_party_id'], ['parties.id'], name=op.f('fk_cost_floors_team_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cost_floors')),
    sa.UniqueConstraint('team_party_id', 'task_type', 'currency', name=op.f('uq_cost_floors_team_party_id_task_type_currency'))
    )
    op.create_table('offers',
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('contract_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('from_party_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('to_party_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('unit_price_micros', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('open_quantity', sa.Integer(), nullable=False),
    sa.Column('batch_ids', sa.JSON(), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('open_quantity >= 0', name=op.f('ck_offers_nonnegative_open_quantity')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_offers_positive_quantity')),
    sa.CheckConstraint('unit_price_micros > 0', name=op.f('ck_offers_positive_price')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_offers_contract_id_contracts')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_offers_created_by_user_id_users')),
    sa.ForeignKeyConstraint(['from_party_id'], ['parties.id'], name=op.f('fk_offers_from_party_id_parties')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_offers_order_id_orders')),
    sa.ForeignKeyConstraint(['to_party_id'], ['parties.id'], name=op.f('fk_offers_to_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offers'))
    )
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offers_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offers_from_party_id'), ['from_party_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offers_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offers_to_party_id'), ['to_party_id'], unique=False)

    op.create_table('bids',
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('offer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('team_party_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('unit_price_micros', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('awarded_quantity', sa.Integer(), nullable=True),
    sa.Column('contract_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_bids_positive_quantity')),
    sa.CheckConstraint('unit_price_micros > 0', name=op.f('ck_bids_positive_price')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_bids_contract_id_contracts')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_bids_created_by_user_id_users')),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_bids_offer_id_offers')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_bids_order_id_orders')),
    sa.ForeignKeyConstraint(['team_party_id'], ['parties.id'], name=op.f('fk_bids_team_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bids'))
    )
    with op.batch_alter_table('bids', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bids_offer_id'), ['offer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bids_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bids_team_party_id'), ['team_party_id'], unique=False)

    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contract_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_index(batch_op.f('ix_batches_contract_id'), ['contract_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_batches_contract_id_contracts'), 'contracts', ['contract_id'], ['id'])

    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_contract_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('depth', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('source', sa.String(length=16), nullable=False, server_default='claim'))
        batch_op.create_check_constraint(batch_op.f('ck_contracts_positive_depth'), 'depth > 0')
        batch_op.create_index(batch_op.f('ix_contracts_parent_contract_id'), ['parent_contract_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_contracts_parent_contract_id_contracts'), 'contracts', ['parent_contract_id'], ['id'])

    with op.batch_alter_table('invoice_shares', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contract_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_invoice_shares_contract_id_contracts'), 'contracts', ['contract_id'], ['id'])
        batch_op.drop_constraint(batch_op.f('ck_invoice_shares_nonnegative_share'), type_='check')

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sourcing', sa.String(length=16), nullable=False, server_default='claims'))
        batch_op.add_column(sa.Column('max_chain_depth', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('min_pass_through_bps', sa.Integer(), nullable=True))

    # Until now every contract was a claiming team's one contract with the client.
    op.execute(
        "UPDATE batches SET contract_id = (SELECT c.id FROM contracts c"
        " WHERE c.order_id = batches.order_id AND c.downstream_party_id = batches.claimed_by_party_id)"
        " WHERE claimed_by_party_id IS NOT NULL"
    )
    op.execute(
        "UPDATE invoice_shares SET contract_id = (SELECT c.id FROM contracts c"
        " JOIN invoices i ON i.order_id = c.order_id"
        " WHERE i.id = invoice_shares.invoice_id AND c.downstream_party_id = invoice_shares.party_id)"
        " WHERE role IN ('annotator', 'margin')"
    )


def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('min_pass_through_bps')
        batch_op.drop_column('max_chain_depth')
        batch_op.drop_column('sourcing')

    with op.batch_alter_table('invoice_shares', schema=None) as batch_op:
        batch_op.create_check_constraint(batch_op.f('ck_invoice_shares_nonnegative_share'), 'amount_minor >= 0')
        batch_op.drop_constraint(batch_op.f('fk_invoice_shares_contract_id_contracts'), type_='foreignkey')
        batch_op.drop_column('contract_id')

    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_contracts_parent_contract_id_contracts'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('ck_contracts_positive_depth'), type_='check')
        batch_op.drop_index(batch_op.f('ix_contracts_parent_contract_id'))
        batch_op.drop_column('source')
        batch_op.drop_column('depth')
        batch_op.drop_column('parent_contract_id')

    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_batches_contract_id_contracts'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_batches_contract_id'))
        batch_op.drop_column('contract_id')

    with op.batch_alter_table('bids', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bids_team_party_id'))
        batch_op.drop_index(batch_op.f('ix_bids_order_id'))
        batch_op.drop_index(batch_op.f('ix_bids_offer_id'))

    op.drop_table('bids')
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offers_to_party_id'))
        batch_op.drop_index(batch_op.f('ix_offers_order_id'))
        batch_op.drop_index(batch_op.f('ix_offers_from_party_id'))
        batch_op.drop_index(batch_op.f('ix_offers_contract_id'))

    op.drop_table('offers')
    op.drop_table('cost_floors')
