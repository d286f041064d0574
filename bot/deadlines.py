"""Deadline grammar for polls and topic intake: what a facilitator types into an instant.

Pure: no I/O and no clock reads (``now`` is passed in). Wall-clock times are read in the
community's IANA zone and returned as aware UTC instants.

Accepted (case-insensitive)::

    in 3 days | in 2h | in 1 day 12 hours | in 90 minutes | in 1w
    2026-12-01 17:00 | 2026-12-01T17:00 | 2026-12-01          (a bare date means 23:59)
    friday 17:00 | fri 5pm | friday at 17:30 | friday          (the next such day; 23:59)
    today 18:00 | tomorrow 9am | tomorrow                     (23:59)
    day after tomorrow 10:00 | the day after tomorrow
    march 15 10:00 | 15 march at 10:00 | march 15th, 2027     (no year: the next 15 March)
    17:00 | 17h | 5:30 p.m. | noon | midnight                 (today, or tomorrow if past)

Spanish too, whatever the community's language (`bot.time_words` rewrites it into these
words): ``en 3 días``, ``el viernes a las 17:00``, ``mañana 9am``, ``hoy a las 18:30``,
``pasado mañana``, ``el 15 de marzo a las 10:00``, ``a las 6:30 p. m.``, ``18h30``; offsets
``1 día antes``, ``2 horas antes``. Accents are optional.

A local time that does not exist (skipped by a daylight-saving change) is refused; one that
exists twice (the hour repeated in autumn) means its first occurrence.

Reminder offsets (`parse_offset`): ``1 day before``, ``2h``, ``90 minutes before``, ``1d12h``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.text import in_range
from bot.time_words import ENGLISH_MONTHS, deadline_words, fold, offset_words

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
_TIME = re.compile(r"^(\d{1,2})(?:[:.h](\d{2})|h)?\s*(am|pm)?$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[t\s]+(.+))?$")
# "5:30 p.m.", "6:30 p. m." -> "5:30pm".
_MERIDIEM = re.compile(r"(?<=\d)\s*([ap])\.\s*m\.?(?=\s|$)")
_AFTER_TOMORROW = re.compile(r"^(?:the )?day after tomorrow\b\s*")
# "march 15", "15 march", "march 15th, 2027", "15 march 2027 at 10:00".
_TEXT_DATE = re.compile(
    r"^(?:(?P<d1>\d{1,2})(?:st|nd|rd|th)?\s+(?P<m1>[a-z]+)\.?|(?P<m2>[a-z]+)\.?\s+(?P<d2>\d{1,2})"
    r"(?:st|nd|rd|th)?)(?:,?\s+(?P<y>\d{4}))?(?:,?\s+(?P<rest>.+))?$"
)


class DeadlineError(ValueError):
    """Text that is not a usable deadline; `code` names why, for a translated sentence.

    Codes: ``unreadable``, ``past``, ``too_far``, ``no_such_time``, ``no_such_date`` (such as
    31 February), ``out_of_range`` (a date outside the years circlebot works with,
    `bot.text.EARLIEST`..`LATEST`).
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


def _text_date(m: re.Match[str], now: datetime, zone: ZoneInfo) -> datetime:
    """ "march 15 [2027] [at 10:00]"; without a year, the next such day whose time is ahead."""
    month = ENGLISH_MONTHS[m["m1"] or m["m2"]]
    day_number = int(m["d1"] or m["d2"])
    rest = m["rest"] or ""
    at = _clock_time(rest.removeprefix("at ")) if rest else END_OF_DAY
    if m["y"]:
        years = [int(m["y"])]
    else:
        this_year = now.astimezone(zone).year
        years = list(range(this_year, this_year + 9))  # 29 February comes back within 8 years
    if not 1 <= day_number <= 31 or not _exists(2000, month, day_number):  # 2000: a leap year
        raise DeadlineError("no_such_date")
    for year in years:
        if not _exists(year, month, day_number):
            continue
        day = date(year, month, day_number)
        if not in_range(day):
            raise DeadlineError("out_of_range")
        when = _local(day, at, zone)
        if m["y"] or when > now:
            return when
    raise DeadlineError("no_such_date")  # a year was given and that year has no such day


def _exists(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _parse(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    if text.startswith("in "):
        return now + _duration(text[3:])
    m = _DATE.match(text)
    if m:
        if not 1 <= int(m.group(2)) <= 12:
            raise DeadlineError("unreadable")
        try:
            day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            raise DeadlineError("no_such_date") from None
        if not in_range(day):  # 9999-12-31 would overflow on the way to UTC
            raise DeadlineError("out_of_range")
        at = _clock_time(m.group(4)) if m.group(4) else END_OF_DAY
        return _local(day, at, zone)
    m = _TEXT_DATE.match(text)
    if m and (m["m1"] or m["m2"]) in ENGLISH_MONTHS:
        return _text_date(m, now, zone)
    today = now.astimezone(zone).date()
    if m := _AFTER_TOMORROW.match(text):
        rest = text[m.end() :].removeprefix("at ")
        return _local(today + timedelta(days=2), _clock_time(rest) if rest else END_OF_DAY, zone)
    words = text.split(None, 1)
    head, rest = words[0], (words[1] if len(words) > 1 else "")
    if rest.startswith("at "):
        rest = rest[3:]
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
    cleaned = fold(text)
    if not cleaned or len(cleaned) > 60:
        raise DeadlineError("unreadable")
    english = _MERIDIEM.sub(r"\1m", deadline_words(cleaned))
    when = _parse(english, now.astimezone(UTC), ZoneInfo(zone))
    if when <= now:
        raise DeadlineError("past")
    if when - now > max_ahead:
        raise DeadlineError("too_far")
    return when.astimezone(UTC)


def parse_offset(text: str) -> timedelta:
    """A reminder offset before a deadline: ``1 day before``, ``2h``, ``1d12h``, ``1 día antes``
    -> timedelta."""
    cleaned = offset_words(text)
    if cleaned.endswith(" before"):
        cleaned = cleaned[: -len(" before")]
    if len(cleaned) > 40:
        raise DeadlineError("unreadable")
    return _duration(cleaned)
