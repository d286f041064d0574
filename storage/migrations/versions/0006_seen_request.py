"""the platforms' request ids, remembered so a retried or replayed request has one effect

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 13:30:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seen_request",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("seen_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(op.f("ix_seen_request_seen_at"), "seen_request", ["seen_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_seen_request_seen_at"), table_name="seen_request")
    op.drop_table("seen_request")
