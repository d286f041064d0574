"""The period a report or statement covers: two local dates, inclusive, in one zone.

Dates are typed as ``YYYY-MM-DD``; without them the period is the last 12 months up to
today. A date that does not exist (``2026-02-30``), one outside the years circlebot works
with, or a start after the end is refused in one sentence (`PeriodError` carries its key).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.text import in_range

_ISO = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")


class PeriodError(ValueError):
    """Typed dates that make no period; `key` names the sentence, `values` its placeholders."""

    def __init__(self, key: str, **values: str) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    zone: ZoneInfo

    @property
    def since(self) -> datetime:
        """The first instant of the period (local midnight of `start`), in UTC."""
        return datetime.combine(self.start, time(0), self.zone).astimezone(UTC)

    @property
    def until(self) -> datetime:
        """The first instant after the period (local midnight after `end`), in UTC."""
        return datetime.combine(self.end + timedelta(days=1), time(0), self.zone).astimezone(UTC)

    def holds(self, at: datetime) -> bool:
        return self.since <= at < self.until


def parse_day(raw: str) -> date:
    m = _ISO.match(raw.strip())
    if not m:
        raise PeriodError("reports.refuse.date_format", value=raw[:40])
    try:
        day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise PeriodError("reports.refuse.date_impossible", value=raw[:40]) from None
    if not in_range(day):
        raise PeriodError("reports.refuse.date_range", value=raw[:40])
    return day


def year_before(day: date) -> date:
    """The day after the same date a year earlier (29 February counts from 1 March)."""
    try:
        return day.replace(year=day.year - 1) + timedelta(days=1)
    except ValueError:
        return date(day.year - 1, 3, 1)


def parse_period(raw_from: str | None, raw_to: str | None, zone: ZoneInfo, now: datetime) -> Period:
    """The period typed (either end may be left out), else the 12 months up to today."""
    today = now.astimezone(zone).date()
    end = parse_day(raw_to) if raw_to else today
    start = parse_day(raw_from) if raw_from else year_before(end)
    if start > end:
        raise PeriodError("reports.refuse.date_order", start=start.isoformat(), end=end.isoformat())
    return Period(start, end, zone)
