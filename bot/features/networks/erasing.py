"""A person who erases their data (``/cop my-data erase``) stops coordinating any network, and
their name leaves the network's posts (the posts already delivered stay in the channels, as
every other message does)."""

from __future__ import annotations

import logging

from sqlalchemy import delete, update
from sqlmodel import col

from bot.context import Context
from bot.hooks import MemberErasing
from storage.models import Community, Member
from storage.networks import NetworkCoordinator, NetworkPost

log = logging.getLogger(__name__)


async def on_member_erasing(ctx: Context, payload: MemberErasing) -> None:
    member = await ctx.session.get(Member, payload.member_id)
    community = await ctx.session.get(Community, payload.community_id)
    if member is None or community is None:
        return
    await ctx.session.execute(
        delete(NetworkCoordinator).where(
            col(NetworkCoordinator.platform) == community.platform,
            col(NetworkCoordinator.workspace_id) == community.workspace_id,
            col(NetworkCoordinator.user_id) == member.user_id,
        )
    )
    await ctx.session.execute(
        update(NetworkPost)
        .where(col(NetworkPost.created_by) == member.user_id)
        .values(author="", created_by="")
    )
    log.info("network roles of member %s erased", member.id)
