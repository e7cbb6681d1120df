"""orders.billed_items — the items an order's invoices billed, for its client's credit line

Revision ID: c19c00000003
Revises: c19b00000002
Create Date: 2026-12-07 17:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c19c00000003'
down_revision: str | None = 'c19b00000002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('orders') as batch:
        batch.add_column(
            sa.Column('billed_items', sa.Integer(), server_default='0', nullable=False)
        )
    # What the invoices already issued billed: their client items lines.
    op.execute(
        "UPDATE orders SET billed_items = COALESCE(("
        " SELECT SUM(invoice_lines.quantity) FROM invoice_lines"
        " JOIN invoices ON invoices.id = invoice_lines.invoice_id"
        " WHERE invoices.order_id = orders.id AND invoice_lines.kind = 'items'), 0)"
    )


def downgrade() -> None:
    with op.batch_alter_table('orders') as batch:
        batch.drop_column('billed_items')
