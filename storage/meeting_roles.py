"""Roles members take at one meeting: sharing their experience (a panelist), leading a
breakout, taking notes, hosting; and the queries the core's host check (`bot.hosting`) runs.

One row per member, meeting and role. A host row carries `granted_by` once a facilitator made
that member the meeting's host (``/cop meeting host``): only then may they run the meeting
(edit its agenda, post its recap, open its check-in), until it ends. A host row without it is
a member's offer to host, shown on the agenda, which gives no power. Every query is scoped by
the community.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.meetings import Meeting
from storage.models import Member, MemberRole, utcnow
from storage.types import UTCDateTime


class MeetingRoleKind(StrEnum):
    """What a member does at a meeting; the values are what members type."""

    SHARE = "share"  # shares their experience (a panelist)
    LEAD = "lead"  # leads a small-group breakout
    NOTES = "notes"  # takes notes "for future use"
    HOST = "host"  # runs the meeting in the facilitator's place


#: How many members may hold each role at one meeting.
LIMITS: dict[MeetingRoleKind, int] = {
    MeetingRoleKind.SHARE: 3,
    MeetingRoleKind.LEAD: 4,
    MeetingRoleKind.NOTES: 1,
    MeetingRoleKind.HOST: 1,
}


class MeetingRole(SQLModel, table=True):
    """A member took (or, for host, was given or offered) a role at one meeting."""

    __tablename__ = "meeting_role"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id", "role"),)

    id: int = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    meeting_id: int = Field(foreign_key="meeting.id", index=True, ondelete="CASCADE")
    # Erasing the member erases the roles they took.
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    role: str = Field(max_length=8)  # MeetingRoleKind
    # Host only: the platform user id of the facilitator who made them host (None: an offer).
    granted_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


async def roles_of(
    session: AsyncSession, community_id: int, meeting_id: int
) -> list[tuple[MeetingRole, Member]]:
    """Every role at one meeting with its member (members who left are left out), in the
    order they were taken."""
    rows = await session.execute(
        select(MeetingRole, Member)
        .join(Member, col(Member.id) == col(MeetingRole.member_id))
        .where(
            col(MeetingRole.community_id) == community_id,
            col(MeetingRole.meeting_id) == meeting_id,
            col(Member.role) != MemberRole.LEFT,
        )
        .order_by(col(MeetingRole.created_at), col(MeetingRole.id))
    )
    return [(r, m) for r, m in rows.all()]


def meeting_ends(meeting: Meeting) -> datetime:
    return meeting.starts_at + timedelta(minutes=meeting.duration_minutes)


def still_on(meeting: Meeting, now: datetime) -> bool:
    """Whether a meeting has not ended (nor been cancelled): a host's power lasts that long."""
    return meeting.status == "scheduled" and not meeting.ended and meeting_ends(meeting) > now


@dataclass(frozen=True)
class Hosted:
    """A meeting a member was made host of: its id, number, start and whether it is still on."""

    meeting_id: int
    number: int
    starts_at: datetime
    on: bool


async def hosted(
    session: AsyncSession, community_id: int, member_id: int, now: datetime
) -> list[Hosted]:
    """The meetings of this community the member was made host of, soonest first."""
    rows = await session.execute(
        select(Meeting)
        .join(MeetingRole, col(MeetingRole.meeting_id) == col(Meeting.id))
        .where(
            col(MeetingRole.community_id) == community_id,
            col(Meeting.community_id) == community_id,
            col(MeetingRole.member_id) == member_id,
            col(MeetingRole.role) == MeetingRoleKind.HOST,
            col(MeetingRole.granted_by).is_not(None),
        )
        .order_by(col(Meeting.starts_at))
    )
    return [Hosted(m.id, m.number, m.starts_at, still_on(m, now)) for m in rows.scalars().unique()]
