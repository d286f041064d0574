"""``/cop challenge ...``: bring a challenge from practice (openly or privately), list the
open ones, mark one discussed or carry it to the next meeting (facilitators), withdraw one's
own. Every refusal is one sentence and changes nothing.

``/cop challenge add TEXT private`` (the last word) or ``private=yes`` brings it privately:
only the facilitators see who brought it.
"""

from __future__ import annotations

import logging

from bot.commands import Command, CommandHandler, Param, Role
from bot.context import Context, UserError
from bot.events import Reply, Respond
from bot.features.challenges import store
from bot.features.challenges.render import bring_button, line
from bot.ui import Context as Small
from bot.ui import Message, Section

log = logging.getLogger(__name__)

PRIVATE_WORD = "private"


def _say(text: str) -> Respond:
    return Respond(Message(text=text), private=True)


def split_private(text: str, flag: str | None) -> tuple[str, bool]:
    """The challenge text and whether it is private: ``private=yes``, or "private" as its last
    word (``/cop challenge add How do I ... private``)."""
    words = text.split(" ")
    private = flag == "yes"
    if len(words) > 1 and words[-1].lower() == PRIVATE_WORD:
        text, private = " ".join(words[:-1]).rstrip(), flag != "no"
    return text, private


async def add(ctx: Context) -> Reply:
    community = ctx.require_community()
    text, private = split_private(ctx.params["text"], ctx.params.get("private"))
    if len(text) > store.MAX_TEXT:
        raise UserError(ctx.t("challenges.too_long", max=store.MAX_TEXT))
    c = await store.bring(ctx, community, text, private)
    key = "challenges.added_private" if private else "challenges.added"
    return _say(ctx.t(key, number=c.number))


async def list_(ctx: Context) -> Reply:
    community = ctx.require_community()
    assert community.id is not None
    names = ctx.role() >= Role.FACILITATOR
    rows = await store.open_ones(ctx, community.id)
    own = ctx.member.id if ctx.member is not None else None
    if not rows:
        head = ctx.t("challenges.list_empty")
        lines = [head]
    else:
        head = ctx.t("challenges.list_head", count=len(rows))
        lines = [head]
        for c, m in rows:
            shown = line(ctx.t, c, m, names=names)
            if c.private and not names and c.member_id == own:
                shown = ctx.t("challenges.line_private_yours", number=c.number, text=c.text)
            lines.append(shown)
    foot = ctx.t("challenges.list_foot")
    blocks = [Section.of("\n".join(lines)), Small(parts=[foot]), bring_button(ctx.t, community.id)]
    return Respond(Message(text="\n".join([*lines, foot]), blocks=blocks), private=True)


async def done(ctx: Context) -> Reply:
    c = await store.by_number(ctx, ctx.require_community(), ctx.params["number"])
    await store.mark_discussed(ctx, c)
    return _say(ctx.t("challenges.done", number=c.number))


async def carry(ctx: Context) -> Reply:
    c = await store.by_number(ctx, ctx.require_community(), ctx.params["number"])
    await store.carry(ctx, c)
    return _say(ctx.t("challenges.carried", number=c.number))


async def withdraw(ctx: Context) -> Reply:
    c = await store.by_number(ctx, ctx.require_community(), ctx.params["number"])
    await store.withdraw(ctx, c)
    return _say(ctx.t("challenges.withdrawn", number=c.number))


def commands() -> tuple[Command, ...]:
    number = Param("number", "challenges.param.number", kind="int", max_length=9)

    def cmd(verb: str, handler: CommandHandler, role: Role, *params: Param) -> Command:
        return Command(
            ("challenge", verb),
            f"challenges.help.{verb}",
            handler,
            role,
            params,
            f"challenges.example.{verb}",
        )

    return (
        cmd(
            "add",
            add,
            Role.MEMBER,
            Param("text", "challenges.param.text", rest=True, max_length=store.MAX_TEXT + 8),
            Param(
                "private",
                "challenges.param.private",
                kind="choice",
                choices=("yes", "no"),
                required=False,
                keyword=True,
            ),
        ),
        cmd("list", list_, Role.MEMBER),
        cmd("done", done, Role.FACILITATOR, number),
        cmd("carry", carry, Role.FACILITATOR, number),
        cmd("withdraw", withdraw, Role.MEMBER, number),
    )
