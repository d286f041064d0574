"""What a facilitator learns about who answered, and what that must not give away.

The facilitator's status names who answered a round (in name order, never what, never when),
as the design asks. With so few answerers an anonymous answer could be told apart by
elimination, so below `MIN_ANONYMOUS` answerers it is not posted: its author is told
privately and keeps it in their journal. The response rate is shown over the rounds."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.features.reflections.share import MIN_ANONYMOUS
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
:as fay
/cop join
:as ben
/cop checkins default
/cop meeting series "monthly on the first Tuesday at 16:00" title="Monthly CoP"
"""
SECRET = "More planning time, please"


def answered(round_opens: str, *, anonymous_by: str, also: str) -> str:
    return f"""
    :at {round_opens}
    :as {anonymous_by}
    :in dm
    :press Answer
    :submit q3="{SECRET}" privacy=anonymous
    :as {also}
    :in dm
    :press Answer
    :submit q1="Water play held them" privacy=private
    """


async def test_too_few_answers_hold_an_anonymous_one_back_and_status_names_who(
    db: Database,
) -> None:
    assert MIN_ANONYMOUS == 3
    lines = await transcript(
        SETUP
        + answered("2026-11-05T17:01", anonymous_by="fay", also="cara")
        + answered("2026-12-03T17:01", anonymous_by="fay", also="cara")
        + """
        :at 2026-12-09T17:00
        :as ben
        :in #cop
        /cop checkins status 1
        :as fay
        :in dm
        /cop journal
        """,
        db=db,
        clock=FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo(NY))),
        zone=NY,
    )
    # Two rounds closed with two answerers each: the anonymous answer reached no channel or
    # thread, and fay was told so privately, once per round.
    assert not any(SECRET in line for line in lines if "[#cop]" in line), lines
    held = [line for line in lines if line.startswith("[dm @fay] Check-in 1 has closed with")]
    assert len(held) == 2 and "not posted" in held[0] and SECRET not in held[0]
    assert not any("[dm @cara] Check-in 1 has closed with" in line for line in lines)
    # ben sees who answered, in name order, and the rate over the two rounds; never the text.
    start = lines.index("ben> /cop checkins status 1")
    status = lines[start + 1 : lines.index("ben> :as fay", start)]
    # Four members were asked (ana, ben, cara, fay); two answered each round.
    assert "  (Response rate over time: round 1 50% · round 2 50%.)" in status, status
    assert status.count("  (Answered: cara, fay.)") == 2, status
    assert not any(SECRET in line or "Water play" in line for line in status)
    # fay still has her answer, in her own journal.
    assert any(SECRET in line for line in lines[lines.index("fay> /cop journal") :])
