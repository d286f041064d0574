"""Roles at meetings through the console, on both databases: members sign up with the card's
buttons (a second press gives the role up) or by command, within each role's limit; the
agenda shows who under its segments; a facilitator names a host, who edits that meeting's
agenda, posts its recap and opens its check-in until the meeting ends, and is refused the
same for another meeting, after the meeting, and before being named."""

from __future__ import annotations

from sqlalchemy import select

from storage.agreements import AgreementRecap
from storage.db import Database
from storage.meeting_roles import MeetingRole
from storage.meetings import Meeting
from storage.reflections import CheckinRound, RoundStatus
from tests.support import transcript
from tests.test_agreements import NY, SERIES, SETUP, ny
from tests.test_agreements_meetings import block_after

CARD = "[#cop] New meetings: Monthly CoP, monthly on the first Tuesday at 18:30 (America/New_York)."
AGENDA_1 = "Agenda of meeting 1, Monthly CoP, Tue 3 Nov 2026, 18:30 EST"


def last_card(lines: list[str]) -> list[str]:
    """The latest in-place edit of the first meeting's announcement card, with its lines."""
    head = "[#cop] (message 6 updated) " + CARD.removeprefix("[#cop] ")
    i = len(lines) - 1 - lines[::-1].index(head)
    return block_after(lines[i:], head)


def segment(block: list[str], first: str, until: str) -> list[str]:
    """The lines of `block` between the agenda line `first` and the one starting `until`."""
    i = block.index(first)
    j = next(k for k in range(i + 1, len(block)) if block[k].startswith(until))
    return block[i + 1 : j]


async def _roles(db: Database) -> list[tuple[str, str, bool]]:
    """(member user id, role, named by a facilitator) of every stored role, in order."""
    from storage.models import Member

    async with db.session() as session:
        rows = await session.execute(
            select(Member.user_id, MeetingRole.role, MeetingRole.granted_by)
            .join(Member, Member.id == MeetingRole.member_id)
            .order_by(MeetingRole.id)
        )
        return [(u, r, g is not None) for u, r, g in rows.all()]


async def test_sign_up_with_the_card_buttons_limits_and_giving_up(db: Database) -> None:
    lines = await transcript(
        SETUP
        + f"""
        {SERIES}
        :as cara
        :press 6 Share my experience
        :press 6 Take notes
        :as dan
        :press 6 Take notes
        :press 6 Share my experience
        /cop meeting role 1 lead
        /cop meeting role 1 lead
        :as eve
        /cop join
        /cop meeting role 1 share
        :press 6 Host
        :as fay
        /cop join
        /cop meeting role 1 share
        :press 6 Host
        :as gus
        /cop join
        /cop meeting role 1 share
        :as cara
        :press 6 Share my experience
        /cop meeting unrole 1 share
        /cop meeting role 1 cook
        /cop meeting agenda 1
        """,
        db=db,
        clock=ny(2026, 11, 2, 9, 0),
        zone=NY,
    )
    private = [line for line in lines if line.startswith("[private")]
    assert private[1:] == [
        "[private @cara] You are sharing your experience at meeting 1; the agenda shows it under "
        "Sharing. A second press of the button, or /cop meeting unrole 1 share, gives it up.",
        "[private @cara] You are taking notes at meeting 1; the agenda shows it under Welcome and "
        "agreements. A second press of the button, or /cop meeting unrole 1 notes, gives it up.",
        # One note-taker.
        "[private @dan] There is no place left for “notes” at meeting 1 (at most 1): cara.",
        "[private @dan] You are sharing your experience at meeting 1; the agenda shows it under "
        "Sharing. A second press of the button, or /cop meeting unrole 1 share, gives it up.",
        "[private @dan] You are leading a breakout at meeting 1; the agenda shows it under Topic "
        "discussion. A second press of the button, or /cop meeting unrole 1 lead, gives it up.",
        "[private @dan] You already have the role “lead” at meeting 1; "
        "/cop meeting unrole 1 lead gives it up.",
        "[private @eve] You are sharing your experience at meeting 1; the agenda shows it under "
        "Sharing. A second press of the button, or /cop meeting unrole 1 share, gives it up.",
        "[private @eve] Thank you for offering to host meeting 1; a facilitator makes you its "
        "host with /cop meeting host 1 @you, and until then the facilitators run it.",
        # Three sharers at most; one host (an offer fills the place too).
        "[private @fay] There is no place left for “share” at meeting 1 (at most 3): cara, dan, eve.",
        "[private @fay] There is no place left for “host” at meeting 1 (at most 1): eve.",
        "[private @gus] There is no place left for “share” at meeting 1 (at most 3): cara, dan, eve.",
        # A second press gives the role up; giving up what one does not hold says so.
        "[private @cara] You are no longer sharing your experience at meeting 1.",
        "[private @cara] You don't have the role “share” at meeting 1, so there is nothing to "
        "give up.",
        '[private @cara] role must be one of share, lead, notes, host, not "cook".',
        f"[private @cara] {AGENDA_1}",
    ]
    agenda = block_after(lines, f"[private @cara] {AGENDA_1}")
    assert segment(agenda, "  1. Welcome and agreements", "  2. ") == [
        "  Offered to host (a facilitator confirms): @eve",
        "  Taking notes: @cara",
    ]
    assert segment(agenda, "  2. Sharing", "  3. ") == ["  Sharing their experience: @dan, @eve"]
    assert segment(agenda, "  3. Topic discussion", "  4. ") == ["  Leading a breakout: @dan"]
    # The card in the channel shows the same, and carries the role buttons.
    card = last_card(lines)
    assert "  Sharing their experience: @dan, @eve" in card
    assert card[-2] == "  1) Share my experience · 2) Lead a breakout · 3) Take notes · 4) Host"
    assert await _roles(db) == [
        ("cara", "notes", False),
        ("dan", "share", False),
        ("dan", "lead", False),
        ("eve", "share", False),
        ("eve", "host", False),
    ]


async def _topic(db: Database, number: int) -> str | None:
    async with db.session() as session:
        meeting = (
            await session.execute(select(Meeting).where(Meeting.number == number))
        ).scalar_one()
        return meeting.topic


async def test_a_host_runs_their_meeting_until_it_ends(db: Database) -> None:
    lines = await transcript(
        SETUP
        + f"""
        /cop agreements draft pick=1,3
        /cop checkins default
        {SERIES}
        :as dan
        /cop meeting agenda 1 topic="Outdoor play"
        /cop agreements recap
        /cop checkins open
        :as ben
        /cop meeting host 1 @dan
        :as dan
        /cop meeting agenda 1 topic="Outdoor play" objectives="Plan one outdoor activity"
        /cop meeting agenda 2 topic="Not mine"
        /cop agreements recap
        /cop agreements recap
        /cop checkins open
        :as cara
        /cop meeting agenda 1 topic="Cara's topic"
        /cop agreements recap
        /cop checkins open 1
        :at 2026-11-03T20:00
        :as dan
        /cop meeting agenda 2 topic="Later"
        /cop agreements recap
        /cop checkins open
        """,
        db=db,
        clock=ny(2026, 11, 2, 9, 0),
        zone=NY,
    )
    said = [line for line in lines if line.startswith(("[private @dan]", "[private @cara]"))]
    assert said == [
        # Before being named, dan is a member like any other: refused, nothing changes.
        "[private @dan] Only a facilitator can change the agenda.",
        "[private @dan] Only a facilitator or the meeting's host can do that.",
        "[private @dan] Only a facilitator or the meeting's host can do that.",
        # Named host of meeting 1: its agenda, its recap, its check-in.
        "[private @dan] Agenda of meeting 1 updated.",
        "[private @dan] You host meeting 1, not meeting 2, so only a facilitator can do that for "
        "meeting 2.",
        "[private @dan] Recap posted in the channel.",
        "[private @dan] The recap for meeting 1 has been posted already.",
        "[private @dan] Round 1 of check-in 1 opens now: members get it by DM.",
        # Another member is refused in one sentence.
        "[private @cara] Only a facilitator can change the agenda.",
        "[private @cara] Only a facilitator or the meeting's host can do that.",
        "[private @cara] Only a facilitator or the meeting's host can do that.",
        # After the meeting the power is gone, and dan is told why.
        "[private @dan] Your time as host of meeting 1 ended with the meeting, so only a "
        "facilitator can do that now.",
        "[private @dan] Your time as host of meeting 1 ended with the meeting, so only a "
        "facilitator can do that now.",
        "[private @dan] Your time as host of meeting 1 ended with the meeting, so only a "
        "facilitator can do that now.",
    ]
    assert (
        "[#cop] dan is the host of meeting 1: until it ends they may edit its agenda, post the "
        "agreements recap and open its check-in." in lines
    )
    text = "\n".join(lines)
    assert (
        text.count("[dm @dan] A facilitator made you the host of meeting 1 in Finger Lakes CoP.")
        == 1
    )
    ended = (
        "[dm @dan] Meeting 1 in Finger Lakes CoP has ended, and with it your time as its host: "
        "its agenda, recap and check-in are the facilitators' again. Thank you for hosting!"
    )
    assert lines.count(ended) == 1
    agenda = block_after(lines, "[private @dan] Agenda of meeting 1 updated.")
    assert segment(agenda, "  1. Welcome and agreements", "  2. ")[0] == "  Host: @dan"
    assert await _topic(db, 1) == "Outdoor play"
    assert await _topic(db, 2) is None
    # One recap for meeting 1, the host's: the start of the meeting posted no second one.
    assert text.count("[#cop] Before we begin, our community agreements (version 1):") == 1
    async with db.session() as session:
        first = (await session.execute(select(Meeting.id).where(Meeting.number == 1))).scalar()
        recaps = (await session.execute(select(AgreementRecap))).scalars().all()
        assert [r.meeting_id for r in recaps] == [first]
        rounds = (await session.execute(select(CheckinRound))).scalars().all()
        # The host's round is meeting 1's: the meeting's end made no second one.
        assert [(r.meeting_id, r.status) for r in rounds] == [(first, RoundStatus.OPEN)]
    assert await _roles(db) == [("dan", "host", True)]


async def test_naming_another_host_or_none_ends_the_first_ones_power(db: Database) -> None:
    lines = await transcript(
        SETUP
        + f"""
        {SERIES}
        /cop meeting host 1 @dan
        /cop meeting host 1 @dan
        /cop meeting host 1 @cara
        /cop meeting host 1 @zed
        :as dan
        /cop meeting agenda 1 topic="Mine?"
        :as cara
        /cop meeting agenda 1 topic="Cara's"
        :as ben
        /cop meeting host 1 none
        /cop meeting host 1 none
        :as cara
        /cop meeting agenda 1 topic="Again"
        """,
        db=db,
        clock=ny(2026, 11, 2, 9, 0),
        zone=NY,
    )
    assert "[private @ben] dan is already the host of meeting 1." in lines
    assert "[private @ben] zed is not a member of this community, so they can't host." in lines
    assert (
        "[dm @dan] You are no longer the host of meeting 1 in Finger Lakes CoP: a facilitator "
        "changed it. Its agenda, recap and check-in are the facilitators' again." in lines
    )
    assert (
        "[private @dan] Your time as host of meeting 1 ended with the meeting, so only a "
        "facilitator can do that now." not in lines
    )
    assert "[private @dan] Only a facilitator can change the agenda." in lines
    assert "[private @cara] Agenda of meeting 1 updated." in lines
    assert "[#cop] Meeting 1 has no host now; the facilitators run it." in lines
    assert "[private @ben] Meeting 1 has no host to take back." in lines
    assert lines.count("[private @cara] Only a facilitator can change the agenda.") == 1
    assert await _topic(db, 1) == "Cara's"
    assert await _roles(db) == []


async def test_erasing_a_members_data_takes_their_roles_away(db: Database) -> None:
    lines = await transcript(
        SETUP
        + f"""
        {SERIES}
        :as cara
        /cop meeting role 1 share
        :as dan
        /cop meeting role 1 lead
        :as cara
        /cop my-data erase
        :press Erase my data
        /cop meeting agenda 1
        """,
        db=db,
        clock=ny(2026, 11, 2, 9, 0),
        zone=NY,
    )
    agenda = block_after(lines, f"[private @cara] {AGENDA_1}")
    assert segment(agenda, "  2. Sharing", "  3. ") == []
    assert segment(agenda, "  3. Topic discussion", "  4. ") == ["  Leading a breakout: @dan"]
    assert await _roles(db) == [("dan", "lead", False)]
