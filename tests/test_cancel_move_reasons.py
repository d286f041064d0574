"""Cancel and move take a reason shown to everyone told; a move resets every answer to "not
answered" and asks those who had answered again, by DM with the RSVP buttons, once."""

from __future__ import annotations

from sqlalchemy import select

from storage.db import Database
from storage.meetings import Meeting, MeetingRsvp
from tests.support import transcript
from tests.test_meetings_console import NY, SERIES, SETUP, ny, replies


async def test_cancel_with_a_reason_tells_the_channel_and_who_answered(db: Database) -> None:
    lines = await transcript(
        SETUP
        + f"""
        :as ben
        {SERIES}
        :as cara
        :press Going
        :as ben
        /cop meeting cancel 1 reason="the room is flooded"
        """,
        db=db,
        zone=NY,
        clock=ny(2026, 11, 10, 9, 0),
    )
    out = replies(lines)
    notice = "Monthly CoP on Tue 1 Dec 2026, 18:30 EST is cancelled. Reason: the room is flooded"
    assert f"[#cop] {notice}" in out
    assert f"[dm @cara] {notice}" in out
    async with db.session() as session:
        meeting = (await session.execute(select(Meeting).where(Meeting.number == 1))).scalar_one()
    assert (meeting.status, meeting.reason) == ("cancelled", "the room is flooded")


async def test_move_resets_answers_and_asks_again_by_dm_with_buttons(db: Database) -> None:
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
        /cop meeting move 1 2026-12-03 18:00 reason="the speaker is ill"
        :as cara
        :press Maybe
        """,
        db=db,
        zone=NY,
        clock=ny(2026, 11, 10, 9, 0),
    )
    moved = (
        "Monthly CoP has moved from Tue 1 Dec 2026, 18:30 EST to Thu 3 Dec 2026, 18:00 EST. "
        "Reason: the speaker is ill"
    )
    start = lines.index('ben> /cop meeting move 1 2026-12-03 18:00 reason="the speaker is ill"')
    after_move = lines[start:]
    assert (
        "[private @ben] Meeting 1 (Monthly CoP) is moved; 2 people who answered will be told."
        in after_move
    )
    # The live card's counts are back to zero.
    assert "  (Going 0 · Maybe 0 · Can't go 0 · meeting 1)" in after_move
    for who in ("cara", "eve"):
        i = after_move.index(f"[dm @{who}] {moved}")
        assert after_move[i + 1 : i + 3] == [
            "  Answers were reset for the new time: please answer again.",
            "  1) Going · 2) Maybe · 3) Can't go",
        ]
    assert after_move.count(f"[dm @cara] {moved}") == 1
    assert f"[#cop] {moved}" in after_move
    # cara answers again from the DM: the new answer counts for the new time.
    assert (
        "[private @cara] Your answer for Monthly CoP on Thu 3 Dec 2026, 18:00 EST: Maybe." in lines
    )
    async with db.session() as session:
        rows = (await session.execute(select(MeetingRsvp))).scalars().all()
        meeting = (await session.execute(select(Meeting).where(Meeting.number == 1))).scalar_one()
    assert [r.answer for r in rows] == ["maybe"]
    assert meeting.reason == "the speaker is ill"


async def test_moving_twice_asks_again_each_time_and_reasons_are_member_text() -> None:
    lines = await transcript(
        SETUP
        + f"""
        :as ben
        {SERIES}
        :as cara
        :press Going
        :as ben
        /cop meeting move 1 2026-12-03 18:00 reason="@everyone \x1b[31mroom 4\x1b[0m"
        :as cara
        :press Going
        :as ben
        /cop meeting move 1 2026-12-04 18:00
        """,
        zone=NY,
        clock=ny(2026, 11, 10, 9, 0),
    )
    dms = [line for line in lines if line.startswith("[dm @cara]")]
    assert dms == [
        "[dm @cara] Monthly CoP has moved from Tue 1 Dec 2026, 18:30 EST to Thu 3 Dec 2026, "
        "18:00 EST. Reason: @everyone room 4",
        "[dm @cara] Monthly CoP has moved from Thu 3 Dec 2026, 18:00 EST to Fri 4 Dec 2026, "
        "18:00 EST.",
    ]


async def test_bad_reasons_are_refused_and_change_nothing() -> None:
    lines = await transcript(
        SETUP
        + f"""
        :as ben
        {SERIES}
        :as cara
        :press Going
        :as ben
        /cop meeting move 1 2026-12-03 18:00 reason="{"x" * 201}"
        /cop meeting cancel 1 reason=""
        /cop meeting cancel 1 because="why not"
        /cop meeting list
        """,
        zone=NY,
        clock=ny(2026, 11, 10, 9, 0),
    )
    out = replies(lines)
    assert "[private @ben] reason is too long; keep it under 200 characters." in out
    assert not [line for line in out if line.startswith("[dm @")]
    assert "  #1 Tue 1 Dec 2026, 18:30 EST — Monthly CoP (1 going, 0 maybe)" in lines
