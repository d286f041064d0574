"""Drawing a digest: what every feature says is new (the ``digest.sections`` hook), put in one
message under a headline, with the meeting's frame (its topic first, its RSVP buttons last).

A subscriber answers with a list of blocks (news) or with a `DigestFrame` (what frames the
digest: shown only around news, never a reason to post). So a meeting whose topic and RSVP
buttons are all there is to say gets no digest: "nothing is posted when there is nothing new".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import col

from bot.context import Context
from bot.hooks import DigestFrame, DigestSections
from bot.i18n import Translator
from bot.ui import Actions, Block, Divider, Fields, Message, Section, plain
from bot.ui import Context as Small
from storage.digest import Digest
from storage.meetings import Meeting, MeetingSeries
from storage.models import Community

NEWS_TYPES = (Section, Small, Fields, Actions, Divider)


@dataclass
class Drawn:
    """One digest's blocks: the frame's head and foot, and the news between them."""

    head: list[Block] = field(default_factory=list)
    news: list[Block] = field(default_factory=list)
    foot: list[Block] = field(default_factory=list)


async def since_for(ctx: Context, community: Community) -> datetime:
    """Where the next digest of `community` starts: the end of what its last digest covered;
    before its first digest, the end of its last meeting; before any, when it was set up."""
    last = await ctx.session.scalar(
        select(func.max(col(Digest.until))).where(col(Digest.community_id) == community.id)
    )
    if last is not None:
        return last
    meetings = await ctx.session.execute(
        select(Meeting)
        .where(
            col(Meeting.community_id) == community.id,
            col(Meeting.status) == "scheduled",
            col(Meeting.starts_at) <= ctx.now,
        )
        .order_by(col(Meeting.starts_at).desc())
        .limit(5)
    )
    ends = [
        m.starts_at + timedelta(minutes=m.duration_minutes)
        for m in meetings.scalars()
        if m.starts_at + timedelta(minutes=m.duration_minutes) <= ctx.now
    ]
    return max(ends) if ends else community.created_at


async def draw(
    ctx: Context,
    community: Community,
    meeting_id: int | None,
    since: datetime,
    until: datetime,
    language: str,
    private_to: int | None = None,
) -> Drawn:
    """Ask every feature what is new in `community` between `since` and `until`."""
    asked = DigestSections(community.id, meeting_id, since, until, language, private_to)
    out = Drawn()
    for answer in await ctx.emit("digest.sections", asked):
        for item in answer if isinstance(answer, list | tuple) else [answer]:
            if isinstance(item, DigestFrame):
                out.head += item.head
                out.foot += item.foot
            elif isinstance(item, NEWS_TYPES):
                out.news.append(item)
    return out


def headline(
    t: Translator,
    community: Community,
    meeting: Meeting | None,
    series: MeetingSeries | None,
    *,
    late: bool = False,
) -> Section:
    if meeting is None or series is None:
        return Section.of(t("digest.headline_none", community=community.name))
    return Section(
        parts=t.parts(
            "digest.headline_late" if late else "digest.headline",
            community=community.name,
            title=series.title,
            when=t.moment(meeting.starts_at, series.tz),
        )
    )


def digest_message(
    t: Translator,
    community: Community,
    drawn: Drawn,
    since: datetime,
    meeting: Meeting | None,
    series: MeetingSeries | None,
    *,
    late: bool = False,
) -> Message:
    """The digest post: headline, the frame's head, the news, since when, the frame's foot.
    `late`: it goes out well after its planned time, and the headline says so."""
    head = headline(t, community, meeting, series, late=late)
    zone = series.tz if series is not None else community.timezone
    since_note = Small(parts=t.parts("digest.since", when=t.moment(since, zone)))
    blocks: list[Block] = [head, *drawn.head, *drawn.news, since_note, *drawn.foot]
    return Message(text=plain(head.parts), blocks=blocks)
