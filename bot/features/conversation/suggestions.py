"""Members suggest prompts; the facilitators get each privately with Approve and Decline.

An approved suggestion joins the list (its suggester is told); a declined one is answered
to its suggester privately. Buttons carry the suggestion's id only: the handler loads it,
enters its community and checks the presser facilitates there. A person erasing their data
takes their suggestions with them.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, func, select
from sqlmodel import col

from bot.commands import Role
from bot.context import Context, UserError, find_member, require
from bot.events import Reply, Respond, UserRef
from bot.features.conversation.prompts import add_prompt, check_text, tell_facilitators
from bot.hooks import MemberErasing
from bot.i18n import Translator
from bot.languages import member_t
from bot.ui import ActionId, Actions, Button, Message, Section
from bot.ui import Context as Small
from storage.conversation import PromptSuggestion
from storage.models import Community

log = logging.getLogger(__name__)

MAX_WAITING = 3  # open suggestions per member, so nobody floods the facilitators


async def suggest(ctx: Context) -> Reply:
    """``/cop prompts suggest TEXT``: to the facilitators, with Approve and Decline."""
    community = ctx.require_community()
    assert ctx.member is not None and community.id is not None
    text = check_text(ctx, ctx.params.get("text"))
    waiting = await ctx.session.scalar(
        select(func.count()).where(
            col(PromptSuggestion.community_id) == community.id,
            col(PromptSuggestion.member_id) == ctx.member.id,
            col(PromptSuggestion.status) == "open",
        )
    )
    if (waiting or 0) >= MAX_WAITING:
        raise UserError(ctx.t("conversation.suggest_limit", max=MAX_WAITING))
    row = PromptSuggestion(
        community_id=community.id,
        text=text,
        member_id=ctx.member.id,
        suggester_id=ctx.actor.user.user_id,
        suggester_name=ctx.actor.name[:100],
        created_at=ctx.now,
    )
    ctx.session.add(row)
    await ctx.session.flush()

    def compose(t: Translator) -> Message:
        head = t("conversation.suggested_head", name=row.suggester_name, community=community.name)
        return Message(
            text=f"{head}\n{text}",
            blocks=[
                Section.of(head),
                Section.of(text),
                Actions(
                    elements=[
                        Button(
                            action=ActionId("prompt", "approve", row.id),
                            label=t("conversation.approve"),
                            style="primary",
                        ),
                        Button(
                            action=ActionId("prompt", "decline", row.id),
                            label=t("conversation.decline"),
                        ),
                    ]
                ),
            ],
        )

    await tell_facilitators(ctx, community, f"prompts:suggestion:{row.id}", compose)
    log.info("community %s: prompt suggestion %s", community.id, row.id)
    return Respond(Message(text=ctx.t("conversation.suggest_sent")))


async def _pressed(ctx: Context) -> tuple[Community, PromptSuggestion]:
    row = await ctx.session.get(PromptSuggestion, ctx.action.int_arg(0))
    if row is None:
        raise UserError(ctx.t("core.refuse.stale_button"))
    community = await ctx.enter(row.community_id)  # the suggestion's community, checked
    require(ctx, Role.FACILITATOR)
    if row.status != "open":
        raise UserError(
            ctx.t(f"conversation.already_{row.status}", name=row.decided_by or row.suggester_name)
        )
    return community, row


async def _tell_suggester(
    ctx: Context, community: Community, row: PromptSuggestion, key: str, said: str
) -> None:
    """DM the suggester `said` (a catalog key), in their own language."""
    if not row.suggester_id:
        return
    assert community.id is not None
    suggester = await find_member(ctx.session, community.id, row.suggester_id)
    text = member_t(suggester, community)(said, community=community.name)
    await ctx.outbox.enqueue(
        key=f"prompts:suggestion:{row.id}:{key}",
        to=UserRef(community.platform, community.workspace_id, row.suggester_id),
        message=Message(text=text, blocks=[Section.of(text), Small(parts=[row.text])]),
        community_id=community.id,
    )


async def approve(ctx: Context) -> Reply:
    """Approve: the suggestion joins the list; its suggester is told privately."""
    community, row = await _pressed(ctx)
    prompt = await add_prompt(ctx, community, row.text, ctx.actor.name, suggestion_id=row.id)
    row.status, row.decided_by, row.decided_at = "approved", ctx.actor.name[:100], ctx.now
    ctx.session.add(row)
    await _tell_suggester(ctx, community, row, "approved", "conversation.approved_told")
    log.info("community %s: suggestion %s approved as prompt %s", community.id, row.id, prompt.id)
    return Respond(Message(text=ctx.t("conversation.approved", n=prompt.number)))


async def decline(ctx: Context) -> Reply:
    """Decline: the suggester is told privately; the list does not change."""
    community, row = await _pressed(ctx)
    row.status, row.decided_by, row.decided_at = "declined", ctx.actor.name[:100], ctx.now
    ctx.session.add(row)
    await _tell_suggester(ctx, community, row, "declined", "conversation.declined_told")
    log.info("community %s: suggestion %s declined", community.id, row.id)
    return Respond(Message(text=ctx.t("conversation.declined", name=row.suggester_name)))


async def on_member_erasing(ctx: Context, erasing: MemberErasing) -> None:
    """The ``member.erasing`` hook: the person's suggestions go (approved prompts stay in the
    list, which no longer says who suggested them)."""
    await ctx.session.execute(
        delete(PromptSuggestion).where(
            col(PromptSuggestion.community_id) == erasing.community_id,
            col(PromptSuggestion.member_id) == erasing.member_id,
        )
    )
