"""The member's home (Slack's App Home): what each of their communities has going on.

Composed from every community the member belongs to on that platform, so one view
serves a facilitator who runs several groups; the sections come from the other features
through the ``home.sections`` hook (meetings with RSVP, open votes, ...).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from bot.context import Context
from bot.events import Ack, Reply, Respond
from bot.hooks import HomeSections
from bot.ui import Block, Divider, Message, Section
from bot.ui import Context as Small
from storage.models import Community, Member, MemberRole


async def _communities(ctx: Context) -> list[Community]:
    user = ctx.actor.user
    return list(
        (
            await ctx.session.execute(
                select(Community)
                .join(Member, col(Member.community_id) == col(Community.id))
                .where(
                    col(Community.platform) == user.platform,
                    col(Community.workspace_id) == user.workspace_id,
                    col(Member.user_id) == user.user_id,
                    col(Member.role) != MemberRole.LEFT,
                )
                .order_by(col(Community.name))
            )
        ).scalars()
    )


async def home(ctx: Context) -> Reply:
    """The home view, or Ack when the member belongs to no community (adapters show help)."""
    communities = await _communities(ctx)
    if not communities:
        return Ack()
    blocks: list[Block] = [Section.of(ctx.t("home.title"))]
    for community in communities:
        blocks.append(Divider())
        assert community.id is not None
        found = [
            block
            for section in await ctx.emit("home.sections", HomeSections(community.id))
            for block in section
        ]
        blocks += found or [Small(parts=[ctx.t("home.nothing", community=community.name)])]
    return Respond(Message(text=ctx.t("home.title"), blocks=blocks))
