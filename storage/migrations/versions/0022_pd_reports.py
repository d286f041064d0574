"""reports, hours and certificates: each community's certificate rule, issued certificates

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 22:10:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "report_settings",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("certificate", _text(20), nullable=False),
        sa.Column("updated_by", _text(64), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("community_id"),
    )
    op.create_table(
        "certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", _text(10), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("community_name", _text(100), nullable=False),
        sa.Column("facilitators", _text(300), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("user_id", _text(64), nullable=False),
        sa.Column("member_name", _text(100), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("meetings", sa.Integer(), nullable=False),
        sa.Column("language", _text(8), nullable=False),
        sa.Column("issued_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_index(
        op.f("ix_certificate_community_id"), "certificate", ["community_id"], unique=False
    )
    op.create_index(op.f("ix_certificate_member_id"), "certificate", ["member_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_certificate_member_id"), table_name="certificate")
    op.drop_index(op.f("ix_certificate_community_id"), table_name="certificate")
    op.drop_table("certificate")
    op.drop_table("report_settings")
