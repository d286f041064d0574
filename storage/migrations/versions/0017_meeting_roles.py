"""meetings: roles members take at a meeting (sharer, breakout lead, notes, host)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 19:20:00
"""

from alembic import op  # noqa: F401

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
