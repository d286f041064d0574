from datetime import UTC, datetime, timedelta

import pytest
from dateutil.rrule import rruleset, rrulestr
from icalendar import Calendar

from bot.features.meetings.ics import meeting_ics, parse_instants, series_ics
from bot.schedule import parse_schedule

NY = "America/New_York"
STAMP = datetime(2026, 9, 1, 12, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def only_timezone(cal: Calendar):
    [vtimezone] = cal.timezones
    return vtimezone


@pytest.mark.parametrize(
    ("start", "tz", "wall"),
    [
        (utc(2026, 10, 6, 22, 30), NY, "20261006T183000"),  # EDT
        (utc(2026, 11, 3, 23, 30), NY, "20261103T183000"),  # EST
        (utc(2026, 10, 28, 18), "Europe/Berlin", "20261028T190000"),
        (utc(2027, 1, 12, 8), "Australia/Sydney", "20270112T190000"),
    ],
)
def test_meeting_ics_round_trips_with_tzid_and_vtimezone(start, tz, wall):
    ics = meeting_ics(
        "m-1@circlebot",
        "Reflective practice circle",
        start,
        start + timedelta(minutes=90),
        tz,
        "Room 4, Central Library",
        "Bring one photo of a child's block play.",
        "https://meet.example/abc",
        stamp=STAMP,
    )
    assert b"DTSTART;TZID=" + tz.encode() + b":" + wall.encode() in ics
    cal = Calendar.from_ical(ics)
    assert cal["METHOD"] == "PUBLISH"
    [event] = cal.events
    assert event["DTSTART"].params["TZID"] == tz
    assert event["DTEND"].params["TZID"] == tz
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=90)
    assert str(event["UID"]) == "m-1@circlebot"
    assert str(event["SUMMARY"]) == "Reflective practice circle"
    assert str(event["LOCATION"]) == "Room 4, Central Library"
    assert str(event["DESCRIPTION"]) == "Bring one photo of a child's block play."
    assert str(event["URL"]) == "https://meet.example/abc"
    assert event["STATUS"] == "CONFIRMED"
    assert event.decoded("SEQUENCE") == 0
    assert event.decoded("DTSTAMP") == STAMP
    assert parse_instants(ics) == [start]

    # The embedded VTIMEZONE itself (not the system tz database) gives the right offset.
    vtimezone = only_timezone(cal)
    assert vtimezone["TZID"] == tz
    own_tz = vtimezone.to_tz(lookup_tzid=False)
    naive = event.decoded("DTSTART").replace(tzinfo=None)
    assert naive.replace(tzinfo=own_tz).astimezone(UTC) == start


def test_cancelled_meeting_uses_cancel_method_and_status():
    start = utc(2026, 12, 8, 23, 30)
    ics = meeting_ics(
        "m-2@circlebot",
        "Circle",
        start,
        start + timedelta(hours=1),
        NY,
        None,
        None,
        None,
        cancelled=True,
        sequence=3,
        stamp=STAMP,
    )
    cal = Calendar.from_ical(ics)
    assert cal["METHOD"] == "CANCEL"
    [event] = cal.events
    assert event["STATUS"] == "CANCELLED"
    assert event.decoded("SEQUENCE") == 3
    assert "LOCATION" not in event and "DESCRIPTION" not in event and "URL" not in event
    assert parse_instants(ics) == [start]


def test_meeting_ics_rejects_naive_and_backwards_times():
    start = utc(2026, 12, 8, 23, 30)
    with pytest.raises(ValueError):
        meeting_ics("u", "t", datetime(2026, 12, 8, 18, 30), start, NY, None, None, None)
    with pytest.raises(ValueError):
        meeting_ics("u", "t", start, start - timedelta(hours=1), NY, None, None, None)


def expand(ics: bytes) -> list[datetime]:
    """Expand the series master's RRULE minus EXDATE straight from the .ics text, in UTC."""
    master = next(e for e in Calendar.from_ical(ics).events if "RECURRENCE-ID" not in e)
    rules = rruleset()
    rules.rrule(rrulestr(master["RRULE"].to_ical().decode(), dtstart=master.decoded("DTSTART")))
    for exdate in master["EXDATE"].dts if "EXDATE" in master else []:
        rules.exdate(exdate.dt)
    return [t.astimezone(UTC) for t in rules]


def test_series_ics_round_trips_with_exdate_and_moved_occurrence():
    schedule = parse_schedule("monthly on the first Tuesday at 18:30 until 2027-06-30", NY)
    occurrences = schedule.occurrences(utc(2026, 10, 1), 20)
    assert len(occurrences) == 9  # October 2026 to June 2027
    cancelled = occurrences[2]  # 2026-12-01
    original, new_start = occurrences[3], occurrences[3] + timedelta(days=7)  # 2027-01-05 -> 01-12
    ics = series_ics(
        "s-1@circlebot",
        "Circle",
        schedule,
        occurrences[0],
        timedelta(minutes=90),
        "Room 4",
        "Monthly circle",
        None,
        exdates=[cancelled],
        moved=[(original, new_start)],
        stamp=STAMP,
    )
    cal = Calendar.from_ical(ics)
    assert cal["METHOD"] == "PUBLISH"
    assert only_timezone(cal)["TZID"] == NY
    master, override = cal.events
    assert master["DTSTART"].params["TZID"] == NY
    assert master["RRULE"].to_ical() == b"FREQ=MONTHLY;UNTIL=20270701T035959Z;BYDAY=+1TU"

    [exdate] = master["EXDATE"].dts
    assert exdate.params["TZID"] == NY
    assert exdate.dt == cancelled

    assert str(override["UID"]) == str(master["UID"]) == "s-1@circlebot"
    assert override["RECURRENCE-ID"].params["TZID"] == NY
    assert override.decoded("RECURRENCE-ID") == original
    assert override.decoded("DTEND") - override.decoded("DTSTART") == timedelta(minutes=90)

    assert parse_instants(ics) == [occurrences[0], new_start]
    # The .ics expands to the schedule's own instants (local 18:30 across both DST changes),
    # with the cancelled meeting gone.
    assert expand(ics) == [t for t in occurrences if t != cancelled]


def test_series_ics_in_a_southern_zone_matches_schedule():
    schedule = parse_schedule(
        "every 2 weeks on Wednesday at 19:00 starting 2026-03-04 until 2026-05-31",
        "Australia/Sydney",
    )
    occurrences = schedule.between(utc(2026, 1, 1), utc(2027, 1, 1))
    ics = series_ics(
        "s-2@circlebot",
        "Circle",
        schedule,
        occurrences[0],
        timedelta(hours=1),
        None,
        None,
        None,
        stamp=STAMP,
    )
    assert "EXDATE" not in Calendar.from_ical(ics).events[0]
    assert expand(ics) == occurrences
    # Sydney leaves daylight time on 2026-04-05, so the UTC hour moves while local time stays.
    assert {t.hour for t in occurrences} == {8, 9}


def test_series_ics_for_open_ended_series_has_no_until():
    schedule = parse_schedule("weekly on Monday at 9:00", "Europe/Berlin")
    first = schedule.occurrences(utc(2026, 10, 1), 1)[0]
    ics = series_ics(
        "s-3", "Circle", schedule, first, timedelta(hours=1), None, None, None, stamp=STAMP
    )
    [event] = Calendar.from_ical(ics).events
    assert event["RRULE"].to_ical() == b"FREQ=WEEKLY;BYDAY=MO"
    assert parse_instants(ics) == [utc(2026, 10, 5, 7)]


def test_series_ics_validates_its_inputs():
    schedule = parse_schedule("monthly on the first Tuesday at 18:30", NY)
    first = utc(2026, 10, 6, 22, 30)
    args = ("s", "Circle", schedule)
    with pytest.raises(ValueError, match="not an occurrence"):
        series_ics(*args, first + timedelta(hours=1), timedelta(hours=1), None, None, None)
    with pytest.raises(ValueError, match="both cancelled and moved"):
        series_ics(
            *args,
            first,
            timedelta(hours=1),
            None,
            None,
            None,
            exdates=[first],
            moved=[(first, first + timedelta(days=1))],
        )
    with pytest.raises(ValueError):
        series_ics(*args, first, timedelta(0), None, None, None)


def test_parse_instants_reads_foreign_ics():
    ics = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\n"
        b"BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20260101T000000Z\r\n"
        b"DTSTART;TZID=Europe/Berlin:20261028T190000\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:b\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261029T120000Z\r\nEND:VEVENT\r\n"
        b"END:VCALENDAR\r\n"
    )
    assert parse_instants(ics) == [utc(2026, 10, 28, 18), utc(2026, 10, 29, 12)]
    floating = ics.replace(b"DTSTART:20261029T120000Z", b"DTSTART:20261029T120000")
    with pytest.raises(ValueError):
        parse_instants(floating)
