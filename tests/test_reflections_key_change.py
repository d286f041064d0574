"""A reflection key that changed (a restore without its key file): answers sealed under the old
key are said to be unreadable, and no command or job fails on them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.ports import FakeClock
from storage.db import Database
from tests.support import transcript

NY = "America/New_York"
SETUP = """
:as ana admin
:in #cop
/cop setup "Finger Lakes CoP" America/New_York
/cop facilitator add @ben
:as cara
/cop join
:as eve
/cop join
:as ben
/cop checkins default
/cop meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP"
:at 2026-11-05T19:31
:as cara
:in dm
:press Answer
:submit q1="Water play held them for twenty minutes." privacy=named
:as eve
:in dm
:press Answer
:submit q3="More planning time" privacy=anonymous
"""
# Each console run draws a fresh key, as a deployment restored without its key would.
LATER = """
:as ben
:in #cop
/cop checkins status 1
:as cara
:in dm
/cop journal
:at 2026-11-10T19:31
"""
UNREADABLE = "(this answer can no longer be read: the reflection key has changed)"


def at(*args: int) -> FakeClock:
    return FakeClock(datetime(*args, tzinfo=ZoneInfo(NY)))


async def test_answers_under_an_old_key_are_said_unreadable_and_fail_nothing(
    db: Database,
) -> None:
    first = await transcript(SETUP, db=db, clock=at(2026, 11, 2, 9, 0), zone=NY)
    assert any("Water play held them for twenty minutes." in line for line in first)

    later = await transcript(LATER, db=db, clock=at(2026, 11, 6, 9, 0), zone=NY)
    status = later.index("ben> /cop checkins status 1")
    journal = later.index("cara> /cop journal")
    assert any(UNREADABLE in line for line in later[status:journal]), later
    assert any("can no longer be read" in line for line in later[journal:]), later
    # The round still closes; the anonymous answer that cannot be read is not posted.
    closed = [line for line in later if "is closed: Individual reflection" in line]
    assert len(closed) == 1, later
    assert not any("Shared anonymously" in line for line in later), later
    assert not any("went wrong" in line.lower() for line in later), later
