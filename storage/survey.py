"""The annual interest survey: the focus areas a facilitator keeps, the recurring plan, each
survey with the areas it asked about, members' ratings and their proposals for new areas.

Every row carries `community_id` and every query is scoped by it. A survey freezes its list
(`SurveyItem`) when it opens, so editing the areas never changes what an earlier survey asked;
when it closes, each item keeps its total, number of ratings and rank, so next year's survey
compares against them even after a member erased their ratings.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models import utcnow
from storage.types import UTCDateTime


class AreaStatus(StrEnum):
    ACTIVE = "active"  # on the list the next survey asks about
    REMOVED = "removed"  # taken off the list; earlier surveys still name it


class SurveyStatus(StrEnum):
    OPEN = "open"  # members rate and propose
    CLOSED = "closed"  # ranked; results posted


class ProposalStatus(StrEnum):
    NEW = "new"  # waiting for a facilitator
    ADDED = "added"  # a facilitator put it on the list of areas


class SurveyPlan(SQLModel, table=True):
    """A community's survey settings: when it opens by itself, for how long, how many go on."""

    __tablename__ = "survey_plan"
    __table_args__ = (UniqueConstraint("community_id"),)

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", ondelete="CASCADE")
    # What `bot.schedule.parse_schedule` reads (in `tz`); NULL: opened by hand only.
    schedule: str | None = Field(default=None, max_length=200)
    tz: str = Field(max_length=64)
    open_days: int = 14  # how long each survey stays open
    top: int = 3  # how many of the best-rated areas go to the topic backlog
    created_by: str = Field(max_length=64)  # the facilitator who last set it
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SurveyArea(SQLModel, table=True):
    """One focus area on the community's list (a quality standard, a theme)."""

    __tablename__ = "survey_area"
    __table_args__ = (UniqueConstraint("community_id", "number"),)

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    number: int  # per community, as facilitators type it (1, 2, ...), never reused
    title: str = Field(max_length=100)
    status: str = Field(default=AreaStatus.ACTIVE, max_length=10)  # AreaStatus
    # The backlog topic this area became (once, ever): a later survey never adds it again.
    topic_id: int | None = Field(default=None, foreign_key="topic.id", ondelete="SET NULL")
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Survey(SQLModel, table=True):
    """One year's survey: open from `opened_at` to `closes_at`, then ranked."""

    __tablename__ = "survey"
    __table_args__ = (
        UniqueConstraint("community_id", "number"),
        # One survey per scheduled opening, so an opening job that runs twice opens one.
        UniqueConstraint("community_id", "scheduled_for"),
    )

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    number: int  # per community: 1, 2, ...
    status: str = Field(default=SurveyStatus.OPEN, max_length=10)  # SurveyStatus
    scheduled_for: datetime | None = Field(default=None, sa_type=UTCDateTime)  # NULL: by hand
    opened_at: datetime = Field(sa_type=UTCDateTime)
    closes_at: datetime = Field(sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    top: int = 3  # how many areas go to the backlog when it closes
    opened_by: str = Field(max_length=64)
    turnout: int = 0  # members who rated at least one area (set when it closes)


class SurveyItem(SQLModel, table=True):
    """An area as one survey asked about it; its result once the survey closed."""

    __tablename__ = "survey_item"
    __table_args__ = (UniqueConstraint("survey_id", "position"),)

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", ondelete="CASCADE")
    survey_id: int = Field(foreign_key="survey.id", index=True, ondelete="CASCADE")
    area_id: int | None = Field(default=None, foreign_key="survey_area.id", ondelete="SET NULL")
    position: int  # 1, 2, ... in the order the survey shows them
    title: str = Field(max_length=100)
    total: int | None = None  # sum of the ratings (score voting), set when it closes
    ratings: int | None = None  # how many members rated it
    rank: int | None = None  # 1 = best; tied areas share a rank


class SurveyRating(SQLModel, table=True):
    """One member's score (0-5) for one area of one survey; they may change it while open."""

    __tablename__ = "survey_rating"
    __table_args__ = (UniqueConstraint("item_id", "member_id"),)

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", ondelete="CASCADE")
    survey_id: int = Field(foreign_key="survey.id", index=True, ondelete="CASCADE")
    item_id: int = Field(foreign_key="survey_item.id", ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    score: int
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SurveyProposal(SQLModel, table=True):
    """A new area a member proposed during a survey, for the facilitator to add."""

    __tablename__ = "survey_proposal"

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    survey_id: int = Field(foreign_key="survey.id", ondelete="CASCADE")
    member_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    proposer_name: str = Field(max_length=100)
    title: str = Field(max_length=100)
    status: str = Field(default=ProposalStatus.NEW, max_length=10)  # ProposalStatus
    area_id: int | None = Field(default=None, foreign_key="survey_area.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
