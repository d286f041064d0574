"""Digest tables: a community's digest settings, and one row per meeting whose digest was drawn.

The digest is one channel post a few days before each meeting gathering what is new in every
job (`bot.hooks.DigestSections`). `DigestSettings` holds the facilitator's choice (no row: on,
three days before); a `Digest` row says a meeting's digest was decided, posted or found empty,
so it is never drawn twice, and its `until` is where the next digest's "since" starts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models import utcnow
from storage.types import UTCDateTime

DEFAULT_OFFSET_MINUTES = 3 * 24 * 60  # three days before each meeting


class DigestSettings(SQLModel, table=True):
    """When a community's digest goes out; no row means on, `DEFAULT_OFFSET_MINUTES` before."""

    __tablename__ = "digest_settings"

    community_id: int = Field(foreign_key="community.id", primary_key=True, ondelete="CASCADE")
    enabled: bool = True
    offset_minutes: int = DEFAULT_OFFSET_MINUTES
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Digest(SQLModel, table=True):
    """The digest before one meeting: ``posted`` (its channel post's outbox key in `post_key`)
    or ``empty`` (nobody had anything new, so nothing was posted). What it covered runs from
    `since` to `until`."""

    __tablename__ = "digest"
    __table_args__ = (UniqueConstraint("community_id", "meeting_id"),)

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    meeting_id: int | None = Field(
        default=None, foreign_key="meeting.id", index=True, ondelete="SET NULL"
    )
    status: str = Field(max_length=10)  # posted | empty
    since: datetime = Field(sa_type=UTCDateTime)
    until: datetime = Field(sa_type=UTCDateTime, index=True)
    post_key: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
