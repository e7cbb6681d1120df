"""accounts — sign-up, e-mail verification, approvals, password resets, token expiry, sign-in lockout

Revision ID: c18a00000001
Revises: b19f954b5be8
Create Date: 2026-12-07 05:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = 'c18a00000001'
down_revision: str | None = 'b19f954b5be8'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
