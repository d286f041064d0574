"""Who may act for a network, and which network a community is in.

A coordinator is a person (platform, workspace, user id), not a member row: a network may
span workspaces and platforms, and a coordinator need not belong to the community whose
channel they type in. Coordinator commands run in the channel of any community of the
network (or in a DM that resolves to one); everyone else is refused in one private sentence.
"""

from __future__ import annotations

import hashlib
import logging
import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.context import Context, UserError
from storage.models import Community
from storage.networks import Network, NetworkCommunity, NetworkCoordinator

log = logging.getLogger(__name__)

# No 0/O, 1/I/L: a code is read aloud and typed from a screenshot.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10


def new_code() -> str:
    """A fresh join code, shown as ``ABCDE-FGHJK`` (about 50 bits: not guessable)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def code_digest(code: str) -> str:
    """What is stored and looked up for a code: its SHA-256 over the normalised letters."""
    letters = "".join(c for c in code.upper() if c.isalnum())
    return hashlib.sha256(f"circlebot-network:{letters}".encode()).hexdigest()


async def network_of(session: AsyncSession, community_id: int) -> Network | None:
    """The network the community is in, if any."""
    return (
        await session.execute(
            select(Network)
            .join(NetworkCommunity, col(NetworkCommunity.network_id) == col(Network.id))
            .where(col(NetworkCommunity.community_id) == community_id)
        )
    ).scalar_one_or_none()


async def communities_of(session: AsyncSession, network_id: int) -> list[Community]:
    """The network's communities, in the order they joined."""
    rows = await session.execute(
        select(Community)
        .join(NetworkCommunity, col(NetworkCommunity.community_id) == col(Community.id))
        .where(col(NetworkCommunity.network_id) == network_id)
        .order_by(col(NetworkCommunity.id))
    )
    return list(rows.scalars())


async def coordinators_of(session: AsyncSession, network_id: int) -> list[NetworkCoordinator]:
    rows = await session.execute(
        select(NetworkCoordinator)
        .where(col(NetworkCoordinator.network_id) == network_id)
        .order_by(col(NetworkCoordinator.id))
    )
    return list(rows.scalars())


async def find_coordinator(
    session: AsyncSession, network_id: int, platform: str, workspace_id: str, user_id: str
) -> NetworkCoordinator | None:
    return (
        await session.execute(
            select(NetworkCoordinator).where(
                col(NetworkCoordinator.network_id) == network_id,
                col(NetworkCoordinator.platform) == platform,
                col(NetworkCoordinator.workspace_id) == workspace_id,
                col(NetworkCoordinator.user_id) == user_id,
            )
        )
    ).scalar_one_or_none()


async def my_network(ctx: Context) -> Network:
    """The current community's network, or a one-sentence refusal."""
    community = ctx.require_community()
    network = await network_of(ctx.session, community.id)
    if network is None:
        raise UserError(ctx.t("network.refuse.none", community=community.name))
    return network


async def is_coordinator(ctx: Context, network: Network) -> bool:
    user = ctx.actor.user
    found = await find_coordinator(
        ctx.session, network.id, user.platform, user.workspace_id, user.user_id
    )
    return found is not None


async def require_coordinator(ctx: Context) -> Network:
    """The current community's network when the actor coordinates it; else one sentence."""
    network = await my_network(ctx)
    if not await is_coordinator(ctx, network):
        log.info("network %s: %s is not a coordinator", network.id, ctx.actor.user.user_id)
        raise UserError(ctx.t("network.refuse.coordinator_only", network=network.name))
    return network
