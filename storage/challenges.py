"""Challenges members bring from practice for a meeting's problem-solving round ("what is
your challenge?"), what became of each, and the private follow-up a week after it was
discussed.

A challenge is `open` until a facilitator marks it `discussed` (or its member withdraws it).
An open one with no `meeting_id` waits for the next meeting; `meeting_id` names the meeting
it was last up at, so after that meeting ends the facilitators decide: discussed, or carried
to the next one (`meeting_id` cleared again). A private challenge's member is shown to the
facilitators only. The follow-up note is sealed (`bot.sealed`): it is practice detail.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models import utcnow
from storage.types import UTCDateTime


class ChallengeStatus(StrEnum):
    """Where a challenge is: waiting to be talked about, talked about, or taken back."""

    OPEN = "open"
    DISCUSSED = "discussed"
    WITHDRAWN = "withdrawn"


class Challenge(SQLModel, table=True):
    """A challenge one member brought, numbered per community as members type it."""

    __tablename__ = "challenge"
    __table_args__ = (UniqueConstraint("community_id", "number"),)

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    number: int
    # Erasing the member erases what they brought.
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    text: str = Field(max_length=500)
    private: bool = False
    status: str = Field(default=ChallengeStatus.OPEN, max_length=10)
    # The meeting it was last up at (None: waiting for the next meeting).
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id", ondelete="SET NULL")
    carried: int = 0  # how many times it was carried to a later meeting
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    discussed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the member is asked how it went, and their answer (sealed) once they gave it.
    check_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    asked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    note_sealed: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    noted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
