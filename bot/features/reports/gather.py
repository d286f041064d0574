"""What a report or a statement counts, read from the other jobs' tables for one period.

Read-only queries, every one scoped by the community. Meetings count when they took place
(not cancelled, already started) in the period; cancelled ones are counted apart; hours are
the attended minutes as recorded (`MeetingAttendance.minutes`: the meeting's length, or
less for partial attendance). Check-ins are counted, never read: who was asked and who
answered, not what.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.features.reports.period import Period
from storage.agreements import AgreementAck, AgreementVersion
from storage.meetings import Meeting, MeetingAttendance, MeetingSeries
from storage.models import Community, Member, MemberRole
from storage.reflections import CheckinDelivery, CheckinRound, RoundStatus
from storage.voting import Ballot, Poll


@dataclass(frozen=True)
class Held:
    """A meeting that took place: its number, start, length, topic and objectives."""

    id: int
    number: int
    starts_at: datetime
    minutes: int
    title: str  # the series' title
    topic: str | None
    objectives: list[str]

    @property
    def subject(self) -> str:
        """What it was about: the meeting's topic, else its series' title."""
        return self.topic or self.title


@dataclass(frozen=True)
class Person:
    """Someone in the report: a current member, or anyone with attendance in the period."""

    user_id: str
    name: str


@dataclass
class Season:
    """Everything a facilitator's report shows for one community and period."""

    meetings: list[Held]
    cancelled: int
    people: list[Person]
    # (meeting id, user id) -> minutes attended
    attended: dict[tuple[int, str], int]
    members: int  # current members (not left), the base of turnout
    polls: list[tuple[int, str, int]]  # (poll id, question, ballots)
    asked: int
    answered: int
    rounds: int
    acks: int  # agreement acknowledgements made in the period
    version: int | None  # the current agreements' version
    agreed_current: int  # current members who agreed to it
    votes_by_month: Counter[str] = field(default_factory=Counter)  # "2026-11" -> ballots
    answers_by_month: Counter[str] = field(default_factory=Counter)  # -> check-ins answered

    def minutes_of(self, user_id: str) -> int:
        return sum(m for (_, u), m in self.attended.items() if u == user_id)

    def meetings_of(self, user_id: str) -> int:
        return sum(1 for (_, u) in self.attended if u == user_id)

    @property
    def ballots(self) -> int:
        return sum(b for _, _, b in self.polls)


def _objectives(raw: str | None) -> list[str]:
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def month(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m")


async def meetings_in(
    session: AsyncSession, community_id: int, period: Period, now: datetime
) -> tuple[list[Held], int]:
    """Meetings held in the period, oldest first, and how many were cancelled."""
    rows = (
        await session.execute(
            select(Meeting, MeetingSeries)
            .join(MeetingSeries, col(MeetingSeries.id) == col(Meeting.series_id))
            .where(
                col(Meeting.community_id) == community_id,
                col(MeetingSeries.deleted_at).is_(None),
                col(Meeting.starts_at) >= period.since,
                col(Meeting.starts_at) < period.until,
            )
            .order_by(col(Meeting.starts_at), col(Meeting.number))
        )
    ).all()
    held, cancelled = [], 0
    for meeting, series in rows:
        if meeting.status == "cancelled":
            cancelled += 1
        elif meeting.starts_at <= now:
            held.append(
                Held(
                    id=meeting.id,
                    number=meeting.number,
                    starts_at=meeting.starts_at,
                    minutes=meeting.duration_minutes,
                    title=series.title,
                    topic=meeting.topic,
                    objectives=_objectives(meeting.objectives),
                )
            )
    return held, cancelled


async def attendance(
    session: AsyncSession, community_id: int, meeting_ids: list[int], user_id: str | None = None
) -> list[MeetingAttendance]:
    if not meeting_ids:
        return []
    query = select(MeetingAttendance).where(
        col(MeetingAttendance.community_id) == community_id,
        col(MeetingAttendance.meeting_id).in_(meeting_ids),
    )
    if user_id is not None:
        query = query.where(col(MeetingAttendance.user_id) == user_id)
    return list((await session.execute(query)).scalars())


async def facilitator_names(session: AsyncSession, community_id: int) -> list[str]:
    rows = await session.execute(
        select(col(Member.display_name))
        .where(
            col(Member.community_id) == community_id,
            col(Member.role) == MemberRole.FACILITATOR,
        )
        .order_by(col(Member.display_name))
    )
    return list(rows.scalars())


async def season(
    session: AsyncSession, community: Community, period: Period, now: datetime
) -> Season:
    """The facilitator's report for `period`."""
    cid = community.id
    held, cancelled = await meetings_in(session, cid, period, now)
    marks = await attendance(session, cid, [m.id for m in held])
    members = list(
        (
            await session.execute(
                select(Member)
                .where(col(Member.community_id) == cid, col(Member.role) != MemberRole.LEFT)
                .order_by(col(Member.display_name))
            )
        ).scalars()
    )
    people = {m.user_id: Person(m.user_id, m.display_name) for m in members}
    for mark in marks:
        people.setdefault(mark.user_id, Person(mark.user_id, mark.display_name))
    ballots = func.count(col(Ballot.id))
    polls = (
        await session.execute(
            select(col(Poll.id), col(Poll.question), ballots)
            .outerjoin(Ballot, col(Ballot.poll_id) == col(Poll.id))
            .where(
                col(Poll.community_id) == cid,
                col(Poll.created_at) >= period.since,
                col(Poll.created_at) < period.until,
            )
            .group_by(col(Poll.id), col(Poll.question))
            .order_by(col(Poll.id))
        )
    ).all()
    deliveries = (
        await session.execute(
            select(col(CheckinDelivery.round_id), col(CheckinDelivery.answered_at))
            .join(CheckinRound, col(CheckinRound.id) == col(CheckinDelivery.round_id))
            .where(
                col(CheckinRound.community_id) == cid,
                col(CheckinRound.status).in_([RoundStatus.OPEN, RoundStatus.CLOSED]),
                col(CheckinRound.opens_at) >= period.since,
                col(CheckinRound.opens_at) < period.until,
            )
        )
    ).all()
    acks = (
        await session.execute(
            select(func.count(col(AgreementAck.id))).where(
                col(AgreementAck.community_id) == cid,
                col(AgreementAck.acked_at) >= period.since,
                col(AgreementAck.acked_at) < period.until,
            )
        )
    ).scalar_one()
    version = (
        await session.execute(
            select(func.max(col(AgreementVersion.number))).where(
                col(AgreementVersion.community_id) == cid
            )
        )
    ).scalar_one_or_none()
    agreed = 0
    if version is not None:
        agreed = (
            await session.execute(
                select(func.count(col(AgreementAck.id)))
                .join(Member, col(Member.id) == col(AgreementAck.member_id))
                .where(
                    col(AgreementAck.community_id) == cid,
                    col(AgreementAck.version) == version,
                    col(Member.role) != MemberRole.LEFT,
                )
            )
        ).scalar_one()
    out = Season(
        meetings=held,
        cancelled=cancelled,
        people=sorted(people.values(), key=lambda p: (p.name.casefold(), p.user_id)),
        attended={(m.meeting_id, m.user_id): m.minutes for m in marks},
        members=len(members),
        polls=[(pid, question, int(n)) for pid, question, n in polls],
        asked=len(deliveries),
        answered=sum(1 for _, answered_at in deliveries if answered_at is not None),
        rounds=len({round_id for round_id, _ in deliveries}),
        acks=int(acks),
        version=version,
        agreed_current=int(agreed),
    )
    cast = await session.execute(
        select(col(Ballot.cast_at)).where(
            col(Ballot.community_id) == cid,
            col(Ballot.cast_at) >= period.since,
            col(Ballot.cast_at) < period.until,
        )
    )
    out.votes_by_month.update(month(at, period.zone) for at in cast.scalars())
    answered = await session.execute(
        select(col(CheckinDelivery.answered_at)).where(
            col(CheckinDelivery.community_id) == cid,
            col(CheckinDelivery.answered_at) >= period.since,
            col(CheckinDelivery.answered_at) < period.until,
        )
    )
    out.answers_by_month.update(month(at, period.zone) for at in answered.scalars() if at)
    return out


@dataclass(frozen=True)
class Line:
    """One meeting on a member's statement: whether it counts on the certificate."""

    meeting: Held
    minutes: int
    counts: bool  # False: waiting for the member's check-in (rule ``after-checkin``)


async def statement(
    session: AsyncSession,
    community: Community,
    member: Member,
    period: Period,
    now: datetime,
    *,
    after_checkin: bool,
) -> list[Line]:
    """The meetings `member` attended in the period, oldest first."""
    held, _ = await meetings_in(session, community.id, period, now)
    marks = {
        m.meeting_id: m.minutes
        for m in await attendance(session, community.id, [h.id for h in held], member.user_id)
    }
    done: set[int] = set()
    if after_checkin and marks:
        rows = await session.execute(
            select(col(CheckinRound.meeting_id))
            .join(CheckinDelivery, col(CheckinDelivery.round_id) == col(CheckinRound.id))
            .where(
                col(CheckinRound.community_id) == community.id,
                col(CheckinRound.meeting_id).in_(list(marks)),
                col(CheckinDelivery.member_id) == member.id,
                col(CheckinDelivery.answered_at).is_not(None),
            )
        )
        done = {mid for mid in rows.scalars() if mid is not None}
    return [Line(h, marks[h.id], not after_checkin or h.id in done) for h in held if h.id in marks]
