"""`/cop prompts ...`: the facilitators' list of discussion prompts (add, list, edit,
remove), its schedule, pauses around holidays, posting the next one now, and members'
suggestions (`suggestions`)."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.commands import Command, CommandHandler, Param, Role
from bot.context import Context, UserError
from bot.events import Reply, Respond
from bot.features.conversation import suggestions
from bot.features.conversation.prompts import (
    MAX_TEXT,
    add_prompt,
    check_text,
    listed,
    numbered,
    post,
    same,
    settings_of,
)
from bot.features.conversation.timing import (
    INDEFINITE,
    parse_schedule_for,
    parse_until,
    paused,
    plan,
    settings_for,
)
from bot.ui import Context as Small
from bot.ui import Message, Section, plain
from storage.conversation import PromptSettings

log = logging.getLogger(__name__)


def _private(*blocks: Section | Small) -> Respond:
    return Respond(
        Message(text="\n".join(plain(b.parts) for b in blocks), blocks=list(blocks)), private=True
    )


async def add(ctx: Context) -> Reply:
    community = ctx.require_community()
    prompt = await add_prompt(
        ctx, community, check_text(ctx, ctx.params.get("text")), ctx.actor.name
    )
    return _private(Section.of(ctx.t("conversation.added", n=prompt.number)))


async def show(ctx: Context) -> Reply:
    community = ctx.require_community()
    assert community.id is not None
    # Read only: a community that never scheduled prompts gets no settings row from a look.
    settings = await ctx.session.get(PromptSettings, community.id) or PromptSettings(
        community_id=community.id, tz=community.timezone
    )
    zone = community.timezone
    blocks: list[Section | Small] = []
    if settings.schedule is None:
        blocks.append(Small(parts=[ctx.t("conversation.list_unscheduled")]))
    else:
        blocks.append(
            Small(parts=[ctx.t("conversation.list_schedule", schedule=settings.schedule)])
        )
    if paused(settings, ctx.now):
        assert settings.paused_until is not None
        if settings.paused_until >= INDEFINITE:
            blocks.append(Small(parts=[ctx.t("conversation.list_paused")]))
        else:
            blocks.append(
                Small(
                    parts=ctx.t.parts(
                        "conversation.list_paused_until",
                        when=ctx.t.moment(settings.paused_until, zone, "date"),
                    )
                )
            )
    prompts = await listed(ctx, community.id)
    if not prompts:
        return _private(Section.of(ctx.t("conversation.list_empty")), *blocks)
    lines = [Section.of(ctx.t("conversation.list_title"))]
    for p in prompts:
        mark = ctx.t("conversation.list_posted") if p.last_round >= settings.round else ""
        lines.append(
            Section.of(ctx.t("conversation.list_line", n=p.number, text=p.text, mark=mark))
        )
    return _private(*lines, *blocks)


async def edit(ctx: Context) -> Reply:
    community = ctx.require_community()
    assert community.id is not None
    target = await numbered(ctx, community.id, ctx.params.get("number"))
    text = check_text(ctx, ctx.params.get("text"))
    if same(target.text, text):
        raise UserError(ctx.t("conversation.same_text", n=target.number))
    for p in await listed(ctx, community.id):
        if p.id != target.id and same(p.text, text):
            raise UserError(ctx.t("conversation.duplicate", n=p.number))
    target.text = text
    ctx.session.add(target)
    return _private(Section.of(ctx.t("conversation.edited", n=target.number)))


async def remove(ctx: Context) -> Reply:
    community = ctx.require_community()
    assert community.id is not None
    target = await numbered(ctx, community.id, ctx.params.get("number"))
    target.removed = True
    ctx.session.add(target)
    log.info("community %s: prompt %s removed", community.id, target.number)
    return _private(Section.of(ctx.t("conversation.removed", n=target.number)))


def _next_line(ctx: Context, zone: str, nxt: datetime) -> Section:
    return Section(parts=ctx.t.parts("conversation.next_at", when=ctx.t.moment(nxt, zone)))


async def schedule(ctx: Context) -> Reply:
    community, settings = await settings_for(ctx)
    assert community.id is not None
    text = " ".join((ctx.params.get("schedule") or "").split())
    if text.lower() == "off":
        if settings.schedule is None:
            raise UserError(ctx.t("conversation.no_schedule"))
        settings.schedule = None
        settings.updated_at = ctx.now
        ctx.session.add(settings)
        await plan(ctx, settings)
        return _private(Section.of(ctx.t("conversation.schedule_off")))
    parse_schedule_for(ctx, text, community.timezone)
    settings.schedule, settings.tz, settings.updated_at = text, community.timezone, ctx.now
    ctx.session.add(settings)
    nxt = await plan(ctx, settings)
    blocks: list[Section | Small] = [Section.of(ctx.t("conversation.scheduled", schedule=text))]
    if nxt is not None:
        blocks.append(_next_line(ctx, community.timezone, nxt))
    elif paused(settings, ctx.now):
        blocks.append(Section.of(ctx.t("conversation.list_paused")))
    if not await listed(ctx, community.id):
        blocks.append(Small(parts=[ctx.t("conversation.schedule_empty")]))
    return _private(*blocks)


async def pause(ctx: Context) -> Reply:
    community, settings = await settings_for(ctx)
    if settings.schedule is None:
        raise UserError(ctx.t("conversation.no_schedule"))
    raw = ctx.params.get("until")
    until = parse_until(ctx, raw, community.timezone) if raw else INDEFINITE
    settings.paused_until, settings.updated_at = until, ctx.now
    ctx.session.add(settings)
    nxt = await plan(ctx, settings)
    if until >= INDEFINITE:
        return _private(Section.of(ctx.t("conversation.paused")))
    blocks: list[Section | Small] = [
        Section(
            parts=ctx.t.parts(
                "conversation.paused_until",
                when=ctx.t.moment(until, community.timezone, "date"),
            )
        )
    ]
    if nxt is not None:
        blocks.append(_next_line(ctx, community.timezone, nxt))
    return _private(*blocks)


async def resume(ctx: Context) -> Reply:
    community, settings = await settings_for(ctx)
    if not paused(settings, ctx.now):
        raise UserError(ctx.t("conversation.not_paused"))
    settings.paused_until, settings.updated_at = None, ctx.now
    ctx.session.add(settings)
    nxt = await plan(ctx, settings)
    blocks: list[Section | Small] = [Section.of(ctx.t("conversation.resumed"))]
    if nxt is not None:
        blocks.append(_next_line(ctx, community.timezone, nxt))
    return _private(*blocks)


async def post_now(ctx: Context) -> Reply:
    community = ctx.require_community()
    settings = await settings_of(ctx, community, lock=True)
    row = await post(ctx, community, settings, None)
    if row is None:
        raise UserError(ctx.t("conversation.list_empty"))
    return _private(Section.of(ctx.t("conversation.posted", n=row.number)))


def commands() -> tuple[Command, ...]:
    text = Param("text", "conversation.param.text", rest=True, max_length=MAX_TEXT)
    n = Param("number", "conversation.param.n", kind="int", max_length=9)

    def cmd(verb: str, handler: CommandHandler, role: Role, *params: Param) -> Command:
        return Command(
            ("prompts", verb),
            f"conversation.help.{verb}",
            handler,
            role,
            params,
            f"conversation.example.{verb}",
        )

    return (
        cmd("list", show, Role.MEMBER),
        cmd("add", add, Role.FACILITATOR, text),
        cmd("edit", edit, Role.FACILITATOR, n, text),
        cmd("remove", remove, Role.FACILITATOR, n),
        cmd(
            "schedule",
            schedule,
            Role.FACILITATOR,
            Param("schedule", "conversation.param.schedule", rest=True, max_length=200),
        ),
        cmd(
            "pause",
            pause,
            Role.FACILITATOR,
            Param("until", "conversation.param.until", required=False, keyword=True, max_length=40),
        ),
        cmd("resume", resume, Role.FACILITATOR),
        cmd("post", post_now, Role.FACILITATOR),
        cmd("suggest", suggestions.suggest, Role.MEMBER, text),
    )
