"""outbox: messages posted in the thread under an earlier message, and sealed payloads

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 21:40:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "outbox",
        sa.Column("thread_of", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    )
    op.add_column(
        "outbox", sa.Column("sealed", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): no table rebuild, every queued row is kept.
    op.drop_column("outbox", "sealed")
    op.drop_column("outbox", "thread_of")
