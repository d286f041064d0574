"""members remember closed DMs; joins the voting and meetings branches

Revision ID: 0004
Revises: 0002, 0003
Create Date: 2026-11-23 15:45:00
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0004"
down_revision = ("0002", "0003")
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dm_closed_at", storage.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("dm_closed_at")
