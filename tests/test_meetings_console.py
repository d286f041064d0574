"""Meetings through the console, as a facilitator and members would use them."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.ports import FakeClock
from tests.support import transcript

NY = "America/New_York"

SETUP = """
:as ana admin
:in #cop
/cop setup "Finger Lakes CoP" America/New_York
/cop facilitator add @ben
"""

SERIES = (
    '/cop meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP" '
    "duration=90 link=https://zoom.us/j/123"
)


def ny(*args: int) -> FakeClock:
    return FakeClock(datetime(*args, tzinfo=ZoneInfo(NY)))


def replies(lines: list[str]) -> list[str]:
    return [line for line in lines if not re.match(r"^\w+> ", line)]


def headed(lines: list[str]) -> list[tuple[str, str]]:
    """(clock header, first line of an output) pairs for outputs printed after `:advance`."""
    out, header = [], ""
    for line in lines:
        if line.startswith("~ "):
            header = line[2:]
        elif re.match(r"^\w+> ", line):
            header = ""
        elif header and line.startswith("["):
            out.append((header, line))
    return out


async def test_monthly_series_reminds_each_time_once_with_who_is_going() -> None:
    """The issue's "done when": create, RSVP, :advance shows each reminder once at local times."""
    lines = await transcript(
        SETUP
        + f"""
        :as ben
        {SERIES}
        :as cara
        :press Going
        :as dan
        :press Maybe
        :as eve
        :press Can't go
        :as cara
        :press Going
        :advance 22d
        """,
        zone=NY,
        clock=ny(2026, 11, 10, 9, 0),
    )
    text = "\n".join(lines)
    assert (
        "[private @ben] Series 1 created: Monthly CoP, monthly on the first Tuesday at 18:30 "
        "(America/New_York), 90 minutes, reminders 1 week, 1 day, 1 hour. Upcoming: "
        "#1 Tue 1 Dec 2026, 18:30 EST, #2 Tue 5 Jan 2027, 18:30 EST, #3 Tue 2 Feb 2027, 18:30 EST."
    ) in lines
    assert (
        "[private @cara] Your answer for Monthly CoP on Tue 1 Dec 2026, 18:30 EST: Going." in lines
    )
    assert (
        "[private @eve] Your answer for Monthly CoP on Tue 1 Dec 2026, 18:30 EST: Can't go."
        in lines
    )
    # Each reminder exactly once, under the local time it fell due.
    assert headed(lines) == [
        ("Tue 24 Nov 2026, 18:30 EST", "[#cop] Reminder: Monthly CoP starts in 1 week."),
        ("Mon 30 Nov 2026, 18:30 EST", "[#cop] Reminder: Monthly CoP starts in 1 day."),
        ("Tue 1 Dec 2026, 17:30 EST", "[#cop] Reminder: Monthly CoP starts in 1 hour."),
        (
            "Tue 1 Dec 2026, 20:00 EST",
            "[#cop] Monthly CoP has ended. Were you there? Press the button (or type "
            "/cop meeting attended 1) so your hours are recorded.",
        ),
    ]
    for header in ("~ Tue 24 Nov 2026, 18:30 EST", "~ Mon 30 Nov 2026, 18:30 EST"):
        assert lines.count(header) == 1
    assert lines.count("~ Tue 1 Dec 2026, 17:30 EST") == 1
    # The full 1-hour reminder, with who is going and the answer counts.
    start = lines.index("~ Tue 1 Dec 2026, 17:30 EST") + 1
    end = lines.index("~ Tue 1 Dec 2026, 20:00 EST")
    assert lines[start:end] == [
        "[#cop] Reminder: Monthly CoP starts in 1 hour.",
        "  When: Tue 1 Dec 2026, 18:30 EST (90 minutes)",
        "  Join: https://zoom.us/j/123",
        "  Agenda:",
        "  1. Welcome and agreements",
        "  2. Sharing",
        "  3. Topic discussion",
        "  4. Problem-solving",
        "  5. Individual reflection",
        "  Going: @cara",
        "  (Going 1 · Maybe 1 · Can't go 1 · meeting 1)",
        "  1) Going · 2) Maybe · 3) Can't go",
        "  1) Share my experience · 2) Lead a breakout · 3) Take notes · 4) Host",
        "  (message 11: :press 11 LABEL)",
    ]
    # Longer reminders show counts but not names; no DMs unless the series asks for them.
    assert text.count("Going: @cara") == 1
    assert "[dm @" not in text


async def test_dm_reminders_go_to_going_and_maybe_only() -> None:
    lines = await transcript(
        SETUP
        + f"""
        :as ben
        {SERIES} reminders=1h dm=yes
        :as cara
        :press Going
        :as dan
        :press Maybe
        :as eve
        :press Can't go
        :at 2026-12-01T17:45
        """,
        zone=NY,
        clock=ny(2026, 11, 10, 9, 0),
    )
    firsts = [line for _, line in headed(lines)]
    assert firsts == [
        "[#cop] Reminder: Monthly CoP starts in 1 hour.",
        "[dm @cara] Reminder: Monthly CoP starts in 1 hour.",
        "[dm @dan] Reminder: Monthly CoP starts in 1 hour.",
    ]


async def test_reminders_keep_local_time_across_both_dst_changes() -> None:
    """18:30 New York stays 18:30 (and the 1-hour reminder 17:30) across 2026-11-01 and 2027-03-14."""
    lines = await transcript(
        SETUP
        + f"""
        :as ben
        {SERIES}
        :at 2027-04-07T00:00
        """,
        zone=NY,
        clock=ny(2026, 9, 2, 9, 0),
    )
    one_hour = [h for h, line in headed(lines) if "starts in 1 hour" in line]
    assert one_hour == [
        "Tue 6 Oct 2026, 17:30 EDT",
        "Tue 3 Nov 2026, 17:30 EST",
        "Tue 1 Dec 2026, 17:30 EST",
        "Tue 5 Jan 2027, 17:30 EST",
        "Tue 2 Feb 2027, 17:30 EST",
        "Tue 2 Mar 2027, 17:30 EST",
        "Tue 6 Apr 2027, 17:30 EDT",
    ]
    ended = [h for h, line in headed(lines) if "has ended" in line]
    assert ended[:2] == ["Tue 6 Oct 2026, 20:00 EDT", "Tue 3 Nov 2026, 20:00 EST"]
    # Day offsets count on the wall clock: a week before 3 Nov (EST) is 27 Oct 18:30 EDT.
    one_week = [h for h, line in headed(lines) if "starts in 1 week" in line]
    assert one_week[:2] == ["Tue 29 Sep 2026, 18:30 EDT", "Tue 27 Oct 2026, 18:30 EDT"]
    assert "Tue 6 Apr 2027, 18:30 EDT" in "\n".join(lines)


async def test_last_weekday_and_other_schedules_from_the_readme() -> None:
    lines = await transcript(
        SETUP
        + """
        :as ben
        /cop meeting series "last Thursday of each month at 12:00" title=Lunch
        /cop meeting series "every 2 weeks on Wednesday at 19:00" title=Fortnightly
        /cop meeting series "once on 2026-12-08 at 18:30" title=Holiday zone=America/Chicago
        /cop meeting series "RRULE:FREQ=MONTHLY;BYDAY=-1TU at 9:00" title=Rule
        """,
        zone=NY,
        clock=ny(2026, 11, 2, 9, 0),
    )
    created = [line for line in replies(lines) if line.startswith("[private @ben] Series")]
    assert len(created) == 4
    assert created[0].endswith(
        "Upcoming: #1 Thu 26 Nov 2026, 12:00 EST, #2 Thu 31 Dec 2026, 12:00 EST, "
        "#3 Thu 28 Jan 2027, 12:00 EST."
    )
    assert "every 2 weeks on Wednesday at 19:00 (America/New_York)" in created[1]
    assert created[2].endswith("Upcoming: #7 Tue 8 Dec 2026, 18:30 CST.")  # the series' zone
    assert "Tue 24 Nov 2026, 09:00 EST" in created[3]


@pytest.mark.parametrize(
    ("line", "reply"),
    [
        (
            '/cop meeting series "on the blue moon at 18:30"',
            'I couldn\'t read that schedule; try "monthly on the first Tuesday at 18:30" or '
            '"once on 2026-12-08 at 18:30".',
        ),
        (
            '/cop meeting series "monthly on the first Tuesday"',
            'Please add a start time, as in "monthly on the first Tuesday at 18:30".',
        ),
        (
            '/cop meeting series "once on 2026-02-30 at 18:30"',
            "There is no date 2026-02-30; use a real calendar date such as 2026-12-08.",
        ),
        (
            '/cop meeting series "once on 2026-01-08 at 18:30"',
            "That schedule has no meeting after now; check its dates.",
        ),
        (
            '/cop meeting series "weekly on Monday at 9:00" zone=Europe/Mars',
            '"Europe/Mars" is not a time zone I know; use an IANA name such as America/New_York.',
        ),
        (
            '/cop meeting series "weekly on Monday at 9:00" link=javascript:alert(1)',
            "The link must start with http:// or https://, such as https://zoom.us/j/123.",
        ),
        (
            '/cop meeting series "weekly on Monday at 9:00" duration=forever',
            "Give the length in minutes between 10 and 480, such as duration=90 or duration=1h30m.",
        ),
        (
            '/cop meeting series "weekly on Monday at 9:00" reminders="soon"',
            'Give reminders as offsets before the meeting, such as reminders="7d 1d 1h" (at most 5, '
            "each under 60 days), or reminders=none.",
        ),
        (
            '/cop meeting series "weekly on Monday at 9:00" title="' + "x" * 200 + '"',
            "title is too long; keep it under 120 characters.",
        ),
        (
            "/cop meeting move 1 2026-02-30 18:30",
            "There is no date 2026-02-30; use a real calendar date such as 2026-12-08.",
        ),
        (
            "/cop meeting move 1 next week",
            "Give the new time as a date and a 24-hour time, such as 2026-12-08 18:30.",
        ),
        (
            "/cop meeting move 1 2027-03-14 02:30",
            "02:30 does not exist on 2027-03-14 in America/New_York because the clocks jump "
            "forward; pick another time.",
        ),
        (
            "/cop meeting move 1 2026-01-01 18:30",
            "That time has already passed; pick a time in the future.",
        ),
        (
            "/cop meeting cancel 99",
            "There is no meeting 99 in this community; see /cop meeting list.",
        ),
        (
            '/cop meeting agenda 1 objectives="' + ";".join("x" * 5 for _ in range(11)) + '"',
            "Give at most 10 objectives, separated by ;.",
        ),
    ],
)
async def test_bad_input_gets_one_private_sentence(line: str, reply: str) -> None:
    lines = await transcript(
        SETUP
        + f"""
        :as ben
        /cop meeting series "weekly on Monday at 9:00" title=Weekly
        {line}
        """,
        zone=NY,
        clock=ny(2026, 11, 2, 9, 0),
    )
    assert replies(lines)[-1] == f"[private @ben] {reply}"


async def test_refusals_for_members_other_communities_and_cancelled_meetings() -> None:
    lines = await transcript(
        SETUP
        + f"""
        :as ben
        {SERIES}
        :as cara
        /cop meeting cancel 1
        /cop meeting agenda 1 topic=Mine
        /cop meeting attended 1 @dan
        :as ana admin
        :in #other
        /cop setup "Other CoP" America/Chicago
        /cop meeting cancel 1
        /cop meeting ics 2
        :in #cop
        :at 2026-11-25T00:00
        :as ben
        /cop meeting cancel 1
        /cop meeting cancel 1
        :as cara
        :press 4 Going
        """,
        zone=NY,
        clock=ny(2026, 11, 10, 9, 0),
    )
    text = "\n".join(replies(lines))
    assert "[private @cara] Only a facilitator of Finger Lakes CoP can do that." in text
    assert "[private @cara] Only a facilitator can change the agenda." in text
    assert "[private @ana] There is no meeting 1 in this community; see /cop meeting list." in text
    assert "[private @ana] There is no meeting 2 in this community; see /cop meeting list." in text
    assert "[private @ben] Meeting 1 is already cancelled." in text
    assert replies(lines)[-1] == "[private @cara] Meeting 1 was cancelled, so it takes no answers."


async def test_cancel_and_move_tell_who_answered_and_reschedule_reminders() -> None:
    lines = await transcript(
        SETUP
        + f"""
        :as ben
        {SERIES} reminders="1d 1h"
        :as cara
        :press Going
        :as dan
        :press Maybe
        :as eve
        :press Can't go
        :as ben
        /cop meeting cancel 1
        /cop meeting move 2 2027-01-12 18:30
        :at 2027-01-13T00:00
        """,
        zone=NY,
        clock=ny(2026, 11, 10, 9, 0),
    )
    out = replies(lines)
    assert (
        "[private @ben] Meeting 1 (Monthly CoP) is cancelled; 2 people who answered will be told."
        in out
    )
    assert "[#cop] Monthly CoP on Tue 1 Dec 2026, 18:30 EST is cancelled." in out
    assert "[dm @cara] Monthly CoP on Tue 1 Dec 2026, 18:30 EST is cancelled." in out
    assert "[dm @dan] Monthly CoP on Tue 1 Dec 2026, 18:30 EST is cancelled." in out
    assert "[dm @eve] Monthly CoP on Tue 1 Dec 2026, 18:30 EST is cancelled." not in out
    # The posted card turns into a cancellation (no buttons).
    assert any(
        line.startswith("[#cop] (message 4 updated) Cancelled: Monthly CoP.") for line in out
    )
    # Nobody answered meeting 2 yet: only the channel hears about the move.
    assert (
        "[private @ben] Meeting 2 (Monthly CoP) is moved; 0 people who answered will be told."
        in out
    )
    moved = "Monthly CoP has moved from Tue 5 Jan 2027, 18:30 EST to Tue 12 Jan 2027, 18:30 EST."
    assert f"[#cop] {moved}" in out
    assert headed(lines) == [
        ("Mon 11 Jan 2027, 18:30 EST", "[#cop] Reminder: Monthly CoP starts in 1 day."),
        ("Tue 12 Jan 2027, 17:30 EST", "[#cop] Reminder: Monthly CoP starts in 1 hour."),
        (
            "Tue 12 Jan 2027, 20:00 EST",
            "[#cop] Monthly CoP has ended. Were you there? Press the button (or type "
            "/cop meeting attended 2) so your hours are recorded.",
        ),
    ]
    assert "  (Moved from Tue 5 Jan 2027, 18:30 EST.)" in lines


async def test_moving_a_meeting_someone_answered_tells_them_by_dm() -> None:
    lines = await transcript(
        SETUP
        + f"""
        :as ben
        {SERIES}
        :as cara
        :press Going
        :as eve
        :press Can't go
        :as ben
        /cop meeting move next 2026-12-03 18:00
        """,
        zone=NY,
        clock=ny(2026, 11, 10, 9, 0),
    )
    moved = "Monthly CoP has moved from Tue 1 Dec 2026, 18:30 EST to Thu 3 Dec 2026, 18:00 EST."
    assert (
        "[private @ben] Meeting 1 (Monthly CoP) is moved; 2 people who answered will be told."
        in lines
    )
    assert f"[#cop] {moved}" in lines
    assert f"[dm @cara] {moved}" in lines
    assert f"[dm @eve] {moved}" in lines  # "can't" at the old time may be "going" at the new one


async def test_editing_the_series_reschedules_future_meetings() -> None:
    lines = await transcript(
        SETUP
        + f"""
        :as ben
        {SERIES}
        :as cara
        :press Going
        :as ben
        /cop meeting agenda 1 topic="Outdoor play"
        /cop meeting edit schedule="last Thursday of each month at 12:00" reminders=1h duration=60
        /cop meeting list
        :at 2026-11-27T00:00
        """,
        zone=NY,
        clock=ny(2026, 11, 10, 9, 0),
    )
    out = replies(lines)
    assert (
        "[private @ben] Series 1 updated: Monthly CoP, monthly on the last Thursday at 12:00 "
        "(America/New_York), 60 minutes, reminders 1 hour. Upcoming: #1 Thu 26 Nov 2026, 12:00 EST, "
        "#2 Thu 31 Dec 2026, 12:00 EST, #3 Thu 28 Jan 2027, 12:00 EST."
    ) in out
    moved = "Monthly CoP has moved from Tue 1 Dec 2026, 18:30 EST to Thu 26 Nov 2026, 12:00 EST."
    assert f"[dm @cara] {moved}" in out
    assert "  #1 Thu 26 Nov 2026, 12:00 EST — Monthly CoP: Outdoor play (1 going, 0 maybe)" in lines
    assert [h for h, _ in headed(lines)] == [
        "Thu 26 Nov 2026, 11:00 EST",
        "Thu 26 Nov 2026, 13:00 EST",
    ]


async def test_ics_files_are_attached() -> None:
    lines = await transcript(
        SETUP
        + f"""
        :as ben
        {SERIES}
        :as cara
        /cop meeting ics
        /cop meeting ics series=1
        """,
        zone=NY,
        clock=ny(2026, 11, 10, 9, 0),
    )
    assert "[private @cara] Calendar file for Monthly CoP (meeting 1)." in lines
    assert "[private @cara] Calendar file for the series Monthly CoP (series 1)." in lines
    assert any(re.fullmatch(r"  \[file: meeting-1\.ics, \d+ bytes\]", line) for line in lines)
    assert any(re.fullmatch(r"  \[file: series-1\.ics, \d+ bytes\]", line) for line in lines)
