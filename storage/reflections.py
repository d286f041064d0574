"""Reflection check-ins: what a facilitator asks and when, each delivery (a round), who was
asked, the answers (sealed), and room for the commitments, nudges and pauses built on them.

Privacy is the point of these tables:

- answer text is never stored in the clear: `CheckinAnswer.sealed` holds a `bot.sealed`
  token (AES-GCM) whose associated data binds it to its row
  (``reflection:{answer id}:{question}``), so a token copied to another row does not open;
- who answered is known (the facilitator sees it), what they answered is the author's
  unless `CheckinAnswer.privacy` says otherwise; an anonymous answer is posted without
  anything that leads back to the row (see bot/features/reflections/share.py);
- every table carries `community_id` and every query is scoped by it.

A round freezes the questions it asked (`CheckinRound.questions`), so editing a check-in's
questions never changes what an earlier answer answered.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models import utcnow
from storage.types import UTCDateTime


class CheckinStatus(StrEnum):
    ACTIVE = "active"
    STOPPED = "stopped"


class CheckinTiming(StrEnum):
    """When rounds go out: N days after each meeting, N days before the next, or a schedule."""

    AFTER = "after"
    BEFORE = "before"
    SCHEDULE = "schedule"


class RoundStatus(StrEnum):
    SCHEDULED = "scheduled"  # its opening job is waiting
    OPEN = "open"  # DMs out, answers taken
    CLOSED = "closed"  # answers frozen; shares posted
    SKIPPED = "skipped"  # the check-in stopped (or its meeting was cancelled) before it opened


class Privacy(StrEnum):
    """Who may read one answer; the author always may. `PRIVATE` is the default."""

    PRIVATE = "private"  # only me
    FACILITATORS = "facilitators"  # my facilitators (by DM and in the report)
    NAMED = "named"  # the group, with my name (in the check-in's thread)
    ANONYMOUS = "anonymous"  # the group, without my name (posted shuffled when the round closes)


class Checkin(SQLModel, table=True):
    """A check-in a facilitator defined for a community: its questions and its timing."""

    __tablename__ = "checkin"
    __table_args__ = (UniqueConstraint("community_id", "number"),)

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    number: int  # per community, as facilitators type it (1, 2, ...), never reused
    title: str = Field(max_length=120)
    # JSON: [{"text": "...", "kind": "text"|"scale"|"choice", "options": ["...", ...]}]
    questions: str = Field(sa_column=Column(Text, nullable=False))
    timing: str = Field(max_length=10)  # CheckinTiming
    days: int | None = None  # after / before: how many days from the meeting
    schedule: str | None = Field(default=None, max_length=200)  # timing "schedule": bot.schedule
    tz: str = Field(max_length=64)  # the zone the schedule and "N days" are counted in
    open_minutes: int  # how long a round stays open
    status: str = Field(default=CheckinStatus.ACTIVE, max_length=10)  # CheckinStatus
    # Reflection text older than this many months is deleted (NULL: kept until erased).
    retention_months: int | None = None
    # Nudges for those who have not answered: ISO 8601 durations after opening ("P2D"),
    # space separated; NULL: none. (Quiet hours are the member's, `ReflectionPreference`.)
    nudges: str | None = Field(default=None, max_length=100)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    stopped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CheckinRound(SQLModel, table=True):
    """One delivery of a check-in: who it was asked of, when it opens and closes.

    `meeting_id` is the meeting it follows (or precedes) for meeting-relative timing; a
    round of a schedule has none. `post_key` is the outbox key of the channel post whose
    thread carries the shared answers.
    """

    __tablename__ = "checkin_round"
    __table_args__ = (
        UniqueConstraint("checkin_id", "number"),
        # One round per check-in and meeting (NULLs, schedule rounds, are distinct)...
        UniqueConstraint("checkin_id", "meeting_id"),
        # ...and per check-in and opening time, so a job that runs twice makes one.
        UniqueConstraint("checkin_id", "opens_at"),
        Index("ix_checkin_round_status_closes", "status", "closes_at"),
    )

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    checkin_id: int = Field(foreign_key="checkin.id", index=True, ondelete="CASCADE")
    number: int  # per check-in: 1, 2, ...
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id", ondelete="SET NULL")
    # JSON: the questions as asked in this round (the check-in's may change later)
    questions: str = Field(sa_column=Column(Text, nullable=False))
    opens_at: datetime = Field(sa_type=UTCDateTime)
    closes_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default=RoundStatus.SCHEDULED, max_length=10)  # RoundStatus
    post_key: str | None = Field(default=None, max_length=200)
    asked: int = 0  # how many members were sent it (the deliveries), for response rates
    answered: int = 0  # how many of them answered at least one question (set when it closes)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CheckinDelivery(SQLModel, table=True):
    """A member was asked in a round: the DM, whether they answered, the nudges they got."""

    __tablename__ = "checkin_delivery"
    __table_args__ = (UniqueConstraint("round_id", "member_id"),)

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    round_id: int = Field(foreign_key="checkin_round.id", index=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    dm_key: str = Field(max_length=200)  # the outbox key of the DM with the button
    asked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Nudge record: how many reminders went out and the last one (never in quiet hours).
    nudges: int = 0
    nudged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CheckinAnswer(SQLModel, table=True):
    """One member's answer to one question of one round, sealed; editable until it closes.

    `sealed` is a `bot.sealed` token, associated data ``reflection:{id}:{question}``.
    `shared_at` is when it was posted in the thread (named or anonymous) or sent to the
    facilitators; an answer changed after that is shared again only while the round is open.
    """

    __tablename__ = "checkin_answer"
    __table_args__ = (UniqueConstraint("round_id", "member_id", "question"),)

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    round_id: int = Field(foreign_key="checkin_round.id", index=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    question: int  # index into the round's questions, from 0
    sealed: str = Field(sa_column=Column(Text, nullable=False))
    privacy: str = Field(default=Privacy.PRIVATE, max_length=12)  # Privacy
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    shared_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CommitmentStatus(StrEnum):
    OPEN = "open"  # waiting for its check-back
    ASKED = "asked"  # the check-back went out
    TRIED = "tried"
    NOT_YET = "not_yet"
    DROPPED = "dropped"


class CheckinCommitment(SQLModel, table=True):
    """Something a member said they will try ("what I will try"), checked back with them
    privately before the next meeting. Text sealed like an answer
    (``commitment:{id}``); the answer it came from may be edited or deleted later."""

    __tablename__ = "checkin_commitment"

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    answer_id: int | None = Field(
        default=None, foreign_key="checkin_answer.id", ondelete="SET NULL"
    )
    round_id: int | None = Field(default=None, foreign_key="checkin_round.id", ondelete="SET NULL")
    # The meeting it is to be checked back before (NULL: at `check_at` only).
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id", ondelete="SET NULL")
    sealed: str = Field(sa_column=Column(Text, nullable=False))
    check_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default=CommitmentStatus.OPEN, max_length=10)  # CommitmentStatus
    # The member's note on how it went, sealed (``commitment-note:{id}``).
    note_sealed: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ReflectionPreference(SQLModel, table=True):
    """A member's own say over check-ins in one community: paused until, opted out, quiet
    hours for nudges (local "HH:MM" in the member's zone; NULL: the defaults)."""

    __tablename__ = "reflection_preference"
    __table_args__ = (UniqueConstraint("community_id", "member_id"),)

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    paused_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    opted_out_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    quiet_from: str | None = Field(default=None, max_length=5)
    quiet_to: str | None = Field(default=None, max_length=5)
    # Check-ins of this community the member opted out of, by number, space separated
    # (" 2 5 "); `opted_out_at` is the opt-out of them all.
    opted_out_checkins: str | None = Field(default=None, max_length=500)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
