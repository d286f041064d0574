"""Rounds of a check-in: planned from meetings or a schedule, opened by a job, closed by one.

Planning:

- ``after``: the ``meeting.end`` hook makes a round opening N days after the meeting ended;
- ``before``: the ``reflections.plan`` job (daily, and at once when the check-in is made)
  makes a round for each of the next meetings, opening N days before it starts; a moved
  meeting moves its waiting round, a cancelled one skips it. The opening job checks the
  meeting again, so a change between two plans is followed too;
- ``schedule``: a round for the schedule's next occurrence; opening one plans the next.

Opening (job ``reflections.open``, idempotent): the round freezes the check-in's questions,
posts one channel message (its key is the round's `post_key`: the shared answers' thread),
and DMs each member who may be asked (`member.may_ask`) a button that opens the form, once
per round and member (`CheckinDelivery`). Closing (``reflections.close``) freezes the
answers, counts who answered and posts the anonymous answers (`share.post_anonymous`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import col

from bot.context import Context, channel_of
from bot.events import UserRef
from bot.features.reflections.member_prefs import asks, invitation_time, member_zone, preference
from bot.features.reflections.questions import (
    first_nudge,
    load,
    shift_days,
)
from bot.features.reflections.share import post_anonymous
from bot.hooks import MeetingEnded
from bot.i18n import Translator, translator
from bot.languages import member_t
from bot.schedule import ScheduleError, parse_schedule
from bot.ui import ActionId, Actions, Button, Message, Section
from bot.ui import Context as Small
from storage.meetings import Meeting
from storage.models import Community, Member, MemberRole
from storage.reflections import (
    Checkin,
    CheckinDelivery,
    CheckinRound,
    CheckinStatus,
    CheckinTiming,
    RoundStatus,
)

log = logging.getLogger(__name__)

OPEN_KIND, CLOSE_KIND, PLAN_KIND, NUDGE_KIND = (
    "reflections.open",
    "reflections.close",
    "reflections.plan",
    "reflections.nudge",
)
PLAN_EVERY = timedelta(days=1)  # "before" check-ins look at the coming meetings daily
PLAN_AHEAD = 3  # rounds planned ahead for "before" check-ins
EARLY = timedelta(minutes=1)  # an opening job this early is still on time


def open_job(round_id: int) -> str:
    return f"reflections-open:{round_id}"


def close_job(round_id: int) -> str:
    return f"reflections-close:{round_id}"


def plan_job(checkin_id: int) -> str:
    return f"reflections-plan:{checkin_id}"


def nudge_job(round_id: int) -> str:
    return f"reflections-nudge:{round_id}"


def post_key(rnd: CheckinRound) -> str:
    return f"reflections:round:{rnd.id}"


# -- making rounds ----------------------------------------------------------------------------


async def _round_exists(
    ctx: Context, checkin: Checkin, opens_at: datetime, meeting_id: int | None
) -> bool:
    same_time = col(CheckinRound.opens_at) == opens_at
    where = (
        same_time
        if meeting_id is None
        else same_time | (col(CheckinRound.meeting_id) == meeting_id)
    )
    found = await ctx.session.execute(
        select(col(CheckinRound.id)).where(col(CheckinRound.checkin_id) == checkin.id, where)
    )
    return found.first() is not None


async def new_round(
    ctx: Context, checkin: Checkin, opens_at: datetime, meeting_id: int | None = None
) -> CheckinRound | None:
    """A waiting round with its opening job; None when that meeting or time has one already."""
    opens_at = max(opens_at, ctx.now)
    if await _round_exists(ctx, checkin, opens_at, meeting_id):
        return None
    last = await ctx.session.scalar(
        select(func.max(col(CheckinRound.number))).where(col(CheckinRound.checkin_id) == checkin.id)
    )
    rnd = CheckinRound(
        community_id=checkin.community_id,
        checkin_id=checkin.id,
        number=(last or 0) + 1,
        meeting_id=meeting_id,
        questions=checkin.questions,
        opens_at=opens_at,
        closes_at=opens_at + timedelta(minutes=checkin.open_minutes),
        status=RoundStatus.SCHEDULED,
        created_at=ctx.now,
    )
    ctx.session.add(rnd)
    await ctx.session.flush()
    await ctx.schedule.at(
        open_job(rnd.id), opens_at, OPEN_KIND, [rnd.id], community_id=checkin.community_id
    )
    log.info("check-in %s: round %s opens at %s", checkin.id, rnd.id, opens_at.isoformat())
    return rnd


async def _waiting(ctx: Context, checkin: Checkin) -> list[CheckinRound]:
    rows = await ctx.session.execute(
        select(CheckinRound).where(
            col(CheckinRound.checkin_id) == checkin.id,
            col(CheckinRound.status) == RoundStatus.SCHEDULED,
        )
    )
    return list(rows.scalars())


async def skip(ctx: Context, rnd: CheckinRound, why: str) -> None:
    rnd.status = RoundStatus.SKIPPED
    ctx.session.add(rnd)
    await ctx.schedule.cancel(open_job(rnd.id))
    log.info("round %s skipped: %s", rnd.id, why)


def _before(checkin: Checkin, meeting: Meeting) -> datetime:
    return shift_days(meeting.starts_at, -(checkin.days or 0), checkin.tz)


async def plan(ctx: Context, checkin: Checkin) -> None:
    """Make the rounds a "before" or "schedule" check-in needs next (see the module docstring)."""
    if checkin.status != CheckinStatus.ACTIVE:
        return
    if checkin.timing == CheckinTiming.BEFORE:
        await _plan_before(ctx, checkin)
        await ctx.schedule.at(
            plan_job(checkin.id),
            ctx.now + PLAN_EVERY,
            PLAN_KIND,
            [checkin.id],
            community_id=checkin.community_id,
        )
    elif checkin.timing == CheckinTiming.SCHEDULE:
        await _plan_schedule(ctx, checkin)


async def _plan_before(ctx: Context, checkin: Checkin) -> None:
    waiting = {r.meeting_id: r for r in await _waiting(ctx, checkin) if r.meeting_id}
    for rnd in waiting.values():
        meeting = await ctx.session.get(Meeting, rnd.meeting_id)
        if meeting is None or meeting.status != "scheduled" or meeting.starts_at <= ctx.now:
            await skip(ctx, rnd, "its meeting was cancelled or is past")
            continue
        opens = max(_before(checkin, meeting), ctx.now)
        if opens != rnd.opens_at and not await _round_exists(ctx, checkin, opens, None):
            await _move(ctx, checkin, rnd, opens)
    upcoming = await ctx.session.execute(
        select(Meeting)
        .where(
            col(Meeting.community_id) == checkin.community_id,
            col(Meeting.status) == "scheduled",
            col(Meeting.starts_at) > ctx.now,
        )
        .order_by(col(Meeting.starts_at))
        .limit(PLAN_AHEAD)
    )
    for meeting in upcoming.scalars():
        if meeting.id not in waiting:
            await new_round(ctx, checkin, _before(checkin, meeting), meeting.id)


async def _move(ctx: Context, checkin: Checkin, rnd: CheckinRound, opens: datetime) -> None:
    rnd.opens_at = opens
    rnd.closes_at = opens + timedelta(minutes=checkin.open_minutes)
    ctx.session.add(rnd)
    await ctx.schedule.at(
        open_job(rnd.id), opens, OPEN_KIND, [rnd.id], community_id=checkin.community_id
    )
    log.info("round %s follows its moved meeting: opens at %s", rnd.id, opens.isoformat())


async def _plan_schedule(ctx: Context, checkin: Checkin) -> None:
    if await _waiting(ctx, checkin):
        return
    try:
        schedule = parse_schedule(checkin.schedule or "", checkin.tz)
    except ScheduleError:
        log.warning("check-in %s: its schedule no longer reads; nothing planned", checkin.id)
        return
    for when in schedule.occurrences(ctx.now, 2):
        if await new_round(ctx, checkin, when) is not None:
            return


async def plan_job_run(ctx: Context, checkin_id: int) -> None:
    """The ``reflections.plan`` job."""
    checkin = await ctx.session.get(Checkin, int(checkin_id))
    if checkin is not None:
        await plan(ctx, checkin)


async def on_meeting_end(ctx: Context, ended: MeetingEnded) -> None:
    """The ``meeting.end`` hook: each "after" check-in gets a round N days later."""
    meeting = await ctx.session.get(Meeting, ended.meeting_id)
    if meeting is None:
        return
    rows = await ctx.session.execute(
        select(Checkin).where(
            col(Checkin.community_id) == ended.community_id,
            col(Checkin.status) == CheckinStatus.ACTIVE,
            col(Checkin.timing) == CheckinTiming.AFTER,
        )
    )
    end = meeting.starts_at + timedelta(minutes=meeting.duration_minutes)
    for checkin in rows.scalars():
        await new_round(ctx, checkin, shift_days(end, checkin.days or 0, checkin.tz), meeting.id)


# -- opening ----------------------------------------------------------------------------------


def round_post(
    t: Translator, checkin: Checkin, rnd: CheckinRound, zone: str, *, closed: bool = False
) -> Message:
    if closed:
        head = t(
            "reflections.round.closed_post",
            checkin=checkin.number,
            round=rnd.number,
            title=checkin.title,
        )
        counts = t("reflections.round.closed_counts", answered=rnd.answered, asked=rnd.asked)
        return Message(text=f"{head}\n{counts}", blocks=[Section.of(head), Section.of(counts)])
    head = t(
        "reflections.round.open_post", checkin=checkin.number, round=rnd.number, title=checkin.title
    )
    how = t("reflections.round.open_how")
    closes = t.parts("reflections.round.closes", when=t.moment(rnd.closes_at, zone))
    return Message(
        text=f"{head}\n{how}",
        blocks=[Section.of(head), Section.of(how), Small(parts=closes)],
    )


def invitation(
    t: Translator, community: Community, checkin: Checkin, rnd: CheckinRound, zone: str
) -> Message:
    """The DM asking one member; the closing time is shown in `zone`, the member's own."""
    head = t(
        "reflections.round.dm",
        community=community.name,
        checkin=checkin.number,
        title=checkin.title,
    )
    how = t("reflections.round.dm_how")
    closes = t.parts("reflections.round.closes", when=t.moment(rnd.closes_at, zone))
    questions = [f"{i}. {q.text}" for i, q in enumerate(load(rnd.questions), 1)]
    return Message(
        text="\n".join([head, *questions, how]),
        blocks=[
            Section.of(head),
            *(Section.of(q) for q in questions),
            Section.of(how),
            Small(parts=closes),
            Actions(
                elements=[
                    Button(
                        action=ActionId("reflect", "answer", rnd.id),
                        label=t("reflections.round.answer_button"),
                        style="primary",
                    )
                ]
            ),
        ],
    )


async def open_round(ctx: Context, round_id: int) -> None:
    """The ``reflections.open`` job: see the module docstring. Runs once in effect."""
    rnd = await ctx.session.get(CheckinRound, int(round_id), with_for_update=True)
    if rnd is None or rnd.status != RoundStatus.SCHEDULED:
        return
    checkin = await ctx.session.get(Checkin, rnd.checkin_id)
    community = await ctx.session.get(Community, rnd.community_id)
    if checkin is None or community is None:
        return
    if checkin.status != CheckinStatus.ACTIVE:
        await skip(ctx, rnd, "the check-in was stopped")
        return
    if rnd.meeting_id is not None and checkin.timing == CheckinTiming.BEFORE:
        meeting = await ctx.session.get(Meeting, rnd.meeting_id)
        if meeting is None or meeting.status != "scheduled" or meeting.starts_at <= ctx.now:
            await skip(ctx, rnd, "its meeting was cancelled or is past")
            await plan(ctx, checkin)
            return
        opens = _before(checkin, meeting)
        if opens > ctx.now + EARLY:  # the meeting moved later: so does the round
            await _move(ctx, checkin, rnd, opens)
            return
    if not load(checkin.questions):
        await skip(ctx, rnd, "the check-in has no questions")
        await plan(ctx, checkin)
        return
    rnd.questions = checkin.questions  # what is asked now is what the answers answer
    rnd.closes_at = max(rnd.closes_at, ctx.now + timedelta(minutes=checkin.open_minutes))
    rnd.status = RoundStatus.OPEN
    rnd.post_key = post_key(rnd)
    t = translator(community.language)
    await ctx.outbox.enqueue(
        key=rnd.post_key,
        to=channel_of(community),
        message=round_post(t, checkin, rnd, community.timezone),
        community_id=community.id,
    )
    asked = await _ask_members(ctx, community, checkin, rnd, t)
    rnd.asked = asked
    ctx.session.add(rnd)
    await ctx.schedule.at(
        close_job(rnd.id), rnd.closes_at, CLOSE_KIND, [rnd.id], community_id=community.id
    )
    nudge = first_nudge(checkin)
    if nudge is not None and rnd.opens_at + nudge < rnd.closes_at:
        await ctx.schedule.at(
            nudge_job(rnd.id),
            max(rnd.opens_at + nudge, ctx.now),
            NUDGE_KIND,
            [rnd.id],
            community_id=community.id,
        )
    log.info("round %s of check-in %s open: %d asked", rnd.id, checkin.id, asked)
    await plan(ctx, checkin)


async def _ask_members(
    ctx: Context, community: Community, checkin: Checkin, rnd: CheckinRound, t: Translator
) -> int:
    """DM each member who may be asked, once; returns how many were asked in all.

    A member in their quiet hours (`member_prefs.invitation_time`) is asked all the same,
    but their DM waits in the outbox (``not_before``) until the quiet hours end.
    """
    assert community.id is not None
    members = (
        await ctx.session.execute(
            select(Member)
            .where(col(Member.community_id) == community.id, col(Member.role) != MemberRole.LEFT)
            .order_by(col(Member.id))
        )
    ).scalars()
    done = set(
        (
            await ctx.session.execute(
                select(col(CheckinDelivery.member_id)).where(
                    col(CheckinDelivery.round_id) == rnd.id
                )
            )
        ).scalars()
    )
    key = post_key(rnd)
    waiting = 0
    for person in members:
        if person.id in done:
            continue
        pref = await preference(ctx.session, community.id, person.id)
        if not asks(pref, ctx.now, checkin.number):
            continue
        zone = member_zone(person, community)
        when = invitation_time(ctx.now, rnd.closes_at, zone, pref)
        waiting += when is not None
        # The same key as `Outbox.fan_out` gives (``<key>:member:<id>``), with a time of its own.
        await ctx.outbox.enqueue(
            key=f"{key}:member:{person.id}",
            to=UserRef(community.platform, community.workspace_id, person.user_id),
            # A DM: in the member's own language (`t` is the channel's).
            message=invitation(member_t(person, community), community, checkin, rnd, zone.key),
            community_id=community.id,
            not_before=when,
        )
        ctx.session.add(
            CheckinDelivery(
                community_id=community.id,
                round_id=rnd.id,
                member_id=person.id,
                dm_key=f"{key}:member:{person.id}",
                asked_at=ctx.now,
            )
        )
        done.add(person.id)
    if waiting:
        log.info("round %s: %d invitations wait for the end of quiet hours", rnd.id, waiting)
    return len(done)


# -- closing ----------------------------------------------------------------------------------


async def answered_count(ctx: Context, rnd: CheckinRound) -> int:
    return int(
        await ctx.session.scalar(
            select(func.count()).where(
                col(CheckinDelivery.round_id) == rnd.id,
                col(CheckinDelivery.answered_at).is_not(None),
            )
        )
        or 0
    )


async def close_round(ctx: Context, round_id: int) -> None:
    """The ``reflections.close`` job: answers freeze, anonymous ones are posted, counts kept."""
    rnd = await ctx.session.get(CheckinRound, int(round_id), with_for_update=True)
    if rnd is None or rnd.status != RoundStatus.OPEN:
        return
    checkin = await ctx.session.get(Checkin, rnd.checkin_id)
    community = await ctx.session.get(Community, rnd.community_id)
    if checkin is None or community is None:
        return
    rnd.status, rnd.closed_at = RoundStatus.CLOSED, ctx.now
    rnd.answered = await answered_count(ctx, rnd)
    ctx.session.add(rnd)
    await ctx.schedule.cancel(nudge_job(rnd.id))
    t = translator(community.language)
    if rnd.post_key:
        await ctx.outbox.enqueue_edit(
            edit_of=rnd.post_key,
            platform=community.platform,
            workspace_id=community.workspace_id,
            message=round_post(t, checkin, rnd, community.timezone, closed=True),
            community_id=community.id,
        )
    await post_anonymous(ctx, community, rnd, [q.text for q in load(rnd.questions)])
    log.info("round %s closed: %d of %d answered", rnd.id, rnd.answered, rnd.asked)
