"""Bring a challenge, through the console on SQLite and PostgreSQL: an open and a private
challenge under the next agenda's Problem-solving segment (the private one without a name,
anywhere in the channel or the logs), the facilitators' private list after the meeting with
Discussed / Carry to next meeting, the member's private question a week after, the form behind
"Bring a challenge", withdrawing one's own, the digest section, and refusals in one sentence
that change nothing."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import col

from bot.app import App
from bot.context import background
from bot.features.challenges.meetings import digest_section
from bot.hooks import DigestSections
from bot.ui import Actions, Section, plain
from storage.challenges import Challenge, ChallengeStatus
from storage.db import Database
from storage.models import Job, OutboxMessage
from tests.support import RecordingAdapter, transcript
from tests.test_agreements import NY, SETUP, ny
from tests.test_agreements_meetings import block_after
from tests.test_privacy_canary import owners

SERIES = (
    '/cop meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP" reminders="1d"'  # noqa: E501
)
OPEN = "Transitions after outdoor play take twenty minutes."
PRIVATE = "A parent questions our nap routine every day"
NOTE = "We sang a tidy-up song and it took five"
BRING = f"""
{SERIES}
:as cara
/cop challenge add {OPEN}
:as dan
/cop challenge add {PRIVATE} private
"""


def under_problem(block: list[str]) -> list[str]:
    """The lines between the agenda's "4. Problem-solving" and its "5." segment."""
    start = block.index("  4. Problem-solving")
    end = next(i for i in range(start, len(block)) if block[i].startswith("  5. "))
    return block[start + 1 : end]


def seen_by(lines: list[str], who: str) -> list[str]:
    return [line for owner, line in owners(lines) if owner == who]


async def test_open_and_private_challenges_go_on_the_agenda_then_are_discussed_or_carried(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="bot")
    lines = await transcript(
        SETUP
        + BRING
        + """
        /cop challenge list
        :as cara
        /cop challenge list
        :as ben
        /cop challenge list
        /cop meeting agenda 1
        :at 2026-11-03T21:00
        :press 1
        :press 4
        /cop meeting agenda 2
        :at 2026-11-10T21:00
        :as cara
        :press Tell how it went
        """
        + f':submit note="{NOTE}" share=facilitators',
        db=db,
        clock=ny(2026, 11, 2, 9, 0),
        zone=NY,
    )
    assert not [line for line in lines if line.startswith("! ")]
    assert (
        "[private @dan] Challenge #2 is in, privately: the next meeting's agenda shows it without your name; only the facilitators know it is yours."
        in lines
    )  # noqa: E501
    expected = [
        "  Challenges brought for this round:",
        f"  #1 “{OPEN}” (cara)",
        f"  #2 “{PRIVATE}” (brought privately)",
    ]
    # The reminder in the channel, and the agenda the facilitator asks for.
    reminder = block_after(lines, "[#cop] Reminder: Monthly CoP starts in 1 day.")
    assert under_problem(reminder) == expected
    agenda = block_after(
        lines, "[private @ben] Agenda of meeting 1, Monthly CoP, Tue 3 Nov 2026, 18:30 EST"
    )
    assert under_problem(agenda) == expected
    # Members see the private one unnamed (its own member sees it is theirs); facilitators
    # see who brought it.
    assert f"  #2 “{PRIVATE}” (yours, brought privately)" in seen_by(lines, "dan")
    assert f"  #2 “{PRIVATE}” (brought privately)" in seen_by(lines, "cara")
    facilitator = seen_by(lines, "ben")
    assert f"  #2 “{PRIVATE}” (brought privately by dan)" in facilitator
    # dan's name is nowhere the channel sees with the challenge, nor near it in any message.
    channel = [line for owner, line in owners(lines) if owner == "#channel"]
    assert any(PRIVATE in line for line in channel)
    for line in [*channel, *seen_by(lines, "cara")]:
        if PRIVATE in line:
            assert "dan" not in line, line
    # After the meeting, the facilitators alone get the list with the buttons.
    decide = block_after(
        lines,
        "[dm @ben] The challenges that were up at today's meeting of Finger Lakes CoP: was each "
        "discussed, or should it be carried to the next meeting?",
    )
    assert decide[1:5] == [
        f"  #1 “{OPEN}” (cara)",
        "  1) Discussed · 2) Carry to next meeting",
        f"  #2 “{PRIVATE}” (brought privately by dan)",
        "  1) Discussed · 2) Carry to next meeting",
    ]
    assert not [line for line in lines if line.startswith(("[dm @cara] The", "[dm @dan] The"))]
    # #1 discussed, #2 carried: the next agenda has #2 alone.
    agenda2 = block_after(
        lines, "[private @ben] Agenda of meeting 2, Monthly CoP, Tue 1 Dec 2026, 18:30 EST"
    )
    assert under_problem(agenda2) == [
        "  Challenges brought for this round:",
        f"  #2 “{PRIVATE}” (brought privately)",
    ]
    # A week after the meeting's end, cara alone is asked how it went; dan (carried) is not.
    i = lines.index("~ Tue 10 Nov 2026, 19:30 EST")
    assert lines[i + 1] == (
        "[dm @cara] A week ago your group talked about the challenge you brought to Finger Lakes"
        f" CoP: “{OPEN}” (#1). How did it go?"
    )
    assert not [line for line in lines if line.startswith("[dm @dan]")]
    # Her note goes to her and, as she chose, to the facilitators; to nobody else.
    assert f"[private @cara] Noted, and sent to the facilitators: “{NOTE}”" in lines
    assert (
        f"[dm @ben] cara (Finger Lakes CoP) on how their challenge #1 went, “{OPEN}”: {NOTE}"
        in lines
    )
    assert {who for who, line in owners(lines) if NOTE in line} == {"cara", "typed:cara", "ben"}
    async with db.session() as session:
        rows = {c.number: c for c in (await session.execute(select(Challenge))).scalars()}
        outbox = list((await session.execute(select(OutboxMessage))).scalars())
    assert rows[1].status == ChallengeStatus.DISCUSSED and rows[1].asked_at is not None
    assert rows[1].note_sealed and NOTE not in rows[1].note_sealed
    assert (rows[2].status, rows[2].meeting_id, rows[2].carried) == (ChallengeStatus.OPEN, None, 1)
    sealed = {o.key: o for o in outbox if o.key.startswith("challenges:")}
    assert sealed and all(o.sealed and o.payload == "" for o in sealed.values())
    # Logs: nothing ties dan to the private challenge (its number, text or privacy).
    for record in caplog.records:
        logged = record.getMessage()
        assert PRIVATE not in logged and NOTE not in logged, record.name
        if "dan" in logged:
            assert record.name == "bot.dispatcher", logged
            assert logged.startswith(("command ", "action ", "form ")), logged
    assert any(r.name.startswith("bot.features.challenges") for r in caplog.records)


async def test_bring_a_challenge_through_the_form_and_withdraw_it(db: Database) -> None:
    lines = await transcript(
        SETUP
        + f"""
        {SERIES}
        :as cara
        /cop challenge list
        :press Bring a challenge
        :submit text="   " visibility=open
        :submit text="{PRIVATE}" visibility=private
        /cop challenge list
        :as dan
        /cop challenge withdraw 1
        :as cara
        /cop challenge withdraw 1
        /cop challenge withdraw 1
        /cop meeting agenda 1
        """,
        db=db,
        clock=ny(2026, 11, 2, 9, 0),
        zone=NY,
    )
    assert not [line for line in lines if line.startswith("! ")]
    assert (
        "[private @cara] No open challenges: the next problem-solving round is free for one."
        in lines
    )  # noqa: E501
    assert "[form @cara] Bring a challenge" in lines
    # A blank challenge keeps the form open with one sentence under the field.
    assert (
        '[private @cara] text: Please fill in "Your challenge from practice"; it can\'t be left'
        " blank." in lines
    )
    assert (
        "[private @cara] Challenge #1 is in, privately: the next meeting's agenda shows it without"
        " your name; only the facilitators know it is yours." in lines
    )
    assert f"  #1 “{PRIVATE}” (yours, brought privately)" in lines
    assert "[private @dan] Only the member who brought challenge #1 can withdraw it." in lines
    assert "[private @cara] Challenge #1 is withdrawn; it will not be on any agenda." in lines
    assert "[private @cara] Challenge #1 was withdrawn by the member who brought it." in lines
    agenda = block_after(
        lines, "[private @cara] Agenda of meeting 1, Monthly CoP, Tue 3 Nov 2026, 18:30 EST"
    )
    assert under_problem(agenda) == []
    async with db.session() as session:
        [row] = (await session.execute(select(Challenge))).scalars()
    assert (row.text, row.private, row.status) == (PRIVATE, True, ChallengeStatus.WITHDRAWN)


async def state(db: Database) -> list[tuple[object, ...]]:
    async with db.session() as session:
        rows = (await session.execute(select(Challenge).order_by(col(Challenge.id)))).scalars()
        jobs = await session.execute(select(Job.id).where(col(Job.id).like("challenges%")))
        return [
            *(
                (c.number, c.text, c.private, c.status, c.meeting_id, c.carried, c.check_at)
                for c in rows
            ),
            *((j,) for j in jobs.scalars()),
        ]


async def test_refusals_are_one_sentence_and_change_nothing(db: Database) -> None:
    clock = ny(2026, 11, 2, 9, 0)
    lines = await transcript(SETUP + BRING, db=db, clock=clock, zone=NY)
    before = await state(db)
    long = "x" * 501
    cases = {
        ":as ben\n/cop challenge done 9": "[private @ben] There is no challenge #9 in this community.",
        ":as ben\n/cop challenge carry 1": "[private @ben] Challenge #1 is already waiting for the next meeting.",  # noqa: E501
        ":as cara\n/cop challenge done 1": "[private @cara] Only a facilitator of Finger Lakes CoP can do that.",  # noqa: E501
        ":as cara\n/cop challenge withdraw 2": "[private @cara] Only the member who brought challenge #2 can withdraw it.",  # noqa: E501
        f":as cara\n/cop challenge add {long}": "[private @cara] A challenge can be at most 500 characters; please shorten it.",  # noqa: E501
        ":as cara\n/cop challenge add private=maybe Hi": '[private @cara] private must be one of yes, no, not "maybe".',  # noqa: E501
        ":as cara\n/cop challenge withdraw x": '[private @cara] number must be a whole number, not "x".',  # noqa: E501
    }
    for script, expected in cases.items():
        out = await transcript(":in #cop\n" + script, db=db, clock=clock, zone=NY)
        reply = out[-1]
        # The reply is the last line printed: one line, one sentence.
        assert reply == expected, (script, out[-3:])
        assert reply.split("] ", 1)[1].rstrip(".").count(". ") == 0, reply
        assert await state(db) == before, script
    assert lines  # the setup ran


async def test_done_twice_is_refused_and_the_member_is_asked_a_week_after(db: Database) -> None:
    lines = await transcript(
        SETUP
        + BRING
        + """
        :as ben
        /cop challenge done 1
        /cop challenge done 1
        :at 2026-11-09T21:00
        """,
        db=db,
        clock=ny(2026, 11, 2, 9, 0),
        zone=NY,
    )
    assert "[private @ben] Challenge #1 is already marked discussed." in lines
    # Marked discussed before any meeting: asked a week after the decision, and once.
    i = lines.index("~ Mon 9 Nov 2026, 09:00 EST")
    assert lines[i + 1].startswith("[dm @cara] A week ago your group talked about the challenge")
    assert sum(line.startswith("[dm @cara] A week ago") for line in lines) == 1


async def test_the_digest_shows_open_challenges_new_since_without_private_names(
    db: Database,
) -> None:
    clock = ny(2026, 11, 2, 9, 0)
    await transcript(SETUP + BRING, db=db, clock=clock, zone=NY)
    app = App(db, clock, [RecordingAdapter()], manual=True)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    async with background(app.services) as ctx:
        blocks = await digest_section(
            ctx, DigestSections(1, None, start, clock.now() + timedelta(hours=1), "en")
        )
        later = await digest_section(
            ctx,
            DigestSections(
                1, None, clock.now() + timedelta(hours=1), clock.now() + timedelta(days=1), "en"
            ),  # noqa: E501
        )
    assert later == []
    [section, actions] = blocks
    assert isinstance(section, Section) and isinstance(actions, Actions)
    assert plain(section.parts).splitlines() == [
        "Challenges brought for the next problem-solving round (2):",
        f"#1 “{OPEN}” (cara)",
        f"#2 “{PRIVATE}” (brought privately)",
    ]
    assert [b.label for b in actions.elements] == ["Bring a challenge"]


async def test_erasing_my_data_takes_back_the_challenges_i_brought(db: Database) -> None:
    lines = await transcript(
        SETUP
        + BRING
        + """
        :as ben
        /cop challenge done 2
        :as dan
        :in dm
        /cop my-data erase
        :press Erase my data
        :as ben
        :in #cop
        /cop challenge list
        """,
        db=db,
        clock=ny(2026, 11, 2, 9, 0),
        zone=NY,
    )
    assert not [line for line in lines if line.startswith("! ")]
    listed = block_after(lines, "[private @ben] Open challenges for the next meeting (1):")
    assert listed[1] == f"  #1 “{OPEN}” (cara)"
    assert not any(PRIVATE in line for line in listed)
    async with db.session() as session:
        left = [c.text for c in (await session.execute(select(Challenge))).scalars()]
        jobs = (await session.execute(select(Job.id).where(col(Job.id).like("challenges%")))).all()
    assert left == [OPEN] and jobs == []
