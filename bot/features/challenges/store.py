"""Reading and changing challenges, always inside one community: numbering, lookups by the
number members type, the meeting a waiting challenge is for, and the state changes that
commands and buttons share (discussed, carried, withdrawn).

A waiting challenge (open, no meeting) is for the community's next meeting: the earliest
scheduled one that has not ended. One that was up at a meeting that ended without a decision
still shows at the next one (not deciding carries it).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlmodel import col

from bot.context import Context, UserError
from storage.challenges import Challenge, ChallengeStatus
from storage.meetings import Meeting
from storage.models import Community, Member, MemberRole

log = logging.getLogger(__name__)

CHECK_AFTER = timedelta(days=7)  # the member is asked how it went a week after the meeting
SOONEST = timedelta(hours=1)  # marked discussed long after: asked an hour later
MAX_TEXT = 500
CHECKIN_KIND = "challenges.checkin"


def checkin_job_id(challenge_id: int) -> str:
    return f"challenges.checkin:{challenge_id}"


async def next_number(ctx: Context, community_id: int) -> int:
    highest = (
        await ctx.session.execute(
            select(func.max(Challenge.number)).where(col(Challenge.community_id) == community_id)
        )
    ).scalar_one_or_none()
    return (highest or 0) + 1


async def by_number(ctx: Context, community: Community, raw: str) -> Challenge:
    """The community's challenge numbered `raw`, or one sentence saying there is none."""
    number = int(raw)
    row = (
        await ctx.session.execute(
            select(Challenge).where(
                col(Challenge.community_id) == community.id, col(Challenge.number) == number
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise UserError(ctx.t("challenges.unknown", number=number))
    return row


async def next_meeting(ctx: Context, community_id: int) -> Meeting | None:
    """The meeting waiting challenges are for: the earliest scheduled one not ended yet."""
    return (
        await ctx.session.execute(
            select(Meeting)
            .where(
                col(Meeting.community_id) == community_id,
                col(Meeting.status) == "scheduled",
                col(Meeting.ended).is_(False),
            )
            .order_by(col(Meeting.starts_at))
            .limit(1)
        )
    ).scalar_one_or_none()


async def open_ones(ctx: Context, community_id: int) -> list[tuple[Challenge, Member]]:
    """Every open challenge of the community with its member, oldest first."""
    rows = await ctx.session.execute(
        select(Challenge, Member)
        .join(Member, col(Member.id) == col(Challenge.member_id))
        .where(
            col(Challenge.community_id) == community_id,
            col(Challenge.status) == ChallengeStatus.OPEN,
        )
        .order_by(col(Challenge.number))
    )
    return [(c, m) for c, m in rows.all()]


async def up_at(
    ctx: Context, community_id: int, meeting_id: int, *, ending: bool = False
) -> list[tuple[Challenge, Member]]:
    """The open challenges shown at meeting `meeting_id`: those up at it, and when it is the
    next meeting (or the one `ending` now), those waiting or left undecided at an earlier one."""
    ended = select(col(Meeting.id)).where(
        col(Meeting.community_id) == community_id,
        col(Meeting.ended).is_(True),
        col(Meeting.id) != meeting_id,
    )
    nxt = await next_meeting(ctx, community_id)
    at_this = col(Challenge.meeting_id) == meeting_id
    cond = at_this
    if ending or nxt is not None and nxt.id == meeting_id:
        cond = or_(
            at_this, col(Challenge.meeting_id).is_(None), col(Challenge.meeting_id).in_(ended)
        )
    rows = await ctx.session.execute(
        select(Challenge, Member)
        .join(Member, col(Member.id) == col(Challenge.member_id))
        .where(
            col(Challenge.community_id) == community_id,
            col(Challenge.status) == ChallengeStatus.OPEN,
            cond,
        )
        .order_by(col(Challenge.number))
    )
    return [(c, m) for c, m in rows.all()]


async def facilitators(ctx: Context, community_id: int) -> list[Member]:
    rows = await ctx.session.execute(
        select(Member).where(
            col(Member.community_id) == community_id,
            col(Member.role) == MemberRole.FACILITATOR,
        )
    )
    return list(rows.scalars())


def refuse_closed(ctx: Context, c: Challenge) -> None:
    """One sentence when `c` is no longer open to a decision (withdrawn)."""
    if c.status == ChallengeStatus.WITHDRAWN:
        raise UserError(ctx.t("challenges.withdrawn_already", number=c.number))


async def mark_discussed(ctx: Context, c: Challenge) -> None:
    """Discussed: the member is asked how it went a week after the meeting (or soon)."""
    refuse_closed(ctx, c)
    if c.status == ChallengeStatus.DISCUSSED:
        raise UserError(ctx.t("challenges.discussed_already", number=c.number))
    meeting = await ctx.session.get(Meeting, c.meeting_id) if c.meeting_id else None
    base = ctx.now
    if meeting is not None:
        base = min(ctx.now, meeting.starts_at + timedelta(minutes=meeting.duration_minutes))
    c.status = ChallengeStatus.DISCUSSED
    c.discussed_at = ctx.now
    c.check_at = max(base + CHECK_AFTER, ctx.now + SOONEST)
    ctx.session.add(c)
    await ctx.schedule.at(
        checkin_job_id(c.id), c.check_at, CHECKIN_KIND, [c.id], community_id=c.community_id
    )
    log.info("challenge %s discussed", c.id)


async def carry(ctx: Context, c: Challenge) -> None:
    """Carried: it waits for the next meeting again (a discussed one is reopened)."""
    refuse_closed(ctx, c)
    if c.status == ChallengeStatus.OPEN and c.meeting_id is None:
        raise UserError(ctx.t("challenges.waiting_already", number=c.number))
    if c.status == ChallengeStatus.DISCUSSED and c.asked_at is not None:
        raise UserError(ctx.t("challenges.asked_already", number=c.number))
    c.status = ChallengeStatus.OPEN
    c.meeting_id = None
    c.discussed_at = None
    c.check_at = None
    c.carried += 1
    ctx.session.add(c)
    await ctx.schedule.cancel(checkin_job_id(c.id))
    log.info("challenge %s carried", c.id)


async def withdraw(ctx: Context, c: Challenge) -> None:
    refuse_closed(ctx, c)
    if ctx.member is None or ctx.member.id != c.member_id:
        raise UserError(ctx.t("challenges.not_yours", number=c.number))
    c.status = ChallengeStatus.WITHDRAWN
    ctx.session.add(c)
    await ctx.schedule.cancel(checkin_job_id(c.id))
    log.info("challenge %s withdrawn", c.id)


async def bring(ctx: Context, community: Community, text: str, private: bool) -> Challenge:
    """Store a challenge the current member brings."""
    assert ctx.member is not None and community.id is not None
    row = Challenge(
        community_id=community.id,
        number=await next_number(ctx, community.id),
        member_id=ctx.member.id,
        text=text,
        private=private,
        created_at=ctx.now,
    )
    ctx.session.add(row)
    await ctx.session.flush()
    # No id: with the time, it would tie a private challenge to whoever ran the command.
    log.info("a challenge was brought in community %s", community.id)
    return row


def since(
    rows: list[tuple[Challenge, Member]], start: datetime, end: datetime
) -> list[tuple[Challenge, Member]]:
    return [(c, m) for c, m in rows if start <= c.created_at < end]
