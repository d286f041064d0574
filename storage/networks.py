"""Networks of communities: an agency's communities grouped under coordinators.

A network belongs to one deployment and may span workspaces, guilds and platforms, so its
rows name people by platform, workspace and user id rather than by member row. A community
is in one network at a time (`NetworkCommunity.community_id` is unique). Invitation codes are
stored as a digest only, single-use and expiring. An announcement or event is a row first
(`NetworkPost`); its copies to each community's channel are outbox rows keyed by post and
community, so a retry never doubles one. A network survey (`NetworkSurvey`) names the survey
each community ran for it (`NetworkSurveyPart`); the ratings stay in the survey tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models import utcnow
from storage.types import UTCDateTime


class Network(SQLModel, table=True):
    """A network of communities, named by the facilitator who created it."""

    __tablename__ = "network"

    id: int = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NetworkCommunity(SQLModel, table=True):
    """A community's place in a network (one network at a time)."""

    __tablename__ = "network_community"
    __table_args__ = (UniqueConstraint("community_id"),)

    id: int = Field(default=None, primary_key=True)
    network_id: int = Field(foreign_key="network.id", index=True, ondelete="CASCADE")
    community_id: int = Field(foreign_key="community.id", ondelete="CASCADE")
    joined_by: str = Field(max_length=64)
    joined_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NetworkCoordinator(SQLModel, table=True):
    """A person who coordinates a network: announces, reports, runs network surveys."""

    __tablename__ = "network_coordinator"
    __table_args__ = (UniqueConstraint("network_id", "platform", "workspace_id", "user_id"),)

    id: int = Field(default=None, primary_key=True)
    network_id: int = Field(foreign_key="network.id", index=True, ondelete="CASCADE")
    platform: str = Field(max_length=20)
    workspace_id: str = Field(max_length=64)
    user_id: str = Field(max_length=64)
    display_name: str = Field(max_length=100)
    added_by: str = Field(max_length=64)
    added_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NetworkInvite(SQLModel, table=True):
    """A one-time join code: only its SHA-256 digest is kept; used once, before it expires."""

    __tablename__ = "network_invite"

    id: int = Field(default=None, primary_key=True)
    network_id: int = Field(foreign_key="network.id", index=True, ondelete="CASCADE")
    code_digest: str = Field(max_length=64, unique=True)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_by_community: int | None = Field(
        default=None, foreign_key="community.id", ondelete="SET NULL"
    )


class NetworkPost(SQLModel, table=True):
    """An announcement (``announce``) or event (``event``) sent to every community once."""

    __tablename__ = "network_post"

    id: int = Field(default=None, primary_key=True)
    network_id: int = Field(foreign_key="network.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=10)  # announce | event
    text: str = Field(sa_column=Column(Text, nullable=False))  # the announcement, or the title
    starts_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # events only
    author: str = Field(max_length=100)  # the coordinator's name, as shown with the post
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    communities: int = 0  # how many channels it was queued for


class NetworkSurvey(SQLModel, table=True):
    """One network-wide topic survey: each community runs its own survey for it."""

    __tablename__ = "network_survey"
    __table_args__ = (UniqueConstraint("network_id", "number"),)

    id: int = Field(default=None, primary_key=True)
    network_id: int = Field(foreign_key="network.id", index=True, ondelete="CASCADE")
    number: int  # per network: 1, 2, ...
    started_by: str = Field(max_length=64)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NetworkSurveyPart(SQLModel, table=True):
    """Which survey a community ran for a network survey (None: it had no focus areas)."""

    __tablename__ = "network_survey_part"
    __table_args__ = (UniqueConstraint("network_survey_id", "community_id"),)

    id: int = Field(default=None, primary_key=True)
    network_survey_id: int = Field(foreign_key="network_survey.id", index=True, ondelete="CASCADE")
    community_id: int = Field(foreign_key="community.id", ondelete="CASCADE")
    survey_id: int | None = Field(default=None, foreign_key="survey.id", ondelete="SET NULL")
    outcome: str = Field(max_length=20)  # opened | already_open | no_areas
