"""The prompt list and its rotation, and posting one prompt to the channel with its thread.

Prompts are posted in list order, none twice in a round: a round ends when every prompt in
the list has been posted once, and the next begins. A prompt added mid-round joins the
current round; a removed one leaves the rotation. A post is a channel message (its outbox
key names the community and the occurrence, so it goes out once and survives restarts)
followed by a first bot line in its thread, which makes the thread where members answer
(circlebot never reads those answers).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import col

from bot.context import Context, UserError, channel_of, find_member
from bot.events import UserRef
from bot.i18n import Translator, translator
from bot.languages import fan_out_each, member_t
from bot.text import parse_id
from bot.ui import Context as Small
from bot.ui import Message, Section
from storage.conversation import Prompt, PromptPost, PromptSettings
from storage.models import Community, Member, MemberRole

log = logging.getLogger(__name__)

MAX_TEXT = 300
MAX_PROMPTS = 200


def same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


async def settings_of(ctx: Context, community: Community, *, lock: bool = False) -> PromptSettings:
    """The community's prompt settings row, made (unsaved until flushed) when there is none."""
    assert community.id is not None
    row = await ctx.session.get(PromptSettings, community.id, with_for_update=lock or None)
    if row is None:
        row = PromptSettings(community_id=community.id, tz=community.timezone, updated_at=ctx.now)
        ctx.session.add(row)
    return row


async def listed(ctx: Context, community_id: int) -> list[Prompt]:
    """The prompts in the list (not removed), in list order."""
    rows = await ctx.session.execute(
        select(Prompt)
        .where(col(Prompt.community_id) == community_id, col(Prompt.removed).is_(False))
        .order_by(col(Prompt.number))
    )
    return list(rows.scalars())


async def numbered(ctx: Context, community_id: int, raw: str | None) -> Prompt:
    n = parse_id(raw)
    found = [p for p in await listed(ctx, community_id) if p.number == n]
    if not found:
        raise UserError(ctx.t("conversation.unknown", n=(raw or "")[:20]))
    return found[0]


def check_text(ctx: Context, raw: str | None) -> str:
    text = " ".join((raw or "").split())
    if not text:
        raise UserError(ctx.t("conversation.empty_text"))
    if len(text) > MAX_TEXT:
        raise UserError(ctx.t("core.parse.too_long", name="text", max=MAX_TEXT))
    return text


async def add_prompt(
    ctx: Context, community: Community, text: str, by: str, suggestion_id: int | None = None
) -> Prompt:
    """Put `text` at the end of the list; refuses a duplicate or a full list in one sentence."""
    assert community.id is not None
    prompts = await listed(ctx, community.id)
    for p in prompts:
        if same(p.text, text):
            raise UserError(ctx.t("conversation.duplicate", n=p.number))
    if len(prompts) >= MAX_PROMPTS:
        raise UserError(ctx.t("conversation.too_many", max=MAX_PROMPTS))
    last = await ctx.session.scalar(
        select(func.max(col(Prompt.number))).where(col(Prompt.community_id) == community.id)
    )
    prompt = Prompt(
        community_id=community.id,
        number=(last or 0) + 1,
        text=text,
        added_by=by[:100],
        suggestion_id=suggestion_id,
        created_at=ctx.now,
    )
    ctx.session.add(prompt)
    settings = await settings_of(ctx, community)
    settings.told_empty = False
    ctx.session.add(settings)
    await ctx.session.flush()
    log.info("community %s: prompt %s added", community.id, prompt.number)
    return prompt


async def next_prompt(ctx: Context, settings: PromptSettings) -> Prompt | None:
    """The next prompt of the rotation, starting a new round when all were posted in this
    one; None when the list is empty. Marks it posted in the (possibly new) round."""
    prompts = await listed(ctx, settings.community_id)
    if not prompts:
        return None
    fresh = [p for p in prompts if p.last_round < settings.round]
    if not fresh:
        settings.round += 1
        fresh = prompts
    prompt = fresh[0]
    prompt.last_round = settings.round
    ctx.session.add_all([prompt, settings])
    return prompt


async def post(
    ctx: Context, community: Community, settings: PromptSettings, occurrence: datetime | None
) -> PromptPost | None:
    """Post the next prompt in the channel (at `occurrence`, or now when None) with its
    thread; None when the list is empty or this occurrence was posted already."""
    assert community.id is not None
    if occurrence is not None:
        done = await ctx.session.scalar(
            select(func.count()).where(
                col(PromptPost.community_id) == community.id,
                col(PromptPost.occurrence) == occurrence,
            )
        )
        if done:
            return None
    prompt = await next_prompt(ctx, settings)
    if prompt is None:
        return None
    row = PromptPost(
        community_id=community.id,
        prompt_id=prompt.id,
        number=prompt.number,
        text=prompt.text,
        occurrence=occurrence,
        key="",
        posted_at=ctx.now,
    )
    ctx.session.add(row)
    await ctx.session.flush()
    when = f"{int(occurrence.timestamp())}" if occurrence is not None else f"now:{row.id}"
    row.key = f"prompts:{community.id}:{when}"
    ctx.session.add(row)
    t = translator(community.language)
    head, invite = t("conversation.post_head"), t("conversation.post_invite")
    await ctx.outbox.enqueue(
        key=row.key,
        to=channel_of(community),
        message=Message(
            text=f"{head}\n{prompt.text}\n{invite}",
            blocks=[Section.of(head), Section.of(prompt.text), Small(parts=[invite])],
        ),
        community_id=community.id,
    )
    await ctx.outbox.enqueue(
        key=f"{row.key}:thread",
        to=channel_of(community),
        message=Message(text=t("conversation.thread_start")),
        community_id=community.id,
        thread_of=row.key,
    )
    log.info("community %s: prompt %s posted (%s)", community.id, prompt.number, row.key)
    return row


async def facilitators(ctx: Context, community_id: int) -> list[Member]:
    rows = await ctx.session.execute(
        select(Member).where(
            col(Member.community_id) == community_id, col(Member.role) == MemberRole.FACILITATOR
        )
    )
    return list(rows.scalars())


async def tell_facilitators(
    ctx: Context,
    community: Community,
    key: str,
    message: Message | Callable[[Translator], Message],
) -> None:
    """DM the community's facilitators; with none named yet, the admin who set it up. A
    `message` composed per language (a function of the translator) reaches each in their
    own language."""
    assert community.id is not None

    def compose(t: Translator) -> Message:
        return message(t) if callable(message) else message

    named = await facilitators(ctx, community.id)
    if named:
        await fan_out_each(ctx, key=key, community=community, members=named, compose=compose)
        return
    creator = await find_member(ctx.session, community.id, community.created_by)
    await ctx.outbox.enqueue(
        key=f"{key}:creator",
        to=UserRef(community.platform, community.workspace_id, community.created_by),
        message=compose(member_t(creator, community)),
        community_id=community.id,
    )
