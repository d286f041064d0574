"""The member's home (Slack's App Home): what each of their communities has going on.

Composed from every community the member belongs to on that platform, so one view
serves a facilitator who runs several groups; the sections come from the other features
through the ``home.sections`` hook (meetings with RSVP, open votes, ...).
"""

from __future__ import annotations

from bot.across import my_communities
from bot.context import Context
from bot.events import Ack, Reply, Respond
from bot.hooks import HomeSections
from bot.ui import Block, Divider, Message, Section
from bot.ui import Context as Small


async def home(ctx: Context) -> Reply:
    """The home view, or Ack when the member belongs to no community (adapters show help)."""
    communities = await my_communities(ctx)
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
