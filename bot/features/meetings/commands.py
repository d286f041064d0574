"""Meetings: DST-correct series, agendas, RSVP, reminders, attendance and calendar files.

A facilitator creates a series from a schedule written the way people say it (see
`bot.schedule`); the next occurrences are materialised with a default CoP agenda;
members are reminded at the series' offsets in the community channel (and by DM if they
answered going or maybe) and answer with buttons; hooks ``meeting.start`` and ``meeting.end``
fire for the agreements and reflections features. Commands::

    /cop meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP" duration=90
    /cop meeting list | agenda [N] | cancel N | move N 2026-12-08 18:30 | edit [S] key=value...
    /cop meeting ics [N] [series=S] | attended [N] [@users] | attendance [N]
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import func, select
from sqlmodel import col

from bot import hosting
from bot.across import each_community
from bot.commands import Command, Param, Role
from bot.context import Context, UserError, channel_of, check_zone
from bot.events import Reply, Respond
from bot.features.meetings import roles
from bot.features.meetings.core import (
    ANSWERS,
    DEFAULT_REMINDERS,
    MAX_LOCATION,
    MAX_REASON,
    MAX_TITLE,
    MAX_TOPIC,
    InputError,
    check_link,
    check_reason,
    check_text,
    counts,
    drop_pending_reminders,
    items,
    materialise,
    next_number,
    notify_answered,
    offset_iso,
    parse_minutes,
    parse_offsets,
    parse_when,
    plan_meeting,
    plan_series,
    reminders_words,
    reset_answers,
    schedule_of,
    series_meetings,
    series_segments,
    split_items,
)
from bot.features.meetings.ending import end_series
from bot.features.meetings.find import (
    agenda_extras,
    find_meeting,
    find_series,
    friendly,
    refresh_card,
    respond,
    series_of_meeting,
    upcoming_parts,
)
from bot.features.meetings.members import attendance, attended, ics
from bot.features.meetings.render import agenda_sections, card, rsvp_buttons, when
from bot.hooks import MeetingsChanged
from bot.i18n import Translator
from bot.languages import fan_out_each
from bot.schedule import Schedule, parse_schedule
from bot.ui import Block, Inline, Message, Section, Time, plain
from storage.meetings import Meeting, MeetingAttendance, MeetingSeries
from storage.models import Member

log = logging.getLogger(__name__)

MAX_SEGMENT = 100  # one agenda segment, as typed
LIST_LIMIT = 12  # meetings shown by /cop meeting list (either way)


# -- series -----------------------------------------------------------------------------------


class _SeriesValues(TypedDict, total=False):
    """The series fields a command sets, and the parsed schedule (not a field) under `_schedule`."""

    tz: str
    schedule: str
    _schedule: Schedule
    title: str
    duration_minutes: int
    link: str | None
    location: str | None
    reminders: str
    dm_reminders: bool
    segments: str | None
    objectives: str | None


NONE_WORDS = ("none", "-")
DEFAULT_WORD = "default"


def _series_agenda(p: dict[str, str], out: _SeriesValues) -> None:
    """``segments=`` / ``objectives=`` of a series: a ; list, ``none`` (a one-off event without
    CoP segments) or ``default`` (segments: the CoP ones again)."""
    if "segments" in p:
        word = p["segments"].strip().lower()
        if word == DEFAULT_WORD:
            out["segments"] = None
        elif word in NONE_WORDS:
            out["segments"] = "[]"
        else:
            segments = split_items(p["segments"], "segments", MAX_SEGMENT)
            out["segments"] = json.dumps(segments) if segments else "[]"
    if "objectives" in p:
        word = p["objectives"].strip().lower()
        if word in (*NONE_WORDS, DEFAULT_WORD):
            out["objectives"] = None
        else:
            objectives = split_items(p["objectives"], "objectives")
            out["objectives"] = json.dumps(objectives) if objectives else None


def _series_values(ctx: Context, series: MeetingSeries | None) -> _SeriesValues:
    """Validated series fields from the command's parameters (only those given when editing)."""
    p, out = ctx.params, _SeriesValues()
    community = ctx.require_community()
    zone = (
        check_zone(ctx.t, p["zone"])
        if "zone" in p
        else (series.tz if series else community.timezone)
    )
    if "zone" in p:
        out["tz"] = zone
    if "schedule" in p or "zone" in p:
        text = " ".join((p.get("schedule") or (series.schedule if series else "")).split())
        schedule = parse_schedule(text, zone)
        if not schedule.occurrences(ctx.now, 1):
            raise InputError("no_upcoming")
        out["schedule"] = text
        out["_schedule"] = schedule
    if "title" in p:
        out["title"] = check_text(p["title"], "title", MAX_TITLE)
    if "duration" in p:
        out["duration_minutes"] = parse_minutes(p["duration"])
    if "link" in p:
        out["link"] = None if p["link"].lower() in ("-", "none") else check_link(p["link"])
    if "location" in p:
        location = check_text(p["location"], "location", MAX_LOCATION)
        out["location"] = None if location.lower() in ("-", "none") else location
    if "reminders" in p:
        out["reminders"] = " ".join(offset_iso(o) for o in parse_offsets(p["reminders"]))
    if "dm" in p:
        out["dm_reminders"] = p["dm"] == "yes"
    _series_agenda(p, out)
    return out


@friendly
async def series_create(ctx: Context) -> Reply:
    community = ctx.require_community()
    now = ctx.now
    values = _series_values(ctx, None)
    schedule: Schedule = values.pop("_schedule")
    series = MeetingSeries(
        community_id=community.id,
        number=await next_number(ctx.session, MeetingSeries, community.id),
        title=values.get("title")
        or ctx.t("meetings.default_title", community=community.name)[:MAX_TITLE],
        schedule=values["schedule"],
        tz=schedule.tz,
        duration_minutes=values.get("duration_minutes", 60),
        location=values.get("location"),
        link=values.get("link"),
        reminders=values["reminders"]
        if "reminders" in values
        else " ".join(offset_iso(o) for o in parse_offsets(DEFAULT_REMINDERS)),
        dm_reminders=values.get("dm_reminders", False),
        segments=values.get("segments"),
        objectives=values.get("objectives"),
        first_start=schedule.occurrences(now, 1)[0],
        created_by=ctx.actor.user.user_id,
        created_at=now,
    )
    ctx.session.add(series)
    await ctx.session.flush()
    # Meetings, their default agenda and their card are the community's: in its language.
    channel_t = ctx.t_channel
    await materialise(ctx.session, series, community, channel_t, now)
    await plan_series(
        ctx.session, ctx.schedule, series, now, mirror=(ctx.services.outbox, community)
    )
    upcoming = [m for m in await series_meetings(ctx.session, series.id) if m.starts_at > now]
    first = upcoming[0]
    key = f"meeting:{first.id}:announce"
    await ctx.outbox.enqueue(
        key=key,
        to=channel_of(community),
        message=await card(
            ctx.session,
            channel_t,
            first,
            series,
            "announce",
            await agenda_extras(ctx, first, channel_t),
        ),
        community_id=community.id,
    )
    first.card_key, first.card_kind = key, "announce"
    ctx.session.add(first)
    log.info("series %s created in community %s", series.id, community.id)
    await ctx.emit("meetings.changed", MeetingsChanged(community.id))
    return respond(
        [
            _series_summary(ctx, "meetings.series_created", series, schedule),
            *upcoming_parts(upcoming, series),
        ]
    )


def _series_summary(ctx: Context, key: str, series: MeetingSeries, schedule: Schedule) -> str:
    return ctx.t(
        key,
        id=series.number,
        title=series.title,
        schedule=schedule.describe(ctx.t),
        minutes=series.duration_minutes,
        reminders=reminders_words(ctx.t, series),
        dm=ctx.t("meetings.dm_on") if series.dm_reminders else "",
    )


async def _repair(
    ctx: Context, series: MeetingSeries, schedule: Schedule
) -> tuple[list[tuple[Meeting, datetime]], list[Meeting]]:
    """Re-time future untouched meetings onto the new schedule, keeping agendas and answers.

    Returns (moved meeting, old start) pairs and meetings that no longer have an occurrence.
    """
    now = ctx.now
    everything = await series_meetings(ctx.session, series.id)
    future = [
        m
        for m in everything
        if m.starts_at > now
        and not m.started
        and m.status == "scheduled"
        and m.starts_at == m.occurrence_start
    ]
    kept = {m.occurrence_start for m in everything if m not in future}
    wanted = max(3, len(future))
    cands = [o for o in schedule.occurrences(now, wanted + len(kept)) if o not in kept][:wanted]
    held = {m.occurrence_start for m in future}
    free_rows = [m for m in future if m.occurrence_start not in set(cands)]
    free_cands = [c for c in cands if c not in held]
    moved = []
    for meeting, start in zip(free_rows, free_cands, strict=False):
        moved.append((meeting, meeting.starts_at))
        meeting.occurrence_start = meeting.starts_at = start
        meeting.revision += 1
        meeting.timing_set_at = now
        ctx.session.add(meeting)
    dropped = free_rows[len(free_cands) :]
    for meeting in dropped:
        meeting.status = "cancelled"
        ctx.session.add(meeting)
    series.first_start = cands[0] if cands else schedule.occurrences(now, 1)[0]
    await ctx.session.flush()
    return moved, dropped


async def _carry_agenda(ctx: Context, series: MeetingSeries, old: tuple[str, str]) -> None:
    """Give the series' new segments / objectives to its future meetings that still had the
    series' old ones; a meeting whose agenda was set on its own (``meeting agenda N``) keeps it."""
    segments, objectives = series_segments(series, ctx.t_channel), series.objectives or "[]"
    for m in await series_meetings(ctx.session, series.id):
        if m.started or m.starts_at <= ctx.now or m.status != "scheduled":
            continue
        changed = False
        if items(m.segments) == items(old[0]) and m.segments != segments:
            m.segments, changed = segments, True
        if items(m.objectives) == items(old[1]) and m.objectives != objectives:
            m.objectives, changed = objectives, True
        if changed:
            ctx.session.add(m)
            await refresh_card(ctx, m, series)


@friendly
async def series_edit(ctx: Context) -> Reply:
    community = ctx.require_community()
    now = ctx.now
    series = await find_series(ctx, ctx.params.get("series"))
    if not set(ctx.params) - {"series"}:
        raise UserError(ctx.t("meetings.nothing_to_edit"))
    values = _series_values(ctx, series)
    schedule: Schedule | None = values.pop("_schedule", None)
    old_offsets = series.reminders.split()
    old_agenda = (series_segments(series, ctx.t_channel), series.objectives or "[]")
    for name, value in values.items():
        setattr(series, name, value)
    series.sequence += 1
    ctx.session.add(series)
    moved: list[tuple[Meeting, datetime]] = []
    dropped: list[Meeting] = []
    if schedule is not None:
        moved, dropped = await _repair(ctx, series, schedule)
    if "duration_minutes" in values:
        for m in await series_meetings(ctx.session, series.id):
            if not m.started and m.starts_at > now:
                m.duration_minutes = series.duration_minutes
                ctx.session.add(m)
    if {"segments", "objectives"} & set(values):
        await _carry_agenda(ctx, series, old_agenda)
    await materialise(ctx.session, series, community, ctx.t_channel, now)
    await plan_series(
        ctx.session,
        ctx.schedule,
        series,
        now,
        old_offsets=old_offsets,
        mirror=(ctx.services.outbox, community),
    )
    for meeting, old_start in moved:
        await _tell_moved(ctx, meeting, series, old_start)
    for meeting in dropped:
        await _tell_cancelled(ctx, meeting, series)
    upcoming = [
        m
        for m in await series_meetings(ctx.session, series.id)
        if m.starts_at > now and m.status == "scheduled"
    ]
    shown = schedule or schedule_of(series)
    if set(values) - {"reminders", "dm_reminders", "segments", "objectives"} and upcoming:
        note = ctx.t_channel(
            "meetings.series_changed_note",
            title=series.title,
            schedule=shown.describe(ctx.t_channel),
            minutes=series.duration_minutes,
        )
        parts: list[Inline] = [note, when(upcoming[0], series), "."]
        await ctx.outbox.enqueue(
            key=f"meeting-series:{series.id}:edit:{series.sequence}",
            to=channel_of(community),
            message=Message(text=plain(parts), blocks=[Section(parts=parts)]),
            community_id=community.id,
        )
    log.info("series %s edited (%s)", series.id, ",".join(sorted(values)))
    await ctx.emit("meetings.changed", MeetingsChanged(series.community_id))
    return respond(
        [
            _series_summary(ctx, "meetings.series_edited", series, shown),
            *upcoming_parts(upcoming, series),
        ]
    )


# -- one meeting ------------------------------------------------------------------------------


def _reason_parts(t: Translator, reason: str | None) -> list[Inline]:
    return [t("meetings.reason_note", reason=reason)] if reason else []


async def _tell_cancelled(
    ctx: Context, meeting: Meeting, series: MeetingSeries, reason: str | None = None
) -> int:
    community = ctx.require_community()

    def compose(t: Translator) -> Message:
        parts: list[Inline] = [
            t("meetings.cancelled_notice", title=series.title),
            when(meeting, series),
            t("meetings.cancelled_notice_tail"),
            *_reason_parts(t, reason),
        ]
        return Message(text=plain(parts), blocks=[Section(parts=parts)])

    key = f"meeting:{meeting.id}:cancelled"
    await ctx.outbox.enqueue(
        key=key, to=channel_of(community), message=compose(ctx.t_channel), community_id=community.id
    )
    # The DMs: each in the member's own language.
    told = await notify_answered(ctx, ctx.session, community, meeting, key, compose)
    await refresh_card(ctx, meeting, series, "cancelled")
    return told


async def _tell_moved(
    ctx: Context,
    meeting: Meeting,
    series: MeetingSeries,
    old_start: datetime,
    *,
    reason: str | None = None,
    asked_again: list[Member] | None = None,
) -> int:
    """Tell the channel and those who answered; `asked_again`: whose answers the move reset,
    who get the RSVP buttons with the news."""
    community = ctx.require_community()

    def compose(t: Translator) -> Message:
        parts: list[Inline] = [
            t("meetings.moved_notice", title=series.title),
            Time(at=old_start, zone=series.tz),
            t("meetings.moved_notice_mid"),
            when(meeting, series),
            t("meetings.moved_notice_tail"),
            *_reason_parts(t, reason),
        ]
        blocks: list[Block] = [Section(parts=parts)]
        if asked_again is not None:
            blocks += [Section.of(t("meetings.moved_ask_again")), rsvp_buttons(t, meeting.id)]
        return Message(text=plain(parts), blocks=blocks)

    # The revision keeps a second move of the same meeting from being taken for this one.
    key = f"meeting:{meeting.id}:moved:{meeting.revision}"
    await ctx.outbox.enqueue(
        key=key, to=channel_of(community), message=compose(ctx.t_channel), community_id=community.id
    )
    # The DMs: each in the member's own language.
    if asked_again is not None:
        await fan_out_each(ctx, key=key, community=community, members=asked_again, compose=compose)
        told = len(asked_again)
    else:
        # Everyone who answered hears of a move: someone who couldn't come may be able to now.
        told = await notify_answered(ctx, ctx.session, community, meeting, key, compose, ANSWERS)
    await refresh_card(ctx, meeting, series)
    return told


def _changeable(ctx: Context, meeting: Meeting) -> None:
    if meeting.status == "cancelled":
        raise UserError(ctx.t("meetings.cancelled_already", id=meeting.number))
    if meeting.started or meeting.starts_at <= ctx.now:
        raise UserError(ctx.t("meetings.has_started", id=meeting.number))


@friendly
async def cancel(ctx: Context) -> Reply:
    meeting = await find_meeting(ctx, ctx.params["meeting"])
    _changeable(ctx, meeting)
    reason = check_reason(ctx.params.get("reason"))
    series = await series_of_meeting(ctx, meeting)
    meeting.status = "cancelled"
    meeting.reason = reason
    ctx.session.add(meeting)
    await plan_meeting(
        ctx.session,
        ctx.schedule,
        meeting,
        series,
        ctx.now,
        mirror=(ctx.services.outbox, ctx.require_community()),
    )
    await drop_pending_reminders(ctx.session, meeting)
    told = await _tell_cancelled(ctx, meeting, series, reason)
    await roles.host_ended(ctx, meeting, "cancelled")
    log.info("meeting %s cancelled", meeting.id)
    text = ctx.t("meetings.cancelled_done", id=meeting.number, title=series.title, count=told)
    return Respond(Message(text=text))


@friendly
async def move(ctx: Context) -> Reply:
    """Move one meeting; every answer is reset and those who had answered are asked again."""
    meeting = await find_meeting(ctx, ctx.params["meeting"])
    _changeable(ctx, meeting)
    reason = check_reason(ctx.params.get("reason"))
    series = await series_of_meeting(ctx, meeting)
    new_start = parse_when(ctx.params["when"], series.tz, ctx.now)
    old_start = meeting.starts_at
    meeting.starts_at = new_start
    meeting.revision += 1
    meeting.timing_set_at = ctx.now
    meeting.reason = reason
    ctx.session.add(meeting)
    await plan_meeting(
        ctx.session,
        ctx.schedule,
        meeting,
        series,
        ctx.now,
        mirror=(ctx.services.outbox, ctx.require_community()),
    )
    # A reminder for the old time, queued but not sent, would now give the wrong time.
    await drop_pending_reminders(ctx.session, meeting)
    asked = await reset_answers(ctx.session, meeting.id)
    told = await _tell_moved(ctx, meeting, series, old_start, reason=reason, asked_again=asked)
    log.info("meeting %s moved, %d answers reset", meeting.id, len(asked))
    await ctx.emit("meetings.changed", MeetingsChanged(meeting.community_id))
    text = ctx.t("meetings.moved_done", id=meeting.number, title=series.title, count=told)
    return Respond(Message(text=text))


@friendly
async def agenda(ctx: Context) -> Reply:
    meeting = await find_meeting(ctx, ctx.params.get("meeting"))
    series = await series_of_meeting(ctx, meeting)
    edits = {k: v for k, v in ctx.params.items() if k in ("topic", "objectives", "segments")}
    heading = []
    if edits:
        if ctx.role() < Role.FACILITATOR:
            if not await hosting.hosting(ctx):
                raise UserError(ctx.t("meetings.agenda_facilitator"))
            # The meeting's host, from when a facilitator named them until it ends.
            await hosting.require_host_of(ctx, meeting.id, meeting.number)
        _changeable(ctx, meeting)
        if "topic" in edits:
            topic = check_text(edits["topic"], "topic", MAX_TOPIC)
            meeting.topic = None if topic in ("-", "") else topic
        if "objectives" in edits:
            word = edits["objectives"].strip().lower()
            meeting.objectives = (
                "[]"
                if word in NONE_WORDS
                else json.dumps(split_items(edits["objectives"], "objectives"))
            )
        if "segments" in edits:
            if edits["segments"].strip().lower() == DEFAULT_WORD:
                meeting.segments = series_segments(series, ctx.t_channel)
            elif edits["segments"].strip().lower() in NONE_WORDS:
                meeting.segments = "[]"
            else:
                meeting.segments = json.dumps(
                    split_items(edits["segments"], "segments", MAX_SEGMENT)
                )
        ctx.session.add(meeting)
        await ctx.session.flush()
        await refresh_card(ctx, meeting, series)
        heading = [Section.of(ctx.t("meetings.agenda_updated", id=meeting.number))]
        log.info("meeting %s agenda edited", meeting.id)
    title: list[Inline] = [
        ctx.t("meetings.agenda_title", id=meeting.number, title=series.title),
        when(meeting, series),
    ]
    extras = await agenda_extras(ctx, meeting, ctx.t)
    blocks = [*heading, Section(parts=title), *agenda_sections(ctx.t, meeting, series, extras)]
    if not meeting.topic and not items(meeting.objectives) and not items(meeting.segments):
        blocks.append(Section.of(ctx.t("meetings.agenda_none")))
    text = "\n".join(plain(b.parts) for b in blocks)
    return Respond(Message(text=text, blocks=blocks))


async def _upcoming_lines(ctx: Context, community_id: int) -> list[Section]:
    """Scheduled meetings that have not ended, soonest first; then the cancelled ones by number
    (a cancelled meeting has left "upcoming", but whoever looks for it learns what became of it)."""
    rows = (
        await ctx.session.execute(
            select(Meeting, MeetingSeries)
            .join(MeetingSeries, col(MeetingSeries.id) == col(Meeting.series_id))
            .where(
                col(Meeting.community_id) == community_id,
                col(Meeting.ended).is_(False),
                col(Meeting.status) == "scheduled",
            )
            .order_by(col(Meeting.starts_at))
            .limit(LIST_LIMIT)
        )
    ).all()
    blocks: list[Section] = [Section.of(ctx.t("meetings.list_title"))]
    for meeting, series in rows:
        n = await counts(ctx.session, meeting.id)
        moved = meeting.starts_at != meeting.occurrence_start
        key = LIST_LINES[(bool(meeting.topic), moved)]
        line = ctx.t.parts(
            key,
            id=meeting.number,
            when=when(meeting, series, lang=ctx.t.lang),
            title=series.title,
            topic=meeting.topic or "",
            going=n["going"],
            maybe=n["maybe"],
        )
        blocks.append(Section(parts=line))
    if not rows:
        blocks.append(Section.of(ctx.t("meetings.list_none")))
    cancelled = list(
        (
            await ctx.session.execute(
                select(col(Meeting.number))
                .where(
                    col(Meeting.community_id) == community_id,
                    col(Meeting.status) == "cancelled",
                    col(Meeting.starts_at) > ctx.now,
                )
                .order_by(col(Meeting.starts_at))
                .limit(LIST_LIMIT)
            )
        ).scalars()
    )
    if cancelled:
        numbers = ", ".join(f"#{n}" for n in cancelled)
        blocks.append(
            Section.of(ctx.t("meetings.list_cancelled_tail", count=len(cancelled), numbers=numbers))
        )
    return blocks


async def _past_lines(ctx: Context, community_id: int) -> list[Section]:
    """Meetings that took place (not cancelled, started), newest first, with attendance counts,
    so a facilitator finds the number to mark attendance with."""
    attended_count = (
        select(func.count())
        .where(col(MeetingAttendance.meeting_id) == col(Meeting.id))
        .correlate(Meeting)
        .scalar_subquery()
    )
    rows = (
        await ctx.session.execute(
            select(Meeting, MeetingSeries, attended_count)
            .join(MeetingSeries, col(MeetingSeries.id) == col(Meeting.series_id))
            .where(
                col(Meeting.community_id) == community_id,
                col(Meeting.status) == "scheduled",
                col(Meeting.starts_at) <= ctx.now,
            )
            .order_by(col(Meeting.starts_at).desc(), col(Meeting.number).desc())
            .limit(LIST_LIMIT)
        )
    ).all()
    blocks: list[Section] = [Section.of(ctx.t("meetings.list_past_title"))]
    for meeting, series, attended_n in rows:
        line = ctx.t.parts(
            "meetings.list_past_topic" if meeting.topic else "meetings.list_past",
            id=meeting.number,
            when=when(meeting, series, lang=ctx.t.lang),
            title=series.title,
            topic=meeting.topic or "",
            attended=attended_n,
        )
        blocks.append(Section(parts=line))
    if not rows:
        blocks.append(Section.of(ctx.t("meetings.list_past_none")))
    return blocks


# An upcoming meeting's line by (has a topic, was moved): whole sentences, no fragments.
LIST_LINES = {
    (False, False): "meetings.list_line",
    (True, False): "meetings.list_line_topic",
    (False, True): "meetings.list_line_moved",
    (True, True): "meetings.list_line_topic_moved",
}


async def list_meetings(ctx: Context) -> Reply:
    """Upcoming meetings (cancelled ones only named at the end), or with ``past`` the meetings
    that took place, newest first with attendance counts, and the community's series."""
    community = ctx.require_community()
    past = ctx.params.get("which") == "past"
    blocks: list[Section] = (
        await _past_lines(ctx, community.id) if past else await _upcoming_lines(ctx, community.id)
    )
    all_series = (
        await ctx.session.execute(
            select(MeetingSeries)
            .where(col(MeetingSeries.community_id) == community.id)
            .order_by(col(MeetingSeries.number))
        )
    ).scalars()
    series_lines = [
        ctx.t(
            "meetings.list_series_line",
            id=s.number,
            title=s.title,
            schedule=schedule_of(s).describe(ctx.t),
            minutes=s.duration_minutes,
            reminders=reminders_words(ctx.t, s),
            dm=ctx.t("meetings.dm_on") if s.dm_reminders else "",
        )
        for s in all_series
    ]
    if series_lines and not past:
        blocks.append(Section.of("\n".join([ctx.t("meetings.list_series_title"), *series_lines])))
    text = "\n".join(plain(b.parts) for b in blocks)
    return Respond(Message(text=text, blocks=blocks))


# -- registration -----------------------------------------------------------------------------


def commands() -> tuple[Command, ...]:
    """Adds this feature's commands, buttons, jobs, hooks and start-up reconciler."""

    def p(name: str, **kw: Any) -> Param:
        return Param(name, f"meetings.param.{name}", **kw)

    def opt(name: str, **kw: Any) -> Param:
        return p(name, required=False, **kw)

    series_fields = (
        opt("title", max_length=MAX_TITLE),
        opt("duration", max_length=10),
        opt("link", max_length=400),
        opt("location", max_length=MAX_LOCATION),
        opt("zone", kind="zone", max_length=64),
        opt("reminders", max_length=60),
        opt("dm", choices=("yes", "no")),
        opt("segments", max_length=1100, multiline=True),
        opt("objectives", max_length=2100, multiline=True),
    )
    meeting = p("meeting", max_length=12)
    # Keyword only: typed after the meeting (and time), the words are the reason's only by name.
    reason = opt("reason", keyword=True, max_length=MAX_REASON)
    role = Param("role", "meetings.roles.param.role", kind="choice", choices=roles.KINDS)
    return (
        Command(
            ("meeting", "series"),
            "meetings.help.series",
            series_create,
            Role.FACILITATOR,
            (p("schedule", max_length=200), *series_fields),
            "meetings.example.series",
        ),
        Command(
            ("meeting", "list"),
            "meetings.help.list",
            each_community(list_meetings),
            Role.ANYONE,
            (opt("which", choices=("upcoming", "past")),),
            "meetings.example.list",
            needs_community=False,
        ),
        Command(
            ("meeting", "agenda"),
            "meetings.help.agenda",
            agenda,
            Role.MEMBER,
            (
                opt("meeting", max_length=12),
                opt("topic", max_length=MAX_TOPIC),
                opt("objectives", max_length=2100, multiline=True),
                opt("segments", max_length=1100, multiline=True),
            ),
            "meetings.example.agenda",
        ),
        Command(
            ("meeting", "cancel"),
            "meetings.help.cancel",
            cancel,
            Role.FACILITATOR,
            (meeting, reason),
            "meetings.example.cancel",
        ),
        Command(
            ("meeting", "move"),
            "meetings.help.move",
            move,
            Role.FACILITATOR,
            (meeting, p("when", rest=True, max_length=40), reason),
            "meetings.example.move",
        ),
        Command(
            ("meeting", "edit"),
            "meetings.help.edit",
            series_edit,
            Role.FACILITATOR,
            (
                opt("series", kind="int", max_length=9),
                opt("schedule", max_length=200),
                *series_fields,
            ),
            "meetings.example.edit",
        ),
        Command(
            ("meeting", "end-series"),
            "meetings.help.end_series",
            end_series,
            Role.FACILITATOR,
            (p("series", kind="int", max_length=9), opt("after", max_length=10)),
            "meetings.example.end_series",
        ),
        Command(
            ("meeting", "ics"),
            "meetings.help.ics",
            ics,
            Role.MEMBER,
            (opt("meeting", max_length=12), opt("series", kind="int", max_length=9)),
            "meetings.example.ics",
        ),
        Command(
            ("meeting", "attended"),
            "meetings.help.attended",
            attended,
            Role.MEMBER,
            (opt("meeting", max_length=40), opt("users", rest=True, max_length=600)),
            "meetings.example.attended",
        ),
        Command(
            ("meeting", "role"),
            "meetings.roles.help.role",
            roles.take,
            Role.MEMBER,
            (meeting, role),
            "meetings.roles.example.role",
        ),
        Command(
            ("meeting", "unrole"),
            "meetings.roles.help.unrole",
            roles.untake,
            Role.MEMBER,
            (meeting, role),
            "meetings.roles.example.unrole",
        ),
        Command(
            ("meeting", "host"),
            "meetings.roles.help.host",
            roles.name_host,
            Role.FACILITATOR,
            (meeting, Param("user", "meetings.roles.param.user", kind="user", max_length=100)),
            "meetings.roles.example.host",
        ),
        Command(
            ("meeting", "attendance"),
            "meetings.help.attendance",
            attendance,
            Role.FACILITATOR,
            (opt("meeting", max_length=12),),
        ),
    )
