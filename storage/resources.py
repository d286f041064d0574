"""Shared resources: links a community keeps (a webinar, a handout, what a breakout made),
their tags, and the meetings they are attached to.

Each resource has a number per community (what members see and type: ``resources remove 3``),
never reused: a removed resource stays as a tombstone row (``removed_at`` set, its link and
title cleared, its tags and attachments deleted), so "resource 3" never comes to mean another
link. The host is kept apart from the link so a search by site needs no URL parsing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models import utcnow
from storage.types import UTCDateTime

#: The longest link kept, after normalisation (browsers and both platforms take more, but a
#: resource link longer than this is a tracking blob, not something people share).
MAX_URL = 2000
MAX_TITLE = 200
MAX_TAG = 30


class Resource(SQLModel, table=True):
    """A link shared with a community; `number` is per community, never reused."""

    __tablename__ = "resource"
    __table_args__ = (UniqueConstraint("community_id", "number"),)

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    number: int
    url: str = Field(max_length=MAX_URL)  # "" once removed
    host: str = Field(max_length=255)  # the link's host, lower case, ASCII (IDNA)
    title: str = Field(default="", max_length=MAX_TITLE)  # "" when none was given
    added_by_member_id: int | None = Field(
        default=None, foreign_key="member.id", index=True, ondelete="SET NULL"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ResourceTag(SQLModel, table=True):
    """One tag of a resource, lower case without its ``#``."""

    __tablename__ = "resource_tag"
    __table_args__ = (UniqueConstraint("resource_id", "tag"),)

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    resource_id: int = Field(foreign_key="resource.id", index=True, ondelete="CASCADE")
    tag: str = Field(max_length=MAX_TAG)


class ResourceMeeting(SQLModel, table=True):
    """A resource attached to a meeting: shown on its agenda and in the digest before it."""

    __tablename__ = "resource_meeting"
    __table_args__ = (UniqueConstraint("resource_id", "meeting_id"),)

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    resource_id: int = Field(foreign_key="resource.id", index=True, ondelete="CASCADE")
    meeting_id: int = Field(foreign_key="meeting.id", index=True, ondelete="CASCADE")
    attached_by_member_id: int | None = Field(
        default=None, foreign_key="member.id", ondelete="SET NULL"
    )
    attached_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
