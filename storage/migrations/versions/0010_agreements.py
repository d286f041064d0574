"""community agreements: versions, acknowledgements, recaps, questions, proposals, positions

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 19:00:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agreement_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("decided", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("proposed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("proposed_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "number"),
    )
    op.create_index(
        op.f("ix_agreement_version_community_id"),
        "agreement_version",
        ["community_id"],
        unique=False,
    )
    op.create_table(
        "agreement_ack",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("acked_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "version", "member_id"),
    )
    op.create_index(
        op.f("ix_agreement_ack_community_id"), "agreement_ack", ["community_id"], unique=False
    )
    op.create_index(
        op.f("ix_agreement_ack_member_id"), "agreement_ack", ["member_id"], unique=False
    )
    op.create_table(
        "agreement_recap",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("question", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("posted_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id"),
    )
    op.create_index(
        op.f("ix_agreement_recap_community_id"), "agreement_recap", ["community_id"], unique=False
    )
    op.create_table(
        "agreement_questions",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("questions", sa.Text(), nullable=True),
        sa.Column("asked", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("community_id"),
    )

    op.create_table(
        "agreement_proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("target", sa.Integer(), nullable=True),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("why", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("proposer_member_id", sa.Integer(), nullable=True),
        sa.Column("proposer_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("proposer_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("closes_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["proposer_member_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "number"),
    )
    op.create_index(
        op.f("ix_agreement_proposal_community_id"),
        "agreement_proposal",
        ["community_id"],
        unique=False,
    )
    op.create_table(
        "agreement_position",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("position", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["proposal_id"], ["agreement_proposal.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("proposal_id", "round", "member_id"),
    )
    op.create_index(
        op.f("ix_agreement_position_community_id"),
        "agreement_position",
        ["community_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_agreement_position_proposal_id"),
        "agreement_position",
        ["proposal_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_agreement_position_proposal_id"), table_name="agreement_position")
    op.drop_index(op.f("ix_agreement_position_community_id"), table_name="agreement_position")
    op.drop_table("agreement_position")
    op.drop_index(op.f("ix_agreement_proposal_community_id"), table_name="agreement_proposal")
    op.drop_table("agreement_proposal")
    op.drop_table("agreement_questions")
    op.drop_index(op.f("ix_agreement_recap_community_id"), table_name="agreement_recap")
    op.drop_table("agreement_recap")
    op.drop_index(op.f("ix_agreement_ack_member_id"), table_name="agreement_ack")
    op.drop_index(op.f("ix_agreement_ack_community_id"), table_name="agreement_ack")
    op.drop_table("agreement_ack")
    op.drop_index(op.f("ix_agreement_version_community_id"), table_name="agreement_version")
    op.drop_table("agreement_version")
