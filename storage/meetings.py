"""Meeting tables: series (the schedule), meetings (materialised occurrences), RSVPs, attendance.

A series keeps the schedule text as typed (re-parsed with `bot.features.schedule`) and its IANA
zone; each meeting row is one occurrence with its own agenda, status and time (a moved meeting
keeps its original `occurrence_start`, which is the RECURRENCE-ID of the calendar file).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models import utcnow
from storage.types import UTCDateTime


class MeetingSeries(SQLModel, table=True):
    """A recurring (or one-off) meeting of a community and how members are reminded of it."""

    __tablename__ = "meeting_series"
    __table_args__ = (
        Index("uq_meeting_series_community_id_number", "community_id", "number", unique=True),
    )

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    # What members see and type ("series=1"): 1, 2, 3... per community, never reused.
    number: int
    title: str = Field(max_length=120)
    schedule: str = Field(max_length=200)  # as typed, e.g. "monthly on the first Tuesday at 18:30"
    tz: str = Field(max_length=64)
    duration_minutes: int = 60
    location: str | None = Field(default=None, max_length=200)
    link: str | None = Field(default=None, max_length=400)
    # ISO 8601 durations, longest first, space separated: "P7D P1D PT1H".
    reminders: str = Field(default="P7D P1D PT1H", max_length=100)
    dm_reminders: bool = False
    # The agenda every meeting of the series gets, JSON lists: NULL = the default CoP
    # segments (objectives: none), "[]" = none (a one-off event without CoP segments).
    segments: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    objectives: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # First occurrence under the current schedule (the calendar file's DTSTART).
    first_start: datetime = Field(sa_type=UTCDateTime)
    sequence: int = 0  # bumped on every edit, for calendar apps
    # No occurrence starts at or after `until` (the series was ended: /cop meeting end-series).
    until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Ended before its first meeting: gone for members, the rows kept so ids are never reused.
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Meeting(SQLModel, table=True):
    """One occurrence of a series, materialised ahead with its agenda."""

    __tablename__ = "meeting"
    __table_args__ = (
        UniqueConstraint("series_id", "occurrence_start"),
        Index("uq_meeting_community_id_number", "community_id", "number", unique=True),
    )

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    # What members see and type ("meeting cancel 1", "#1"): 1, 2, 3... per community.
    number: int
    series_id: int = Field(foreign_key="meeting_series.id", index=True, ondelete="CASCADE")
    occurrence_start: datetime = Field(sa_type=UTCDateTime)  # as the schedule produced it
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)  # differs when moved
    duration_minutes: int = 60
    status: str = Field(default="scheduled", max_length=12)  # scheduled | cancelled
    # Bumped when the time changes (move, series edit): reminders for the new time go out again.
    revision: int = 0
    # When the current time was set; reminders that were due before then never apply.
    timing_set_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Why it was last cancelled or moved, as the facilitator typed it (cleaned, at most 200).
    reason: str | None = Field(default=None, max_length=200)
    topic: str | None = Field(default=None, max_length=200)
    objectives: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON list
    segments: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON list
    # The latest channel message showing this meeting's RSVP counts (an outbox key), edited live.
    card_key: str | None = Field(default=None, max_length=200)
    card_kind: str | None = Field(default=None, max_length=40)  # announce | P1D | P1D:late
    started: bool = False  # meeting.start hook fired
    ended: bool = False  # meeting.end hook fired
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MeetingRsvp(SQLModel, table=True):
    """A member's answer for one meeting: going, maybe or no (one row per member and meeting)."""

    __tablename__ = "meeting_rsvp"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id"),)

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    meeting_id: int = Field(foreign_key="meeting.id", index=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    answer: str = Field(max_length=8)  # going | maybe | no
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MeetingAttendance(SQLModel, table=True):
    """Someone attended a meeting, with its length, for professional-development hours.

    Keyed by the platform user id so the record outlives a member leaving the community.
    """

    __tablename__ = "meeting_attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    meeting_id: int = Field(foreign_key="meeting.id", index=True, ondelete="CASCADE")
    member_id: int | None = Field(
        default=None, foreign_key="member.id", index=True, ondelete="SET NULL"
    )
    user_id: str = Field(max_length=64)
    display_name: str = Field(max_length=100)
    minutes: int
    marked_by: str = Field(max_length=64)
    marked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
