"""The person behind a command: every member row they have on this platform and workspace.

A person is one platform user id in one workspace (a Slack team, a Discord server); they
may be a member of several communities there, one `Member` row each. Everything this
feature does reaches all of those rows, and never a row of anyone else.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.events import UserRef
from storage.models import Community, Member


async def rows_of(session: AsyncSession, user: UserRef) -> list[tuple[Community, Member]]:
    """(community, member row) for each community the person has a row in, oldest first."""
    found = await session.execute(
        select(Community, Member)
        .join(Member, col(Member.community_id) == col(Community.id))
        .where(
            col(Community.platform) == user.platform,
            col(Community.workspace_id) == user.workspace_id,
            col(Member.user_id) == user.user_id,
        )
        .order_by(col(Community.id))
    )
    return [(c, m) for c, m in found]


def digest(user: UserRef) -> str:
    """A short, stable stand-in for the person in a button's id (ids are no secret, and a
    platform user id may hold characters a button id cannot)."""
    raw = f"{user.platform}\x00{user.workspace_id}\x00{user.user_id}".encode()
    return hashlib.sha256(raw).hexdigest()[:16]
