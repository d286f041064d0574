"""between sessions: discussion prompts, their schedule and suggestions

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 19:20:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prompt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("last_round", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("added_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("suggestion_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "number"),
    )
    op.create_index(op.f("ix_prompt_community_id"), "prompt", ["community_id"], unique=False)
    op.create_table(
        "prompt_settings",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("schedule", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("tz", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("paused_until", storage.types.UTCDateTime(), nullable=True),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("told_empty", sa.Boolean(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("community_id"),
    )
    op.create_table(
        "prompt_post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("prompt_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("occurrence", storage.types.UTCDateTime(), nullable=True),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("posted_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["prompt_id"], ["prompt.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "occurrence"),
    )
    op.create_index(
        op.f("ix_prompt_post_community_id"), "prompt_post", ["community_id"], unique=False
    )
    op.create_index(op.f("ix_prompt_post_posted_at"), "prompt_post", ["posted_at"], unique=False)
    op.create_table(
        "prompt_suggestion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("suggester_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("suggester_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("decided_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_prompt_suggestion_community_id"),
        "prompt_suggestion",
        ["community_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_prompt_suggestion_member_id"), "prompt_suggestion", ["member_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_prompt_suggestion_member_id"), table_name="prompt_suggestion")
    op.drop_index(op.f("ix_prompt_suggestion_community_id"), table_name="prompt_suggestion")
    op.drop_table("prompt_suggestion")
    op.drop_index(op.f("ix_prompt_post_posted_at"), table_name="prompt_post")
    op.drop_index(op.f("ix_prompt_post_community_id"), table_name="prompt_post")
    op.drop_table("prompt_post")
    op.drop_table("prompt_settings")
    op.drop_index(op.f("ix_prompt_community_id"), table_name="prompt")
    op.drop_table("prompt")
