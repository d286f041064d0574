"""The translator: lookups, fallback, plurals, inline values, and Babel's locale formatting.

Which keys exist in which catalog is tests/test_catalogs.py's job.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.i18n import Translator, format_instant, load_catalog
from bot.ui import Time, format_time

ROOT = Path(__file__).resolve().parent.parent
AT = datetime(2026, 11, 3, 23, 30, tzinfo=UTC)  # 18:30 in New York


def test_translator_formats_and_falls_back() -> None:
    t = Translator("xx")
    assert t.lang == "en"
    assert t("communities.joined", name="Circle", member="ana") == "Welcome to Circle, ana!"
    with pytest.raises(KeyError):
        t("no.such.key")


def test_schedule_errors_are_in_the_catalog() -> None:
    """Schedule errors name catalog keys, so they reach members in their community's language."""
    source = (ROOT / "bot" / "schedule.py").read_text()
    keys = {f"schedule.{k}" for k in re.findall(r'ScheduleError\(\s*"(\w+)"', source)}
    assert len(keys) > 15
    assert sorted(keys - set(load_catalog("en"))) == []


def test_plurals_follow_each_languages_rule() -> None:
    en, es = Translator("en"), Translator("es")
    assert en.n("voting.irv.votes", 1) == "1 vote"
    assert en.n("voting.irv.votes", 7) == "7 votes"
    if load_catalog("es").get("voting.irv.votes"):
        assert es.n("voting.irv.votes", 1) != es.n("voting.irv.votes", 2)


def test_parts_keep_an_inline_value_inside_the_sentence() -> None:
    t = Translator("en")
    when = Time(at=AT, zone="America/New_York")
    parts = t.parts("voting.poll.closes", when=when)
    assert parts == ["Closes ", when, "."] or parts == ["Closes ", when]


def test_dates_and_times_are_formatted_for_the_locale() -> None:
    zone = "America/New_York"
    assert format_instant(AT, zone, "full", "en") == "Tue 3 Nov 2026, 18:30 EST"
    assert format_instant(AT, zone, "full", "es") == "mar, 3 nov 2026, 18:30 EST"
    assert format_instant(AT, zone, "date", "es") == "mar, 3 nov 2026"
    assert format_instant(AT, zone, "time", "es") == "18:30 EST"
    assert format_time(Time(at=AT, zone=zone, lang="es")) == "mar, 3 nov 2026, 18:30 EST"
    assert format_time(Time(at=AT, zone=zone)) == "Tue 3 Nov 2026, 18:30 EST"
    assert Translator("en").day(date(2026, 11, 3)) == "3 November 2026"
    assert Translator("es").day(date(2026, 11, 3)) == "3 de noviembre de 2026"


def test_numbers_and_lists_are_formatted_for_the_locale() -> None:
    en, es = Translator("en"), Translator("es")
    assert en.number(12345.5) == "12,345.5"
    assert es.number(12345.5) == "12.345,5"
    assert en.list(["Ana", "Bo", "Cy"]) == "Ana, Bo, and Cy"
    assert es.list(["Ana", "Bo", "Cy"]) == "Ana, Bo y Cy"
    assert es.list(["Ana", "Bo"], style="or") == "Ana o Bo"
