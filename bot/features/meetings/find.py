"""Helpers shared by the meetings command modules: refusals, finding rows, the live card.

Every lookup is scoped by the current community; a button's meeting id is resolved through
`meeting_from_button`, which enters the meeting's own community (never the channel's).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import col

from bot.commands import Role
from bot.context import Context, UserError, require
from bot.events import Reply, Respond
from bot.features.meetings.core import InputError, items, segment_key
from bot.features.meetings.render import Extras, card, when
from bot.hooks import AgendaSections
from bot.i18n import Translator, translator
from bot.schedule import Schedule, ScheduleError
from bot.text import parse_id
from bot.ui import Context as Small
from bot.ui import Inline, Message, Section, plain
from storage.meetings import Meeting, MeetingSeries
from storage.models import Community

log = logging.getLogger(__name__)

Handler = Callable[[Context], Awaitable[Reply]]


def friendly(handler: Handler) -> Handler:
    """Turn input and schedule errors into one private sentence in the community's language."""

    @functools.wraps(handler)
    async def wrapped(ctx: Context) -> Reply:
        try:
            return await handler(ctx)
        except InputError as err:
            raise UserError(ctx.t(f"meetings.{err.key}", **err.values)) from None
        except ScheduleError as err:
            raise UserError(ctx.t(err.key, **err.values)) from None

    return wrapped


def respond(parts: list[Inline], *more: Section | Small, private: bool = True) -> Respond:
    blocks = [Section(parts=parts), *more]
    text = "\n".join(plain(b.parts) for b in blocks)
    return Respond(Message(text=text, blocks=blocks), private=private)


# -- finding rows -----------------------------------------------------------------------------


async def find_meeting(ctx: Context, raw: str | None, default: str = "next") -> Meeting:
    """A meeting of this community by its number (``3``, ``#3``), ``next`` (not started) or
    ``last`` (started). Numbers are per community: another community's #3 is never found."""
    community = ctx.require_community()
    ref = (raw or default).strip().lstrip("#").lower()
    base = select(Meeting).where(
        col(Meeting.community_id) == community.id, col(Meeting.status) == "scheduled"
    )
    if ref == "next":
        query = base.where(col(Meeting.starts_at) > ctx.now).order_by(col(Meeting.starts_at))
        meeting = (await ctx.session.execute(query.limit(1))).scalar_one_or_none()
        if meeting is None:
            raise UserError(ctx.t("meetings.no_next"))
        return meeting
    if ref == "last":
        query = base.where(col(Meeting.starts_at) <= ctx.now).order_by(
            col(Meeting.starts_at).desc()
        )
        meeting = (await ctx.session.execute(query.limit(1))).scalar_one_or_none()
        if meeting is None:
            raise UserError(ctx.t("meetings.no_past"))
        return meeting
    number = parse_id(ref)
    meeting = (
        await ctx.session.execute(
            select(Meeting).where(
                col(Meeting.community_id) == community.id, col(Meeting.number) == number
            )
        )
    ).scalar_one_or_none()
    if number is None or meeting is None:
        raise UserError(ctx.t("meetings.not_found", ref=(raw or "")[:20]))
    return meeting


async def find_series(ctx: Context, raw: str | None) -> MeetingSeries:
    community = ctx.require_community()
    if raw:
        ref = raw.strip().lstrip("#")
        number = parse_id(ref)
        series = (
            await ctx.session.execute(
                select(MeetingSeries).where(
                    col(MeetingSeries.community_id) == community.id,
                    col(MeetingSeries.number) == number,
                )
            )
        ).scalar_one_or_none()
        # A deleted series (ended before its first meeting) is gone for members.
        if series is None or series.community_id != community.id or series.deleted_at:
            raise UserError(ctx.t("meetings.series_not_found", ref=raw[:20]))
        return series
    all_series = list(
        (
            await ctx.session.execute(
                select(MeetingSeries)
                .where(
                    col(MeetingSeries.community_id) == community.id,
                    col(MeetingSeries.deleted_at).is_(None),
                )
                .order_by(col(MeetingSeries.number))
            )
        ).scalars()
    )
    if not all_series:
        raise UserError(ctx.t("meetings.no_series"))
    if len(all_series) > 1:
        raise UserError(
            ctx.t("meetings.series_which", ids=", ".join(str(s.number) for s in all_series))
        )
    return all_series[0]


async def series_of_meeting(ctx: Context, meeting: Meeting) -> MeetingSeries:
    series = await ctx.session.get(MeetingSeries, meeting.series_id)
    assert series is not None
    return series


def upcoming_parts(meetings: list[Meeting], series: MeetingSeries) -> list[Inline]:
    parts: list[Inline] = []
    for i, m in enumerate(meetings):
        parts.extend([", " if i else "", f"#{m.number} ", when(m, series)])
    return [p for p in parts if p != ""] + ["."]


def in_schedule(schedule: Schedule, instant: datetime) -> bool:
    return schedule.between(instant, instant + timedelta(microseconds=1)) == [instant]


async def agenda_extras(ctx: Context, meeting: Meeting, t: Translator) -> Extras:
    """What other features show under the meeting's CoP segments, asked through the
    ``agenda.sections`` hook (the agreements under "Welcome and agreements", for one).

    A segment counts as a CoP one when it reads as a default segment in `t`'s language or
    the community's; one the facilitator wrote in their own words gets nothing added.
    """
    assert meeting.id is not None
    community = await ctx.session.get(Community, meeting.community_id)
    languages = [t] if community is None else [t, translator(community.language)]
    out: dict[int, list[Section | Small]] = {}
    for i, text in enumerate(items(meeting.segments)):
        key = segment_key(text, *languages)
        if key is None:
            continue
        asked = AgendaSections(meeting.community_id, meeting.id, key, t.lang)
        blocks = [
            block
            for answer in await ctx.emit("agenda.sections", asked)
            for block in answer
            if isinstance(block, Section | Small)
        ]
        if blocks:
            out[i] = blocks
    return out


async def refresh_card(
    ctx: Context, meeting: Meeting, series: MeetingSeries, kind: str | None = None
) -> None:
    """Edit the latest posted card of the meeting in place (counts, agenda, time, cancelled)."""
    if not meeting.card_key:
        return
    community = ctx.require_community()
    kind = kind or meeting.card_kind or "announce"
    t = ctx.t_channel  # the card is a channel post
    extras = await agenda_extras(ctx, meeting, t) if kind != "cancelled" else None
    await ctx.outbox.enqueue_edit(
        edit_of=meeting.card_key,
        platform=community.platform,
        workspace_id=community.workspace_id,
        message=await card(ctx.session, t, meeting, series, kind, extras),
        community_id=community.id,
    )


async def meeting_from_button(ctx: Context) -> Meeting:
    meeting = await ctx.session.get(Meeting, ctx.action.int_arg(0))
    if meeting is None:
        raise UserError(ctx.t("core.refuse.stale_button"))
    await ctx.enter(meeting.community_id)  # the button's community, never the channel's
    require(ctx, Role.MEMBER)
    return meeting
