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
    # The meeting's start the recap was posted for: a meeting moved since gets it again.
    meeting_start: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AgreementSettings(SQLModel, table=True):
    """A community's choices about its agreements; no row means the defaults.

    recap_at: ``start`` (the recap is posted as each meeting starts), ``first-reminder`` (with
    the first reminder that goes out) or ``last-reminder`` (with the reminder nearest the
    start). A meeting whose chosen reminder never went out still gets its recap at the start.
    """

    __tablename__ = "agreement_settings"

    community_id: int = Field(foreign_key="community.id", primary_key=True, ondelete="CASCADE")
    recap_at: str = Field(default="start", max_length=20)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AgreementQuestions(SQLModel, table=True):
    """A community's recap questions and which were asked in the current round."""

    __tablename__ = "agreement_questions"

    community_id: int = Field(foreign_key="community.id", primary_key=True, ondelete="CASCADE")
    # JSON list of texts; NULL: the starter questions of the community's language
    questions: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # JSON list of the texts asked since the round began; cleared when all were asked
    asked: str = Field(default="[]", sa_column=Column(Text, nullable=False))


class AgreementProposal(SQLModel, table=True):
    """A member's proposal to add, reword or remove an agreement, and what became of it.

    status: ``open`` (waiting for a facilitator), ``checking`` (a consent check is running,
    round `round`), ``blocked`` (the last check had a block; it can be amended and checked
    again), ``adopted`` (as version `version`) or ``dropped``.
    """

    __tablename__ = "agreement_proposal"
    __table_args__ = (UniqueConstraint("community_id", "number"),)

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    number: int  # per community, as members see and type it
    kind: str = Field(max_length=10)  # add | reword | remove
    target: int | None = None  # the agreement number reworded or removed
    text: str = Field(default="", max_length=300)
    why: str = Field(default="", max_length=500)
    proposer_member_id: int | None = Field(
        default=None, foreign_key="member.id", ondelete="SET NULL"
    )
    proposer_id: str = Field(max_length=64)
    proposer_name: str = Field(max_length=100)
    status: str = Field(default="open", max_length=10)
    round: int = 0
    closes_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AgreementPosition(SQLModel, table=True):
    """A member's position in one round of a consent check; changeable until it closes.

    The reason of a concern or a block goes to the facilitators only; nothing here is shown
    in the channel but the counts.
    """

    __tablename__ = "agreement_position"
    __table_args__ = (UniqueConstraint("proposal_id", "round", "member_id"),)

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    proposal_id: int = Field(foreign_key="agreement_proposal.id", index=True, ondelete="CASCADE")
    round: int
    member_id: int = Field(foreign_key="member.id", ondelete="CASCADE")
    position: str = Field(max_length=10)  # agree | abstain | concern | block
    reason: str = Field(default="", max_length=500)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
