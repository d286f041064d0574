"""The member's home (Slack's App Home): upcoming meetings with RSVP and open votes.

Composed from every community the member belongs to on that platform, so one view
serves a facilitator who runs several groups.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.commands import Registry
from bot.context import Context
from bot.events import Ack, Reply, Respond
from bot.features.meetings_core import counts
from bot.features.meetings_render import rsvp_buttons, when
from bot.features.voting import render_poll
from bot.ui import Block, Divider, Message, Section
from bot.ui import Context as Small
from storage.meetings import Meeting, MeetingSeries
from storage.models import Community, Member
from storage.voting import Poll

MEETINGS_SHOWN = 3  # per community: the home is a glance, not an archive
POLLS_SHOWN = 3


async def _communities(ctx: Context) -> list[Community]:
    user = ctx.actor.user
    return list(
        (
            await ctx.session.execute(
                select(Community)
                .join(Member, Member.community_id == Community.id)
                .where(
                    Community.platform == user.platform,
                    Community.workspace_id == user.workspace_id,
                    Member.user_id == user.user_id,
                    Member.role != "left",
                )
                .order_by(Community.name)
            )
        ).scalars()
    )


async def _meetings(ctx: Context, community: Community) -> list[Block]:
    rows = (
        await ctx.session.execute(
            select(Meeting, MeetingSeries)
            .join(MeetingSeries, MeetingSeries.id == Meeting.series_id)
            .where(
                Meeting.community_id == community.id,
                Meeting.status == "scheduled",
                Meeting.starts_at > ctx.now,
            )
            .order_by(Meeting.starts_at)
            .limit(MEETINGS_SHOWN)
        )
    ).all()
    if not rows:
        return []
    blocks: list[Block] = [Section.of(ctx.t("home.meetings", community=community.name))]
    for meeting, series in rows:
        parts: list = [ctx.t("home.meeting", title=series.title), when(meeting, series)]  # type: ignore[type-arg]
        if meeting.topic:
            parts.append(f" — {meeting.topic}")
        answers = await counts(ctx.session, meeting.id)  # type: ignore[arg-type]
        tally = ctx.t("meetings.card.counts", id=meeting.id, **answers)
        blocks += [Section(parts=parts), Small(parts=[tally]), rsvp_buttons(ctx.t, meeting.id)]  # type: ignore[arg-type]
    return blocks


async def _polls(ctx: Context, community: Community) -> list[Block]:
    polls = (
        (
            await ctx.session.execute(
                select(Poll)
                .where(Poll.community_id == community.id, Poll.status == "open")
                .order_by(Poll.id.desc())  # type: ignore[union-attr]
                .limit(POLLS_SHOWN)
            )
        )
        .scalars()
        .all()
    )
    if not polls:
        return []
    blocks: list[Block] = [Section.of(ctx.t("home.polls", community=community.name))]
    for poll in polls:
        blocks += (await render_poll(ctx.session, poll, community)).blocks
    return blocks


async def home(ctx: Context) -> Reply:
    """The home view, or Ack when the member belongs to no community (adapters show help)."""
    communities = await _communities(ctx)
    if not communities:
        return Ack()
    blocks: list[Block] = [Section.of(ctx.t("home.title"))]
    for community in communities:
        blocks.append(Divider())
        found = await _meetings(ctx, community) + await _polls(ctx, community)
        blocks += found or [Small(parts=[ctx.t("home.nothing", community=community.name)])]
    return Respond(Message(text=ctx.t("home.title"), blocks=blocks))


def register(registry: Registry) -> None:
    registry.on("home", home)  # type: ignore[arg-type]
