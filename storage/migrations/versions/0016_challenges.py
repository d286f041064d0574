"""between sessions: challenges brought from practice

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 19:20:00
"""

from alembic import op  # noqa: F401

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
