"""iCalendar (.ics) files for one meeting or a whole series, so members can add them to calendars.

One meeting's file stands alone: a VEVENT with the meeting's own UID and no RECURRENCE-ID, so
a calendar that never imported the series still shows it (an occurrence of a series the file
does not contain is dropped or mis-shown by many calendar apps). The series file carries each
materialised meeting's agenda in an overriding VEVENT (RECURRENCE-ID) of its occurrence.
Times are written in the circle's zone (DTSTART;TZID=...) with a matching VTIMEZONE, so calendar
apps keep meetings on local wall-clock time across DST changes. Pure: returns bytes, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vRecur

from bot.schedule import Schedule

__all__ = ["meeting_ics", "parse_instants", "series_ics"]

PRODID = "-//circlebot//circlebot//EN"


def meeting_ics(
    uid: str,
    title: str,
    start: datetime,
    end: datetime,
    tz: str,
    location: str | None,
    description: str | None,
    url: str | None,
    cancelled: bool = False,
    sequence: int = 0,
    *,
    stamp: datetime | None = None,
) -> bytes:
    """One standalone VEVENT (METHOD:PUBLISH, or METHOD:CANCEL + STATUS:CANCELLED when
    ``cancelled``): no RRULE, no RECURRENCE-ID, so it imports on its own.

    ``uid`` must be the meeting's own (not its series'). Bump ``sequence`` whenever a meeting
    already sent out changes. ``stamp`` (DTSTAMP) defaults to now.
    """
    zone = ZoneInfo(tz)
    _require_aware(start, end)
    if end <= start:
        raise ValueError("end must be after start")
    cal = _calendar("CANCEL" if cancelled else "PUBLISH")
    event = _event(uid, title, start.astimezone(zone), end.astimezone(zone), stamp)
    _describe(event, location, description, url)
    event.add("sequence", sequence)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    cal.add_component(event)
    cal.add_missing_timezones(date(start.year - 1, 1, 1), date(end.year + 2, 1, 1))
    ical: bytes = cal.to_ical()  # icalendar leaves it untyped
    return ical


def series_ics(
    uid: str,
    title: str,
    schedule: Schedule,
    first_start: datetime,
    duration: timedelta,
    location: str | None,
    description: str | None,
    url: str | None,
    exdates: Iterable[datetime] = (),
    moved: Iterable[tuple[datetime, datetime]] = (),
    *,
    agendas: Mapping[datetime, str] | None = None,
    sequence: int = 0,
    stamp: datetime | None = None,
) -> bytes:
    """A recurring VEVENT for ``schedule`` with EXDATEs for cancelled meetings and one overriding
    VEVENT (RECURRENCE-ID) per ``moved`` (original start, new start) pair and per occurrence
    in ``agendas`` (original start -> that meeting's description, its agenda).

    ``first_start`` must be an occurrence of ``schedule``; it becomes the series DTSTART.
    """
    zone = ZoneInfo(schedule.tz)
    exdates, moved = list(exdates), list(moved)
    agendas = dict(agendas or {})
    _require_aware(*agendas)
    _require_aware(first_start, *exdates, *(t for pair in moved for t in pair))
    if duration <= timedelta(0):
        raise ValueError("duration must be positive")
    if schedule.occurrences(first_start - timedelta(microseconds=1), 1) != [first_start]:
        raise ValueError(
            f"first_start {first_start.isoformat()} is not an occurrence of the schedule"
        )
    if {t.astimezone(UTC) for t in exdates} & {orig.astimezone(UTC) for orig, _ in moved}:
        raise ValueError("an occurrence cannot be both cancelled and moved")

    start = first_start.astimezone(zone)
    cal = _calendar("PUBLISH")
    master = _event(uid, title, start, start + duration, stamp)
    _describe(master, location, description, url)
    master.add("sequence", sequence)
    if schedule.rrule is not None:
        rule = vRecur.from_ical(schedule.rrule)
        if schedule.until is not None:
            # RFC 5545: UNTIL must be UTC when DTSTART has a TZID; the until date is inclusive.
            last = datetime.combine(schedule.until, time(23, 59, 59), tzinfo=zone)
            rule["UNTIL"] = [last.astimezone(UTC)]
        master.add("rrule", rule)
    if exdates:
        master.add("exdate", [t.astimezone(zone) for t in exdates])
    cal.add_component(master)

    cancelled = {t.astimezone(UTC) for t in exdates}
    starts = {orig.astimezone(UTC): (orig, new) for orig, new in moved}
    for original in agendas:
        if original.astimezone(UTC) not in cancelled:
            starts.setdefault(original.astimezone(UTC), (original, original))
    described = {orig.astimezone(UTC): text for orig, text in agendas.items()}
    for key, (original, new_start) in sorted(starts.items()):
        new_local = new_start.astimezone(zone)
        override = _event(uid, title, new_local, new_local + duration, stamp)
        _describe(override, location, described.get(key, description), url)
        override.add("recurrence-id", original.astimezone(zone))
        override.add("sequence", sequence)
        cal.add_component(override)

    everything = [first_start, *exdates, *(t for pair in moved for t in pair), *agendas]
    last_year = schedule.until.year if schedule.until else first_start.year + 20
    last_year = max(last_year, *(t.astimezone(zone).year for t in everything))
    first_year = min(t.astimezone(zone).year for t in everything)
    cal.add_missing_timezones(date(first_year - 1, 1, 1), date(last_year + 2, 1, 1))
    ical: bytes = cal.to_ical()  # icalendar leaves it untyped
    return ical


def parse_instants(ics: bytes) -> list[datetime]:
    """DTSTART of each VEVENT in ``ics`` (file order) as an aware UTC datetime."""
    instants = []
    for event in Calendar.from_ical(ics).walk("VEVENT"):
        start = event.decoded("DTSTART")
        if not isinstance(start, datetime) or start.tzinfo is None:
            raise ValueError(f"VEVENT {event.get('UID')} has no zoned DTSTART")
        instants.append(start.astimezone(UTC))
    return instants


def _calendar(method: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    return cal


def _event(uid: str, title: str, start: datetime, end: datetime, stamp: datetime | None) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", (stamp or datetime.now(UTC)).astimezone(UTC))
    event.add("summary", title)
    event.add("dtstart", start)
    event.add("dtend", end)
    return event


def _describe(event: Event, location: str | None, description: str | None, url: str | None) -> None:
    for name, value in (("location", location), ("description", description), ("url", url)):
        if value:
            event.add(name, value)


def _require_aware(*values: datetime) -> None:
    for value in values:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("datetimes must be timezone-aware")
