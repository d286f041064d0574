"""Resources where the group meets them: under the "Sharing" segment of a meeting's agenda
(the ``agenda.sections`` hook) and in the digest before a meeting (``digest.sections``).

The agenda shows what is attached to that meeting. The digest shows what was added since the
last one and what is attached to the meeting it leads up to (each resource once, under the
meeting when it is both), and nothing at all when there is neither, so a quiet community's
digest is not posted on our account. Nothing here is anyone's private data: `private_to` of a
digest asked by DM changes nothing.
"""

from __future__ import annotations

import logging

from bot.context import Context
from bot.features.resources.queries import attached_to, live
from bot.features.resources.render import DIGEST_MAX, lines_block
from bot.hooks import AgendaSections, DigestSections
from bot.i18n import translator
from bot.ui import Context as Small
from bot.ui import Section

log = logging.getLogger(__name__)

#: The default CoP segment the attached resources are shown under (see docs/decisions.md).
AGENDA_SEGMENT = "sharing"


async def agenda_section(ctx: Context, asked: AgendaSections) -> list[Section | Small] | None:
    """The resources attached to the meeting, under "Sharing"."""
    if asked.segment != AGENDA_SEGMENT:
        return None
    items = await attached_to(ctx.session, asked.community_id, asked.meeting_id)
    if not items:
        return None
    t = translator(asked.language)
    return lines_block(t, t("resources.agenda_title"), items, bullet=True)


async def digest_section(ctx: Context, asked: DigestSections) -> list[Section | Small]:
    """New resources since `asked.since`, and those attached to the coming meeting."""
    t = translator(asked.language)
    attached = []
    if asked.meeting_id is not None:
        attached = await attached_to(ctx.session, asked.community_id, asked.meeting_id)
    shown = {a.resource.id for a in attached}
    new = [
        item
        for item in await live(
            ctx.session, asked.community_id, since=asked.since, until=asked.until
        )
        if item.resource.id not in shown
    ]
    blocks: list[Section | Small] = []
    if new:
        blocks += lines_block(
            t, t("resources.digest_new", count=len(new)), new, DIGEST_MAX, bullet=True
        )
    if attached:
        blocks += lines_block(t, t("resources.digest_meeting"), attached, DIGEST_MAX, bullet=True)
    log.debug(
        "community %s: digest resources, %s new, %s attached",
        asked.community_id,
        len(new),
        len(attached),
    )
    return blocks
