"""between sessions: challenges brought from practice

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 19:20:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "challenge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("carried", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("discussed_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("check_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("asked_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("note_sealed", sa.Text(), nullable=True),
        sa.Column("noted_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "number"),
    )
    op.create_index(op.f("ix_challenge_community_id"), "challenge", ["community_id"], unique=False)
    op.create_index(op.f("ix_challenge_member_id"), "challenge", ["member_id"], unique=False)
    op.create_index(op.f("ix_challenge_created_at"), "challenge", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_challenge_created_at"), table_name="challenge")
    op.drop_index(op.f("ix_challenge_member_id"), table_name="challenge")
    op.drop_index(op.f("ix_challenge_community_id"), table_name="challenge")
    op.drop_table("challenge")
