"""Meetings through the App with a recording adapter: restarts, hooks, calendar files, storage."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rruleset, rrulestr
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.app import App
from bot.context import background
from bot.events import ActionClicked, Actor, CommandInvoked, Place, Respond, UserRef
from bot.events import ConversationRef as Conv
from bot.features.meetings.core import InputError, offset_iso, parse_offsets, parse_when
from bot.features.meetings.ics import parse_instants
from bot.hooks import TopicChosen
from bot.ports import FakeClock
from bot.ui import ActionId, File
from storage.db import Database
from storage.meetings import Meeting, MeetingAttendance, MeetingRsvp
from storage.models import Community, Member
from tests.support import RecordingAdapter

NY = ZoneInfo("America/New_York")
CHANNEL = Conv("fake", "W1", "C1")
DEC_1 = datetime(2026, 12, 1, 18, 30, tzinfo=NY)


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


class Bot:
    """An App on a recording adapter, driven by events as an adapter would."""

    def __init__(self, db: Database, clock: FakeClock) -> None:
        self.db, self.clock = db, clock
        self.adapter = RecordingAdapter()
        self.app = App(db, clock, [self.adapter], manual=True)
        self.hooks: list[tuple[str, int, datetime]] = []
        for hook in ("meeting.start", "meeting.end"):
            self.app.registry.hooks.setdefault(hook, []).append(self._recorder(hook))

    def _recorder(self, hook: str):  # type: ignore[no-untyped-def]
        async def record(ctx, payload) -> None:  # type: ignore[no-untyped-def]
            self.hooks.append((hook, payload.meeting_id, ctx.now))

        return record

    def actor(self, who: str) -> Actor:
        return Actor(UserRef("fake", "W1", who), who, is_admin=who == "ana")

    async def cmd(self, who: str, path: str, **params: str) -> str:
        event = CommandInvoked(self.actor(who), Place(CHANNEL, "cop"), tuple(path.split()), params)
        reply = await self.app.dispatcher.handle(event)
        await self.app.worker.drain()
        assert isinstance(reply, Respond)
        return reply.message.text

    async def reply(self, who: str, path: str, **params: str) -> Respond:
        event = CommandInvoked(self.actor(who), Place(CHANNEL, "cop"), tuple(path.split()), params)
        reply = await self.app.dispatcher.handle(event)
        assert isinstance(reply, Respond)
        return reply

    async def press(self, who: str, action: ActionId, *, dm: bool = False) -> str:
        place = Place(Conv("fake", "W1", f"D-{who}"), "", is_dm=True) if dm else Place(CHANNEL)
        reply = await self.app.dispatcher.handle(ActionClicked(self.actor(who), place, action))
        await self.app.worker.drain()
        assert isinstance(reply, Respond)
        return reply.message.text

    async def advance_to(self, when: datetime) -> None:
        await self.app.advance_to(when)

    def channel_texts(self) -> list[str]:
        return [s.message.text for s in self.adapter.sent if s.kind == "send"]


async def started(url_or_db: str | Database, clock: FakeClock) -> Bot:
    db = Database(url_or_db) if isinstance(url_or_db, str) else url_or_db
    bot = Bot(db, clock)
    await bot.app.start()
    return bot


async def setup_series(bot: Bot, **extra: str) -> None:
    await bot.cmd("ana", "setup", name="Circle", timezone="America/New_York")
    params = {
        "schedule": "monthly on the first Tuesday at 18:30",
        "title": "Monthly CoP",
        "duration": "90",
    } | extra
    text = await bot.cmd("ana", "meeting series", **params)
    assert text.startswith("Series 1 created"), text


# -- restarts -----------------------------------------------------------------------------------


async def test_reminder_due_during_downtime_is_sent_once_and_marked_late(tmp_path, caplog) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    clock = FakeClock(ny(2026, 11, 10, 9, 0))
    bot = await started(url, clock)
    await setup_series(bot)
    await bot.press("cara", ActionId("rsvp", "going", 1))
    await bot.advance_to(ny(2026, 11, 25, 9, 0))
    assert [t.split(" When")[0] for t in bot.channel_texts()] == [
        "New meetings: Monthly CoP, monthly on the first Tuesday at 18:30 (America/New_York).",
        "Reminder: Monthly CoP starts in 1 week.",
    ]
    await bot.app.stop()
    await bot.db.dispose()

    # Down from 25 Nov until 17:50 on the day: the 1-day and 1-hour reminders fell due meanwhile.
    clock.set(ny(2026, 12, 1, 17, 50))
    caplog.set_level(logging.INFO)
    bot = await started(url, clock)
    await bot.advance_to(clock.now())
    sent = [s for s in bot.adapter.sent if s.kind == "send"]
    assert len(sent) == 1
    reminder = sent[0].message
    # Sent at 17:50 for 18:30: the time to the start as it is, and late in the headline.
    late = "Reminder: Monthly CoP starts in 40 minutes — sent late because circlebot was offline."
    assert reminder.text.startswith(late)
    rendered = str(reminder.blocks)
    assert late in rendered
    assert "Going: " in rendered and "cara" in rendered
    assert "superseded by the PT1H reminder" in caplog.text  # the 1-day one is not sent late
    await bot.advance_to(ny(2026, 12, 1, 18, 29))
    assert len([s for s in bot.adapter.sent if s.kind == "send"]) == 1
    await bot.app.stop()
    await bot.db.dispose()

    # Another restart sends nothing again.
    bot = await started(url, clock)
    await bot.advance_to(ny(2026, 12, 1, 18, 29))
    assert bot.adapter.sent == []
    await bot.app.stop()
    await bot.db.dispose()


async def test_reminder_due_during_downtime_is_skipped_after_the_meeting_started(
    tmp_path, caplog
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    clock = FakeClock(ny(2026, 11, 10, 9, 0))
    bot = await started(url, clock)
    await setup_series(bot)
    await bot.app.stop()
    await bot.db.dispose()

    clock.set(ny(2026, 12, 1, 18, 45))  # the meeting started a quarter of an hour ago
    caplog.set_level(logging.INFO)
    bot = await started(url, clock)
    await bot.advance_to(clock.now())
    assert bot.adapter.sent == []
    assert "reminder:1:PT1H skipped: meeting 1 started" in caplog.text
    assert "reminder:1:P1D skipped: meeting 1 started" in caplog.text
    # The meeting is still on: its start hook fires late, its end hook on time.
    assert bot.hooks == [("meeting.start", 1, ny(2026, 12, 1, 18, 45))]
    await bot.advance_to(ny(2026, 12, 2))
    assert bot.hooks[1] == ("meeting.end", 1, ny(2026, 12, 1, 20, 0))
    assert [s.message.text.split(".")[0] for s in bot.adapter.sent] == ["Monthly CoP has ended"]
    await bot.app.stop()
    await bot.db.dispose()


# -- hooks, materialising, topics ---------------------------------------------------------------


async def test_start_and_end_hooks_fire_and_three_meetings_stay_materialised(memory_db) -> None:
    clock = FakeClock(ny(2026, 11, 10, 9, 0))
    bot = await started(memory_db, clock)
    await setup_series(bot)
    await bot.advance_to(ny(2027, 1, 6))
    assert bot.hooks == [
        ("meeting.start", 1, DEC_1),
        ("meeting.end", 1, DEC_1 + timedelta(minutes=90)),
        ("meeting.start", 2, ny(2027, 1, 5, 18, 30)),
        ("meeting.end", 2, ny(2027, 1, 5, 20, 0)),
    ]
    async with memory_db.session() as session:
        upcoming = (
            (await session.execute(select(Meeting).where(Meeting.starts_at > clock.now())))
            .scalars()
            .all()
        )
    assert [m.starts_at for m in upcoming] == [
        ny(2027, 2, 2, 18, 30),
        ny(2027, 3, 2, 18, 30),
        ny(2027, 4, 6, 18, 30),  # EDT again, still 18:30
    ]


async def test_voted_topic_goes_on_the_next_meeting(memory_db) -> None:
    clock = FakeClock(ny(2026, 11, 10, 9, 0))
    bot = await started(memory_db, clock)
    await bot.cmd("ana", "setup", name="Circle", timezone="America/New_York")
    async with memory_db.session() as session:
        community = (await session.execute(select(Community))).scalar_one()
        community.next_topic = "Outdoor play"
        session.add(community)
    await bot.cmd("ana", "meeting series", schedule="monthly on the first Tuesday at 18:30")
    async with background(bot.app.services) as ctx:
        await ctx.emit("topic.chosen", TopicChosen(1, "Transitions"))
    async with memory_db.session() as session:
        meetings = (await session.execute(select(Meeting).order_by(Meeting.starts_at))).scalars()
        assert [m.topic for m in meetings] == ["Outdoor play", "Transitions", None]
        assert (await session.get(Community, 1)).next_topic is None  # type: ignore[union-attr]
    agenda = await bot.cmd("cara", "meeting agenda", meeting="2")
    assert "Topic: Transitions" in agenda


# -- calendar files -----------------------------------------------------------------------------


def expand(ics: bytes, count: int) -> list[datetime]:
    """The series' first `count` instants, read straight from the .ics (RRULE minus EXDATE)."""
    events = Calendar.from_ical(ics).events
    master = next(e for e in events if "RECURRENCE-ID" not in e)
    rules = rruleset()
    rules.rrule(rrulestr(master["RRULE"].to_ical().decode(), dtstart=master.decoded("DTSTART")))
    for exdate in master["EXDATE"].dts if "EXDATE" in master else []:
        rules.exdate(exdate.dt)
    moved = {
        e.decoded("RECURRENCE-ID"): e.decoded("DTSTART") for e in events if "RECURRENCE-ID" in e
    }
    out = []
    for instant in rules:
        out.append(moved.get(instant, instant).astimezone(UTC))
        if len(out) == count:
            break
    return out


async def test_ics_for_a_meeting_and_the_series_parse_back_to_the_same_instants(memory_db) -> None:
    clock = FakeClock(ny(2026, 9, 2, 9, 0))
    bot = await started(memory_db, clock)
    await setup_series(bot, link="https://zoom.us/j/123")
    await bot.cmd("ana", "meeting cancel", meeting="2")  # 3 Nov, just after the fall change
    await bot.cmd("ana", "meeting move", meeting="3", when="2026-12-08 18:00")

    one = (await bot.reply("cara", "meeting ics", meeting="1")).message
    [file] = [b for b in one.blocks if isinstance(b, File)]
    assert file.filename == "meeting-1.ics" and file.mime == "text/calendar"
    assert parse_instants(file.content) == [ny(2026, 10, 6, 18, 30)]
    [event] = Calendar.from_ical(file.content).events
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=90)
    assert str(event["URL"]) == "https://zoom.us/j/123"
    assert "VTIMEZONE" in file.content.decode()

    cancelled = (await bot.reply("cara", "meeting ics", meeting="2")).message
    [file] = [b for b in cancelled.blocks if isinstance(b, File)]
    assert Calendar.from_ical(file.content).events[0]["STATUS"] == "CANCELLED"

    series = (await bot.reply("cara", "meeting ics", series="1")).message
    [file] = [b for b in series.blocks if isinstance(b, File)]
    assert file.filename == "series-1.ics"
    cal = Calendar.from_ical(file.content)
    assert [tz["TZID"] for tz in cal.timezones] == ["America/New_York"]
    expected = [
        ny(2026, 10, 6, 18, 30),
        ny(2026, 12, 8, 18, 0),  # moved from 1 Dec
        ny(2027, 1, 5, 18, 30),
        ny(2027, 2, 2, 18, 30),
        ny(2027, 3, 2, 18, 30),
        ny(2027, 4, 6, 18, 30),  # after the spring change, still 18:30
    ]
    assert expand(file.content, 6) == [t.astimezone(UTC) for t in expected]
    master = cal.events[0]
    assert [d.dt for d in master["EXDATE"].dts] == [ny(2026, 11, 3, 18, 30)]

    # One meeting's file stands alone: its own UID, no RECURRENCE-ID of a series it lacks.
    [single] = Calendar.from_ical(next(b for b in one.blocks if isinstance(b, File)).content).events
    assert str(single["UID"]) != str(master["UID"])
    assert "RECURRENCE-ID" not in single
    moved = (await bot.reply("cara", "meeting ics", meeting="3")).message
    [moved_event] = Calendar.from_ical(
        next(b for b in moved.blocks if isinstance(b, File)).content
    ).events
    assert "RECURRENCE-ID" not in moved_event
    assert moved_event.decoded("DTSTART") == ny(2026, 12, 8, 18, 0)


# -- attendance ---------------------------------------------------------------------------------


async def test_attendance_is_stored_with_the_meeting_length(memory_db) -> None:
    clock = FakeClock(ny(2026, 11, 10, 9, 0))
    bot = await started(memory_db, clock)
    await setup_series(bot)
    await bot.cmd("ana", "facilitator add", user="ben")
    for who in ("cara", "dan", "eve"):
        await bot.cmd(who, "join")
    assert await bot.press("cara", ActionId("attend", "mark", 1)) == (
        "Meeting 1 has not started yet; mark attendance once it has."
    )
    await bot.advance_to(ny(2026, 12, 1, 21, 0))
    assert bot.channel_texts()[-1].startswith("Monthly CoP has ended.")
    assert await bot.press("cara", ActionId("attend", "mark", 1)) == (
        "Recorded as attended, meeting 1 (90 minutes): cara."
    )
    assert await bot.cmd("dan", "meeting attended", users="@eve") == (
        "Only a facilitator can mark others as attended."
    )
    assert await bot.cmd("ben", "meeting attended", meeting="1", users="@dan <@eve> @cara") == (
        "Recorded as attended, meeting 1 (90 minutes): dan, eve. "
        "Already recorded for meeting 1: cara."
    )
    assert await bot.cmd("ben", "meeting attended", users="@zed") == (
        "I don't know @zed here yet; they can join with /cop join first."
    )
    async with memory_db.session() as session:
        rows = (await session.execute(select(MeetingAttendance))).scalars().all()
    assert sorted((r.user_id, r.minutes, r.marked_by) for r in rows) == [
        ("cara", 90, "cara"),
        ("dan", 90, "ben"),
        ("eve", 90, "ben"),
    ]
    report = await bot.cmd("ben", "meeting attendance")
    assert report.startswith("Attendance of meeting 1 (Monthly CoP, 90 minutes): 3 people.")


# -- storage on both backends -------------------------------------------------------------------


async def test_one_rsvp_per_member_and_meeting(db) -> None:
    clock = FakeClock(ny(2026, 11, 10, 9, 0))
    bot = await started(db, clock)
    await setup_series(bot)
    assert await bot.press("cara", ActionId("rsvp", "going", 1)) == (
        "Your answer for Monthly CoP on Tue 1 Dec 2026, 18:30 EST: Going."
    )
    await bot.press("cara", ActionId("rsvp", "maybe", 1), dm=True)
    async with db.session() as session:
        rows = (await session.execute(select(MeetingRsvp))).scalars().all()
        assert [(r.meeting_id, r.answer) for r in rows] == [(1, "maybe")]
        member = (
            await session.execute(select(Member).where(Member.user_id == "cara"))
        ).scalar_one()
    # The card in the channel shows the counts, edited in place.
    edits = [s for s in bot.adapter.sent if s.kind == "edit"]
    assert "Going 0 · Maybe 1 · Can't go 0 · meeting 1" in str(edits[-1].message.blocks)
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            session.add(MeetingRsvp(community_id=1, meeting_id=1, member_id=member.id, answer="no"))
    await bot.app.stop()


async def test_buttons_of_another_workspace_are_refused(memory_db) -> None:
    clock = FakeClock(ny(2026, 11, 10, 9, 0))
    bot = await started(memory_db, clock)
    await setup_series(bot)
    stranger = Actor(UserRef("fake", "W2", "zed"), "zed")
    reply = await bot.app.dispatcher.handle(
        ActionClicked(stranger, Place(Conv("fake", "W2", "C9")), ActionId("rsvp", "going", 1))
    )
    assert isinstance(reply, Respond)
    assert reply.message.text == "That button belongs to a community you are not part of."


# -- pure helpers -------------------------------------------------------------------------------


def test_reminder_offsets_and_times() -> None:
    assert [offset_iso(o) for o in parse_offsets("7d 1d 1h")] == ["P7D", "P1D", "PT1H"]
    assert [offset_iso(o) for o in parse_offsets("1h, 1d12h 30m")] == ["P1DT12H", "PT1H", "PT30M"]
    assert parse_offsets("none") == []
    for bad in ("soon", "0h", "61d", "1d 2d 3d 4d 5d 6d", "1x"):
        with pytest.raises(InputError):
            parse_offsets(bad)
    now = datetime(2026, 11, 2, tzinfo=UTC)
    # 01:30 on 1 Nov 2026 happens twice in New York: the first (daylight) one is meant.
    assert parse_when("2026-11-01 01:30", "America/New_York", now - timedelta(days=5)) == datetime(
        2026, 11, 1, 5, 30, tzinfo=UTC
    )
    with pytest.raises(InputError):
        parse_when("2027-03-14 02:30", "America/New_York", now)
