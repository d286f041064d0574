"""What members do with meetings: answer (RSVP), mark attendance, get calendar files.

Attendance is stored per member and meeting with the meeting's length, for a later
professional-development hours report; calendar files come from `bot.features.meetings.ics`.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlmodel import col

from bot.commands import Role, normalise_user
from bot.context import Context, UserError, find_member
from bot.events import Reply, Respond
from bot.features.meetings.core import (
    ANSWERS,
    ends_at,
    items,
    schedule_of,
    series_meetings,
)
from bot.features.meetings.find import (
    find_meeting,
    find_series,
    friendly,
    in_schedule,
    meeting_from_button,
    refresh_card,
    respond,
    series_of_meeting,
)
from bot.features.meetings.ics import meeting_ics, series_ics
from bot.features.meetings.render import agenda_sections, when
from bot.ui import File, Message, Section, plain
from storage.meetings import Meeting, MeetingAttendance, MeetingRsvp, MeetingSeries
from storage.models import Community, Member

log = logging.getLogger(__name__)


# -- calendar files ---------------------------------------------------------------------------


def _description(ctx: Context, meeting: Meeting, series: MeetingSeries) -> str:
    return "\n".join(plain(s.parts) for s in agenda_sections(ctx.t, meeting, series))


def series_uid(series: MeetingSeries, community: Community) -> str:
    return f"circlebot-series-{series.id}@{community.platform}"


def meeting_uid(meeting: Meeting, community: Community) -> str:
    """One meeting's own UID, stable across moves and distinct from its series' UID."""
    return f"circlebot-meeting-{meeting.id}@{community.platform}"


@friendly
async def ics(ctx: Context) -> Reply:
    community = ctx.require_community()
    raw = ctx.params.get("meeting")
    if "series" in ctx.params or (raw or "").lower() == "series":
        series = await find_series(ctx, ctx.params.get("series"))
        if series.until is not None and series.until <= series.first_start:
            # Ended before the first meeting of its current schedule: no occurrence is left.
            raise UserError(
                ctx.t("meetings.ics_series_ended", id=series.number, title=series.title)
            )
        schedule = schedule_of(series)
        everything = await series_meetings(ctx.session, series.id)
        eligible = [
            m
            for m in everything
            if m.occurrence_start >= series.first_start
            and in_schedule(schedule, m.occurrence_start)
        ]
        exdates = [m.occurrence_start for m in eligible if m.status == "cancelled"]
        moved = [
            (m.occurrence_start, m.starts_at)
            for m in eligible
            if m.status == "scheduled" and m.starts_at != m.occurrence_start
        ]
        content = series_ics(
            series_uid(series, community),
            series.title,
            schedule,
            series.first_start,
            timedelta(minutes=series.duration_minutes),
            series.location or series.link,
            None,
            series.link,
            exdates,
            moved,
            agendas={
                m.occurrence_start: _description(ctx, m, series)
                for m in eligible
                if m.status == "scheduled" and (m.topic or items(m.objectives) or items(m.segments))
            },
            sequence=series.sequence,
            stamp=ctx.now,
        )
        text = ctx.t("meetings.ics_series", title=series.title, id=series.number)
        filename = f"series-{series.number}.ics"
    else:
        meeting = await find_meeting(ctx, raw)
        series = await series_of_meeting(ctx, meeting)
        # Its own UID and no RECURRENCE-ID: the file stands alone, whether or not the
        # series was imported.
        content = meeting_ics(
            meeting_uid(meeting, community),
            series.title,
            meeting.starts_at,
            ends_at(meeting),
            series.tz,
            series.location or series.link,
            _description(ctx, meeting, series) or None,
            series.link,
            cancelled=meeting.status == "cancelled",
            sequence=meeting.revision + (1 if meeting.status == "cancelled" else 0),
            stamp=ctx.now,
        )
        text = ctx.t("meetings.ics_meeting", title=series.title, id=meeting.number)
        filename = f"meeting-{meeting.number}.ics"
    block = File(filename=filename, content=content, title=text, mime="text/calendar")
    # In a DM nobody else is there to see it, and a public answer can carry the file on every
    # platform (Slack cannot attach files to a private, ephemeral one).
    return Respond(
        Message(text=text, blocks=[Section.of(text), block]), private=not ctx.place.is_dm
    )


# -- RSVP and attendance ----------------------------------------------------------------------


async def rsvp(ctx: Context) -> Reply:
    answer = ctx.action.verb
    if answer not in ANSWERS:
        raise UserError(ctx.t("core.refuse.stale_button"))
    meeting = await meeting_from_button(ctx)
    if meeting.status == "cancelled":
        raise UserError(ctx.t("meetings.is_cancelled", id=meeting.number))
    if ctx.now >= ends_at(meeting):
        raise UserError(ctx.t("meetings.is_over", id=meeting.number))
    assert ctx.member is not None
    row = (
        await ctx.session.execute(
            select(MeetingRsvp).where(
                col(MeetingRsvp.meeting_id) == meeting.id,
                col(MeetingRsvp.member_id) == ctx.member.id,
            )
        )
    ).scalar_one_or_none()
    if row is None:
        row = MeetingRsvp(
            community_id=meeting.community_id,
            meeting_id=meeting.id,
            member_id=ctx.member.id,
            answer=answer,
        )
    row.answer, row.updated_at = answer, ctx.now
    ctx.session.add(row)
    await ctx.session.flush()
    series = await series_of_meeting(ctx, meeting)
    await refresh_card(ctx, meeting, series)
    log.info("meeting %s: member %s answered", meeting.id, ctx.member.id)
    return respond(
        ctx.t.parts(
            "meetings.rsvp_done",
            title=series.title,
            when=when(meeting, series, lang=ctx.t.lang),
            answer=ctx.t(f"meetings.answer.{answer}"),
        )
    )


async def _record(ctx: Context, meeting: Meeting, people: list[Member]) -> Reply:
    if meeting.status == "cancelled":
        raise UserError(ctx.t("meetings.is_cancelled", id=meeting.number))
    if ctx.now < meeting.starts_at:
        raise UserError(ctx.t("meetings.not_started", id=meeting.number))
    existing = set(
        (
            await ctx.session.execute(
                select(col(MeetingAttendance.user_id)).where(
                    col(MeetingAttendance.meeting_id) == meeting.id
                )
            )
        ).scalars()
    )
    added, already = [], []
    for member in people:
        if member.user_id in existing:
            already.append(member.display_name)
            continue
        existing.add(member.user_id)
        ctx.session.add(
            MeetingAttendance(
                community_id=meeting.community_id,
                meeting_id=meeting.id,
                member_id=member.id,
                user_id=member.user_id,
                display_name=member.display_name,
                minutes=meeting.duration_minutes,
                marked_by=ctx.actor.user.user_id,
                marked_at=ctx.now,
            )
        )
        added.append(member.display_name)
    log.info("meeting %s: %d attendance marks", meeting.id, len(added))
    lines = []
    if added:
        lines.append(
            ctx.t(
                "meetings.attended_done",
                id=meeting.number,
                minutes=meeting.duration_minutes,
                names=", ".join(added),
            )
        )
    if already:
        lines.append(
            ctx.t("meetings.attended_already", id=meeting.number, names=", ".join(already))
        )
    text = " ".join(lines)
    return Respond(Message(text=text))


@friendly
async def attended(ctx: Context) -> Reply:
    raw = ctx.params.get("meeting")
    users = ctx.params.get("users", "")
    if raw and raw.startswith(("@", "<@")):
        raw, users = None, f"{raw} {users}".strip()
    meeting = await find_meeting(ctx, raw, default="last")
    assert ctx.member is not None
    people: list[Member] = []
    for token in users.split():
        user_id = normalise_user(token.strip(","))
        member = await find_member(ctx.session, meeting.community_id, user_id)
        if member is None:
            raise UserError(ctx.t("meetings.unknown_member", member=token[:40]))
        if member.id not in {p.id for p in people}:
            people.append(member)
    if not people:
        people = [ctx.member]
    if any(p.id != ctx.member.id for p in people) and ctx.role() < Role.FACILITATOR:
        raise UserError(ctx.t("meetings.only_self"))
    return await _record(ctx, meeting, people)


async def attend_button(ctx: Context) -> Reply:
    meeting = await meeting_from_button(ctx)
    assert ctx.member is not None
    return await _record(ctx, meeting, [ctx.member])


@friendly
async def attendance(ctx: Context) -> Reply:
    meeting = await find_meeting(ctx, ctx.params.get("meeting"), default="last")
    series = await series_of_meeting(ctx, meeting)
    rows = list(
        (
            await ctx.session.execute(
                select(MeetingAttendance)
                .where(col(MeetingAttendance.meeting_id) == meeting.id)
                .order_by(col(MeetingAttendance.display_name))
            )
        ).scalars()
    )
    if not rows:
        return Respond(Message(text=ctx.t("meetings.attendance_none", id=meeting.number)))
    head = ctx.t(
        "meetings.attendance_title",
        id=meeting.number,
        title=series.title,
        minutes=meeting.duration_minutes,
        count=len(rows),
    )
    lines = [head, *(f"• {r.display_name} ({r.minutes} min)" for r in rows)]
    return Respond(Message(text="\n".join(lines), blocks=[Section.of("\n".join(lines))]))
