"""meetings: roles members take at a meeting (sharer, breakout lead, notes, host)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 19:20:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meeting_role",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("granted_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "member_id", "role"),
    )
    op.create_index(
        op.f("ix_meeting_role_community_id"), "meeting_role", ["community_id"], unique=False
    )
    op.create_index(
        op.f("ix_meeting_role_meeting_id"), "meeting_role", ["meeting_id"], unique=False
    )
    op.create_index(op.f("ix_meeting_role_member_id"), "meeting_role", ["member_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_meeting_role_member_id"), table_name="meeting_role")
    op.drop_index(op.f("ix_meeting_role_meeting_id"), table_name="meeting_role")
    op.drop_index(op.f("ix_meeting_role_community_id"), table_name="meeting_role")
    op.drop_table("meeting_role")
