"""Deadline grammar for polls and topic intake: what a facilitator types into an instant.

Pure: no I/O and no clock reads (``now`` is passed in). Wall-clock times are read in the
community's IANA zone and returned as aware UTC instants.

Accepted (case-insensitive)::

    in 3 days | in 2h | in 1 day 12 hours | in 90 minutes | in 1w
    2026-12-01 17:00 | 2026-12-01T17:00 | 2026-12-01          (a bare date means 23:59)
    friday 17:00 | fri 5pm | friday at 17:30 | friday          (the next such day; 23:59)
    today 18:00 | tomorrow 9am | tomorrow                     (23:59)
    17:00                                                     (today, or tomorrow if past)

A local time that does not exist (skipped by a daylight-saving change) is refused; one that
exists twice (the hour repeated in autumn) means its first occurrence.

Reminder offsets (`parse_offset`): ``1 day before``, ``2h``, ``90 minutes before``, ``1d12h``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.text import in_range

__all__ = ["DeadlineError", "parse_deadline", "parse_offset"]

MAX_AHEAD = timedelta(days=366)
END_OF_DAY = time(23, 59)

_UNIT = {
    "w": "weeks",
    "wk": "weeks",
    "wks": "weeks",
    "week": "weeks",
    "weeks": "weeks",
    "d": "days",
    "day": "days",
    "days": "days",
    "h": "hours",
    "hr": "hours",
    "hrs": "hours",
    "hour": "hours",
    "hours": "hours",
    "m": "minutes",
    "min": "minutes",
    "mins": "minutes",
    "minute": "minutes",
    "minutes": "minutes",
}
_AMOUNT = re.compile(r"(\d{1,4})\s*([a-z]+)")
_WEEKDAYS = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tue": 1,
    "tues": 1,
    "wednesday": 2,
    "wed": 2,
    "thursday": 3,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
}
_TIME = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm)?$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[t\s]+(.+))?$")


class DeadlineError(ValueError):
    """Text that is not a usable deadline; `code` names why, for a translated sentence.

    Codes: ``unreadable``, ``past``, ``too_far``, ``no_such_time``, ``out_of_range`` (a date
    outside the years circlebot works with, `bot.text.EARLIEST`..`LATEST`).
    """

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _duration(text: str) -> timedelta:
    """``3 days``, ``1d12h``, ``2 hours 30 minutes`` -> timedelta; DeadlineError otherwise."""
    text = text.replace(",", " ").replace(" and ", " ").strip()
    if not text or _AMOUNT.sub("", text).strip():
        raise DeadlineError("unreadable")
    total = timedelta()
    for amount, unit in _AMOUNT.findall(text):
        if unit not in _UNIT:
            raise DeadlineError("unreadable")
        total += timedelta(**{_UNIT[unit]: int(amount)})
    if total <= timedelta(0):
        raise DeadlineError("unreadable")
    return total


def _clock_time(text: str) -> time:
    """``17:00``, ``5pm``, ``5:30 pm``, ``17h``, ``noon``, ``midnight`` -> time."""
    text = text.strip()
    if text == "noon":
        return time(12, 0)
    if text == "midnight":
        return time(0, 0)
    m = _TIME.match(text)
    if not m:
        raise DeadlineError("unreadable")
    hour, minute, meridiem = int(m.group(1)), int(m.group(2) or 0), m.group(3)
    if meridiem:
        if not 1 <= hour <= 12:
            raise DeadlineError("unreadable")
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour > 23 or minute > 59:
        raise DeadlineError("unreadable")
    return time(hour, minute)


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock `day` `at` in `zone`; refuses times skipped by DST."""
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=zone, fold=0)
    back = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if back != naive:
        raise DeadlineError("no_such_time")
    return aware.astimezone(UTC)


def _parse(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    if text.startswith("in "):
        return now + _duration(text[3:])
    m = _DATE.match(text)
    if m:
        try:
            day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            raise DeadlineError("unreadable") from None
        if not in_range(day):  # 9999-12-31 would overflow on the way to UTC
            raise DeadlineError("out_of_range")
        at = _clock_time(m.group(4)) if m.group(4) else END_OF_DAY
        return _local(day, at, zone)
    words = text.split(None, 1)
    head, rest = words[0], (words[1] if len(words) > 1 else "")
    if rest.startswith("at "):
        rest = rest[3:]
    today = now.astimezone(zone).date()
    if head == "next" and rest.split(None, 1)[0] in _WEEKDAYS:
        parts = rest.split(None, 1)
        head, rest = parts[0], (parts[1] if len(parts) > 1 else "")
        rest = rest[3:] if rest.startswith("at ") else rest
    if head in ("today", "tomorrow"):
        day = today + timedelta(days=1 if head == "tomorrow" else 0)
        return _local(day, _clock_time(rest) if rest else END_OF_DAY, zone)
    if head in _WEEKDAYS:
        at = _clock_time(rest) if rest else END_OF_DAY
        ahead = (_WEEKDAYS[head] - today.weekday()) % 7
        when = _local(today + timedelta(days=ahead), at, zone)
        if when <= now:  # today's already past: the same weekday next week
            when = _local(today + timedelta(days=ahead + 7), at, zone)
        return when
    at = _clock_time(text)
    when = _local(today, at, zone)
    return when if when > now else _local(today + timedelta(days=1), at, zone)


def parse_deadline(
    text: str, now: datetime, zone: str, *, max_ahead: timedelta = MAX_AHEAD
) -> datetime:
    """The instant `text` means, read in `zone` relative to `now`; aware UTC.

    Raises `DeadlineError` when it cannot be read, is not in the future, is further ahead
    than `max_ahead`, or names a local time that does not exist.

    >>> parse_deadline("in 3 days", datetime(2026, 11, 2, 14, tzinfo=UTC), "UTC").day
    5
    """
    if now.tzinfo is None:
        raise ValueError("now must be aware")
    cleaned = " ".join(text.lower().split())
    if not cleaned or len(cleaned) > 60:
        raise DeadlineError("unreadable")
    when = _parse(cleaned, now.astimezone(UTC), ZoneInfo(zone))
    if when <= now:
        raise DeadlineError("past")
    if when - now > max_ahead:
        raise DeadlineError("too_far")
    return when.astimezone(UTC)


def parse_offset(text: str) -> timedelta:
    """A reminder offset before a deadline: ``1 day before``, ``2h``, ``1d12h`` -> timedelta."""
    cleaned = " ".join(text.lower().split())
    if cleaned.endswith(" before"):
        cleaned = cleaned[: -len(" before")]
    if len(cleaned) > 40:
        raise DeadlineError("unreadable")
    return _duration(cleaned)
