"""Topic voting tables: intake rounds, proposed topics, polls, their options and ballots.

Every row carries `community_id` and every query is scoped by it. A ballot names its member
only so the database can enforce one ballot per member per poll; for anonymous polls that link
is never shown in any view, result, export or log.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models import utcnow
from storage.types import UTCDateTime


class TopicIntake(SQLModel, table=True):
    """One round of collecting topic proposals, opened by a facilitator with a prompt."""

    __tablename__ = "topic_intake"

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    prompt: str = Field(max_length=300)
    status: str = Field(default="open", max_length=10)  # open | closed
    closes_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    opened_by: str = Field(max_length=64)
    poll_id: int | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Topic(SQLModel, table=True):
    """A proposed topic; losing topics stay in the backlog with their support."""

    __tablename__ = "topic"

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    intake_id: int | None = Field(default=None, foreign_key="topic_intake.id", ondelete="SET NULL")
    title: str = Field(max_length=100)
    why: str = Field(default="", max_length=500)
    proposer_id: str = Field(max_length=64)
    proposer_name: str = Field(max_length=100)
    # proposed | voting | chosen | backlog | dropped | merged
    status: str = Field(default="proposed", max_length=10)
    merged_into: int | None = Field(default=None)
    support: int = 0  # the topic's total (or first preferences) in the last vote it lost
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Poll(SQLModel, table=True):
    """A vote: question, method, options, deadline and what members may see."""

    __tablename__ = "poll"

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    question: str = Field(max_length=300)
    method: str = Field(max_length=10)  # bot.features.tally.Method values
    status: str = Field(default="open", max_length=10)  # open | closed
    anonymous: bool = False
    live: bool = True
    allow_change: bool = True
    max_choices: int | None = None  # approval: at most this many
    dots: int | None = None  # dot voting: dots per member
    quorum: int | None = None
    closes_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    remind_before: int | None = None  # minutes before closes_at
    reminded: bool = False
    closed_count: int = 0  # how many times it closed (a reopened poll gets a new result)
    intake_id: int | None = Field(default=None)
    winner_option_id: int | None = Field(default=None)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PollOption(SQLModel, table=True):
    """One choice on a poll, in listing order (`position`), maybe standing for a topic."""

    __tablename__ = "poll_option"
    __table_args__ = (UniqueConstraint("poll_id", "position"),)

    id: int = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", index=True, ondelete="CASCADE")
    community_id: int = Field(foreign_key="community.id", ondelete="CASCADE")
    position: int
    label: str = Field(max_length=100)
    topic_id: int | None = Field(default=None, foreign_key="topic.id", ondelete="SET NULL")


class Ballot(SQLModel, table=True):
    """One member's ballot on one poll (unique), as JSON: ``{"option_id": weight}`` or a ranking.

    A member who leaves keeps their ballot counted, detached from them (member_id NULL).
    """

    __tablename__ = "ballot"
    __table_args__ = (UniqueConstraint("poll_id", "member_id", name="uq_ballot_poll_member"),)

    id: int = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", index=True, ondelete="CASCADE")
    community_id: int = Field(foreign_key="community.id", ondelete="CASCADE")
    member_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    choices: str = Field(sa_column=Column(Text, nullable=False))
    cast_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
