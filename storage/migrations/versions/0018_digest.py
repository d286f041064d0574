"""between sessions: digest settings and what each digest covered

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 19:20:00
"""

from alembic import op  # noqa: F401

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
