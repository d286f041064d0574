"""``/cop resources ...``: add a link with a title and tags, list (by tag), search, remove, and
attach to or detach from a meeting.

Anyone in the community may add; the member who added a resource or a facilitator may remove
it or attach it to a meeting ("what we made in the breakout"). Every answer is private: the
group hears of new resources in the digest before the next meeting, and sees those attached
to a meeting on its agenda.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from sqlalchemy import delete, select
from sqlmodel import col

from bot.commands import Command, CommandHandler, Param, Role
from bot.context import Context, UserError
from bot.events import CommandInvoked, Reply, Respond
from bot.features.resources.links import Refused, check_tags, check_title, check_url, normalise_tag
from bot.features.resources.queries import (
    by_number,
    find_meeting,
    live,
    meetings_of,
    next_number,
)
from bot.features.resources.render import line, lines_block, private
from bot.ui import Context as Small
from bot.ui import Section, Time
from storage.meetings import Meeting
from storage.resources import MAX_TAG, MAX_TITLE, MAX_URL, Resource, ResourceMeeting, ResourceTag

log = logging.getLogger(__name__)

#: A search answers at most this many words.
MAX_WORDS = 10


def _refusal(ctx: Context, refused: Refused) -> UserError:
    return UserError(ctx.t(refused.key, **refused.values))


def _say(ctx: Context, key: str, /, *parts: str | Time, **values: object) -> Respond:
    text = ctx.t(key, **values)
    return Respond(private([Section.of(text, *parts)]), private=True)


def _raw(ctx: Context, name: str) -> str:
    """A parameter as it arrived, before the edge cleaned it: a link must be refused for a
    control character, never kept with it silently taken out."""
    event = ctx.event
    if isinstance(event, CommandInvoked) and event.params.get(name) is not None:
        return event.params[name]
    return ctx.params.get(name, "")


def _community_id(ctx: Context) -> int:
    community = ctx.require_community()
    assert community.id is not None
    return community.id


async def _resource(ctx: Context) -> Resource:
    resource = await by_number(ctx.session, _community_id(ctx), ctx.params.get("number"))
    if resource is None:
        raise UserError(ctx.t("resources.unknown", n=(ctx.params.get("number") or "")[:20]))
    return resource


def _may_change(ctx: Context, resource: Resource, refusal: str) -> None:
    """The member who added it, or a facilitator; anyone else is refused in one sentence."""
    mine = ctx.member is not None and ctx.member.id == resource.added_by_member_id
    if not mine and ctx.role() < Role.FACILITATOR:
        raise UserError(ctx.t(refusal, n=resource.number))


def _when(ctx: Context, meeting: Meeting) -> Time:
    zone = ctx.community.timezone if ctx.community else "UTC"
    return Time(at=meeting.starts_at, zone=zone, style="date")


async def add(ctx: Context) -> Reply:
    community_id = _community_id(ctx)
    try:
        link = check_url(_raw(ctx, "url"))
        title = check_title(ctx.params.get("title"))
        tags = check_tags(ctx.params.get("tags"))
    except Refused as refused:
        raise _refusal(ctx, refused) from None
    same = (
        await ctx.session.execute(
            select(col(Resource.number)).where(
                col(Resource.community_id) == community_id,
                col(Resource.url) == link.url,
                col(Resource.removed_at).is_(None),
            )
        )
    ).scalar()
    if same is not None:
        raise UserError(ctx.t("resources.duplicate", n=same))
    resource = Resource(
        community_id=community_id,
        number=await next_number(ctx.session, community_id),
        url=link.url,
        host=link.host,
        title=title,
        added_by_member_id=ctx.member.id if ctx.member else None,
        created_at=ctx.now,
    )
    ctx.session.add(resource)
    await ctx.session.flush()
    for tag in tags:
        ctx.session.add(ResourceTag(community_id=community_id, resource_id=resource.id, tag=tag))
    log.info("community %s: resource %s added", community_id, resource.number)
    shown = (await live(ctx.session, community_id, ids=[resource.id]))[0]
    blocks: list[Section | Small] = [
        Section.of(ctx.t("resources.added", n=resource.number)),
        Section.of(line(ctx.t, shown)),
        Small(parts=[ctx.t("resources.added_hint", n=resource.number)]),
    ]
    return Respond(private(blocks), private=True)


async def list_(ctx: Context) -> Reply:
    community_id = _community_id(ctx)
    raw = ctx.params.get("tag")
    tag = None
    if raw is not None:
        tag = normalise_tag(raw)
        if tag is None:
            raise UserError(ctx.t("resources.tags.bad", word=raw[:40], max=MAX_TAG))
    items = await live(ctx.session, community_id, tag=tag)
    if not items:
        key = "resources.none_tagged" if tag else "resources.none"
        return _say(ctx, key, tag=tag)
    heading = (
        ctx.t("resources.list_tagged", tag=tag, count=len(items))
        if tag
        else ctx.t("resources.list_title", count=len(items))
    )
    return Respond(private(lines_block(ctx.t, heading, items)), private=True)


async def search(ctx: Context) -> Reply:
    """Every word must be found in the title, the tags or the host (``#tag`` names a tag)."""
    community_id = _community_id(ctx)
    words = ctx.params["words"].split()
    if len(words) > MAX_WORDS:
        raise UserError(ctx.t("resources.search_many", max=MAX_WORDS))
    items = await live(ctx.session, community_id)
    found = []
    for item in items:
        haystack = item.words()
        ok = True
        for word in words:
            if word.startswith(("#", "<#")):
                ok = normalise_tag(word) in item.tags
            else:
                ok = word.casefold() in haystack
            if not ok:
                break
        if ok:
            found.append(item)
    typed = " ".join(words)
    if not found:
        return _say(ctx, "resources.search_none", words=typed)
    heading = ctx.t("resources.search_title", words=typed, count=len(found))
    return Respond(private(lines_block(ctx.t, heading, found)), private=True)


async def remove(ctx: Context) -> Reply:
    resource = await _resource(ctx)
    _may_change(ctx, resource, "resources.not_yours_remove")
    community_id = _community_id(ctx)
    await ctx.session.execute(
        delete(ResourceTag).where(
            col(ResourceTag.community_id) == community_id,
            col(ResourceTag.resource_id) == resource.id,
        )
    )
    await ctx.session.execute(
        delete(ResourceMeeting).where(
            col(ResourceMeeting.community_id) == community_id,
            col(ResourceMeeting.resource_id) == resource.id,
        )
    )
    # A tombstone: the number stays taken, the link and title go.
    resource.url, resource.host, resource.title = "", "", ""
    resource.removed_at = ctx.now
    ctx.session.add(resource)
    log.info("community %s: resource %s removed", community_id, resource.number)
    return _say(ctx, "resources.removed", n=resource.number)


async def _meeting(ctx: Context) -> Meeting:
    raw = ctx.params.get("meeting") or ""
    meeting = await find_meeting(ctx.session, _community_id(ctx), raw, ctx.now)
    if meeting is None:
        raise UserError(ctx.t("resources.no_meeting", ref=raw[:20]))
    return meeting


async def attach(ctx: Context) -> Reply:
    resource = await _resource(ctx)
    _may_change(ctx, resource, "resources.not_yours_attach")
    meeting = await _meeting(ctx)
    community_id = _community_id(ctx)
    if any(m.id == meeting.id for m in await meetings_of(ctx.session, community_id, resource.id)):
        raise UserError(
            ctx.t("resources.already_attached", n=resource.number, meeting=meeting.number)
        )
    ctx.session.add(
        ResourceMeeting(
            community_id=community_id,
            resource_id=resource.id,
            meeting_id=meeting.id,
            attached_by_member_id=ctx.member.id if ctx.member else None,
            attached_at=ctx.now,
        )
    )
    log.info(
        "community %s: resource %s attached to meeting %s",
        community_id,
        resource.number,
        meeting.number,
    )
    return _say(
        ctx,
        "resources.attached",
        _when(ctx, meeting),
        ".",
        n=resource.number,
        meeting=meeting.number,
    )


async def detach(ctx: Context) -> Reply:
    resource = await _resource(ctx)
    _may_change(ctx, resource, "resources.not_yours_attach")
    community_id = _community_id(ctx)
    attached = await meetings_of(ctx.session, community_id, resource.id)
    if ctx.params.get("meeting"):
        meeting = await _meeting(ctx)
        if all(m.id != meeting.id for m in attached):
            raise UserError(
                ctx.t("resources.not_attached_to", n=resource.number, meeting=meeting.number)
            )
    elif not attached:
        raise UserError(ctx.t("resources.not_attached", n=resource.number))
    elif len(attached) > 1:
        numbers = ", ".join(f"#{m.number}" for m in attached)
        raise UserError(ctx.t("resources.detach_which", n=resource.number, meetings=numbers))
    else:
        meeting = attached[0]
    await ctx.session.execute(
        delete(ResourceMeeting).where(
            col(ResourceMeeting.community_id) == community_id,
            col(ResourceMeeting.resource_id) == resource.id,
            col(ResourceMeeting.meeting_id) == meeting.id,
        )
    )
    log.info(
        "community %s: resource %s detached from meeting %s",
        community_id,
        resource.number,
        meeting.number,
    )
    return _say(ctx, "resources.detached", n=resource.number, meeting=meeting.number)


def commands() -> tuple[Command, ...]:
    number = Param("number", "resources.param.number", kind="int", max_length=9)
    meeting = Param("meeting", "resources.param.meeting", keyword=True, max_length=20)

    def cmd(verb: str, handler: CommandHandler, *params: Param) -> Command:
        return Command(
            ("resources", verb),
            f"resources.help.{verb}",
            handler,
            Role.MEMBER,
            params,
            f"resources.example.{verb}",
        )

    return (
        cmd(
            "add",
            add,
            Param("url", "resources.param.url", max_length=MAX_URL),
            Param(
                "title", "resources.param.title", required=False, keyword=True, max_length=MAX_TITLE
            ),
            Param("tags", "resources.param.tags", required=False, rest=True, max_length=300),
        ),
        cmd("list", list_, Param("tag", "resources.param.tag", required=False, max_length=31)),
        cmd("search", search, Param("words", "resources.param.words", rest=True, max_length=200)),
        cmd("remove", remove, number),
        cmd("attach", attach, number, meeting),
        cmd("detach", detach, number, replace(meeting, required=False)),
    )
