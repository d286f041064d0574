"""Meeting schedule grammar: parse what a facilitator types into a recurrence rule and expand it.

Recurrences are expanded on the circle's local wall-clock time (a monthly 18:30 meeting stays
18:30 local across DST changes) and returned as UTC instants. Pure: no I/O, no clock reads.

Spanish is read too, whatever the community's language ("mensual el primer martes a las
18:30", "cada 2 semanas el miércoles a las 19:00", "el último jueves de cada mes a las
12:00"): `bot.time_words` rewrites it into this grammar's English words first, so both
languages give the same schedules and the same refusals. `Schedule.describe` says a
schedule back in the reader's language, from the catalog.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_skeleton, get_day_names
from babel.lists import format_list
from dateutil.rrule import rrule as RRule
from dateutil.rrule import rrulestr

from bot.i18n import Translator
from bot.text import in_range
from bot.time_words import ENGLISH_MONTHS, schedule_words

__all__ = ["Schedule", "ScheduleError", "parse_schedule"]


# Series without a "starting" date are anchored here so that "every 2 weeks" always picks the
# same weeks. 2001-01-01 is a Monday and a 1 January, so a bare FREQ=WEEKLY/MONTHLY/YEARLY RRULE
# falls on Mondays / the 1st / 1 January.
EPOCH = date(2001, 1, 1)
# Bounds that keep every expansion within the years circlebot works with (`bot.text.in_range`).
MAX_WEEKS = 52  # "every N weeks"
MAX_INTERVAL = 99  # an RRULE's INTERVAL (99 years apart at most)
MAX_COUNT = 10_000  # an RRULE's COUNT

_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_RFC_DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
_DAY_ALIASES = {
    "mon": 0,
    "tue": 1,
    "tues": 1,
    "wed": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}
_DAY_NAMES = {name.lower(): i for i, name in enumerate(_WEEKDAYS)}
_DAY_NAMES.update({name.lower() + "s": i for i, name in enumerate(_WEEKDAYS)})
_DAY_NAMES.update(_DAY_ALIASES)

_ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "last": -1,
}
_ORDINAL_WORDS = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}

_RRULE_PARTS = {
    "FREQ",
    "INTERVAL",
    "COUNT",
    "UNTIL",
    "WKST",
    "BYDAY",
    "BYMONTHDAY",
    "BYMONTH",
    "BYSETPOS",
    "BYWEEKNO",
    "BYYEARDAY",
    "BYHOUR",
    "BYMINUTE",
    "BYSECOND",
}

_TIME_RE = re.compile(r"\bat\s+(?P<t>\S+?(?:\s*[ap]\.?\s*m\.?)?)(?=\s|$)")
# 18:30, 6:30pm, 6:30 p. m., 18h30, 18.30, 18h (the "h" says it is a 24-hour time).
_STRICT_TIME_RE = re.compile(
    r"(?P<h>\d{1,2})(?:[:h.](?P<m>\d{2})|(?P<hh>h))?(?:\s*(?P<ap>[ap])\.?\s*m\.?)?"
)
_STARTING_RE = re.compile(r"\bstarting(?:\s+on|\s+from)?\s+(?P<d>\S+)")
_UNTIL_RE = re.compile(r"\buntil\s+(?P<d>\S+)")
_ISO_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# "8 december 2026", "december 8th, 2026" (Spanish "8 de diciembre de 2026" arrives so).
_MONTH = "|".join(sorted(ENGLISH_MONTHS, key=len, reverse=True))
_TEXT_DATE_RE = re.compile(
    rf"\b(?:(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m1>{_MONTH})|(?P<m2>{_MONTH})\s+(?P<d2>\d{{1,2}})"
    r"(?:st|nd|rd|th)?)\b(?:,?\s+(?P<y>\d{4})\b)?"
)

# "every September [on the 15th]", "yearly in March", "every year on September 15", "every 15
# September": a token
# "yearly:09-15" that `_iso_dates` leaves alone, read by `_YEARLY_TOKEN_RE`.
_YEARLY_RE = re.compile(
    rf"\b(?:every\s+year\s+in|yearly\s+in|annually\s+in|every|each)\s+(?P<m>{_MONTH})\b"
    r"(?:\s+(?:on\s+)?(?:the\s+)?(?P<d>\d{1,2})(?:st|nd|rd|th)?\b)?"
)
_YEARLY_ON_RE = re.compile(
    rf"\b(?:(?:every\s+year|each\s+year|yearly|annually)\s+on|every|each)\s+(?:the\s+)?(?:(?P<d1>\d{{1,2}})"
    rf"(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m1>{_MONTH})|(?P<m2>{_MONTH})\s+(?P<d2>\d{{1,2}})"
    r"(?:st|nd|rd|th)?)\b"
)
_YEARLY_TOKEN_RE = re.compile(r"yearly:(?P<m>\d\d)-(?P<d>\d\d)")
_MONTHLY_RE = re.compile(
    r"(?:(?P<pre>monthly|every\s+month)\s+)?(?:on\s+)?(?:the\s+)?(?P<ord>\w+)\s+(?P<day>\w+)"
    r"(?P<post>\s+of\s+(?:each|every|the)\s+month)?"
)
_WEEKLY_RE = re.compile(
    r"(?:(?P<weekly>weekly|every\s+week)|every\s+(?P<n>[0-9]+)\s+weeks?"
    r"|(?P<other>every\s+other\s+week|biweekly|fortnightly))\s+on\s+(?P<days>.+)"
)
_EVERY_DAY_RE = re.compile(r"every\s+(?P<days>.+)")
_ONCE_RE = re.compile(r"(?:once\s+)?on\s+(?P<d>\S+)")
_RRULE_RE = re.compile(r"(?:rrule:\s*)?(?P<body>\S*\bfreq=\S*)")
_DAY_SPLIT_RE = re.compile(r"\s*(?:,\s*and\s+|,|\s+and\s+|&)\s*")
_BYDAY_ITEM_RE = re.compile(r"(?P<sign>[+-]?)(?P<n>\d{0,2})(?P<day>MO|TU|WE|TH|FR|SA|SU)")
_UNTIL_VALUE_RE = re.compile(r"(?P<d>[0-9]{8})(?:T(?P<t>[0-9]{6})(?P<z>Z)?)?")


class ScheduleError(ValueError):
    """A schedule the user typed could not be understood.

    `key` and `values` name the sentence in the ``schedule`` catalog (so it is translated for
    the community); ``str()`` is that sentence in English.
    """

    def __init__(self, key: str, **values: object) -> None:
        self.key = f"schedule.{key}"
        self.values = values
        super().__init__(Translator().t(self.key, **values))


@dataclass(frozen=True)
class Schedule:
    """A parsed meeting schedule: a recurrence (``rrule``) or a single date (``once_on``).

    ``rrule`` is an RFC 5545 RRULE value without DTSTART, UNTIL or BYHOUR/BYMINUTE: the time of day
    lives in ``local_time`` and the end date in ``until`` (inclusive, local).
    """

    tz: str
    rrule: str | None
    local_time: time
    once_on: date | None
    starts_on: date | None
    until: date | None
    text: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def occurrences(self, after: datetime, count: int) -> list[datetime]:
        """The next ``count`` meeting starts strictly after ``after``, as aware UTC datetimes."""
        _require_aware(after, "after")
        if count <= 0:
            return []
        local_after = after.astimezone(self.zone).replace(tzinfo=None)
        result: list[datetime] = []
        # Start a day early: the local-to-UTC mapping can move an instant across the bound.
        for naive in self._naive_iter(local_after - timedelta(days=1)):
            instant = self._localise(naive)
            if instant > after:
                result.append(instant)
                if len(result) == count:
                    break
        return result

    def between(self, start: datetime, end: datetime) -> list[datetime]:
        """Meeting starts with ``start <= instant < end``, as aware UTC datetimes."""
        _require_aware(start, "start")
        _require_aware(end, "end")
        if end <= start:
            return []
        zone = self.zone
        lo = start.astimezone(zone).replace(tzinfo=None) - timedelta(days=1)
        hi = end.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
        if self.rrule is None:
            assert self.once_on is not None  # a schedule without a rule happens once
            naive_all = [datetime.combine(self.once_on, self.local_time)]
        else:
            naive_all = self._rule().between(lo, hi, inc=True)
        return [t for t in map(self._localise, naive_all) if start <= t < end]

    def _localise(self, naive: datetime) -> datetime:
        # fold=0 picks the first of two ambiguous (fall-back) instants; for a nonexistent
        # (spring-forward) time fold=0 applies the pre-transition offset, which shifts it forward
        # by the length of the gap (02:30 on a 1-hour-gap day becomes 03:30 daylight time).
        return naive.replace(tzinfo=self.zone, fold=0).astimezone(UTC)

    def _naive_iter(self, after: datetime) -> Iterator[datetime]:
        if self.rrule is None:
            assert self.once_on is not None  # a schedule without a rule happens once
            once = datetime.combine(self.once_on, self.local_time)
            return iter([once] if once > after else [])
        return self._rule().xafter(after)

    def _rule(self) -> RRule:
        assert self.rrule is not None
        return _build_rule(self.rrule, self.local_time, self.starts_on, self.until)

    def describe(self, t: Translator) -> str:
        """The schedule in words in `t`'s language, from the catalog ("mensual el primer martes
        a las 18:30 (America/New_York)"); it reads back through `parse_schedule` once the zone
        in brackets is left off. ``text`` is the same in English, for storage and logs."""
        lang = t.locale  # Babel's locale of t's language (English where Babel has none)
        at = f"{self.local_time:%H:%M}"
        days = get_day_names("wide", locale=lang)
        if self.rrule is None:
            assert self.once_on is not None  # a schedule without a rule happens once
            when = format_date(self.once_on, "long", locale=lang)
            return t(
                "schedule.describe.zone",
                schedule=t("schedule.describe.once", date=when, time=at),
                zone=self.tz,
            )
        if m := _YEARLY_RULE_RE.fullmatch(self.rrule):
            day = format_skeleton("MMMMd", date(2000, int(m["m"]), int(m["d"])), locale=lang)
            said = t("schedule.describe.yearly", date=day, time=at)
        elif m := _MONTHLY_RULE_RE.fullmatch(self.rrule):
            ordinal = _ORDINAL_WORDS[int(m["n"])]
            said = t(
                f"schedule.describe.monthly_{ordinal}", day=days[_RFC_DAYS.index(m["day"])], time=at
            )
        elif m := _WEEKLY_RULE_RE.fullmatch(self.rrule):
            names = format_list(
                [days[_RFC_DAYS.index(d)] for d in m["days"].split(",")], locale=lang
            )
            interval = int(m["n"] or 1)
            if interval == 1:
                said = t("schedule.describe.weekly", days=names, time=at)
            else:
                said = t.n("schedule.describe.every_weeks", interval, days=names, time=at)
        else:
            said = t("schedule.describe.rrule", rule=self.rrule, time=at)
        start = format_date(self.starts_on, "long", locale=lang) if self.starts_on else None
        end = format_date(self.until, "long", locale=lang) if self.until else None
        if start and end:
            said = t("schedule.describe.between", schedule=said, start=start, end=end)
        elif start:
            said = t("schedule.describe.starting", schedule=said, start=start)
        elif end:
            said = t("schedule.describe.until", schedule=said, end=end)
        return t("schedule.describe.zone", schedule=said, zone=self.tz)


_YEARLY_RULE_RE = re.compile(r"FREQ=YEARLY;BYMONTH=(?P<m>\d{1,2});BYMONTHDAY=(?P<d>\d{1,2})")
_MONTHLY_RULE_RE = re.compile(r"FREQ=MONTHLY;BYDAY=(?P<n>[+-]\d)(?P<day>MO|TU|WE|TH|FR|SA|SU)")
_WEEKLY_RULE_RE = re.compile(
    r"FREQ=WEEKLY(?:;INTERVAL=(?P<n>\d+))?;BYDAY=(?P<days>(?:MO|TU|WE|TH|FR|SA|SU)(?:,(?:MO|TU|WE|TH|FR|SA|SU))*)"
)


def parse_schedule(text: str, tz: str) -> Schedule:
    """Parse a schedule such as "monthly on the first Tuesday at 18:30" for the IANA zone ``tz``.

    Raises ScheduleError, whose message is one user-facing sentence, on anything it can't read.
    """
    _check_zone(tz)
    s = " ".join((text or "").split()).strip().rstrip(".").strip()
    if not s:
        raise ScheduleError("empty")
    lowered = _iso_dates(_yearly_tokens(schedule_words(s)))

    lowered, starts_on = _take_date_clause(lowered, _STARTING_RE)
    lowered, until = _take_date_clause(lowered, _UNTIL_RE)
    lowered, at_time = _take_time(lowered)
    body = lowered.strip()

    if m := _RRULE_RE.fullmatch(body):
        rule, rule_time, rule_until = _parse_rrule(m["body"].upper(), tz)
        if rule_time is not None and at_time is not None and rule_time != at_time:
            raise ScheduleError("time_twice")
        if rule_until is not None and until is not None:
            raise ScheduleError("until_twice")
        until = until if until is not None else rule_until
        if "COUNT=" in rule and until is not None:
            raise ScheduleError("count_and_until")
        if "COUNT=" in rule and starts_on is None:
            raise ScheduleError("count_needs_start")
        local_time = _require_time(at_time if at_time is not None else rule_time)
        desc = f"RRULE:{rule}"
    elif m := _ONCE_RE.fullmatch(body):
        once = _parse_date(m["d"])
        local_time = _require_time(at_time)
        if starts_on is not None or until is not None:
            raise ScheduleError("once_with_range")
        text_out = f"once on {once.isoformat()} at {local_time:%H:%M} ({tz})"
        return Schedule(tz, None, local_time, once, None, None, text_out)
    elif m := _WEEKLY_RE.fullmatch(body):
        if m["weekly"]:
            interval = 1
        elif m["other"]:
            interval = 2
        else:
            interval = int(m["n"])
            if interval < 1:
                raise ScheduleError("interval")
            if interval > MAX_WEEKS:
                raise ScheduleError("interval_long", max=MAX_WEEKS)
        days = _parse_day_list(m["days"])
        rule, desc = _weekly(interval, days)
        local_time = _require_time(at_time)
    elif (m := _EVERY_DAY_RE.fullmatch(body)) and (
        days := _parse_day_list(m["days"], strict=False)
    ):
        rule, desc = _weekly(1, days)
        local_time = _require_time(at_time)
    elif m := _YEARLY_TOKEN_RE.fullmatch(body):
        month, day_of_month = int(m["m"]), int(m["d"])
        try:
            date(2000, month, day_of_month)  # a leap year: 29 February is a day some years have
        except ValueError:
            raise ScheduleError("day_not_in_month", month=month, day=day_of_month) from None
        rule = f"FREQ=YEARLY;BYMONTH={month};BYMONTHDAY={day_of_month}"
        desc = f"every {_MONTHS[month - 1]} on the {_nth(day_of_month)}"
        local_time = _require_time(at_time)
    elif (m := _MONTHLY_RE.fullmatch(body)) and (m["pre"] or m["post"]):
        ordinal = m["ord"]
        if ordinal in ("fifth", "5th"):
            raise ScheduleError("fifth_weekday")
        if ordinal not in _ORDINALS:
            raise ScheduleError("generic")
        n = _ORDINALS[ordinal]
        day = _parse_day(m["day"])
        rule = f"FREQ=MONTHLY;BYDAY={n:+d}{_RFC_DAYS[day]}"
        desc = f"monthly on the {_ORDINAL_WORDS[n]} {_WEEKDAYS[day]}"
        local_time = _require_time(at_time)
    else:
        raise ScheduleError("generic")

    if starts_on is not None and until is not None and until < starts_on:
        raise ScheduleError(
            "until_before_start", until=until.isoformat(), starts=starts_on.isoformat()
        )
    _require_some_occurrence(rule, local_time, starts_on, until)
    suffix = ""
    if starts_on is not None:
        suffix += f" starting {starts_on.isoformat()}"
    if until is not None:
        suffix += f" until {until.isoformat()}"
    text_out = f"{desc} at {local_time:%H:%M}{suffix} ({tz})"
    return Schedule(tz, rule, local_time, None, starts_on, until, text_out)


def _build_rule(rule: str, local_time: time, starts_on: date | None, until: date | None) -> RRule:
    # Expansion runs on naive local wall-clock datetimes; callers localise each result.
    body = rule if "WKST=" in rule else f"{rule};WKST=MO"  # RFC 5545 default, not locale's
    dtstart = datetime.combine(starts_on or EPOCH, local_time)
    parsed = rrulestr(body, dtstart=dtstart)
    assert isinstance(parsed, RRule)  # one RRULE without forceset is never a set
    if until is not None:
        parsed = parsed.replace(until=datetime.combine(until, time(23, 59, 59)))
    return parsed


def _require_some_occurrence(
    rule: str, local_time: time, starts_on: date | None, until: date | None
) -> None:
    # dateutil searches up to year 9999 for a rule that never matches (seconds for a DAILY one).
    # The Gregorian calendar repeats every 400 years, so replaying the rule from the same point
    # of the cycle in 9200-9599 decides "never" after at most 800 years of search.
    anchor = starts_on or EPOCH
    late = anchor.replace(year=9200 + anchor.year % 400)
    never = next(iter(_build_rule(rule, local_time, late, None)), None) is None
    if never or next(iter(_build_rule(rule, local_time, starts_on, until)), None) is None:
        raise ScheduleError("never")


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


def _check_zone(tz: str) -> None:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ScheduleError("unknown_zone", zone=tz) from None


def _take_date_clause(s: str, pattern: re.Pattern[str]) -> tuple[str, date | None]:
    matches = list(pattern.finditer(s))
    if not matches:
        return s, None
    if len(matches) > 1:
        raise ScheduleError("generic")
    m = matches[0]
    return s[: m.start()] + s[m.end() :], _parse_date(m["d"])


_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def _nth(n: int) -> str:
    """1st, 2nd, 3rd, 4th ... 11th, 12th, 13th ... 21st."""
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _yearly_tokens(s: str) -> str:
    """Yearly forms as a token the date rewriting leaves alone: "every september on the 15th"
    and "every year on 15 september" -> "yearly:09-15" (the 1st when no day is given)."""

    def token(m: re.Match[str]) -> str:
        groups = m.groupdict()
        month = ENGLISH_MONTHS[groups.get("m") or groups.get("m1") or groups["m2"]]
        day = int(groups.get("d") or groups.get("d1") or groups.get("d2") or 1)
        return f"yearly:{month:02d}-{min(day, 99):02d}"

    return _YEARLY_RE.sub(token, _YEARLY_ON_RE.sub(token, s))


def _iso_dates(s: str) -> str:
    """Dates written with a month name, as ISO dates: "8 december 2026" -> "2026-12-08".

    A schedule has no clock to complete a date without its year, so that is refused."""

    def iso(m: re.Match[str]) -> str:
        month = ENGLISH_MONTHS[m["m1"] or m["m2"]]
        day = int(m["d1"] or m["d2"])
        if not m["y"]:
            raise ScheduleError("date_needs_year")
        return f"{m['y']}-{month:02d}-{day:02d}"

    return _TEXT_DATE_RE.sub(iso, s)


def _parse_date(raw: str) -> date:
    if not _ISO_DATE_RE.fullmatch(raw):
        raise ScheduleError("bad_date", raw=raw)
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise ScheduleError("no_such_date", raw=raw) from None
    if not in_range(day):
        # Also keeps every expansion, in any zone, far from datetime's year 1..9999 bounds.
        raise ScheduleError("date_range", raw=raw)
    return day


def _take_time(s: str) -> tuple[str, time | None]:
    matches = list(_TIME_RE.finditer(s))
    if not matches:
        return s, None
    if len(matches) > 1:
        raise ScheduleError("generic")
    m = matches[0]
    return s[: m.start()] + s[m.end() :], _parse_time(m["t"])


def _parse_time(raw: str) -> time:
    bad = ScheduleError("no_such_time", raw=raw)
    m = _STRICT_TIME_RE.fullmatch(raw)
    if not m or (m["m"] is None and m["ap"] is None and m["hh"] is None):
        raise bad
    hour, minute = int(m["h"]), int(m["m"] or 0)
    if m["ap"]:
        if m["hh"] or not 1 <= hour <= 12:
            raise bad
        hour = hour % 12 + (12 if m["ap"] == "p" else 0)
    if hour > 23 or minute > 59:
        raise bad
    return time(hour, minute)


def _require_time(value: time | None) -> time:
    if value is None:
        raise ScheduleError("need_time")
    return value


def _parse_day(raw: str) -> int:
    try:
        return _DAY_NAMES[raw]
    except KeyError:
        raise ScheduleError("bad_weekday", raw=raw) from None


def _parse_day_list(raw: str, strict: bool = True) -> list[int]:
    """Weekday numbers in "Monday and Thursday" / "mon, wed & fri"; [] if not strict and unknown."""
    parts = [p for p in _DAY_SPLIT_RE.split(raw.strip()) if p]
    if not strict and not all(p in _DAY_NAMES for p in parts):
        return []
    return sorted({_parse_day(p) for p in parts})


def _weekly(interval: int, days: list[int]) -> tuple[str, str]:
    if not days:
        raise ScheduleError("generic")
    interval_part = f";INTERVAL={interval}" if interval > 1 else ""
    rule = f"FREQ=WEEKLY{interval_part};BYDAY={','.join(_RFC_DAYS[d] for d in days)}"
    names = [_WEEKDAYS[d] for d in days]
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    lead = "weekly" if interval == 1 else f"every {interval} weeks"
    return rule, f"{lead} on {joined}"


def _parse_rrule(body: str, tz: str) -> tuple[str, time | None, date | None]:
    """Split an upper-cased RRULE value into (date pattern, time of day, until date)."""
    bad = ScheduleError("bad_rrule")
    parts: dict[str, str] = {}
    for pair in body.strip(";").split(";"):
        name, sep, value = pair.partition("=")
        if name == "DTSTART":
            raise ScheduleError("dtstart")
        if not sep or not value or name not in _RRULE_PARTS or name in parts:
            raise bad
        parts[name] = value

    if parts.get("FREQ") not in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY"):
        if parts.get("FREQ") in ("HOURLY", "MINUTELY", "SECONDLY"):
            raise ScheduleError("too_frequent")
        raise bad
    for name, most in (("INTERVAL", MAX_INTERVAL), ("COUNT", MAX_COUNT)):
        if name in parts and not (
            re.fullmatch("[0-9]{1,6}", parts[name]) and 1 <= int(parts[name]) <= most
        ):
            raise bad

    _check_ranges(parts, bad)

    rule_time = None
    hours, minutes = parts.pop("BYHOUR", None), parts.pop("BYMINUTE", None)
    if parts.pop("BYSECOND", "0") not in ("0", "00"):
        raise bad
    if hours is not None or minutes is not None:
        if hours is None or any("," in v for v in (hours, minutes or "")):
            raise ScheduleError("one_time")
        try:
            rule_time = time(int(hours), int(minutes or 0))
        except ValueError:
            raise bad from None

    until = None
    if "UNTIL" in parts:
        m = _UNTIL_VALUE_RE.fullmatch(parts.pop("UNTIL"))
        if not m:
            raise bad
        try:
            stamp = datetime.strptime(m["d"] + (m["t"] or "000000"), "%Y%m%d%H%M%S")
        except ValueError:
            raise bad from None
        if not in_range(stamp.date()):
            raise ScheduleError("date_range", raw=stamp.date().isoformat())
        if m["z"]:
            stamp = stamp.replace(tzinfo=UTC).astimezone(ZoneInfo(tz))
        until = stamp.date()

    if "BYDAY" in parts:
        items = []
        for item in parts["BYDAY"].split(","):
            m = _BYDAY_ITEM_RE.fullmatch(item)
            if not m or (m["sign"] and not m["n"]):
                raise bad
            items.append(f"{int(m['sign'] + m['n']):+d}{m['day']}" if m["n"] else m["day"])
        parts["BYDAY"] = ",".join(items)

    rule = ";".join(f"{k}={v}" for k, v in sorted(parts.items(), key=lambda kv: kv[0] != "FREQ"))
    try:
        rrulestr(rule, dtstart=datetime.combine(EPOCH, time()))
    except (ValueError, KeyError, TypeError):
        raise bad from None
    return rule, rule_time, until


_RANGES = {
    "BYMONTH": (1, 12),
    "BYMONTHDAY": (-31, 31),
    "BYYEARDAY": (-366, 366),
    "BYWEEKNO": (-53, 53),
}


def _check_ranges(parts: dict[str, str], bad: ScheduleError) -> None:
    """Reject out-of-range BY* numbers, which dateutil would silently never match."""
    for name, (lo, hi) in _RANGES.items():
        if name in parts:
            try:
                values = [int(v) for v in parts[name].split(",")]
            except ValueError:
                raise bad from None
            if any(v == 0 or not lo <= v <= hi for v in values):
                raise bad
