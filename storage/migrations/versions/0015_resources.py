"""between sessions: shared resources, tags, attached to meetings

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 19:20:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resource",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("host", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("added_by_member_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("removed_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["added_by_member_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "number"),
    )
    for column in ("community_id", "added_by_member_id", "created_at"):
        op.create_index(op.f(f"ix_resource_{column}"), "resource", [column], unique=False)
    op.create_table(
        "resource_tag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("tag", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["resource_id"], ["resource.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("resource_id", "tag"),
    )
    for column in ("community_id", "resource_id"):
        op.create_index(op.f(f"ix_resource_tag_{column}"), "resource_tag", [column], unique=False)
    op.create_table(
        "resource_meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("attached_by_member_id", sa.Integer(), nullable=True),
        sa.Column("attached_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["resource_id"], ["resource.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["attached_by_member_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("resource_id", "meeting_id"),
    )
    for column in ("community_id", "resource_id", "meeting_id"):
        op.create_index(
            op.f(f"ix_resource_meeting_{column}"), "resource_meeting", [column], unique=False
        )


def downgrade() -> None:
    for column in ("meeting_id", "resource_id", "community_id"):
        op.drop_index(op.f(f"ix_resource_meeting_{column}"), table_name="resource_meeting")
    op.drop_table("resource_meeting")
    for column in ("resource_id", "community_id"):
        op.drop_index(op.f(f"ix_resource_tag_{column}"), table_name="resource_tag")
    op.drop_table("resource_tag")
    for column in ("created_at", "added_by_member_id", "community_id"):
        op.drop_index(op.f(f"ix_resource_{column}"), table_name="resource")
    op.drop_table("resource")
