"""the job table replaces APScheduler's job store and the manual scheduler's table

Jobs become rows written in the same transaction as the change that causes them. The old
stores' rows are not carried over: their jobs are re-created from the domain rows by the
features' reconcilers, which run in the background after the first start on this revision.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("args", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("due_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", storage.types.UTCDateTime(), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_job_due", "job", ["status", "due_at"], unique=False)
    op.create_index(op.f("ix_job_community_id"), "job", ["community_id"], unique=False)
    op.drop_index(op.f("ix_manual_job_next_run_at"), table_name="manual_job")
    op.drop_table("manual_job")
    # APScheduler's SQLAlchemy job store kept its own table in the same database.
    op.execute("DROP TABLE IF EXISTS apscheduler_jobs")


def downgrade() -> None:
    op.create_table(
        "manual_job",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("args", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("next_run_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("trigger", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_manual_job_next_run_at"), "manual_job", ["next_run_at"], unique=False)
    op.drop_index(op.f("ix_job_community_id"), table_name="job")
    op.drop_index("ix_job_due", table_name="job")
    op.drop_table("job")
