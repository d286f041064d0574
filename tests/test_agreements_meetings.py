"""Agreements where meetings happen, through the console: under the agenda's "Welcome and
agreements" segment, a recap at the start or with a reminder (per community), and the
current list privately to each new member."""

from __future__ import annotations

from sqlalchemy import select

from storage.agreements import AgreementRecap, AgreementSettings
from storage.db import Database
from tests.support import transcript
from tests.test_agreements import NY, SERIES, SETUP, ny

S1 = "What is shared here stays here: we talk about what we learned, not about who said it or about the children and families we mention."  # noqa: E501
S3 = "Sharing is by invitation: it is always fine to pass."


def block_after(lines: list[str], first: str) -> list[str]:
    """The line `first` and the indented lines of the same message after it."""
    i = lines.index(first)
    out = [first]
    for line in lines[i + 1 :]:
        if not line.startswith("  "):
            break
        out.append(line)
    return out


def under_welcome(block: list[str]) -> list[str]:
    """The lines between the agenda's "1. Welcome and agreements" and its "2." segment."""
    start = block.index("  1. Welcome and agreements")
    end = next(i for i in range(start, len(block)) if block[i].startswith("  2. "))
    return block[start + 1 : end]


def headers_of(lines: list[str], needle: str) -> list[str]:
    """For each line containing `needle`, the console's clock line (``~ ...``) before it."""
    out, header = [], ""
    for line in lines:
        if line.startswith("~ "):
            header = line
        if needle in line:
            out.append(header)
    return out


async def test_the_agenda_and_every_reminder_list_the_agreements_under_welcome() -> None:
    lines = await transcript(
        SETUP
        + f"""
        /cop agreements draft pick=1,3
        {SERIES} reminders="1d 1h"
        /cop meeting series "weekly on Friday at 12:00" title="Book club" segments="Check-in; Reading"
        /cop meeting agenda 1
        :at 2026-11-02T18:31
        /cop agreements add We start and end on time.
        :as cara
        /cop meeting agenda 1
        /cop meeting agenda 4
        """,
        clock=ny(2026, 11, 2, 9, 0),
        zone=NY,
    )
    expected = ["  Our agreements (version 1):", f"  • 1. {S1}", f"  • 2. {S3}"]
    agenda = block_after(
        lines, "[private @ben] Agenda of meeting 1, Monthly CoP, Tue 3 Nov 2026, 18:30 EST"
    )
    assert under_welcome(agenda) == expected
    assert agenda[-4:] == [
        "  2. Sharing",
        "  3. Topic discussion",
        "  4. Problem-solving",
        "  5. Individual reflection",
    ]
    announce = block_after(
        lines,
        "[#cop] New meetings: Monthly CoP, monthly on the first Tuesday at 18:30 (America/New_York).",
    )
    assert under_welcome(announce) == expected
    reminder = block_after(lines, "[#cop] Reminder: Monthly CoP starts in 1 day.")
    assert under_welcome(reminder) == expected
    # A new version shows in the next agenda; a member sees it too.
    later = block_after(
        lines, "[private @cara] Agenda of meeting 1, Monthly CoP, Tue 3 Nov 2026, 18:30 EST"
    )
    assert under_welcome(later) == [
        "  Our agreements (version 2):",
        f"  • 1. {S1}",
        f"  • 2. {S3}",
        "  • 3. We start and end on time.",
    ]
    # An agenda in the facilitator's own words has no "Welcome and agreements": nothing added.
    own = block_after(
        lines, "[private @cara] Agenda of meeting 4, Book club, Fri 6 Nov 2026, 12:00 EST"
    )
    assert not any("Our agreements" in line for line in own)
    assert own[-3:] == ["  Agenda:", "  1. Check-in", "  2. Reading"]


async def test_no_agreements_leave_the_agenda_as_it_was() -> None:
    lines = await transcript(
        SETUP
        + f"""
        {SERIES}
        /cop meeting agenda 1
        """,
        clock=ny(2026, 11, 2, 9, 0),
        zone=NY,
    )
    agenda = block_after(
        lines, "[private @ben] Agenda of meeting 1, Monthly CoP, Tue 3 Nov 2026, 18:30 EST"
    )
    assert agenda[1:] == [
        "  Agenda:",
        "  1. Welcome and agreements",
        "  2. Sharing",
        "  3. Topic discussion",
        "  4. Problem-solving",
        "  5. Individual reflection",
    ]


SETTINGS = """
        /cop agreements draft pick=1,3
        :as cara
        /cop agreements settings recap=last-reminder
        :as ben
        /cop agreements settings recap=sometimes
        /cop agreements settings
        """


async def test_the_recap_goes_with_the_first_reminder_follows_a_move_and_skips_a_cancel(
    db: Database,
) -> None:
    lines = await transcript(
        SETUP
        + SETTINGS
        + f"""
        /cop agreements settings recap=first-reminder
        {SERIES} reminders="1d 1h"
        :at 2026-11-30T19:00
        /cop meeting move 2 2026-12-08 18:30
        /cop meeting cancel 3
        :at 2027-01-06T00:00
        """,
        clock=ny(2026, 11, 2, 9, 0),
        zone=NY,
        db=db,
    )
    # Facilitators only; a value it does not know is refused; the default is the start.
    assert "[private @cara] Only a facilitator of Finger Lakes CoP can do that." in lines
    assert (
        '[private @ben] recap must be one of start, first-reminder, last-reminder, not "sometimes".'
        in lines
    )
    shown = block_after(
        lines, "[private @ben] The recap of the agreements is posted as each meeting starts."
    )
    assert shown[1].startswith("  Change it with /cop agreements settings recap=start")
    assert "[private @ben] Saved." in lines
    # With each meeting's 1-day reminder (posted right after it), never at the start:
    # meeting 1 on 2 Nov, meeting 2 on 30 Nov and again for its new time on 7 Dec; the
    # cancelled meeting 3 gets none.
    recaps = [i for i, line in enumerate(lines) if "our community agreements (version" in line]
    assert [lines[i] for i in recaps] == [
        "[#cop] Before we meet, our community agreements (version 1):"
    ] * 3
    for i in recaps:
        card = max(j for j in range(i) if lines[j].startswith("[#cop] Reminder:"))
        assert lines[card] == "[#cop] Reminder: Monthly CoP starts in 1 day."
    assert [h[:17] for h in headers_of(lines, "Before we meet")] == [
        "~ Mon 2 Nov 2026,",
        "~ Mon 30 Nov 2026",
        "~ Mon 7 Dec 2026,",
    ]
    asked = [line for line in lines if "To think about:" in line]
    assert asked[1] == asked[2] != asked[0]  # the moved meeting keeps its question
    async with db.session() as session:
        recap_rows = (await session.execute(select(AgreementRecap))).scalars().all()
        settings = (await session.execute(select(AgreementSettings))).scalars().all()
    assert len(recap_rows) == 2  # one per meeting, carried to the new time
    assert [s.recap_at for s in settings] == ["first-reminder"]


async def test_the_recap_goes_with_the_last_reminder_or_at_the_start_without_one() -> None:
    lines = await transcript(
        SETUP
        + SETTINGS
        + f"""
        /cop agreements settings recap=last-reminder
        {SERIES} reminders="1d 1h"
        /cop meeting series "weekly on Thursday at 12:00" title="Drop-in" reminders=none
        :at 2026-11-05T13:00
        """,
        clock=ny(2026, 11, 2, 9, 0),
        zone=NY,
    )
    assert [h[:22] for h in headers_of(lines, "our community agreements (version")] == [
        "~ Tue 3 Nov 2026, 17:3",  # with the 1-hour reminder of the monthly meeting
        "~ Thu 5 Nov 2026, 12:0",  # the drop-in has no reminder: at its start
    ]
    assert sum("Before we meet" in line for line in lines) == 1
    assert sum("Before we begin" in line for line in lines) == 1
    reminder = lines.index("[#cop] Reminder: Monthly CoP starts in 1 hour.")
    assert lines.index("[#cop] Before we meet, our community agreements (version 1):") > reminder


async def test_new_members_get_the_agreements_privately_once() -> None:
    lines = await transcript(
        SETUP
        + """
        /cop agreements draft pick=1,3
        :as eve
        /cop join
        /cop leave
        /cop join
        :as fay
        /cop agreements show
        :as gus
        :press 6 I agree
        :as hal
        /cop agreements add Not a facilitator
        :as ben
        /cop agreements edit 2 Everyone may pass, always.
        :as ivy
        /cop meeting list
        """
    )
    welcome = (
        "Welcome to Finger Lakes CoP! These are the community agreements we keep at every meeting"
    )
    notes = [line for line in lines if welcome in line]
    # cara and dan joined before there were agreements: nothing then, nor later.
    # eve joined by /cop join (once, though she left and came back), fay by her first
    # command, gus by pressing "I agree" in the channel, ivy after version 2; hal's first
    # command was refused, so he never became a member.
    assert notes == [
        f"[dm @{who}] {welcome} (version {v}):"
        for who, v in (("eve", 1), ("fay", 1), ("gus", 1), ("ivy", 2))
    ]
    note = block_after(lines, notes[0])
    assert note[1:4] == [
        f"  1. {S1}",
        f"  2. {S3}",
        "  (Press “I agree” if you agree to them, or propose a change.)",
    ]
    assert note[4] == "  1) I agree · 2) Propose a change"
    assert "  2. Everyone may pass, always." in block_after(lines, notes[3])
