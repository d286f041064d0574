"""reflection check-ins: check-ins, deliveries, answers (sealed), commitments, pauses

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 21:40:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checkin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("questions", sa.Text(), nullable=False),
        sa.Column("timing", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("days", sa.Integer(), nullable=True),
        sa.Column("schedule", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("tz", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("open_minutes", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("retention_months", sa.Integer(), nullable=True),
        sa.Column("nudges", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("stopped_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "number"),
    )
    op.create_index(op.f("ix_checkin_community_id"), "checkin", ["community_id"], unique=False)
    op.create_table(
        "reflection_preference",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("paused_until", storage.types.UTCDateTime(), nullable=True),
        sa.Column("opted_out_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("quiet_from", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column("quiet_to", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column(
            "opted_out_checkins", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True
        ),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "member_id"),
    )
    op.create_index(
        op.f("ix_reflection_preference_community_id"),
        "reflection_preference",
        ["community_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_reflection_preference_member_id"),
        "reflection_preference",
        ["member_id"],
        unique=False,
    )
    op.create_table(
        "checkin_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("checkin_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("questions", sa.Text(), nullable=False),
        sa.Column("opens_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("closes_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("post_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("asked", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("closed_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["checkin_id"], ["checkin.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("checkin_id", "meeting_id"),
        sa.UniqueConstraint("checkin_id", "number"),
        sa.UniqueConstraint("checkin_id", "opens_at"),
    )
    op.create_index(
        op.f("ix_checkin_round_checkin_id"), "checkin_round", ["checkin_id"], unique=False
    )
    op.create_index(
        op.f("ix_checkin_round_community_id"), "checkin_round", ["community_id"], unique=False
    )
    op.create_index(
        "ix_checkin_round_status_closes", "checkin_round", ["status", "closes_at"], unique=False
    )
    op.create_table(
        "checkin_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("privacy", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("shared_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["round_id"], ["checkin_round.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "member_id", "question"),
    )
    op.create_index(
        op.f("ix_checkin_answer_community_id"), "checkin_answer", ["community_id"], unique=False
    )
    op.create_index(
        op.f("ix_checkin_answer_member_id"), "checkin_answer", ["member_id"], unique=False
    )
    op.create_index(
        op.f("ix_checkin_answer_round_id"), "checkin_answer", ["round_id"], unique=False
    )
    op.create_index(
        op.f("ix_checkin_answer_updated_at"), "checkin_answer", ["updated_at"], unique=False
    )
    op.create_table(
        "checkin_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("dm_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("asked_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("answered_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("nudges", sa.Integer(), nullable=False),
        sa.Column("nudged_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["round_id"], ["checkin_round.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "member_id"),
    )
    op.create_index(
        op.f("ix_checkin_delivery_community_id"), "checkin_delivery", ["community_id"], unique=False
    )
    op.create_index(
        op.f("ix_checkin_delivery_member_id"), "checkin_delivery", ["member_id"], unique=False
    )
    op.create_index(
        op.f("ix_checkin_delivery_round_id"), "checkin_delivery", ["round_id"], unique=False
    )
    op.create_table(
        "checkin_commitment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=True),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("check_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("note_sealed", sa.Text(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("checked_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["answer_id"], ["checkin_answer.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["round_id"], ["checkin_round.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_checkin_commitment_community_id"),
        "checkin_commitment",
        ["community_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_checkin_commitment_member_id"), "checkin_commitment", ["member_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_checkin_commitment_member_id"), table_name="checkin_commitment")
    op.drop_index(op.f("ix_checkin_commitment_community_id"), table_name="checkin_commitment")
    op.drop_table("checkin_commitment")
    op.drop_index(op.f("ix_checkin_delivery_round_id"), table_name="checkin_delivery")
    op.drop_index(op.f("ix_checkin_delivery_member_id"), table_name="checkin_delivery")
    op.drop_index(op.f("ix_checkin_delivery_community_id"), table_name="checkin_delivery")
    op.drop_table("checkin_delivery")
    op.drop_index(op.f("ix_checkin_answer_updated_at"), table_name="checkin_answer")
    op.drop_index(op.f("ix_checkin_answer_round_id"), table_name="checkin_answer")
    op.drop_index(op.f("ix_checkin_answer_member_id"), table_name="checkin_answer")
    op.drop_index(op.f("ix_checkin_answer_community_id"), table_name="checkin_answer")
    op.drop_table("checkin_answer")
    op.drop_index("ix_checkin_round_status_closes", table_name="checkin_round")
    op.drop_index(op.f("ix_checkin_round_community_id"), table_name="checkin_round")
    op.drop_index(op.f("ix_checkin_round_checkin_id"), table_name="checkin_round")
    op.drop_table("checkin_round")
    op.drop_index(op.f("ix_reflection_preference_member_id"), table_name="reflection_preference")
    op.drop_index(op.f("ix_reflection_preference_community_id"), table_name="reflection_preference")
    op.drop_table("reflection_preference")
    op.drop_index(op.f("ix_checkin_community_id"), table_name="checkin")
    op.drop_table("checkin")
