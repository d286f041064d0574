"""Making a network, inviting and joining communities, leaving, coordinators, showing it.

A community facilitator creates a network from their community (which joins it, and they
become its first coordinator). A coordinator asks for a one-time join code; a facilitator of
another community types it in their own channel. Codes are kept as a digest only, expire
after `CODE_DAYS` and work once: the row is claimed with a conditional update, so two
communities racing with one code cannot both join.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update
from sqlmodel import col

from bot.commands import Role
from bot.context import Context, UserError, find_member
from bot.events import Reply, Respond
from bot.features.networks.access import (
    code_digest,
    communities_of,
    coordinators_of,
    find_coordinator,
    is_coordinator,
    my_network,
    network_of,
    new_code,
    require_coordinator,
)
from bot.ui import Message, Section, Time, format_time
from storage.networks import Network, NetworkCommunity, NetworkCoordinator, NetworkInvite

log = logging.getLogger(__name__)

CODE_DAYS = 7  # how long a join code works


def _say(text: str, *, private: bool = True) -> Respond:
    return Respond(Message(text=text, blocks=[Section.of(text)]), private=private)


async def _refuse_if_in_one(ctx: Context) -> None:
    community = ctx.require_community()
    current = await network_of(ctx.session, community.id)
    if current is not None:
        raise UserError(
            ctx.t("network.refuse.already_in", community=community.name, network=current.name)
        )


async def create(ctx: Context) -> Reply:
    community = ctx.require_community()
    await _refuse_if_in_one(ctx)
    user = ctx.actor.user
    network = Network(name=ctx.params["name"][:100], created_by=user.user_id, created_at=ctx.now)
    ctx.session.add(network)
    await ctx.session.flush()
    ctx.session.add(
        NetworkCommunity(
            network_id=network.id,
            community_id=community.id,
            joined_by=user.user_id,
            joined_at=ctx.now,
        )
    )
    ctx.session.add(
        NetworkCoordinator(
            network_id=network.id,
            platform=user.platform,
            workspace_id=user.workspace_id,
            user_id=user.user_id,
            display_name=ctx.actor.name[:100],
            added_by=user.user_id,
            added_at=ctx.now,
        )
    )
    await ctx.session.flush()
    log.info("network %s created by community %s", network.id, community.id)
    text = ctx.t(
        "network.created", network=network.name, community=community.name, member=ctx.actor.name
    )
    return _say(text, private=False)


async def invite(ctx: Context) -> Reply:
    network = await require_coordinator(ctx)
    code = new_code()
    expires = ctx.now + timedelta(days=CODE_DAYS)
    ctx.session.add(
        NetworkInvite(
            network_id=network.id,
            code_digest=code_digest(code),
            created_by=ctx.actor.user.user_id,
            created_at=ctx.now,
            expires_at=expires,
        )
    )
    log.info("network %s: join code made", network.id)
    community = ctx.require_community()
    until = format_time(Time(at=expires, zone=community.timezone))
    return _say(ctx.t("network.invite", network=network.name, code=code, until=until))


async def join(ctx: Context) -> Reply:
    community = ctx.require_community()
    await _refuse_if_in_one(ctx)
    invitation = (
        await ctx.session.execute(
            select(NetworkInvite).where(
                col(NetworkInvite.code_digest) == code_digest(ctx.params["code"])
            )
        )
    ).scalar_one_or_none()
    if invitation is None:
        log.info("community %s: unknown network code", community.id)
        raise UserError(ctx.t("network.refuse.bad_code"))
    if invitation.used_at is not None:
        raise UserError(ctx.t("network.refuse.code_used"))
    if invitation.expires_at <= ctx.now:
        raise UserError(ctx.t("network.refuse.code_expired"))
    claimed = await ctx.session.execute(
        update(NetworkInvite)
        .where(col(NetworkInvite.id) == invitation.id, col(NetworkInvite.used_at).is_(None))
        .values(used_at=ctx.now, used_by_community=community.id)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        raise UserError(ctx.t("network.refuse.code_used"))
    network = await ctx.session.get(Network, invitation.network_id)
    if network is None:
        raise UserError(ctx.t("network.refuse.bad_code"))
    ctx.session.add(
        NetworkCommunity(
            network_id=network.id,
            community_id=community.id,
            joined_by=ctx.actor.user.user_id,
            joined_at=ctx.now,
        )
    )
    await ctx.session.flush()
    log.info("community %s joined network %s", community.id, network.id)
    text = ctx.t("network.joined", community=community.name, network=network.name)
    return _say(text, private=False)


async def leave(ctx: Context) -> Reply:
    community = ctx.require_community()
    network = await my_network(ctx)
    row = (
        await ctx.session.execute(
            select(NetworkCommunity).where(col(NetworkCommunity.community_id) == community.id)
        )
    ).scalar_one()
    await ctx.session.delete(row)
    log.info("community %s left network %s", community.id, network.id)
    text = ctx.t("network.left", community=community.name, network=network.name)
    return _say(text, private=False)


async def show(ctx: Context) -> Reply:
    network = await my_network(ctx)
    if not ctx.is_member() and ctx.role() < Role.FACILITATOR:
        if not await is_coordinator(ctx, network):
            raise UserError(ctx.t("core.refuse.members_only"))
    communities = await communities_of(ctx.session, network.id)
    coordinators = await coordinators_of(ctx.session, network.id)
    lines = [ctx.t.n("network.show_head", len(communities), network=network.name)]
    lines += [
        ctx.t("network.show_community", community=c.name, platform=c.platform) for c in communities
    ]
    names = ", ".join(c.display_name for c in coordinators)
    lines.append(ctx.t.n("network.show_coordinators", len(coordinators), names=names))
    return _say("\n".join(lines))


async def coordinator(ctx: Context) -> Reply:
    network = await require_coordinator(ctx)
    community = ctx.require_community()
    user = ctx.actor.user
    target_id = ctx.params["user"]
    member = await find_member(ctx.session, community.id, target_id)
    name = member.display_name if member is not None else target_id
    found = await find_coordinator(
        ctx.session, network.id, user.platform, user.workspace_id, target_id
    )
    if ctx.params.get("verb", "add") == "add":
        if found is not None:
            raise UserError(
                ctx.t("network.refuse.coordinator_already", member=name, network=network.name)
            )
        ctx.session.add(
            NetworkCoordinator(
                network_id=network.id,
                platform=user.platform,
                workspace_id=user.workspace_id,
                user_id=target_id,
                display_name=name[:100],
                added_by=user.user_id,
                added_at=ctx.now,
            )
        )
        log.info("network %s: coordinator added", network.id)
        return _say(ctx.t("network.coordinator_added", member=name, network=network.name))
    if found is None:
        raise UserError(ctx.t("network.refuse.coordinator_not", member=name, network=network.name))
    if len(await coordinators_of(ctx.session, network.id)) == 1:
        raise UserError(ctx.t("network.refuse.last_coordinator", network=network.name))
    await ctx.session.delete(found)
    log.info("network %s: coordinator removed", network.id)
    return _say(
        ctx.t("network.coordinator_removed", member=found.display_name, network=network.name)
    )
