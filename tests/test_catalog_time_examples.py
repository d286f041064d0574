"""Every schedule, deadline and reminder example the Spanish catalog shows a member as
something to type is one the grammar reads, and is written in Spanish.

The examples are found, not listed: a quoted piece of a catalog entry ("…", «…» or “…”)
is an example of a kind when the grammar reads it as that kind: a whole schedule
(`parse_schedule`), a schedule clause ("at 18:30", "starting 2027-01-05", read after a
base schedule), a deadline (`parse_deadline`; a past or too distant one still reads), or
a reminder offset (`parse_offset`). For each entry, the Spanish text must hold at least as
many readable examples of each kind as the English text, and none of them may be an
English example copied unchanged (unless it has no words, such as 2026-12-01 17:00, 3h or
RRULE:FREQ=MONTHLY;BYDAY=1TU).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

import pytest

from bot.deadlines import DeadlineError, parse_deadline, parse_offset
from bot.i18n import load_catalog
from bot.schedule import ScheduleError, parse_schedule

NOW = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
ZONE = "America/New_York"
QUOTED = re.compile(r'"([^"]+)"|«([^»]+)»|“([^”]+)”')
# An iCalendar rule is the same in both languages (only what follows it is not).
RRULE = re.compile(r"\S*freq=\S*", re.I)
UNREADABLE_DEADLINE = {"unreadable", "no_such_date"}


def examples(text: str) -> list[str]:
    return [next(g for g in m.groups() if g) for m in QUOTED.finditer(text)]


def _schedule(text: str) -> bool:
    try:
        parse_schedule(text, ZONE)
    except ScheduleError:
        return False
    return True


def kinds(example: str) -> set[str]:
    """What the grammar reads `example` as (empty: not a time example)."""
    if "{" in example or not example.strip() or not re.search(r"\d|[a-z]{3}", example, re.I):
        return set()
    out = set()
    if _schedule(example):
        out.add("schedule")
    elif _schedule(f"weekly on monday {example}") or _schedule(
        f"weekly on monday at 9:00 {example}"
    ):
        out.add("clause")
    try:
        parse_deadline(example, NOW, ZONE)
        out.add("deadline")
    except DeadlineError as err:
        if err.code not in UNREADABLE_DEADLINE:
            out.add("deadline")
    try:
        parse_offset(example)
        out.add("offset")
    except DeadlineError:
        pass
    return out


def count(pieces: list[str]) -> Counter[str]:
    return Counter(kind for piece in pieces for kind in kinds(piece))


def has_words(example: str) -> bool:
    """Whether `example` has words in it ("at 18:30" has; "3h", "7d 1d 1h" and an RRULE
    have not)."""
    return bool(re.search(r"[a-z]{2,}", RRULE.sub("", example.lower())))


ENGLISH = load_catalog("en")
SPANISH = load_catalog("es")
WITH_EXAMPLES = sorted(k for k, text in ENGLISH.items() if count(examples(text)))


def test_the_catalog_has_time_examples_to_check() -> None:
    assert len(WITH_EXAMPLES) >= 15, WITH_EXAMPLES
    assert "schedule.generic" in WITH_EXAMPLES
    assert "voting.param.closes" in WITH_EXAMPLES


@pytest.mark.parametrize("key", WITH_EXAMPLES)
def test_spanish_time_examples_are_typeable_and_spanish(key: str) -> None:
    spanish = SPANISH.get(key)
    if not spanish:
        pytest.skip("not translated yet: the English text, whose examples read, is shown")
    english_pieces, spanish_pieces = examples(ENGLISH[key]), examples(spanish)
    wanted, got = count(english_pieces), count(spanish_pieces)
    assert [kind for kind in wanted if got[kind] < wanted[kind]] == [], spanish
    copied = [p for p in spanish_pieces if kinds(p) and p in english_pieces and has_words(p)]
    assert copied == [], spanish
