"""Ending a series: ``/cop meeting end-series S [after=DATE]``, confirmed with a button.

The command only shows what would go (the meetings after the end, with their numbers) and a
button; "End the series" does it, in one transaction: the series gets its end
(`MeetingSeries.until`, so no occurrence after it is ever materialised and its calendar file
gets an UNTIL), each meeting after it is cancelled with its jobs removed, its unsent reminders
dropped, its live card turned into a cancellation and its native platform event cancelled.
Past meetings, their answers and attendance stay. A series none of whose meetings has happened
yet is deleted (`deleted_at`): it no longer shows or answers to its number.

Meeting rows are cancelled, never deleted: SQLite reuses the highest rowid of a deleted row,
and outbox keys (``event:{id}``, ``reminder:{id}:...``) are built from ids, so a reused id would
update another meeting's platform event or find its reminders "already sent".

The channel is told once; members who answered going or maybe for a removed meeting get one
DM naming all of them (whether or not the series DMs reminders, as for a single cancel).
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from bot.commands import Role
from bot.context import Context, UserError, channel_of, require
from bot.events import Reply, Respond
from bot.features.meetings.core import (
    answered,
    drop_pending_reminders,
    parse_end_day,
    plan_meeting,
    plan_series,
    series_meetings,
)
from bot.features.meetings.find import find_series, friendly, refresh_card
from bot.hooks import MeetingsChanged
from bot.i18n import Translator
from bot.languages import fan_out_each
from bot.ui import ActionId, Actions, Button, Message, Section
from storage.meetings import Meeting, MeetingSeries
from storage.models import Member

log = logging.getLogger(__name__)

NOW = "now"  # the button's end argument when the series ends at the press


def _day_words(t: Translator, day: date) -> str:
    return t.day(day)


def _numbers(meetings: list[Meeting]) -> str:
    return ", ".join(f"#{m.number}" for m in meetings)


def _after(meetings: list[Meeting], until: datetime) -> list[Meeting]:
    """The meetings an end at `until` removes: scheduled, not started, starting at or after it."""
    return [
        m
        for m in meetings
        if m.status == "scheduled" and not m.started and not m.ended and m.starts_at >= until
    ]


def _check_open(ctx: Context, series: MeetingSeries, until: datetime) -> None:
    if series.deleted_at is not None or (series.until is not None and series.until <= ctx.now):
        raise UserError(
            ctx.t("meetings.series_ended_already", id=series.number, title=series.title)
        )
    if series.until is not None and series.until <= until:
        raise UserError(ctx.t("meetings.series_ends_already", id=series.number, title=series.title))


# (summary, ends on a given day) -> its sentence when meetings are cancelled, and when none is.
_SUMMARIES = {
    ("meetings.end_preview", True): (
        "meetings.end_preview_after",
        "meetings.end_preview_after_none",
    ),
    ("meetings.end_preview", False): ("meetings.end_preview_now", "meetings.end_preview_now_none"),
    ("meetings.end_notice", True): ("meetings.end_notice_after", "meetings.end_notice_after_none"),
    ("meetings.end_notice", False): ("meetings.end_notice_now", "meetings.end_notice_now_none"),
    ("meetings.end_deleted", True): ("meetings.end_deleted", "meetings.end_deleted_none"),
    ("meetings.end_deleted", False): ("meetings.end_deleted", "meetings.end_deleted_none"),
}


def _summary(
    t: Translator, key: str, series: MeetingSeries, day: date | None, gone: list[Meeting]
) -> str:
    """``"The series “X” ends after 30 June 2027: 3 meetings are cancelled (#5, #6, #7)."``"""
    values = {"id": series.number, "title": series.title, "day": _day_words(t, day) if day else ""}
    some, none = _SUMMARIES[(key, day is not None)]
    if not gone:
        return t(none, **values)
    return t.n(some, len(gone), numbers=_numbers(gone), **values)


def _deletes(everything: list[Meeting], gone: list[Meeting]) -> bool:
    """Whether ending removes every meeting the series ever had (none has happened)."""
    return all(m in gone or m.status == "cancelled" and not m.started for m in everything)


@friendly
async def end_series(ctx: Context) -> Reply:
    """Show what ending the series would remove, with the button that does it."""
    series = await find_series(ctx, ctx.params["series"])
    day, until = None, ctx.now
    if "after" in ctx.params:
        day, until = parse_end_day(ctx.params["after"], series.tz, ctx.now)
    _check_open(ctx, series, until)
    everything = await series_meetings(ctx.session, series.id)
    gone = _after(everything, until)
    deleting = _deletes(everything, gone)
    text = _summary(ctx.t, "meetings.end_preview", series, day, gone)
    text += ctx.t("meetings.end_preview_deletes" if deleting else "meetings.end_preview_keeps")
    end = ActionId("series", "end", series.id, day.strftime("%Y%m%d") if day else NOW)
    # No "keep" button: not pressing this one keeps the series.
    buttons = Actions(
        elements=[Button(action=end, label=ctx.t("meetings.end_button"), style="danger")]
    )
    return Respond(Message(text=text, blocks=[Section.of(text), buttons]))


async def _series_from_button(ctx: Context) -> MeetingSeries:
    series = await ctx.session.get(MeetingSeries, ctx.action.int_arg(0))
    if series is None:
        raise UserError(ctx.t("core.refuse.stale_button"))
    await ctx.enter(series.community_id)  # the button's community, never the channel's
    require(ctx, Role.FACILITATOR)
    return series


@friendly
async def end_pressed(ctx: Context) -> Reply:
    """End the series as the preview showed (recomputed now: answers may have come in)."""
    series = await _series_from_button(ctx)
    community = ctx.require_community()
    args = ctx.action.args
    day, until = None, ctx.now
    if len(args) > 1 and args[1] != NOW:
        raw = args[1]
        day, until = parse_end_day(f"{raw[:4]}-{raw[4:6]}-{raw[6:8]}", series.tz, ctx.now)
    _check_open(ctx, series, until)
    everything = await series_meetings(ctx.session, series.id)
    gone = _after(everything, until)
    deleting = _deletes(everything, gone)
    told: dict[int, Member] = {}
    for meeting in gone:
        for member in await answered(ctx.session, meeting.id):
            told.setdefault(member.id, member)
        meeting.status = "cancelled"
        ctx.session.add(meeting)
        await plan_meeting(
            ctx.session,
            ctx.schedule,
            meeting,
            series,
            ctx.now,
            mirror=(ctx.services.outbox, community),
        )
        await drop_pending_reminders(ctx.session, meeting)
        await refresh_card(ctx, meeting, series, "cancelled")
    series.until = until
    series.sequence += 1
    if deleting:
        series.deleted_at = ctx.now
    ctx.session.add(series)
    await ctx.session.flush()
    await plan_series(ctx.session, ctx.schedule, series, ctx.now)
    key = "meetings.end_deleted" if deleting else "meetings.end_notice"
    notice = _summary(ctx.t, key, series, day, gone)

    def compose(t: Translator) -> Message:
        text = _summary(t, key, series, day, gone)
        return Message(text=text, blocks=[Section.of(text)])

    outbox_key = f"meeting-series:{series.id}:end:{series.sequence}"
    await ctx.outbox.enqueue(
        key=outbox_key,
        to=channel_of(community),
        message=compose(ctx.t_channel),
        community_id=community.id,
    )
    # The DMs: each in the member's own language.
    await fan_out_each(
        ctx, key=outbox_key, community=community, members=told.values(), compose=compose
    )
    await ctx.emit("meetings.changed", MeetingsChanged(community.id or 0))
    log.info(
        "series %s ended (%s), meetings %s cancelled",
        series.id,
        "deleted" if deleting else until.isoformat(),
        [m.id for m in gone],
    )
    return Respond(Message(text=notice + ctx.t.n("meetings.end_done_told", len(told))))
