"""annual interest survey: focus areas, surveys, ratings

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 19:20:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "survey_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("schedule", _text(200), nullable=True),
        sa.Column("tz", _text(64), nullable=False),
        sa.Column("open_days", sa.Integer(), nullable=False),
        sa.Column("top", sa.Integer(), nullable=False),
        sa.Column("created_by", _text(64), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id"),
    )
    op.create_table(
        "survey_area",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", _text(100), nullable=False),
        sa.Column("status", _text(10), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=True),
        sa.Column("created_by", _text(64), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["topic_id"], ["topic.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "number"),
    )
    op.create_index(
        op.f("ix_survey_area_community_id"), "survey_area", ["community_id"], unique=False
    )
    op.create_table(
        "survey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", _text(10), nullable=False),
        sa.Column("scheduled_for", storage.types.UTCDateTime(), nullable=True),
        sa.Column("opened_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("closes_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("closed_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("top", sa.Integer(), nullable=False),
        sa.Column("opened_by", _text(64), nullable=False),
        sa.Column("turnout", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "number"),
        sa.UniqueConstraint("community_id", "scheduled_for"),
    )
    op.create_index(op.f("ix_survey_community_id"), "survey", ["community_id"], unique=False)
    op.create_table(
        "survey_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", _text(100), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("ratings", sa.Integer(), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["area_id"], ["survey_area.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["survey_id"], ["survey.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("survey_id", "position"),
    )
    op.create_index(op.f("ix_survey_item_survey_id"), "survey_item", ["survey_id"], unique=False)
    op.create_table(
        "survey_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["item_id"], ["survey_item.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["survey_id"], ["survey.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "member_id"),
    )
    op.create_index(
        op.f("ix_survey_rating_member_id"), "survey_rating", ["member_id"], unique=False
    )
    op.create_index(
        op.f("ix_survey_rating_survey_id"), "survey_rating", ["survey_id"], unique=False
    )
    op.create_table(
        "survey_proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("proposer_name", _text(100), nullable=False),
        sa.Column("title", _text(100), nullable=False),
        sa.Column("status", _text(10), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["area_id"], ["survey_area.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["survey_id"], ["survey.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_survey_proposal_community_id"), "survey_proposal", ["community_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_survey_proposal_community_id"), table_name="survey_proposal")
    op.drop_table("survey_proposal")
    op.drop_index(op.f("ix_survey_rating_survey_id"), table_name="survey_rating")
    op.drop_index(op.f("ix_survey_rating_member_id"), table_name="survey_rating")
    op.drop_table("survey_rating")
    op.drop_index(op.f("ix_survey_item_survey_id"), table_name="survey_item")
    op.drop_table("survey_item")
    op.drop_index(op.f("ix_survey_community_id"), table_name="survey")
    op.drop_table("survey")
    op.drop_index(op.f("ix_survey_area_community_id"), table_name="survey_area")
    op.drop_table("survey_area")
    op.drop_table("survey_plan")
