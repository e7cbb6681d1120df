"""items from files — imports and their idempotency keys

Revision ID: c18c00000003
Revises: c18b00000002
Create Date: 2026-12-07 05:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c18c00000003"
down_revision: str | None = "c18b00000002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "item_imports",
        sa.Column("order_id", ID, nullable=False),
        sa.Column("created_by_user_id", ID, nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("items_added", sa.Integer(), nullable=False),
        sa.Column("duplicates_skipped", sa.Integer(), nullable=False),
        sa.Column("batches_created", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_item_imports_created_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_item_imports_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_imports")),
        sa.UniqueConstraint(
            "order_id", "idempotency_key", name=op.f("uq_item_imports_order_id_idempotency_key")
        ),
    )


def downgrade() -> None:
    op.drop_table("item_imports")
