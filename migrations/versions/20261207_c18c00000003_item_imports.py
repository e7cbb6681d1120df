"""items from files — imports and their idempotency keys

Revision ID: c18c00000003
Revises: c18b00000002
Create Date: 2026-12-07 05:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = 'c18c00000003'
down_revision: str | None = 'c18b00000002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
