"""What fell due while circlebot was down, on SQLite and PostgreSQL: useful work once, stale
work skipped and logged.

A community has a monthly meeting with reminders a day and an hour before, a check-in that
opens the day before each meeting, the digest three days before (a resource attached to the
meeting is its news) and a poll closing two days after it opened. Then circlebot is stopped; it starts again on the
same database, with the clock far ahead, and catches up (the console runs due jobs as the
production runner does after a start). Back before the meeting: the last reminder goes out
once saying it is late (the day-before one, superseded, is skipped and logged), the digest
once saying it is late, the check-in opens once (its invitation has no "late" wording: it is
as useful late as on time, and it stays open its full length from now), the poll closes once.
Back after the meeting: nothing about that meeting is posted, each skip is logged; the poll
still closes once. A second start changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

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
:as ben
/cop meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP" reminders="1d 1h"
/cop checkins add Before we meet timing=before:1d open=2d
/cop checkins question 1 add How ready do you feel? kind=scale
/cop resources add https://example.org/outdoor-play title="Outdoor play ideas" #outdoor
/cop resources attach 1 meeting=next
/cop poll new "Which topic next?" options="Outdoor play | Transitions" closes="in 2 days"
"""
REMINDER = "[#cop] Reminder: Monthly CoP "
DIGEST = "[#cop] What's new in Finger Lakes CoP before Monthly CoP on Tue 1 Dec 2026, 18:30 EST"
CHECKIN = "[#cop] Reflection check-in 1 is open (round 1): Before we meet."
INVITE = "Time to reflect: check-in 1 of Finger Lakes CoP, Before we meet."
RESULT = "[#cop] Result of vote #1: Which topic next?"


def ny(*args: int) -> FakeClock:
    return FakeClock(datetime(*args, tzinfo=ZoneInfo(NY)))


def posted(lines: list[str]) -> list[str]:
    """The first line of each post (channel or DM) the run made."""
    return [line for line in lines if line.startswith(("[#", "[dm "))]


async def back_at(db: Database, at: str, clock: FakeClock) -> list[str]:
    """circlebot starts again at `clock` on `db` and runs what is due (up to `at`)."""
    return posted(await transcript(f":as ben\n:in #cop\n:at {at}", db=db, clock=clock, zone=NY))


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records]


async def test_back_before_the_meeting_sends_what_is_useful_once_and_late(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    before = await transcript(SETUP, db=db, clock=ny(2026, 11, 23, 9, 0), zone=NY)
    assert not [p for p in posted(before) if p.startswith((REMINDER, DIGEST, CHECKIN, RESULT))]

    # Down from Mon 23 Nov 09:00 to Tue 1 Dec 17:45: past the poll's deadline (25 Nov), the
    # digest (28 Nov), the check-in (30 Nov 18:30), both reminders (30 Nov, 1 Dec 17:30).
    caplog.set_level(logging.INFO)
    after = await back_at(db, "2026-12-01T17:46", ny(2026, 12, 1, 17, 45))
    reminders = [p for p in after if p.startswith(REMINDER)]
    assert reminders == [
        REMINDER + "starts in 45 minutes — sent late because circlebot was offline."
    ], after
    assert "reminder:1:P1D skipped: superseded by the PT1H reminder" in logged(caplog)
    assert [p for p in after if p.startswith(DIGEST)] == [
        DIGEST + " (sent later than planned, because circlebot was offline or the meeting moved):"
    ]
    assert after.count(CHECKIN) == 1
    assert sorted(p for p in after if p.endswith(INVITE)) == [
        f"[dm @{who}] {INVITE}" for who in ("ana", "ben", "cara")
    ]
    assert after.count(RESULT) == 1

    # Started again a little later: all of that was done once and is not done again.
    caplog.clear()
    again = await back_at(db, "2026-12-01T17:55", ny(2026, 12, 1, 17, 50))
    assert not [p for p in again if p.startswith((REMINDER, DIGEST, CHECKIN, RESULT))], again
    assert not [p for p in again if p.endswith(INVITE)], again


async def test_back_after_the_meeting_skips_and_logs_what_is_stale(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await transcript(SETUP, db=db, clock=ny(2026, 11, 23, 9, 0), zone=NY)

    # Down until the morning after the meeting (Tue 1 Dec 18:30-19:30).
    caplog.set_level(logging.INFO)
    after = await back_at(db, "2026-12-02T09:01", ny(2026, 12, 2, 9, 0))
    assert not [p for p in after if p.startswith((REMINDER, DIGEST, CHECKIN))], after
    assert not [p for p in after if p.endswith(INVITE)], after
    messages = logged(caplog)
    skipped = [m for m in messages if m.startswith("reminder:1:") and " skipped: " in m]
    assert any(
        m.startswith("reminder:1:PT1H skipped: meeting 1 started ") and m.endswith("(bot was down)")
        for m in skipped
    ), skipped
    assert {m.split(" ", 1)[0] for m in skipped} == {"reminder:1:P1D", "reminder:1:PT1H"}
    assert "digest for meeting 1 skipped: cancelled or past" in messages
    assert "round 1 skipped: its meeting was cancelled or is past" in messages
    assert after.count(RESULT) == 1  # a poll's deadline is never stale: it closes, once

    caplog.clear()
    again = await back_at(db, "2026-12-02T09:10", ny(2026, 12, 2, 9, 5))
    assert not [p for p in again if p.startswith((REMINDER, DIGEST, CHECKIN, RESULT))], again
