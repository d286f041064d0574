"""Meetings domain: input parsing, materialising occurrences, planning jobs, notifying members.

Shared by the commands (`commands.py`) and the scheduled jobs (`jobs.py`). Jobs are written
through ``ctx.schedule`` in the same transaction as the meeting rows they follow from.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.context import Context, channel_of
from bot.i18n import Translator
from bot.jobs import Schedule as Jobs
from bot.languages import fan_out_each
from bot.outbox import Outbox
from bot.schedule import Schedule, parse_schedule
from bot.text import in_range
from bot.ui import CalendarEvent, Message
from storage.meetings import Meeting, MeetingRsvp, MeetingSeries
from storage.models import Community, Member, MemberRole, OutboxMessage

log = logging.getLogger(__name__)

AHEAD = 3  # occurrences kept materialised
ANSWERS = ("going", "maybe", "no")
DEFAULT_REMINDERS = "7d 1d 1h"
DEFAULT_SEGMENTS = ("welcome", "sharing", "topic", "problem", "reflection")
LATE_FRACTION = 10  # a reminder more than 1/10 of its offset late says so
MAX_OFFSETS = 5
MAX_OFFSET = timedelta(days=60)
MAX_ITEMS = 10
MAX_ITEM = 200
MAX_TOPIC = 200
MAX_TITLE = 120
MAX_LOCATION = 200
MAX_LINK = 400
MAX_REASON = 200  # a cancel or move reason, as stored in `Meeting.reason`
MIN_MINUTES, MAX_MINUTES = 10, 480


class InputError(ValueError):
    """Bad input; `key` and `values` name the one-sentence refusal under ``meetings.`` in the catalogs."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


# -- parsing ----------------------------------------------------------------------------------

_OFFSET_PART = re.compile(r"(\d{1,4})([wdhm])")
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60}
_ISO = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?")


def parse_offsets(text: str) -> list[timedelta]:
    """``"7d 1d 1h"`` (also ``1d12h``, commas, ``none``) -> offsets, longest first."""
    text = text.strip().lower()
    if text in ("none", "no", "off", "0"):
        return []
    out: set[timedelta] = set()
    for token in re.split(r"[\s,;]+", text):
        if not token:
            continue
        token = token.removesuffix("before")
        if not token or _OFFSET_PART.sub("", token):
            raise InputError("bad_reminders")
        seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _OFFSET_PART.findall(token))
        if seconds <= 0 or timedelta(seconds=seconds) > MAX_OFFSET:
            raise InputError("bad_reminders")
        out.add(timedelta(seconds=seconds))
    if not out or len(out) > MAX_OFFSETS:
        raise InputError("bad_reminders")
    return sorted(out, reverse=True)


def offset_iso(offset: timedelta) -> str:
    """An offset as an ISO 8601 duration without seconds: ``P7D``, ``PT1H``, ``P1DT12H``."""
    minutes = int(offset.total_seconds()) // 60
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    out = "P" + (f"{days}D" if days else "")
    if hours or minutes:
        out += "T" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return out if out != "P" else "PT0M"


def parse_iso(value: str) -> timedelta:
    m = _ISO.fullmatch(value)
    if not m:
        raise ValueError(f"not an offset: {value!r}")
    days, hours, minutes = (int(g or 0) for g in m.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


def offsets_of(series: MeetingSeries) -> list[timedelta]:
    return [parse_iso(v) for v in series.reminders.split()]


def offset_words(t: Translator, offset: timedelta) -> str:
    """``1 day``, ``1 day 12 hours``, ``2 weeks`` in the community's language."""
    minutes = int(offset.total_seconds()) // 60
    parts = []
    for unit, size in (("week", 10080), ("day", 1440), ("hour", 60), ("minute", 1)):
        n, minutes = divmod(minutes, size)
        if n:
            parts.append(t.n(f"meetings.unit.{unit}", n))
    return t.list(parts, style="unit-narrow")


def reminders_words(t: Translator, series: MeetingSeries) -> str:
    offsets = offsets_of(series)
    if not offsets:
        return t("meetings.no_reminders")
    return ", ".join(offset_words(t, o) for o in offsets)


_DURATION = re.compile(r"(?:(\d{1,2})h)?(?:(\d{1,3})m?)?")


def parse_minutes(text: str) -> int:
    """``90``, ``90m``, ``1h30m``, ``2h`` -> minutes within 10..480."""
    m = _DURATION.fullmatch(text.strip().lower().replace(" ", ""))
    if not m or not any(m.groups()):
        raise InputError("bad_duration")
    minutes = int(m[1] or 0) * 60 + int(m[2] or 0)
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise InputError("bad_duration")
    return minutes


def check_link(text: str) -> str:
    link = text.strip().strip("<>")
    parsed = urlparse(link)
    if (
        parsed.scheme not in ("http", "https")
        or not parsed.netloc
        or any(c.isspace() for c in link)
        or len(link) > MAX_LINK
    ):
        raise InputError("bad_link")
    return link


def check_text(text: str, what: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) > limit:
        raise InputError("too_long", what=what, max=limit)
    return text


def split_items(text: str, what: str, limit: int = MAX_ITEM) -> list[str]:
    """``"a; b; c"`` -> ["a", "b", "c"], each capped, at most `MAX_ITEMS`."""
    items = [" ".join(p.split()) for p in re.split(r"[;\n|]", text)]
    items = [i for i in items if i and i != "-"]
    if len(items) > MAX_ITEMS:
        raise InputError("too_many", max=MAX_ITEMS, what=what)
    for item in items:
        if len(item) > limit:
            raise InputError("too_long", what=what, max=limit)
    return items


_WHEN = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:t|\s+(?:at\s+)?)(\d{1,2}):(\d{2})")


_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def parse_end_day(text: str, tz: str, now: datetime) -> tuple[date, datetime]:
    """``2027-06-30`` in `tz` -> that day and the instant it ends (a series' `until`).

    Today is accepted (the meetings later today go); a day already over is refused.
    """
    m = _DAY.fullmatch(text.strip())
    if not m:
        raise InputError("bad_end_day")
    raw = m.group(0)
    try:
        day = date(*(int(g) for g in m.groups()))
    except ValueError:
        raise InputError("no_such_date", date=raw) from None
    if not in_range(day):
        raise InputError("date_range", date=raw)
    zone = ZoneInfo(tz)
    if day < now.astimezone(zone).date():
        raise InputError("end_in_past", date=raw)
    after = datetime.combine(day + timedelta(days=1), time(0, 0)).replace(tzinfo=zone)
    return day, after.astimezone(UTC)


def check_reason(text: str | None) -> str | None:
    """A cancel or move reason as typed (already cleaned by the parser), or None when absent."""
    if text is None:
        return None
    return check_text(text, "reason", MAX_REASON) or None


def parse_when(text: str, tz: str, now: datetime) -> datetime:
    """``2026-12-08 18:30`` (or ``2026-12-08T18:30``) in `tz` -> an aware UTC instant.

    A wall-clock time skipped by a DST change is refused; a repeated one means the first.
    """
    m = _WHEN.fullmatch(" ".join(text.strip().lower().split()))
    if not m:
        raise InputError("bad_when")
    y, mo, d, h, mi = (int(g) for g in m.groups())
    raw_date = f"{y:04d}-{mo:02d}-{d:02d}"
    try:
        day = date(y, mo, d)
    except ValueError:
        raise InputError("no_such_date", date=raw_date) from None
    if not in_range(day):  # 9999-12-31 23:00 would overflow on the way to UTC
        raise InputError("date_range", date=raw_date)
    if h > 23 or mi > 59:
        raise InputError("bad_when")
    zone = ZoneInfo(tz)
    naive = datetime.combine(day, time(h, mi))
    instant = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != naive:
        raise InputError("gap_time", time=f"{h:02d}:{mi:02d}", date=raw_date, zone=tz)
    if instant <= now:
        raise InputError("in_past")
    return instant


# -- rows -------------------------------------------------------------------------------------


def schedule_of(series: MeetingSeries) -> Schedule:
    """The series' schedule, cut at its end (`MeetingSeries.until`) when it has been ended."""
    schedule = parse_schedule(series.schedule, series.tz)
    if series.until is None:
        return schedule
    # `until` is exclusive (the instant the last day ends, or when it was ended); the
    # schedule's until is an inclusive local date.
    last = (series.until - timedelta(microseconds=1)).astimezone(ZoneInfo(series.tz)).date()
    if schedule.until is not None and schedule.until <= last:
        return schedule
    return replace(schedule, until=last)


def ends_at(meeting: Meeting) -> datetime:
    return meeting.starts_at + timedelta(minutes=meeting.duration_minutes)


def items(raw: str) -> list[str]:
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


async def counts(session: AsyncSession, meeting_id: int) -> dict[str, int]:
    rows = (
        await session.execute(
            select(col(MeetingRsvp.answer), func.count())
            .where(col(MeetingRsvp.meeting_id) == meeting_id)
            .group_by(col(MeetingRsvp.answer))
        )
    ).all()
    out = dict.fromkeys(ANSWERS, 0)
    out.update({answer: n for answer, n in rows})
    return out


async def answered(
    session: AsyncSession, meeting_id: int, answers: tuple[str, ...] = ("going", "maybe")
) -> list[Member]:
    """Members whose answer is one of `answers`, by name."""
    return list(
        (
            await session.execute(
                select(Member)
                .join(MeetingRsvp, col(MeetingRsvp.member_id) == col(Member.id))
                .where(
                    col(MeetingRsvp.meeting_id) == meeting_id,
                    col(MeetingRsvp.answer).in_(answers),
                    col(Member.role) != MemberRole.LEFT,
                )
                .order_by(col(Member.display_name))
            )
        ).scalars()
    )


async def series_meetings(session: AsyncSession, series_id: int) -> list[Meeting]:
    return list(
        (
            await session.execute(
                select(Meeting)
                .where(col(Meeting.series_id) == series_id)
                .order_by(col(Meeting.starts_at))
            )
        ).scalars()
    )


# -- materialising ----------------------------------------------------------------------------


def default_segments(t: Translator) -> list[str]:
    return [t(f"meetings.segment.{key}") for key in DEFAULT_SEGMENTS]


def segment_key(text: str, *translators: Translator) -> str | None:
    """Which default CoP segment `text` is (``welcome``, ...) in one of `translators`' languages;
    None for a segment the facilitator wrote. Case and spacing do not matter."""
    said = " ".join(text.split()).casefold()
    for key in DEFAULT_SEGMENTS:
        for t in translators:
            if said == " ".join(t(f"meetings.segment.{key}").split()).casefold():
                return key
    return None


def series_segments(series: MeetingSeries, t: Translator) -> str:
    """The JSON segments a new meeting of `series` gets: its own, or the default CoP ones."""
    return series.segments if series.segments is not None else json.dumps(default_segments(t))


async def next_number(
    session: AsyncSession, table: type[Meeting] | type[MeetingSeries], community_id: int
) -> int:
    """The community's next meeting (or series) number: what members see and type.

    The community row is locked first (FOR NO KEY UPDATE on PostgreSQL, which does not wait
    for rows merely referencing it; SQLite has one writer anyway), so two transactions numbering
    in one community take turns and the unique index never fires.
    """
    await session.execute(
        select(col(Community.id))
        .where(col(Community.id) == community_id)
        .with_for_update(key_share=True)
    )
    highest = (
        await session.execute(
            select(func.max(col(table.number))).where(col(table.community_id) == community_id)
        )
    ).scalar_one()
    return int(highest or 0) + 1


async def materialise(
    session: AsyncSession, series: MeetingSeries, community: Community, t: Translator, now: datetime
) -> list[Meeting]:
    """Create rows for the next `AHEAD` occurrences that have none; returns the new ones."""
    wanted = schedule_of(series).occurrences(now, AHEAD)
    have = set(
        (
            await session.execute(
                select(col(Meeting.occurrence_start)).where(col(Meeting.series_id) == series.id)
            )
        ).scalars()
    )
    created: list[Meeting] = []
    missing = [start for start in wanted if start not in have]
    first = await next_number(session, Meeting, community.id) if missing else 0
    for number, start in enumerate(missing, first):
        meeting = Meeting(
            community_id=community.id,
            number=number,
            series_id=series.id,
            occurrence_start=start,
            starts_at=start,
            duration_minutes=series.duration_minutes,
            timing_set_at=now,
            objectives=series.objectives or "[]",
            segments=series_segments(series, t),
            created_at=now,
        )
        session.add(meeting)
        created.append(meeting)
    if created:
        await session.flush()
        log.info("series %s: materialised meetings %s", series.id, [m.id for m in created])
    await take_next_topic(session, community, now)
    return created


async def next_meeting_without_topic(
    session: AsyncSession, community_id: int, now: datetime
) -> Meeting | None:
    return (
        await session.execute(
            select(Meeting)
            .where(
                col(Meeting.community_id) == community_id,
                col(Meeting.status) == "scheduled",
                col(Meeting.starts_at) > now,
                col(Meeting.topic).is_(None),
            )
            .order_by(col(Meeting.starts_at))
            .limit(1)
        )
    ).scalar_one_or_none()


async def take_next_topic(session: AsyncSession, community: Community, now: datetime) -> None:
    """Move the topic members voted for (`Community.next_topic`) onto the next meeting."""
    if not community.next_topic:
        return
    meeting = await next_meeting_without_topic(session, community.id, now)
    if meeting is None:
        return
    meeting.topic = community.next_topic[:MAX_TOPIC]
    community.next_topic = None
    session.add_all([meeting, community])
    log.info("community %s: voted topic placed on meeting %s", community.id, meeting.id)


# -- jobs -------------------------------------------------------------------------------------


def reminder_due(meeting: Meeting, tz: str, offset: timedelta) -> datetime:
    """When the reminder `offset` before `meeting` is due: whole days count on the series' wall
    clock (a 1-day reminder of an 18:30 meeting is at 18:30 the day before, even across a DST
    change), hours and minutes are exact."""
    days = timedelta(days=offset.days)
    zone = ZoneInfo(tz)
    local = meeting.starts_at.astimezone(zone).replace(tzinfo=None) - days
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC) - (offset - days)


def reminder_job(meeting_id: int, iso: str) -> str:
    return f"reminder:{meeting_id}:{iso}"


def reminder_key(meeting: Meeting, iso: str) -> str:
    """Outbox key of a channel reminder; a moved meeting (revision > 0) gets fresh keys."""
    key = f"reminder:{meeting.id}:{iso}"
    return f"{key}:r{meeting.revision}" if meeting.revision else key


async def _sent_keys(session: AsyncSession, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    return set(
        (
            await session.execute(
                select(col(OutboxMessage.key)).where(col(OutboxMessage.key).in_(keys))
            )
        )
        .scalars()
        .all()
    )


async def mirror_meeting(
    session: AsyncSession,
    outbox: Outbox,
    meeting: Meeting,
    series: MeetingSeries,
    community: Community,
) -> None:
    """Keep the platform's native event (a Discord scheduled event) in step with the meeting.

    Goes through the outbox like any message; platforms without native events skip it.
    """
    event = CalendarEvent(
        name=series.title,
        start=meeting.starts_at,
        end=ends_at(meeting),
        location=series.link or series.location or "",
        description=meeting.topic or "",
        cancelled=meeting.status == "cancelled",
    )
    await outbox.enqueue_event(
        session,
        key=f"event:{meeting.id}",
        to=channel_of(community),
        event=event,
        community_id=community.id,
    )


async def plan_meeting(
    session: AsyncSession,
    plan: Jobs,
    meeting: Meeting,
    series: MeetingSeries,
    now: datetime,
    *,
    old_offsets: Sequence[str] = (),
    mirror: tuple[Outbox, Community] | None = None,
) -> None:
    """Reminder, start and end jobs for one meeting, from its row (idempotent).

    A reminder that was due before the meeting got its current time never applies; one that
    fell due while the bot was down is re-armed (it runs at once) unless it already went out.
    With `mirror`, the meeting's native platform event is brought up to date as well.
    """
    assert meeting.id is not None
    if mirror is not None:
        await mirror_meeting(session, mirror[0], meeting, series, mirror[1])
    isos = [offset_iso(o) for o in offsets_of(series)]
    for iso in set(old_offsets) - set(isos):
        await plan.cancel(reminder_job(meeting.id, iso))
    if meeting.status != "scheduled" or meeting.ended:
        for iso in set(isos) | set(old_offsets):
            await plan.cancel(reminder_job(meeting.id, iso))
        await plan.cancel(f"meeting-start:{meeting.id}")
        await plan.cancel(f"meeting-end:{meeting.id}")
        return
    past_due: dict[str, datetime] = {}
    # Once a meeting has begun its reminder jobs are left alone: any still in the job store
    # run, and their handler skips and logs them.
    for iso in isos if meeting.starts_at > now else []:
        due = reminder_due(meeting, series.tz, parse_iso(iso))
        if due < meeting.timing_set_at or meeting.started:
            await plan.cancel(reminder_job(meeting.id, iso))
        elif due <= now:
            past_due[iso] = due
        else:
            await plan.at(
                reminder_job(meeting.id, iso),
                due,
                "meeting.remind",
                [meeting.id, iso],
                community_id=meeting.community_id,
            )
    sent = await _sent_keys(session, [reminder_key(meeting, iso) for iso in past_due])
    for iso, due in past_due.items():
        if reminder_key(meeting, iso) in sent:
            await plan.cancel(reminder_job(meeting.id, iso))
        else:
            await plan.at(
                reminder_job(meeting.id, iso),
                due,
                "meeting.remind",
                [meeting.id, iso],
                community_id=meeting.community_id,
            )
    if not meeting.started:
        await plan.at(
            f"meeting-start:{meeting.id}",
            meeting.starts_at,
            "meeting.start",
            [meeting.id],
            community_id=meeting.community_id,
        )
    await plan.at(
        f"meeting-end:{meeting.id}",
        ends_at(meeting),
        "meeting.end",
        [meeting.id],
        community_id=meeting.community_id,
    )


async def plan_series(
    session: AsyncSession,
    plan: Jobs,
    series: MeetingSeries,
    now: datetime,
    *,
    old_offsets: Sequence[str] = (),
    mirror: tuple[Outbox, Community] | None = None,
) -> None:
    """Jobs for every meeting of the series that has not ended, plus the top-up job."""
    upcoming = [m for m in await series_meetings(session, series.id) if not m.ended]
    for meeting in upcoming:
        await plan_meeting(
            session, plan, meeting, series, now, old_offsets=old_offsets, mirror=mirror
        )
    future = [m.starts_at for m in upcoming if m.starts_at > now]
    if future:
        assert series.id is not None
        await plan.at(
            f"meeting-ahead:{series.id}",
            min(future),
            "meeting.ahead",
            [series.id],
            community_id=series.community_id,
        )
    else:
        await plan.cancel(f"meeting-ahead:{series.id}")


# -- notifying --------------------------------------------------------------------------------


async def reset_answers(session: AsyncSession, meeting_id: int) -> list[Member]:
    """Forget every answer to the meeting (a move asks again); returns who had answered."""
    people = await answered(session, meeting_id, ANSWERS)
    await session.execute(delete(MeetingRsvp).where(col(MeetingRsvp.meeting_id) == meeting_id))
    return people


async def drop_pending_reminders(session: AsyncSession, meeting: Meeting) -> None:
    """Reminders of a meeting whose time is gone, queued but not yet sent (channel, DMs and
    edits), stay unsent; a card that was one of them is forgotten, so nothing edits it.

    Only ``pending`` rows: one a worker is sending right now may already be out.
    """
    dropped = set(
        (
            await session.execute(
                delete(OutboxMessage)
                .where(
                    col(OutboxMessage.key).like(f"reminder:{meeting.id}:%"),
                    col(OutboxMessage.status) == "pending",
                )
                .returning(col(OutboxMessage.key))
            )
        ).scalars()
    )
    if meeting.card_key in dropped:
        meeting.card_key = meeting.card_kind = None
        session.add(meeting)


async def notify_answered(
    ctx: Context,
    session: AsyncSession,
    community: Community,
    meeting: Meeting,
    key: str,
    compose: Callable[[Translator], Message],
    answers: tuple[str, ...] = ("going", "maybe"),
) -> int:
    """DM the message `compose` makes to everyone whose answer is in `answers`, each in
    their own language; returns how many."""
    people = await answered(session, meeting.id, answers)
    await fan_out_each(ctx, key=key, community=community, members=people, compose=compose)
    return len(people)
