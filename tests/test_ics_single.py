"""One meeting's .ics stands alone (its own UID, no RECURRENCE-ID); the series file has agendas."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from bot.app import App
from bot.events import Actor, CommandInvoked, ConversationRef, Place, Respond, UserRef
from bot.features.meetings.ics import meeting_ics, series_ics
from bot.ports import FakeClock
from bot.schedule import parse_schedule
from bot.ui import File
from storage.db import Database
from tests.support import RecordingAdapter

NY = ZoneInfo("America/New_York")
CHANNEL = ConversationRef("fake", "W1", "C1")


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


def events(content: bytes) -> list:  # type: ignore[type-arg]
    """The VEVENTs of a file, read by icalendar's strict parser (errors raise)."""
    return list(Calendar.from_ical(content).walk("VEVENT"))


def test_meeting_ics_is_one_standalone_vevent() -> None:
    content = meeting_ics(
        "circlebot-meeting-7@fake",
        "Monthly CoP",
        ny(2026, 12, 8, 18, 0),
        ny(2026, 12, 8, 19, 30),
        "America/New_York",
        "Library",
        "Topic: Outdoor play",
        "https://zoom.us/j/1",
        stamp=ny(2026, 11, 1, 9, 0),
    )
    [event] = events(content)
    assert str(event["UID"]) == "circlebot-meeting-7@fake"
    assert "RECURRENCE-ID" not in event and "RRULE" not in event
    assert event.decoded("DTSTART") == ny(2026, 12, 8, 18, 0)
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert str(event["DESCRIPTION"]) == "Topic: Outdoor play"
    assert str(event["LOCATION"]) == "Library"


def test_series_ics_carries_each_meetings_agenda_in_its_occurrence() -> None:
    schedule = parse_schedule("monthly on the first Tuesday at 18:30", "America/New_York")
    first = ny(2026, 12, 1, 18, 30)
    content = series_ics(
        "circlebot-series-1@fake",
        "Monthly CoP",
        schedule,
        first,
        timedelta(minutes=90),
        None,
        None,
        None,
        exdates=[ny(2027, 2, 2, 18, 30)],
        moved=[(ny(2027, 1, 5, 18, 30), ny(2027, 1, 12, 18, 30))],
        agendas={first: "Topic: Outdoor play", ny(2027, 1, 5, 18, 30): "Topic: Transitions"},
        stamp=ny(2026, 11, 1, 9, 0),
    )
    master, *overrides = events(content)
    assert "RRULE" in master and "RECURRENCE-ID" not in master
    by_occurrence = {o.decoded("RECURRENCE-ID"): o for o in overrides}
    assert set(by_occurrence) == {first, ny(2027, 1, 5, 18, 30)}
    assert str(by_occurrence[first]["DESCRIPTION"]) == "Topic: Outdoor play"
    assert by_occurrence[first].decoded("DTSTART") == first  # not moved: same time
    moved = by_occurrence[ny(2027, 1, 5, 18, 30)]
    assert str(moved["DESCRIPTION"]) == "Topic: Transitions"
    assert moved.decoded("DTSTART") == ny(2027, 1, 12, 18, 30)
    assert {str(e["UID"]) for e in events(content)} == {"circlebot-series-1@fake"}


async def _command(app, who: str, path: str, **params: str) -> Respond:  # type: ignore[no-untyped-def]
    actor = Actor(UserRef("fake", "W1", who), who, is_admin=who == "ana")
    event = CommandInvoked(actor, Place(CHANNEL, "cop"), tuple(path.split()), params)
    reply = await app.dispatcher.handle(event)
    await app.worker.drain()
    assert isinstance(reply, Respond), reply
    assert "Sorry" not in reply.message.text, reply.message.text
    return reply


def _file(reply: Respond) -> bytes:
    [file] = [b for b in reply.message.blocks if isinstance(b, File)]
    assert file.mime == "text/calendar"
    return file.content


async def test_a_moved_meetings_file_imports_alone_with_its_agenda(db: Database) -> None:
    app = App(db, FakeClock(ny(2026, 11, 10, 9, 0)), [RecordingAdapter()], manual=True)
    await app.start()
    await _command(app, "ana", "setup", name="Circle", timezone="America/New_York")
    await _command(
        app,
        "ana",
        "meeting series",
        schedule="monthly on the first Tuesday at 18:30",
        title="Monthly CoP",
        duration="90",
        location="Library",
    )
    await _command(app, "ana", "meeting agenda", meeting="2", topic="Outdoor play")
    await _command(app, "ana", "meeting move", meeting="2", when="2027-01-12 18:00")
    await _command(app, "ana", "meeting cancel", meeting="3")

    single = _file(await _command(app, "cara", "meeting ics", meeting="2"))
    series = _file(await _command(app, "cara", "meeting ics", series="1"))
    [event] = events(single)
    master = events(series)[0]
    assert str(event["UID"]) != str(master["UID"])
    assert "RECURRENCE-ID" not in event and "RRULE" not in event
    assert event.decoded("DTSTART") == ny(2027, 1, 12, 18, 0)  # where it was moved to
    assert event.decoded("DTEND") == ny(2027, 1, 12, 19, 30)
    assert str(event["SUMMARY"]) == "Monthly CoP"
    assert str(event["LOCATION"]) == "Library"
    assert "Topic: Outdoor play" in str(event["DESCRIPTION"])
    assert str(event["STATUS"]) == "CONFIRMED"
    # The same file again has the same UID: importing it twice updates, never duplicates.
    again = events(_file(await _command(app, "cara", "meeting ics", meeting="2")))[0]
    assert str(again["UID"]) == str(event["UID"])

    # The series file carries the agenda of the moved meeting's occurrence.
    override = next(
        e for e in events(series) if e.get("RECURRENCE-ID") and "Outdoor play" in e["DESCRIPTION"]
    )
    assert override.decoded("RECURRENCE-ID") == ny(2027, 1, 5, 18, 30)
    assert override.decoded("DTSTART") == ny(2027, 1, 12, 18, 0)

    # A cancelled meeting's file tells calendars that imported it to drop it.
    [cancelled] = events(_file(await _command(app, "cara", "meeting ics", meeting="3")))
    assert str(cancelled["STATUS"]) == "CANCELLED" and "RECURRENCE-ID" not in cancelled
    await app.stop()
