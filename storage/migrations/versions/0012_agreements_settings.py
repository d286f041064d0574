"""agreements: per-community recap timing, and the meeting time each recap was posted for

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 21:40:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agreement_settings",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("recap_at", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("community_id"),
    )
    op.add_column(
        "agreement_recap",
        sa.Column("meeting_start", storage.types.UTCDateTime(), nullable=True),
    )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): no table rebuild, every recap row is kept.
    op.drop_column("agreement_recap", "meeting_start")
    op.drop_table("agreement_settings")
