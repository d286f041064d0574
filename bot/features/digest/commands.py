"""``/cop digest``: the digest now, privately, for each of one's communities (in a DM) or for
the channel's community; ``/cop digest settings offset=3d|off`` (facilitators) chooses how long
before each meeting the channel's digest goes out, or turns it off.

One command path with an optional ``settings`` word, not two commands: Discord cannot have
``/cop digest`` both as a command and as a group of sub-commands.
"""

from __future__ import annotations

import logging
import re

from sqlalchemy import select
from sqlmodel import col

from bot.across import my_communities
from bot.commands import Command, Param, Role
from bot.context import Context, UserError, find_member, require
from bot.events import Reply, Respond
from bot.features.digest.draw import digest_message, draw, since_for
from bot.features.digest.plan import make_sure_planned, plan, settings_of
from bot.ui import Block, Message, Section, plain
from storage.digest import DigestSettings
from storage.meetings import Meeting, MeetingSeries
from storage.models import Community

log = logging.getLogger(__name__)

_OFFSET = re.compile(r"^(?:(\d{1,2})d)?(?:(\d{1,3})h)?$")
MIN_OFFSET, MAX_OFFSET = 60, 14 * 24 * 60  # minutes: an hour to two weeks before


def parse_offset(raw: str) -> int | None:
    """``3d``, ``36h``, ``2d12h`` -> minutes; ``off`` -> None; anything else -> ValueError."""
    text = "".join(raw.lower().split())
    if text in ("off", "none", "no"):
        return None
    m = _OFFSET.match(text)
    if not text or m is None:
        raise ValueError(raw)
    minutes = int(m.group(1) or 0) * 1440 + int(m.group(2) or 0) * 60
    if not MIN_OFFSET <= minutes <= MAX_OFFSET:
        raise ValueError(raw)
    return minutes


def offset_words(ctx: Context, minutes: int) -> str:
    days, hours = divmod(minutes // 60, 24)
    parts = []
    if days:
        parts.append(ctx.t.n("digest.unit.day", days))
    if hours:
        parts.append(ctx.t.n("digest.unit.hour", hours))
    return ctx.t.list(parts, style="unit-narrow")


def _respond(blocks: list[Block], *, private: bool = True) -> Respond:
    text = "\n".join(plain(b.parts) for b in blocks if isinstance(b, Section))
    return Respond(Message(text=text, blocks=blocks), private=private)


async def digest(ctx: Context) -> Reply:
    if ctx.params.get("what") == "settings":
        return await settings(ctx)
    if ctx.params.get("offset") is not None:
        raise UserError(ctx.t("digest.offset_with_settings"))
    if ctx.place.is_dm:
        communities = await my_communities(ctx)
        if not communities:
            raise UserError(ctx.t("core.across.none"))
    else:
        ctx.require_community()
        await ctx.join()
        require(ctx, Role.MEMBER)
        assert ctx.community is not None
        communities = [ctx.community]
    blocks: list[Block] = []
    for community in communities:
        blocks += await _one(ctx, community)
    log.info("digest asked for %d communities", len(communities))
    return _respond(blocks)


async def _one(ctx: Context, community: Community) -> list[Block]:
    """One community's digest for the asker now: what the next channel digest would show so
    far, with what only they may see (`private_to`)."""
    assert community.id is not None
    member = await find_member(ctx.session, community.id, ctx.actor.user.user_id)
    if member is None:
        return []
    row = (
        await ctx.session.execute(
            select(Meeting, MeetingSeries)
            .join(MeetingSeries, col(MeetingSeries.id) == col(Meeting.series_id))
            .where(
                col(Meeting.community_id) == community.id,
                col(Meeting.status) == "scheduled",
                col(Meeting.starts_at) > ctx.now,
            )
            .order_by(col(Meeting.starts_at))
            .limit(1)
        )
    ).first()
    meeting, series = (row[0], row[1]) if row is not None else (None, None)
    since = await since_for(ctx, community)
    drawn = await draw(
        ctx, community, meeting.id if meeting else None, since, ctx.now, ctx.t.lang, member.id
    )
    if meeting is not None:
        await make_sure_planned(ctx, community.id)
    if not drawn.news:
        zone = series.tz if series is not None else community.timezone
        return [
            Section(
                parts=ctx.t.parts(
                    "digest.nothing_new", community=community.name, when=ctx.t.moment(since, zone)
                )
            )
        ]
    return list(digest_message(ctx.t, community, drawn, since, meeting, series).blocks)


async def settings(ctx: Context) -> Reply:
    """Show the community's digest settings, or change the offset (``offset=3d`` or ``off``)."""
    community = ctx.require_community()
    require(ctx, Role.FACILITATOR)
    assert community.id is not None
    raw = ctx.params.get("offset")
    lines: list[str] = []
    if raw is not None:
        try:
            minutes = parse_offset(raw)
        except ValueError:
            raise UserError(ctx.t("digest.bad_offset", value=raw[:40])) from None
        row = await ctx.session.get(DigestSettings, community.id, with_for_update=True)
        if row is None:
            row = DigestSettings(community_id=community.id)
        row.enabled = minutes is not None
        if minutes is not None:
            row.offset_minutes = minutes
        row.updated_at = ctx.now
        ctx.session.add(row)
        await ctx.session.flush()
        lines.append(ctx.t("digest.saved"))
        log.info("community %s: digest %s", community.id, minutes if minutes else "off")
    current = await settings_of(ctx, community.id)
    blocks: list[Block] = []
    if current.enabled:
        lines.append(ctx.t("digest.settings_on", offset=offset_words(ctx, current.offset_minutes)))
    else:
        lines.append(ctx.t("digest.settings_off"))
    blocks += [Section.of(line) for line in lines]
    due = await plan(ctx, community.id)
    if due is not None:
        when = ctx.t.moment(due, community.timezone)
        blocks.append(Section(parts=ctx.t.parts("digest.next", when=when)))
    blocks.append(Section.of(ctx.t("digest.how")))
    return _respond(blocks)


def commands() -> tuple[Command, ...]:
    return (
        Command(
            ("digest",),
            "digest.help",
            digest,
            # Anyone may ask: in a DM it answers for the communities one belongs to; in a
            # channel the handler joins and checks the member (facilitator for settings).
            Role.ANYONE,
            (
                Param(
                    "what",
                    "digest.param.what",
                    kind="choice",
                    choices=("settings",),
                    required=False,
                ),
                Param("offset", "digest.param.offset", required=False, keyword=True, max_length=20),
            ),
            "digest.example",
            needs_community=False,
        ),
    )
