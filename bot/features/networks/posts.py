"""Announcements and events from a network's coordinator to every community, once each.

The post is a row first (`NetworkPost`); each community's copy is an outbox row keyed by post
and community (``network:<post>:community:<id>``), written in the same transaction, so the
worker delivers each once, paced per channel like every other message, and a retried
delivery never doubles one. A platform's retry or replay of the command itself is recognised
by the dispatcher (`bot.replays`) and writes no second post. The coordinator's text is
plain text in the neutral UI: the adapters escape it (Slack's ``<!channel>``, ``&``) and
post it with no mentions allowed (Discord's ``allowed_mentions``), so it pings nobody.
Each community reads the post in its own language.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.context import Context, UserError, channel_of
from bot.deadlines import DeadlineError, parse_deadline
from bot.events import Reply, Respond
from bot.features.networks.access import communities_of, require_coordinator
from bot.i18n import translator
from bot.ui import Block, Message, Section, Time, plain
from storage.models import Community
from storage.networks import Network, NetworkPost

log = logging.getLogger(__name__)

MAX_TEXT = 2000  # an announcement: well under Slack's 3000 per section and Discord's 2000
EVENT_AHEAD = timedelta(days=730)  # an event may be announced up to two years ahead


def post_key(post: NetworkPost, community: Community) -> str:
    return f"network:{post.id}:community:{community.id}"


def _timed(template: str, at: Time) -> tuple[Section, str]:
    """A catalog sentence whose ``{when}`` is a `Time`: the block and its plain text."""
    before, _, after = template.partition("\x00")
    parts: list[str | Time] = [p for p in (before, at, after) if p != ""]
    return Section(parts=parts), plain(parts)


def _message(network: Network, post: NetworkPost, community: Community) -> Message:
    t = translator(community.language)
    if post.kind == "event" and post.starts_at is not None:
        head = t("network.event_head", network=network.name, author=post.author)
        when, when_text = _timed(
            t("network.event_when", when="\x00"), Time(at=post.starts_at, zone=community.timezone)
        )
        blocks: list[Block] = [Section.of(head), Section.of(post.text), when]
        return Message(text="\n".join([head, post.text, when_text]), blocks=blocks)
    head = t("network.announce_head", network=network.name, author=post.author)
    return Message(text=f"{head}\n{post.text}", blocks=[Section.of(head), Section.of(post.text)])


async def _send(ctx: Context, network: Network, post: NetworkPost) -> int:
    """Queue the post for every community of the network; returns how many were queued."""
    queued = 0
    for community in await communities_of(ctx.session, network.id):
        if await ctx.outbox.enqueue(
            key=post_key(post, community),
            to=channel_of(community),
            message=_message(network, post, community),
            community_id=community.id,
        ):
            queued += 1
    post.communities = queued
    ctx.session.add(post)
    return queued


async def announce(ctx: Context) -> Reply:
    network = await require_coordinator(ctx)
    text = ctx.params["text"]
    post = NetworkPost(
        network_id=network.id,
        kind="announce",
        text=text,
        author=ctx.actor.name[:100],
        created_by=ctx.actor.user.user_id,
        created_at=ctx.now,
    )
    ctx.session.add(post)
    await ctx.session.flush()
    count = await _send(ctx, network, post)
    log.info("network %s: announcement %s queued for %d communities", network.id, post.id, count)
    reply = ctx.t.n("network.announced", count, network=network.name)
    return Respond(Message(text=reply, blocks=[Section.of(reply)]))


async def event(ctx: Context) -> Reply:
    network = await require_coordinator(ctx)
    community = ctx.require_community()
    try:
        starts = parse_deadline(
            ctx.params["when"], ctx.now, community.timezone, max_ahead=EVENT_AHEAD
        )
    except DeadlineError:
        raise UserError(ctx.t("network.refuse.event_when", when=ctx.params["when"][:60])) from None
    post = NetworkPost(
        network_id=network.id,
        kind="event",
        text=ctx.params["title"],
        starts_at=starts,
        author=ctx.actor.name[:100],
        created_by=ctx.actor.user.user_id,
        created_at=ctx.now,
    )
    ctx.session.add(post)
    await ctx.session.flush()
    count = await _send(ctx, network, post)
    log.info("network %s: event %s queued for %d communities", network.id, post.id, count)
    reply = ctx.t.n("network.event_announced", count, network=network.name)
    return Respond(Message(text=reply, blocks=[Section.of(reply)]))
