"""claim limits, leases, trials and lotteries

Existing orders become first-come orders without limits, lease or trial; existing
batches are regular ones. The server defaults fill those rows and stay, agreeing with
the models' own defaults.

Revision ID: 0421777b2c55
Revises: edaea187ab53
Create Date: 2026-11-25 09:04:39.963541
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0421777b2c55'
down_revision: str | None = 'edaea187ab53'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('claim_rules',
    sa.Column('team_party_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('batches_per_drop', sa.Integer(), nullable=False),
    sa.Column('task_type', sa.String(length=64), nullable=True),
    sa.Column('client_party_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('min_unit_price_micros', sa.BigInteger(), nullable=True),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('batches_per_drop > 0', name=op.f('ck_claim_rules_positive_batches')),
    sa.ForeignKeyConstraint(['client_party_id'], ['parties.id'], name=op.f('fk_claim_rules_client_party_id_parties')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_claim_rules_created_by_user_id_users')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_claim_rules_order_id_orders')),
    sa.ForeignKeyConstraint(['team_party_id'], ['parties.id'], name=op.f('fk_claim_rules_team_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_rules'))
    )
    with op.batch_alter_table('claim_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_rules_team_party_id'), ['team_party_id'], unique=False)

    op.create_table('interests',
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('scheduled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('team_party_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('batches', sa.Integer(), nullable=False),
    sa.Column('registered_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('batches > 0', name=op.f('ck_interests_positive_batches')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_interests_order_id_orders')),
    sa.ForeignKeyConstraint(['registered_by_user_id'], ['users.id'], name=op.f('fk_interests_registered_by_user_id_users')),
    sa.ForeignKeyConstraint(['team_party_id'], ['parties.id'], name=op.f('fk_interests_team_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interests')),
    sa.UniqueConstraint('order_id', 'scheduled_at', 'team_party_id', name=op.f('uq_interests_order_id_scheduled_at_team_party_id'))
    )
    op.create_table('allotments',
    sa.Column('drop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('team_party_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('wanted', sa.Integer(), nullable=False),
    sa.Column('allowed', sa.Integer(), nullable=False),
    sa.Column('rank_key', sa.String(length=64), nullable=False),
    sa.Column('batch_ids', sa.JSON(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['drop_id'], ['drops.id'], name=op.f('fk_allotments_drop_id_drops')),
    sa.ForeignKeyConstraint(['team_party_id'], ['parties.id'], name=op.f('fk_allotments_team_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allotments')),
    sa.UniqueConstraint('drop_id', 'team_party_id', name=op.f('uq_allotments_drop_id_team_party_id'))
    )
    op.create_table('claimants',
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('team_party_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('trial_batch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('trial_score', sa.Integer(), nullable=True),
    sa.Column('trial_passed', sa.Boolean(), nullable=True),
    sa.Column('trial_scored_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('trial_scored_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('trial_note', sa.String(length=1000), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_claimants_order_id_orders')),
    sa.ForeignKeyConstraint(['team_party_id'], ['parties.id'], name=op.f('fk_claimants_team_party_id_parties')),
    sa.ForeignKeyConstraint(['trial_batch_id'], ['batches.id'], name=op.f('fk_claimants_trial_batch_id_batches')),
    sa.ForeignKeyConstraint(['trial_scored_by_user_id'], ['users.id'], name=op.f('fk_claimants_trial_scored_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claimants')),
    sa.UniqueConstraint('order_id', 'team_party_id', name=op.f('uq_claimants_order_id_team_party_id'))
    )
    with op.batch_alter_table('claimants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claimants_team_party_id'), ['team_party_id'], unique=False)

    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=False, server_default='regular'))
        batch_op.add_column(sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('returned_items', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('returned_from_batch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_index('ix_batches_holder', ['order_id', 'claimed_by_party_id', 'status'], unique=False)
        batch_op.create_index('ix_batches_lease', ['status', 'lease_expires_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_batches_returned_from_batch_id_batches'), 'batches', ['returned_from_batch_id'], ['id'])

    with op.batch_alter_table('drops', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lottery_seed', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('lottery_algorithm', sa.String(length=64), nullable=True))

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim_mode', sa.String(length=16), nullable=False, server_default='first_come'))
        batch_op.add_column(sa.Column('max_batches_held', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('max_batches_per_drop', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('lease_hours', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('trial_batches', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('trial_batch_size', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('trial_pass_score', sa.Integer(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('trial_pass_score')
        batch_op.drop_column('trial_batch_size')
        batch_op.drop_column('trial_batches')
        batch_op.drop_column('lease_hours')
        batch_op.drop_column('max_batches_per_drop')
        batch_op.drop_column('max_batches_held')
        batch_op.drop_column('claim_mode')

    with op.batch_alter_table('drops', schema=None) as batch_op:
        batch_op.drop_column('lottery_algorithm')
        batch_op.drop_column('lottery_seed')

    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_batches_returned_from_batch_id_batches'), type_='foreignkey')
        batch_op.drop_index('ix_batches_lease')
        batch_op.drop_index('ix_batches_holder')
        batch_op.drop_column('returned_from_batch_id')
        batch_op.drop_column('returned_items')
        batch_op.drop_column('lease_expires_at')
        batch_op.drop_column('kind')

    with op.batch_alter_table('claimants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claimants_team_party_id'))

    op.drop_table('claimants')
    op.drop_table('allotments')
    op.drop_table('interests')
    with op.batch_alter_table('claim_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_rules_team_party_id'))

    op.drop_table('claim_rules')
