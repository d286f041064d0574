"""A series carries its own agenda: every meeting of a webinar series gets the same segments and
objectives; one meeting can still be changed on its own; ``segments=none`` makes an event
without the CoP segments."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.ports import FakeClock
from tests.support import transcript

NY = "America/New_York"
SETUP = """
:as ana admin
:in #cop
/cop setup "Finger Lakes CoP" America/New_York
"""
WEBINAR = (
    '/cop meeting series "weekly on Thursday at 12:00" title="Webinar club" '
    'segments="Watch together; Discuss; Share resources" objectives="Try one idea"'
)
WEBINAR_AGENDA = [
    "  Learning objectives:",
    "  • Try one idea",
    "  Agenda:",
    "  1. Watch together",
    "  2. Discuss",
    "  3. Share resources",
]
COP_SEGMENTS = [
    "  Agenda:",
    "  1. Welcome and agreements",
    "  2. Sharing",
    "  3. Topic discussion",
    "  4. Problem-solving",
    "  5. Individual reflection",
]


def _clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 10, 9, 0, tzinfo=ZoneInfo(NY)))


def _replies(lines: list[str], command: str) -> list[list[str]]:
    """Every answer to `command`, each as the lines printed until the next input."""
    out = []
    for start, line in enumerate(lines):
        if line.endswith(f"> {command}"):
            end = next(
                (i for i in range(start + 1, len(lines)) if re.match(r"^\w+> ", lines[i])),
                len(lines),
            )
            out.append(lines[start + 1 : end])
    return out


def _agenda(lines: list[str], n: int) -> list[str]:
    """The agenda lines (without the title) of the last `/cop meeting agenda n`."""
    return _replies(lines, f"/cop meeting agenda {n}")[-1][1:]


async def test_series_segments_and_objectives_go_on_every_meeting_and_its_card() -> None:
    lines = await transcript(
        SETUP
        + WEBINAR
        + """
        /cop meeting agenda 1
        /cop meeting agenda 2
        /cop meeting agenda 3
        :advance 4d
        /cop meeting agenda 4
        """,
        zone=NY,
        clock=_clock(),
    )
    for n in (1, 2, 3, 4):  # 4 was materialised later, by the top-up job
        assert _agenda(lines, n) == WEBINAR_AGENDA
    announce = lines.index(
        "[#cop] New meetings: Webinar club, weekly on Thursday at 12:00 (America/New_York)."
    )
    assert lines[announce + 2 : announce + 8] == WEBINAR_AGENDA


async def test_a_meeting_override_survives_a_series_change_that_reaches_the_others() -> None:
    lines = await transcript(
        SETUP
        + WEBINAR
        + """
        /cop meeting agenda 2 segments="Guest talk; Questions"
        /cop meeting edit segments="Watch; Talk"
        /cop meeting agenda 1
        /cop meeting agenda 2
        /cop meeting agenda 3
        /cop meeting edit segments=default objectives=none
        /cop meeting agenda 3
        """,
        zone=NY,
        clock=_clock(),
    )
    watch_talk = [*WEBINAR_AGENDA[:3], "  1. Watch", "  2. Talk"]
    assert _agenda(lines, 1) == watch_talk
    assert _agenda(lines, 2) == [*WEBINAR_AGENDA[:3], "  1. Guest talk", "  2. Questions"]
    [first_3, last_3] = [r[1:] for r in _replies(lines, "/cop meeting agenda 3")]
    assert first_3 == watch_talk
    assert last_3 == COP_SEGMENTS
    # The card already posted for #1 is edited in place with the new agenda.
    edited = lines.index(
        "[#cop] (message 3 updated) New meetings: Webinar club, weekly on Thursday at 12:00 "
        "(America/New_York)."
    )
    assert lines[edited + 2 : edited + 7] == watch_talk


async def test_segments_none_makes_a_one_off_event_without_cop_segments() -> None:
    lines = await transcript(
        SETUP
        + """
        /cop meeting series "on 2026-12-03 at 17:00" title="Open house" segments=none
        /cop meeting agenda 1
        /cop meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP"
        /cop meeting agenda 2
        /cop meeting agenda 2 segments=none
        """,
        zone=NY,
        clock=_clock(),
    )
    assert _agenda(lines, 1) == ["  none yet"]
    assert _agenda(lines, 2) == COP_SEGMENTS
    [after] = _replies(lines, "/cop meeting agenda 2 segments=none")
    assert after[0] == "[private @ana] Agenda of meeting 2 updated."
    assert after[2] == "  none yet"
    assert not any(line.startswith("  Agenda:") for line in after)  # nor on the edited card


async def test_bad_series_agenda_is_refused_and_changes_nothing() -> None:
    many = "; ".join(f"part {i}" for i in range(11))
    lines = await transcript(
        SETUP
        + WEBINAR
        + f"""
        /cop meeting edit segments="{many}"
        /cop meeting edit segments="{"x" * 101}"
        :as bob
        /cop join
        /cop meeting edit segments=none
        :as ana
        /cop meeting agenda 1
        """,
        zone=NY,
        clock=_clock(),
    )
    assert _replies(lines, f'/cop meeting edit segments="{many}"') == [
        ["[private @ana] Give at most 10 segments, separated by ;."]
    ]
    [[too_long]] = _replies(lines, f'/cop meeting edit segments="{"x" * 101}"')
    assert too_long == "[private @ana] segments is too long; keep it under 100 characters."
    [[refused]] = _replies(lines, "/cop meeting edit segments=none")
    assert refused.startswith("[private @bob] ")
    assert _agenda(lines, 1) == WEBINAR_AGENDA
