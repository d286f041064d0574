"""networks of communities: networks, their communities and coordinators, join codes,
announcements and events, network surveys

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 22:10:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "network",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", _text(100), nullable=False),
        sa.Column("created_by", _text(64), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "network_community",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("joined_by", _text(64), nullable=False),
        sa.Column("joined_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["network_id"], ["network.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id"),
    )
    op.create_index(
        op.f("ix_network_community_network_id"), "network_community", ["network_id"], unique=False
    )
    op.create_table(
        "network_coordinator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("platform", _text(20), nullable=False),
        sa.Column("workspace_id", _text(64), nullable=False),
        sa.Column("user_id", _text(64), nullable=False),
        sa.Column("display_name", _text(100), nullable=False),
        sa.Column("added_by", _text(64), nullable=False),
        sa.Column("added_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["network_id"], ["network.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("network_id", "platform", "workspace_id", "user_id"),
    )
    op.create_index(
        op.f("ix_network_coordinator_network_id"),
        "network_coordinator",
        ["network_id"],
        unique=False,
    )
    op.create_table(
        "network_invite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("code_digest", _text(64), nullable=False),
        sa.Column("created_by", _text(64), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("used_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("used_by_community", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["network_id"], ["network.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["used_by_community"], ["community.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_digest"),
    )
    op.create_index(
        op.f("ix_network_invite_network_id"), "network_invite", ["network_id"], unique=False
    )
    op.create_table(
        "network_post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("kind", _text(10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("starts_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("author", _text(100), nullable=False),
        sa.Column("created_by", _text(64), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("communities", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["network_id"], ["network.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_network_post_network_id"), "network_post", ["network_id"], unique=False
    )
    op.create_table(
        "network_survey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("started_by", _text(64), nullable=False),
        sa.Column("started_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["network_id"], ["network.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("network_id", "number"),
    )
    op.create_index(
        op.f("ix_network_survey_network_id"), "network_survey", ["network_id"], unique=False
    )
    op.create_table(
        "network_survey_part",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network_survey_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=True),
        sa.Column("outcome", _text(20), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["network_survey_id"], ["network_survey.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["survey_id"], ["survey.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("network_survey_id", "community_id"),
    )
    op.create_index(
        op.f("ix_network_survey_part_network_survey_id"),
        "network_survey_part",
        ["network_survey_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_network_survey_part_network_survey_id"), table_name="network_survey_part"
    )
    op.drop_table("network_survey_part")
    op.drop_index(op.f("ix_network_survey_network_id"), table_name="network_survey")
    op.drop_table("network_survey")
    op.drop_index(op.f("ix_network_post_network_id"), table_name="network_post")
    op.drop_table("network_post")
    op.drop_index(op.f("ix_network_invite_network_id"), table_name="network_invite")
    op.drop_table("network_invite")
    op.drop_index(op.f("ix_network_coordinator_network_id"), table_name="network_coordinator")
    op.drop_table("network_coordinator")
    op.drop_index(op.f("ix_network_community_network_id"), table_name="network_community")
    op.drop_table("network_community")
    op.drop_table("network")
