"""The ``digest.sections`` hook: the prompts posted in the channel since the last digest."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from bot.context import Context
from bot.hooks import DigestSections
from bot.i18n import translator
from bot.ui import Block, Section, Time
from storage.conversation import PromptPost
from storage.models import Community

MAX_SHOWN = 10


async def digest_section(ctx: Context, asked: DigestSections) -> list[Block]:
    """A title and one line per prompt posted in (since, until], oldest first (the last ten);
    [] if none. Prompts are posted in the channel, so `private_to` changes nothing."""
    rows = list(
        (
            await ctx.session.execute(
                select(PromptPost)
                .where(
                    col(PromptPost.community_id) == asked.community_id,
                    col(PromptPost.posted_at) > asked.since,
                    col(PromptPost.posted_at) <= asked.until,
                )
                .order_by(col(PromptPost.posted_at), col(PromptPost.id))
            )
        ).scalars()
    )
    if not rows:
        return []
    community = await ctx.session.get(Community, asked.community_id)
    zone = community.timezone if community is not None else "UTC"
    t = translator(asked.language)
    blocks: list[Block] = [Section.of(t("conversation.digest_title"))]
    for row in rows[-MAX_SHOWN:]:
        blocks.append(
            Section.of(
                t("conversation.digest_line", text=row.text),
                " ",
                Time(at=row.posted_at, style="date", zone=zone),
            )
        )
    return blocks
