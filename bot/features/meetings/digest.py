"""The meetings part of the digest before a meeting (the ``digest.sections`` hook): its topic
and the RSVP buttons as the digest's frame (`bot.hooks.DigestFrame`: shown around news, never
news by itself), and who is sharing, leading, taking notes or hosting (`roles`) as news.

The buttons are the meeting card's own (``rsvp:going:<meeting id>``...), so a press in the
digest records the answer and refreshes the card like a press on the card does.
"""

from __future__ import annotations

from bot.context import Context
from bot.features.meetings import roles
from bot.features.meetings.render import rsvp_buttons
from bot.hooks import DigestFrame, DigestSections
from bot.i18n import translator
from bot.ui import Block, Section
from storage.meetings import Meeting


async def digest_sections(ctx: Context, asked: DigestSections) -> list[Block | DigestFrame]:
    if asked.meeting_id is None:
        return []
    meeting = await ctx.session.get(Meeting, asked.meeting_id)
    if (
        meeting is None
        or meeting.community_id != asked.community_id
        or meeting.status != "scheduled"
    ):
        return []
    t = translator(asked.language)
    head: list[Block] = []
    if meeting.topic:
        head.append(Section.of(t("digest.meeting.topic", topic=meeting.topic)))
    frame = DigestFrame(head=head, foot=[rsvp_buttons(t, meeting.id)])
    return [frame, *await roles.digest_section(ctx, asked)]
