"""Community agreements through the console: drafted, versioned, recapped at meetings, agreed.

The meeting clock is the console's fake one; `:at` runs every job due on the way, so a
recap appears exactly when a meeting's start job runs.
"""

from __future__ import annotations

import re
from datetime import datetime
from itertools import takewhile
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.ports import FakeClock
from storage.agreements import AgreementAck, AgreementVersion
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
:as dan
/cop join
:as ben
"""
SERIES = '/cop meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP"'


def ny(*args: int) -> FakeClock:
    return FakeClock(datetime(*args, tzinfo=ZoneInfo(NY)))


def posts(lines: list[str]) -> list[str]:
    """The first line of each channel post."""
    return [line for line in lines if line.startswith("[#cop]")]


async def test_draft_version_recap_rotate_agree_and_amend() -> None:
    lines = await transcript(
        SETUP
        + f"""
        /cop agreements draft pick=1,2,6
        {SERIES}
        :as cara
        :press Going
        :at 2026-11-03T18:30
        :as cara
        :press I agree
        :as dan
        :press I agree
        :press I agree
        :as ben
        /cop agreements status
        /cop agreements add We start and end on time.
        :at 2026-12-01T18:30
        /cop agreements history
        """,
        clock=ny(2026, 11, 2, 9, 0),
        zone=NY,
    )
    channel = posts(lines)
    assert (
        channel[0]
        == "[#cop] Finger Lakes CoP is set up in this channel (time zone America/New_York, language en). Name facilitators with /cop facilitator add @name; members join with /cop join."
    )  # noqa: E501
    recaps = [i for i, line in enumerate(lines) if "Before we begin" in line]
    assert len(recaps) == 2  # one per meeting start, none on the way
    first, second = (lines[i : i + 6] for i in recaps)
    assert first[0] == "[#cop] Before we begin, our community agreements (version 1):"
    assert first[1].startswith("  1. What is shared here stays here")
    assert (
        first[2]
        == "  2. Challenge by choice: everyone decides how far to step out of their comfort zone today."
    )  # noqa: E501
    assert first[4] == "  To think about: Which agreement matters most to you today, and why?"
    assert second[0] == "[#cop] Before we begin, our community agreements (version 2):"
    assert "  4. We start and end on time." in second
    assert (
        "  To think about: Which agreement is hardest to keep when we are busy or tired?"
        in (lines[recaps[1] : recaps[1] + 8])
    )
    # Acknowledgements: once each; the status names people only to the facilitator.
    assert (
        "[private @cara] Thank you — you agreed to version 1 of the community agreements." in lines
    )
    assert "[private @dan] You already agreed to version 1." in lines
    status = lines.index("[private @ben] Version 1: 2 of 4 members agreed.")
    assert lines[status + 1] == "  Agreed: cara, dan"
    assert lines[status + 2] == "  Not yet: ana, ben"
    # Version 2 tells those who agreed to version 1, privately, what changed.
    for who in ("cara", "dan"):
        note = lines.index(
            f"[dm @{who}] The agreements of Finger Lakes CoP you agreed to (version 1) changed; "
            "version 2 is now in place:"
        )
        assert lines[note + 1] == "  Added 4: We start and end on time."
    # Those who had not agreed get one reminder, of the version current three days on (2);
    # version 1's reminder is dropped, as it is no longer the current one.
    dms = [line for line in lines if line.startswith("[dm @")]
    assert not any("you agreed to (version 1)" in line for line in dms if "@ana" in line)
    for who in ("ana", "ben"):
        reminder = (
            f"[dm @{who}] The agreements of Finger Lakes CoP are at version 2 and you haven't "
            "said yet whether you agree:"
        )
        assert dms.count(reminder) == 1, dms
    assert not any("version 1 and you haven't" in line for line in dms)
    assert not any(("@cara" in line or "@dan" in line) and "haven't" in line for line in dms)
    # Nobody's name appears in any channel post about agreements.
    for i, line in enumerate(lines):
        if line.startswith("[#cop]") and "agreements" in line:
            block = [line, *takewhile(lambda ln: ln.startswith("  "), lines[i + 1 :])]
            assert not re.search(r"\b(cara|dan|ana|ben)\b", " ".join(block)), block
    history = lines.index("[private @ben] Versions of our agreements, newest first:")
    assert lines[history + 1].startswith(
        "  Version 2, changed by a facilitator, proposed by ben, on Tue 3 Nov 2026"
    )
    assert lines[history + 2] == "  (Added 4: We start and end on time.)"


async def test_questions_rotate_without_repeating_until_all_were_asked() -> None:
    recaps = "\n".join(["/cop agreements recap"] * 9)
    lines = await transcript(
        SETUP
        + f"""
        /cop agreements draft pick=all
        /cop agreements questions remove=8
        /cop agreements questions add="What will you carry into your classroom?"
        {recaps}
        """
    )
    asked = [line[len("  To think about: ") :] for line in lines if "To think about:" in line]
    assert len(asked) == 9
    assert len(set(asked[:8])) == 8  # eight questions, none twice in the first round
    assert "What will you carry into your classroom?" in asked[:8]
    assert "How can we make space for someone who hasn't spoken yet today?" not in asked
    assert asked[8] == asked[0]  # the second round starts over in order


async def test_a_moved_meeting_carries_its_recap_and_a_cancelled_one_posts_none() -> None:
    lines = await transcript(
        SETUP
        + f"""
        /cop agreements draft pick=1,3
        {SERIES}
        /cop meeting move 1 2026-11-05 18:00
        /cop meeting cancel 2
        :at 2026-11-04T12:00
        /cop meeting list
        :at 2026-11-05T18:00
        :at 2027-01-06T00:00
        """,
        clock=ny(2026, 11, 2, 9, 0),
        zone=NY,
    )
    headers = []
    header = ""
    for line in lines:
        if line.startswith("~ "):
            header = line
        if "Before we begin" in line:
            headers.append(header)
    # Meeting 1 moved to 5 Nov, meeting 2 (1 Dec) cancelled: recaps on 5 Nov and 5 Jan only.
    assert len(headers) == 2, headers
    assert "Thu 5 Nov" in headers[0] and "18:00" in headers[0]
    assert "Jan" in headers[1]


async def test_bad_input_is_refused_in_one_sentence_and_changes_nothing(db: Database) -> None:
    lines = await transcript(
        SETUP
        + """
        /cop agreements add Too early
        /cop agreements draft pick=0,3
        /cop agreements draft pick=two
        /cop agreements draft pick=1,2
        /cop agreements draft pick=3
        /cop agreements edit 9 Nothing there
        /cop agreements edit 2 Challenge by choice: everyone decides how far to step out of their comfort zone today.
        /cop agreements add challenge BY choice: everyone decides how far to step out of their comfort zone today.
        /cop agreements remove x
        :as cara
        /cop agreements add Members cannot change them directly
        /cop agreements remove 1
        /cop agreements status
        """,
        db=db,
    )
    refusals = [line for line in lines if line.startswith("[private")]
    assert refusals[:3] == [
        "[private @ben] This community has no agreements yet. A facilitator can start from the "
        "starter set: /cop agreements starter, then /cop agreements draft pick=1,2,5 (or "
        "pick=all, or pick=none to begin from scratch).",
        "[private @ben] I couldn't read pick=0,3: give starter numbers between 1 and 12 "
        "separated by commas, or all, or none.",
        "[private @ben] I couldn't read pick=two: give starter numbers between 1 and 12 "
        "separated by commas, or all, or none.",
    ]
    assert (
        "[private @ben] This community already has agreements (version 1); change them "
        "with /cop agreements add, edit or remove." in lines
    )
    assert (
        "[private @ben] There is no agreement 9; /cop agreements show lists them with their numbers."
        in lines
    )  # noqa: E501
    assert "[private @ben] Agreement 2 already says that; nothing changed." in lines
    assert "[private @ben] Agreement 2 already says that." in lines
    assert sum("Only a facilitator of Finger Lakes CoP can do that." in ln for ln in lines) == 3
    async with db.session() as session:
        versions = (await session.execute(select(AgreementVersion))).scalars().all()
        acks = (await session.execute(select(AgreementAck))).scalars().all()
    assert [v.number for v in versions] == [1]
    assert acks == []
