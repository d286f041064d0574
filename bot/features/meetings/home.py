"""The meetings part of a member's home: the next few meetings of a community, with RSVP."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from bot.context import Context
from bot.features.meetings.core import counts
from bot.features.meetings.render import rsvp_buttons, when
from bot.hooks import HomeSections
from bot.ui import Block, Inline, Section
from bot.ui import Context as Small
from storage.meetings import Meeting, MeetingSeries
from storage.models import Community

MEETINGS_SHOWN = 3  # per community: the home is a glance, not an archive


async def home_sections(ctx: Context, request: HomeSections) -> list[Block]:
    community = await ctx.session.get(Community, request.community_id)
    if community is None:
        return []
    rows = (
        await ctx.session.execute(
            select(Meeting, MeetingSeries)
            .join(MeetingSeries, col(MeetingSeries.id) == col(Meeting.series_id))
            .where(
                col(Meeting.community_id) == community.id,
                col(Meeting.status) == "scheduled",
                col(Meeting.starts_at) > ctx.now,
            )
            .order_by(col(Meeting.starts_at))
            .limit(MEETINGS_SHOWN)
        )
    ).all()
    if not rows:
        return []
    blocks: list[Block] = [Section.of(ctx.t("home.meetings", community=community.name))]
    for meeting, series in rows:
        assert meeting.id is not None
        parts: list[Inline] = [ctx.t("home.meeting", title=series.title), when(meeting, series)]
        if meeting.topic:
            parts.append(f" — {meeting.topic}")
        answers = await counts(ctx.session, meeting.id)
        tally = ctx.t("meetings.card.counts", id=meeting.number, **answers)
        blocks += [Section(parts=parts), Small(parts=[tally]), rsvp_buttons(ctx.t, meeting.id)]
    return blocks
