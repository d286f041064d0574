"""series can end (until) or be deleted before their first meeting; meetings keep a reason

`meeting_series.until`: no occurrence starts at or after it (set by /cop meeting end-series).
`meeting_series.deleted_at`: the series was ended before any of its meetings happened; its rows
stay (SQLite reuses the highest rowid of a deleted row, and outbox keys are built from ids).
`meeting.reason`: why the meeting was last cancelled or moved, as the facilitator typed it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 11:00:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN only: on SQLite any other change rebuilds the table, and dropping the old
    # meeting_series or meeting would cascade to their rows (foreign keys are on).
    op.add_column("meeting_series", sa.Column("until", storage.types.UTCDateTime(), nullable=True))
    op.add_column(
        "meeting_series", sa.Column("deleted_at", storage.types.UTCDateTime(), nullable=True)
    )
    op.add_column(
        "meeting", sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_column("reason")
    with op.batch_alter_table("meeting_series", schema=None) as batch_op:
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("until")
