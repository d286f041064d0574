"""The voting part of a member's home: a community's open polls, with their buttons."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from bot.context import Context
from bot.features.voting.polls import audience_of, render_poll
from bot.hooks import HomeSections
from bot.ui import Block, Section
from storage.models import Community
from storage.voting import Poll

POLLS_SHOWN = 3  # per community: the home is a glance, not an archive


async def home_sections(ctx: Context, request: HomeSections) -> list[Block]:
    community = await ctx.session.get(Community, request.community_id)
    if community is None:
        return []
    polls = (
        (
            await ctx.session.execute(
                select(Poll)
                .where(col(Poll.community_id) == community.id, col(Poll.status) == "open")
                .order_by(col(Poll.id).desc())
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
        blocks += (
            await render_poll(ctx.session, poll, community, audience_of(ctx, community))
        ).blocks
    return blocks
