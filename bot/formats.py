"""Dates and times as text for a language, with Babel: shared by the translator
(`bot.i18n`) and the neutral message model (`bot.ui`, for places a platform cannot show
a viewer's own zone), which is why it stands alone."""

from __future__ import annotations

from datetime import datetime as DateTime
from typing import Literal
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_date

TimeStyle = Literal["full", "date", "time", "relative"]

FALLBACK_LANGUAGE = "en"

# Babel date patterns per language; a language without its own uses the generic one.
# English keeps the compact form circlebot has always shown (``Tue 3 Nov 2026``).
_DATE_PATTERNS = {"en": "EEE d MMM y", "*": "EEE, d MMM y"}


def babel_locale(lang: str) -> Locale:
    """Babel's locale for a language code, English when Babel does not know it."""
    try:
        return Locale.parse(lang)
    except (ValueError, LookupError, UnknownLocaleError):
        return Locale.parse(FALLBACK_LANGUAGE)


def format_instant(at: DateTime, zone: str, style: TimeStyle = "full", lang: str = "en") -> str:
    """`at` in `zone` as text in `lang`: ``Tue 3 Nov 2026, 18:30 EST`` in English,
    ``mar, 3 nov 2026, 18:30 EST`` in Spanish; ``date`` and ``time`` give one half."""
    local = at.astimezone(ZoneInfo(zone))
    locale = babel_locale(lang)
    day = babel_date(local, _DATE_PATTERNS.get(locale.language, _DATE_PATTERNS["*"]), locale)
    clock = f"{local:%H:%M %Z}"
    if style == "date":
        return day
    if style == "time":
        return clock
    return f"{day}, {clock}"
