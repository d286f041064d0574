"""Where challenges meet meetings: under the agenda's "Problem-solving" segment (the
``agenda.sections`` hook, segment ``problem``), the facilitators' private list after the
meeting ends (``meeting.end``), the member's private question a week after it was discussed
(job ``challenges.checkin``), the digest (``digest.sections``: open challenges brought since),
and an erase (``member.erasing``: theirs go).

Nothing drawn here for the channel, the agenda or the digest names who brought a private
challenge; logs name challenges by id only.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlmodel import col

from bot.context import Context, find_member
from bot.events import UserRef
from bot.features.challenges import store
from bot.features.challenges.render import bring_button, checkin_message, decision_message, line
from bot.hooks import (
    AgendaSections,
    DigestSections,
    MeetingEnded,
    MemberErasing,
)
from bot.i18n import Translator, translator
from bot.languages import fan_out_each, member_t
from bot.ui import Block, Message, Section
from bot.ui import Context as Small
from storage.challenges import Challenge, ChallengeStatus
from storage.meetings import Meeting
from storage.models import Community, Member, MemberRole

log = logging.getLogger(__name__)

SEGMENT = "problem"


async def agenda_section(ctx: Context, asked: AgendaSections) -> list[Section | Small] | None:
    """The open challenges for this meeting, under "Problem-solving" (private ones unnamed)."""
    if asked.segment != SEGMENT:
        return None
    rows = await store.up_at(ctx, asked.community_id, asked.meeting_id)
    if not rows:
        return None
    t = translator(asked.language)
    lines = [t("challenges.agenda_title"), *(line(t, c, m) for c, m in rows)]
    return [Section.of("\n".join(lines))]


async def on_meeting_end(ctx: Context, ended: MeetingEnded) -> None:
    """The challenges that were up at the meeting go to the facilitators, privately, each with
    Discussed / Carry to next meeting; they are now the meeting's until decided."""
    rows = await store.up_at(ctx, ended.community_id, ended.meeting_id, ending=True)
    meeting = await ctx.session.get(Meeting, ended.meeting_id)
    community = await ctx.session.get(Community, ended.community_id)
    if not rows or meeting is None or community is None:
        return
    # Brought after the meeting began: not on the agenda it had, so it waits for the next.
    rows = [(c, m) for c, m in rows if c.created_at < meeting.starts_at or c.meeting_id]
    for c, _m in rows:
        c.meeting_id = meeting.id
        ctx.session.add(c)
    if not rows:
        return

    def compose(t: Translator) -> Message:
        return decision_message(t, community.name, rows)

    key = f"challenges:meeting:{meeting.id}:decide"
    named = await store.facilitators(ctx, community.id)
    # DMs: each in the facilitator's own language.
    if named:
        await fan_out_each(
            ctx, key=key, community=community, members=named, compose=compose, sealed=True
        )
    else:  # no facilitator named yet: the admin who set the community up
        creator = await find_member(ctx.session, community.id, community.created_by)
        await ctx.outbox.enqueue(
            key=f"{key}:creator",
            to=UserRef(community.platform, community.workspace_id, community.created_by),
            message=compose(member_t(creator, community)),
            community_id=community.id,
            sealed=True,
        )
    log.info("meeting %s ended: %s challenges to decide", meeting.id, len(rows))


async def checkin_job(ctx: Context, challenge_id: int) -> None:
    """The ``challenges.checkin`` job: ask the member who brought it how it went, privately."""
    c = await ctx.session.get(Challenge, int(challenge_id))
    if c is None or c.status != ChallengeStatus.DISCUSSED or c.asked_at is not None:
        return
    community = await ctx.session.get(Community, c.community_id)
    member = await ctx.session.get(Member, c.member_id)
    if community is None or member is None or member.role == MemberRole.LEFT:
        return
    t = member_t(member, community)  # a DM: in the member's own language
    await ctx.outbox.enqueue(
        key=f"challenges:{c.id}:checkin",
        to=UserRef(community.platform, community.workspace_id, member.user_id),
        message=checkin_message(t, c, community.name),
        community_id=community.id,
        sealed=True,
    )
    c.asked_at = ctx.now
    ctx.session.add(c)
    log.info("challenge %s: its member asked how it went", c.id)


async def digest_section(ctx: Context, asked: DigestSections) -> list[Block]:
    """Open challenges brought since the last digest (private ones without a name)."""
    rows = store.since(await store.open_ones(ctx, asked.community_id), asked.since, asked.until)
    if not rows:
        return []
    t = translator(asked.language)
    lines = [t("challenges.digest_title", count=len(rows)), *(line(t, c, m) for c, m in rows)]
    return [Section.of("\n".join(lines)), bring_button(t, asked.community_id)]


async def on_member_erasing(ctx: Context, erasing: MemberErasing) -> None:
    """A member erasing their data takes back the challenges they brought (their words, and
    for a private one, that it was theirs), with any question still to be asked."""
    rows = await ctx.session.execute(
        select(Challenge).where(
            col(Challenge.community_id) == erasing.community_id,
            col(Challenge.member_id) == erasing.member_id,
        )
    )
    for c in rows.scalars():
        await ctx.schedule.cancel(store.checkin_job_id(c.id))
        await ctx.session.delete(c)
