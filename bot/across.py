"""One person's communities on a platform, and list commands that answer for all of them in a DM.

A DM has no channel, so no community: a list command asked there (``/cop meeting list``,
``/cop poll list``) answers for every community the person belongs to in that workspace,
each under its name, by running the command's own per-community handler once per community
after `Context.enter` (which checks membership). Communities they left, or never joined,
are never shown. In a channel the same command answers for that channel's community only.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlmodel import col

from bot.commands import CommandHandler, Role
from bot.context import Context, require
from bot.events import Reply, Respond
from bot.ui import Block, Inline, Message, Section, plain
from storage.models import Community, Member, MemberRole

log = logging.getLogger(__name__)


async def my_communities(ctx: Context) -> list[Community]:
    """The communities the actor belongs to (left ones excluded) on this platform, by name."""
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
                .order_by(col(Community.name), col(Community.id))
            )
        ).scalars()
    )


def each_community(handler: CommandHandler, in_dm: CommandHandler | None = None) -> CommandHandler:
    """`handler` (a member command for one community) made to answer in a DM for them all.

    In a DM, `in_dm` (default `handler`) runs once per community. Declare the command
    ``Role.ANYONE`` with ``needs_community=False``: the dispatcher would otherwise refuse a
    DM where the person has several communities. In a channel this does what the
    dispatcher does for a member command (join on first use, then the role check).
    """

    async def run(ctx: Context) -> Reply:
        if not ctx.place.is_dm:
            ctx.require_community()
            await ctx.join()
            require(ctx, Role.MEMBER)
            return await handler(ctx)
        return await _across(ctx, in_dm or handler)

    run.__name__ = run.__qualname__ = getattr(handler, "__name__", "each_community")
    run.__doc__ = handler.__doc__
    return run


async def _across(ctx: Context, handler: CommandHandler) -> Reply:
    """Each community's answer under its name, in one message; one sentence when there is none.

    Each community's answer becomes one Section (its lines joined, no dividers), so up to 50
    communities fit in one Slack message (50 blocks at most); the adapters split a Section
    longer than their text limits themselves.
    """
    t, before = ctx.t, (ctx.community, ctx.member)
    communities = await my_communities(ctx)
    if not communities:
        return Respond(Message(text=t("core.across.none")))
    blocks: list[Block] = []
    for community in communities:
        assert community.id is not None
        await ctx.enter(community.id)
        reply = await handler(ctx)
        heading = t("core.across.community", name=community.name)
        blocks.append(Section(parts=[heading, *_parts(reply)]))
    log.info("DM list for %d communities", len(communities))
    (ctx.community, ctx.member), ctx.t = before, t
    text = "\n\n".join(plain(b.parts) for b in blocks if isinstance(b, Section))
    return Respond(Message(text=text, blocks=blocks))


def _parts(reply: Reply) -> list[Inline]:
    """A per-community answer's text as inline parts on new lines (times stay `Time`)."""
    if not isinstance(reply, Respond):
        return []
    msg = reply.message
    sections = [b for b in msg.blocks if isinstance(b, Section)]
    if not sections:
        return ["\n", msg.text]
    out: list[Inline] = []
    for section in sections:
        out += ["\n", *section.parts]
    return out
