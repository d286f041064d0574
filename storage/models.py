"""Core tables: communities, members, the outbox and the job table.

Every table that belongs to a community carries `community_id`, and every query
on it is scoped by it. Primary keys are typed `int` although they are None until the
row is flushed: rows are handed around only once they are stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


class Community(SQLModel, table=True):
    """A community of practice, living in one channel of one workspace."""

    __tablename__ = "community"
    __table_args__ = (UniqueConstraint("platform", "workspace_id", "channel_id"),)

    id: int = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    workspace_id: str = Field(max_length=64)
    channel_id: str = Field(max_length=64)
    channel_name: str = Field(default="", max_length=100)
    name: str = Field(max_length=100)
    timezone: str = Field(max_length=64)
    language: str = Field(default="en", max_length=8)
    # The topic members chose last (set by voting, taken by the next meeting's agenda).
    next_topic: str | None = Field(default=None, max_length=200)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MemberRole(StrEnum):
    """A person's standing in a community; `LEFT` keeps the row so ballots stay attached."""

    MEMBER = "member"
    FACILITATOR = "facilitator"
    LEFT = "left"


class Member(SQLModel, table=True):
    """A person in a community, with their role there."""

    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("community_id", "user_id"),)

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    user_id: str = Field(max_length=64)
    display_name: str = Field(max_length=100)
    # member | facilitator | left (kept, so ballots and answers stay attached on rejoin)
    role: str = Field(default=MemberRole.MEMBER, max_length=20)
    timezone: str | None = Field(default=None, max_length=64)
    # What the platform says of this person (Slack's users.info tz and locale, Discord's
    # interaction locale): used when they have not set their own with /cop my timezone or
    # /cop my language.
    platform_timezone: str | None = Field(default=None, max_length=64)
    platform_locale: str | None = Field(default=None, max_length=35)
    # The language they chose for what is theirs alone (DMs, private answers, forms), by
    # /cop my language; None: their platform's locale if circlebot speaks it, else the
    # community's language (`bot.languages`).
    language: str | None = Field(default=None, max_length=8)
    joined_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Set when a DM to this person failed because their DMs are closed; cleared once they
    # have been told how to open them (or a DM gets through).
    dm_closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutboxMessage(SQLModel, table=True):
    """One outgoing message: a row first, delivered by the worker, never twice.

    kind: ``channel`` (target = channel id), ``dm`` (target = user id), ``edit``
    (edits the message delivered for row `edit_of`) or ``event`` (a meeting mirrored as
    a native platform event; `message_id` keeps the platform's event id).

    step: ``""`` (nothing known to be out), ``posted`` (the message is out, `message_id`
    set, its files are not) or ``note`` (the files could not be attached: a short note
    goes out instead). `in_doubt`: an attempt may have reached the platform without an
    answer, so the next one looks for it first.

    thread_of: the key of the row whose delivered message this one is posted under (in its
    thread where the platform has threads, else as a plain message in the channel).
    sealed: `payload` is a `bot.sealed` token (private text), opened only by the worker at
    delivery and blanked once the row is sent or has failed for good.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "not_before"),)

    id: int = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    community_id: int | None = Field(default=None, foreign_key="community.id", index=True)
    platform: str = Field(max_length=20)
    workspace_id: str = Field(max_length=64)
    kind: str = Field(max_length=10)
    target: str = Field(max_length=64)
    edit_of: str | None = Field(default=None, max_length=200)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="pending", max_length=10)  # pending|sending|sent|failed
    attempts: int = 0
    not_before: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    message_channel: str | None = Field(default=None, max_length=64)
    message_id: str | None = Field(default=None, max_length=64)
    error: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    step: str = Field(default="", max_length=10, sa_column_kwargs={"server_default": ""})
    in_doubt: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    first_tried_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    thread_of: str | None = Field(default=None, max_length=200)
    sealed: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class JobStatus(StrEnum):
    """Where a job is: waiting for its time, claimed by a runner, or given up after retries."""

    PENDING = "pending"
    RUNNING = "running"
    FAILED = "failed"


class Job(SQLModel, table=True):
    """Scheduled work: kind K with args A at time T, written in the transaction that causes it.

    The id is stable (``reminder:17:P1D``): scheduling it again replaces it and bumps
    `version`, so a runner that claimed the old version never deletes the new one. A job
    that ran is deleted in its own transaction; one that keeps failing is kept as
    ``failed`` with the reason.
    """

    __tablename__ = "job"
    __table_args__ = (Index("ix_job_due", "status", "due_at"),)

    id: str = Field(primary_key=True, max_length=200)
    kind: str = Field(max_length=50)
    args: str = Field(default="[]", max_length=500)
    community_id: int | None = Field(default=None, index=True)
    due_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default=JobStatus.PENDING, max_length=10)
    version: int = 1
    attempts: int = 0
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=200)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SeenRequest(SQLModel, table=True):
    """A platform request already handled (a Slack event id, a click's fingerprint, a
    Discord interaction id), written in the transaction of its effect; kept for longer
    than the platforms retry or replay a request, then expired."""

    __tablename__ = "seen_request"

    key: str = Field(primary_key=True, max_length=200)
    seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
