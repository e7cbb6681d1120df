"""notices — webhook endpoints, events, deliveries, mail preferences

Revision ID: c18d00000004
Revises: c18c00000003
Create Date: 2026-12-07 05:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = 'c18d00000004'
down_revision: str | None = 'c18c00000003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
