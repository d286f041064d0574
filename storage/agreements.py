"""Community agreements: numbered versions (each a whole list and what changed), who
acknowledged which version, the recaps posted at meetings and the question rotation.

A version keeps the full list as JSON, so `/cop agreements history` and the note to members
who agreed to an older version never need to replay changes. Each agreement has a stable
number (`n`) inside the community: a reworded agreement keeps its number, a removed one's
number is never reused.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models import utcnow
from storage.types import UTCDateTime


class AgreementVersion(SQLModel, table=True):
    """Version `number` of a community's agreements: the list, the changes, who and how."""

    __tablename__ = "agreement_version"
    __table_args__ = (UniqueConstraint("community_id", "number"),)

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    number: int
    # JSON: [{"n": 1, "text": "..."}], in the order shown
    items: str = Field(sa_column=Column(Text, nullable=False))
    # JSON: [{"kind": "added"|"reworded"|"removed", "n": 1, "text": "...", "old": "..."}]
    changes: str = Field(sa_column=Column(Text, nullable=False))
    # how it was decided: starter (drafted from the starter set) | facilitator | consent
    decided: str = Field(max_length=20)
    proposed_by: str = Field(max_length=64)  # platform user id
    proposed_name: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AgreementAck(SQLModel, table=True):
    """A member pressed "I agree" on version `version` (one row per member and version)."""

    __tablename__ = "agreement_ack"
    __table_args__ = (UniqueConstraint("community_id", "version", "member_id"),)

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    version: int
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    acked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AgreementRecap(SQLModel, table=True):
    """A recap posted: at a meeting's start (one per meeting) or on demand (no meeting)."""

    __tablename__ = "agreement_recap"
    __table_args__ = (UniqueConstraint("meeting_id"),)

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id", ondelete="CASCADE")
    version: int
    question: str = Field(max_length=300)
    posted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AgreementQuestions(SQLModel, table=True):
    """A community's recap questions and which were asked in the current round."""

    __tablename__ = "agreement_questions"

    community_id: int = Field(foreign_key="community.id", primary_key=True, ondelete="CASCADE")
    # JSON list of texts; NULL: the starter questions of the community's language
    questions: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # JSON list of the texts asked since the round began; cleared when all were asked
    asked: str = Field(default="[]", sa_column=Column(Text, nullable=False))
