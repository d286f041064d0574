"""between sessions: digest settings and what each digest covered

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 19:20:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_settings",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("offset_minutes", sa.Integer(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("community_id"),
    )
    op.create_table(
        "digest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("since", storage.types.UTCDateTime(), nullable=False),
        sa.Column("until", storage.types.UTCDateTime(), nullable=False),
        sa.Column("post_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "meeting_id"),
    )
    op.create_index(op.f("ix_digest_community_id"), "digest", ["community_id"], unique=False)
    op.create_index(op.f("ix_digest_meeting_id"), "digest", ["meeting_id"], unique=False)
    op.create_index(op.f("ix_digest_until"), "digest", ["until"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_digest_until"), table_name="digest")
    op.drop_index(op.f("ix_digest_meeting_id"), table_name="digest")
    op.drop_index(op.f("ix_digest_community_id"), table_name="digest")
    op.drop_table("digest")
    op.drop_table("digest_settings")
