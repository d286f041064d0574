"""The network report: each community's figures for a period, and the network's total.

Computed here from the storage tables, not from the per-community reports feature (features
never import each other): meetings held (not cancelled, started inside the period and before
now), attendances and professional-development hours (the minutes each recorded attendance
counts, partial ones included), polls opened in the period and the ballots in them, and
check-in rounds that opened in the period and have closed (members asked, members who
answered: counts only, never what anyone wrote).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from sqlalchemy import func, select
from sqlmodel import col

from bot.context import Context, UserError
from bot.events import Reply, Respond
from bot.features.networks.access import communities_of, require_coordinator
from bot.text import in_range
from bot.ui import Message, Section
from storage.meetings import Meeting, MeetingAttendance
from storage.reflections import CheckinRound, RoundStatus
from storage.voting import Ballot, Poll

log = logging.getLogger(__name__)

DEFAULT_DAYS = 365  # without `since`, the report covers the year up to `until`
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass
class Figures:
    """One community's (or the network's) counts for the period."""

    meetings: int = 0
    attendances: int = 0
    minutes: int = 0
    polls: int = 0
    ballots: int = 0
    asked: int = 0
    answered: int = 0

    def add(self, other: Figures) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def _day(ctx: Context, name: str) -> date | None:
    raw = ctx.params.get(name)
    if raw is None:
        return None
    try:
        day = date.fromisoformat(raw) if _DATE.fullmatch(raw) else None
    except ValueError:
        day = None
    if day is None or not in_range(day):
        raise UserError(ctx.t("network.refuse.bad_date", value=raw[:40]))
    return day


def period(ctx: Context, zone: str) -> tuple[date, date, datetime, datetime]:
    """The days asked for (``until`` inclusive) and the instants they span in `zone`."""
    tz = ZoneInfo(zone)
    last = _day(ctx, "until") or ctx.now.astimezone(tz).date()
    first = _day(ctx, "since") or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise UserError(ctx.t("network.refuse.dates_order", start=first, end=last))
    start = datetime.combine(first, time(), tz)
    end = datetime.combine(last + timedelta(days=1), time(), tz)
    return first, last, start, end


async def figures(
    ctx: Context, community_ids: list[int], start: datetime, end: datetime
) -> dict[int, Figures]:
    """Each community's figures between `start` and `end` (and not after now)."""
    out = {cid: Figures() for cid in community_ids}
    held = (
        col(Meeting.community_id).in_(community_ids),
        col(Meeting.status) != "cancelled",
        col(Meeting.starts_at) >= start,
        col(Meeting.starts_at) < min(end, ctx.now),
    )
    for cid, count in await ctx.session.execute(
        select(col(Meeting.community_id), func.count())
        .where(*held)
        .group_by(col(Meeting.community_id))
    ):
        out[cid].meetings = count
    attended = await ctx.session.execute(
        select(
            col(Meeting.community_id),
            func.count(),
            func.coalesce(func.sum(col(MeetingAttendance.minutes)), 0),
        )
        .select_from(MeetingAttendance)
        .join(Meeting, col(Meeting.id) == col(MeetingAttendance.meeting_id))
        .where(*held)
        .group_by(col(Meeting.community_id))
    )
    for cid, count, minutes in attended:
        out[cid].attendances, out[cid].minutes = count, int(minutes)
    opened = (
        col(Poll.community_id).in_(community_ids),
        col(Poll.created_at) >= start,
        col(Poll.created_at) < end,
    )
    for cid, count in await ctx.session.execute(
        select(col(Poll.community_id), func.count()).where(*opened).group_by(col(Poll.community_id))
    ):
        out[cid].polls = count
    for cid, count in await ctx.session.execute(
        select(col(Poll.community_id), func.count())
        .select_from(Ballot)
        .join(Poll, col(Poll.id) == col(Ballot.poll_id))
        .where(*opened)
        .group_by(col(Poll.community_id))
    ):
        out[cid].ballots = count
    for cid, asked, answered in await ctx.session.execute(
        select(
            col(CheckinRound.community_id),
            func.coalesce(func.sum(col(CheckinRound.asked)), 0),
            func.coalesce(func.sum(col(CheckinRound.answered)), 0),
        )
        .where(
            col(CheckinRound.community_id).in_(community_ids),
            col(CheckinRound.status) == RoundStatus.CLOSED,
            col(CheckinRound.opens_at) >= start,
            col(CheckinRound.opens_at) < end,
        )
        .group_by(col(CheckinRound.community_id))
    ):
        out[cid].asked, out[cid].answered = int(asked), int(answered)
    return out


def _values(ctx: Context, f: Figures) -> dict[str, object]:
    hours = format_decimal(f.minutes / 60, format="#,##0.##", locale=ctx.t.lang)
    return {
        "meetings": f.meetings,
        "attendances": f.attendances,
        "hours": hours,
        "polls": f.polls,
        "ballots": f.ballots,
        "asked": f.asked,
        "answered": f.answered,
    }


async def report(ctx: Context) -> Reply:
    network = await require_coordinator(ctx)
    community = ctx.require_community()
    first, last, start, end = period(ctx, community.timezone)
    communities = await communities_of(ctx.session, network.id)
    found = await figures(ctx, [c.id for c in communities], start, end)
    total = Figures()
    lines = [
        ctx.t(
            "network.report_head",
            network=network.name,
            start=first.isoformat(),
            end=last.isoformat(),
        )
    ]
    for c in communities:
        total.add(found[c.id])
        lines.append(ctx.t("network.report_row", community=c.name, **_values(ctx, found[c.id])))
    lines.append(ctx.t.n("network.report_total", len(communities), **_values(ctx, total)))
    log.info("network %s: report for %d communities", network.id, len(communities))
    text = "\n".join(lines)
    return Respond(Message(text=text, blocks=[Section.of(text)]))
