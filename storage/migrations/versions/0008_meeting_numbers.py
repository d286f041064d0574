"""meetings and series get a number per community; series carry their own agenda segments

Existing rows are numbered per community in order of occurrence (meetings) or creation
(series), so the first meeting a community ever had is #1.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _backfill(table: str, order: str) -> None:
    """Number each community's rows 1, 2, 3... in `order` (portable: no window functions)."""
    conn = op.get_bind()
    rows = conn.execute(sa.text(f"SELECT id, community_id FROM {table} ORDER BY {order}")).all()
    counters: dict[int, int] = {}
    for row_id, community_id in rows:
        counters[community_id] = counters.get(community_id, 0) + 1
        conn.execute(
            sa.text(f"UPDATE {table} SET number = :n WHERE id = :id"),
            {"n": counters[community_id], "id": row_id},
        )


def upgrade() -> None:
    # Only ADD COLUMN and CREATE INDEX: on SQLite anything else rebuilds the table, and dropping
    # the old meeting_series would cascade to every meeting (foreign keys are on, and cannot be
    # turned off inside the migration's transaction). So NOT NULL comes with a placeholder
    # default (dropped again on PostgreSQL) and uniqueness is a unique index.
    for table in ("meeting_series", "meeting"):
        op.add_column(table, sa.Column("number", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("meeting_series", sa.Column("segments", sa.Text(), nullable=True))
    op.add_column("meeting_series", sa.Column("objectives", sa.Text(), nullable=True))

    _backfill("meeting_series", "community_id, id")
    _backfill("meeting", "community_id, occurrence_start, id")

    for table in ("meeting_series", "meeting"):
        if op.get_bind().dialect.name != "sqlite":
            op.alter_column(table, "number", existing_type=sa.Integer(), server_default=None)
        op.create_index(
            f"uq_{table}_community_id_number", table, ["community_id", "number"], unique=True
        )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+), not a batch rebuild, for the same cascade reason.
    for table in ("meeting", "meeting_series"):
        op.drop_index(f"uq_{table}_community_id_number", table_name=table)
        op.drop_column(table, "number")
    op.drop_column("meeting_series", "objectives")
    op.drop_column("meeting_series", "segments")
