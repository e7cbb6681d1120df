"""team invites and member deactivation

Revision ID: c18b00000002
Revises: c18a00000001
Create Date: 2026-12-07 05:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c18b00000002'
down_revision: str | None = 'c18a00000001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Ids are 64-bit, except where SQLite needs an INTEGER primary key to autoincrement.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "team_invites",
        sa.Column("team_party_id", ID, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("level_id", ID, nullable=True),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("invited_by_user_id", ID, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_by_user_id", ID, nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_user_id", ID, nullable=True),
        sa.Column("id", ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["accepted_by_user_id"],
            ["users.id"],
            name=op.f("fk_team_invites_accepted_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_user_id"],
            ["users.id"],
            name=op.f("fk_team_invites_invited_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["level_id"], ["levels.id"], name=op.f("fk_team_invites_level_id_levels")
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_user_id"],
            ["users.id"],
            name=op.f("fk_team_invites_revoked_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["team_party_id"], ["parties.id"], name=op.f("fk_team_invites_team_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_invites")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_team_invites_token_digest")),
    )
    op.create_index(
        "ix_team_invites_team_email", "team_invites", ["team_party_id", "email"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_team_invites_team_email", table_name="team_invites")
    op.drop_table("team_invites")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_column("deactivated_at")
