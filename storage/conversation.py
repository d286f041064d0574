"""Discussion prompts between meetings: the facilitators' list, its schedule and pauses, what
was posted when, and the prompts members suggested.

A prompt keeps a stable number inside its community (an edited prompt keeps it, a removed
one's number is never reused) and the rotation round it was last posted in, so none repeats
before every prompt of the list was posted once. A post copies the prompt's text, so the
digest and the history read the same after the prompt was edited or removed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models import utcnow
from storage.types import UTCDateTime


class Prompt(SQLModel, table=True):
    """One discussion prompt of a community's list (`removed` ones have left the rotation)."""

    __tablename__ = "prompt"
    __table_args__ = (UniqueConstraint("community_id", "number"),)

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    number: int  # per community, as facilitators see and type it
    text: str = Field(max_length=300)
    last_round: int = 0  # the rotation round it was last posted in (0: never)
    removed: bool = False
    added_by: str = Field(default="", max_length=100)  # the facilitator's name
    suggestion_id: int | None = None  # the suggestion it came from, if any
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PromptSettings(SQLModel, table=True):
    """A community's prompt schedule, pause and rotation; no row means none scheduled.

    `schedule` is the text of `bot.schedule` (None: posted only by `/cop prompts post`), read
    in `tz`. `paused_until`: no prompt is posted before it (a far date for "until resumed").
    `told_empty`: the facilitators were told the list ran empty at a scheduled time.
    """

    __tablename__ = "prompt_settings"

    community_id: int = Field(foreign_key="community.id", primary_key=True, ondelete="CASCADE")
    schedule: str | None = Field(default=None, max_length=200)
    tz: str = Field(default="UTC", max_length=64)
    paused_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    round: int = 1
    told_empty: bool = False
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PromptPost(SQLModel, table=True):
    """A prompt posted in the channel: at a scheduled `occurrence`, or on demand (None).

    One row per community and occurrence, so a job run twice posts once.
    """

    __tablename__ = "prompt_post"
    __table_args__ = (UniqueConstraint("community_id", "occurrence"),)

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    prompt_id: int | None = Field(default=None, foreign_key="prompt.id", ondelete="SET NULL")
    number: int
    text: str = Field(max_length=300)
    occurrence: datetime | None = Field(default=None, sa_type=UTCDateTime)
    key: str = Field(max_length=200)  # the outbox key of the channel post
    posted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class PromptSuggestion(SQLModel, table=True):
    """A member's suggested prompt: ``open`` until a facilitator approves or declines it."""

    __tablename__ = "prompt_suggestion"

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    text: str = Field(max_length=300)
    member_id: int | None = Field(
        default=None, foreign_key="member.id", index=True, ondelete="SET NULL"
    )
    suggester_id: str = Field(default="", max_length=64)  # platform user id, for the answer
    suggester_name: str = Field(default="", max_length=100)
    status: str = Field(default="open", max_length=10)  # open | approved | declined
    decided_by: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
