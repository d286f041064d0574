"""The reflection check-in from start to end, as the people in it see it, through the console
on SQLite and PostgreSQL: a facilitator turns on the default check-in, a meeting ends, the
check-in reaches each member by DM two days later, members answer with different privacy
choices, one member who has not answered is reminded once and not in the middle of their
night, shared answers go to the thread under the check-in's post, the facilitator sees
counts and shared answers only, a commitment is asked back before the next meeting, and a
member exports and then erases their data.

Each transcript line is seen by one audience: the channel (and its threads), or one person
(their DMs, private replies, forms, and what they typed). `audiences` splits the transcript
that way, so the test says what each person saw and what nobody else did.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from itertools import takewhile
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import col

from adapters.console import run_script
from bot.ports import FakeClock
from storage.db import Database
from storage.models import Member, OutboxMessage
from storage.reflections import CheckinAnswer, CheckinCommitment

NY = "America/New_York"
CHANNEL = "#cop"

# What each member writes. eve keeps hers to herself; nobody else may ever see it.
CARA_NOTICED = "The toddlers stayed with water play for twenty minutes."
CARA_TRY = "Offer two choices at clean-up time"
EVE_NOTICED = "eve-private-4471 Jamal bit a friend again at drop-off"
EVE_TRY = "eve-private-4472 sit with Jamal at arrival"
EVE_NOTE = "eve-private-4473 he settled faster by the second week"
FAY_NEED = "More planning time"
DAN_NEED = "Someone to talk to about a hard conversation with a family"

SCRIPT = f"""
# ana, the program's admin, sets up the community; ben facilitates it.
:as ana admin
:in #cop
/cop setup "Finger Lakes CoP" America/New_York
/cop facilitator add @ben
:as cara
/cop join
:as dan
/cop join
# dan works from Madrid: his quiet hours (20:00-08:00) are kept in his own zone.
/cop my timezone Europe/Madrid
:as eve
/cop join
:as fay
/cop join
# ben plans the meetings and turns on the default check-in with one command.
:as ben
/cop meeting series "monthly on the first Tuesday at 16:00" title="Monthly CoP"
/cop checkins default
# ana would rather not be asked this one.
:as ana
/cop checkins optout 1
# The meeting runs on Tuesday 3 November, 16:00-17:00; two days later the check-in opens.
:at 2026-11-05T17:01
:as cara
:in dm
:press Answer
:submit q1="{CARA_NOTICED}" q2="{CARA_TRY}" privacy=named
:as eve
:in dm
:press Answer
:submit q1="{EVE_NOTICED}" q2="{EVE_TRY}" privacy=private
:as fay
:in dm
:press Answer
:submit q3="{FAY_NEED}" privacy=anonymous
# Two days after it opened, those who have not answered get their one reminder.
:at 2026-11-08T09:00
:as dan
:in dm
:press Answer
:submit q3="{DAN_NEED}" privacy=facilitators
:as ben
:in #cop
/cop checkins status
# The check-in closes on Tuesday 10 November at 17:00.
:at 2026-11-11T09:00
/cop checkins status
# Two days before the next meeting (Tuesday 1 December), commitments are asked back.
:at 2026-11-29T17:00
:as eve
:in dm
:press Tell how it went
:submit how=tried note="{EVE_NOTE}" privacy=private
/cop journal
:as cara
:press Tried it
# eve takes her data with her, then erases it.
:as eve
/cop my-data export
/cop my-data erase
:press Erase my data
/cop journal
:as ben
:in #cop
/cop checkins status
"""


def audiences(lines: list[str]) -> dict[str, list[str]]:
    """What each audience saw: "channel" (posts and their threads) or a person's name
    (their DMs, private replies and forms, and what they typed). Clock lines go to none."""
    seen: dict[str, list[str]] = {}
    who: str | None = None
    for line in lines:
        typed = re.match(r"^([a-z]+)> ", line)
        to_one = re.match(r"^\[(?:dm|private|form) @([a-z]+)\]", line)
        if line.startswith("~ "):
            who = None
        elif typed or to_one:
            who = (typed or to_one).group(1)  # type: ignore[union-attr]
        elif line.startswith(f"[{CHANNEL}]") or line.startswith(f"  ↳ [{CHANNEL}]"):
            who = "channel"
        elif not line.startswith("  "):
            raise AssertionError(f"a line for no known audience: {line!r}")
        if who is not None:
            seen.setdefault(who, []).append(line)
    return seen


def saw(seen: dict[str, list[str]], text: str) -> set[str]:
    """The audiences that saw `text` anywhere in a line."""
    return {who for who, lines in seen.items() if any(text in line for line in lines)}


def block(lines: list[str], start: str, *, last: bool = False) -> list[str]:
    """The (first or last) line starting with `start` and its indented continuation."""
    found = [i for i, line in enumerate(lines) if line.startswith(start)]
    assert found, f"no line starts with {start!r}"
    i = found[-1] if last else found[0]
    return [lines[i], *takewhile(lambda ln: ln.startswith("  ") and "↳" not in ln, lines[i + 1 :])]


def every(lines: list[str], start: str) -> list[list[str]]:
    """Each line starting with `start`, with its indented continuation."""
    return [
        [line, *takewhile(lambda ln: ln.startswith("  ") and "↳" not in ln, lines[i + 1 :])]
        for i, line in enumerate(lines)
        if line.startswith(start)
    ]


def at(lines: list[str], start: str) -> str:
    """The clock line under which the first line starting with `start` was printed."""
    i = next(i for i, line in enumerate(lines) if line.startswith(start))
    return next(line for line in reversed(lines[:i]) if line.startswith("~ "))


async def test_a_check_in_from_the_meeting_to_erasing_ones_data(
    db: Database, tmp_path: Path
) -> None:
    lines: list[str] = []
    await run_script(
        [line.strip() for line in SCRIPT.strip().splitlines()],
        db,
        FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo(NY))),
        zone=NY,
        write=lines.append,
        files_dir=tmp_path,
    )
    seen = audiences(lines)

    # 1. ben turns the default check-in on: three questions, the second one a commitment.
    on = block(lines, "[private @ben] The individual-reflection check-in is on.")
    assert on[1:] == [
        "  Check-in 1: Individual reflection — 2 days after each meeting, open 5 days.",
        "  (1. What did I notice in my practice since we met? (free text))",
        "  (2. One strategy I'll try before we meet again (free text; a commitment, "
        "checked back later))",
        "  (3. What do I need (support, resources, time)? (free text))",
    ]
    assert (
        "[private @ana] You will not be asked check-in 1 (“Individual reflection”) any more; "
        "/cop checkins optin 1 undoes it." in lines
    )

    # 2. The meeting ends on Tuesday at 17:00; the check-in opens two days later, to the hour:
    # one post in the channel, and one DM to each member who may be asked (not ana).
    assert at(lines, "[#cop] Monthly CoP has ended.") == "~ Tue 3 Nov 2026, 17:00 EST"
    assert at(lines, "[#cop] Reflection check-in 1 is open") == "~ Thu 5 Nov 2026, 17:00 EST"
    post = block(lines, "[#cop] Reflection check-in 1 is open (round 1): Individual reflection.")
    assert post[1].startswith("  Each member gets the questions by private message. Answers are")
    invited = sorted(
        line.split("]")[0][5:]
        for line in lines
        if line.startswith("[dm @") and "Time to reflect" in line
    )
    assert invited == ["ben", "cara", "dan", "eve", "fay"]  # once each
    assert at(lines, "[dm @cara] Time to reflect") == "~ Thu 5 Nov 2026, 17:00 EST"
    invitation = block(lines, "[dm @cara] Time to reflect")
    assert invitation[0] == (
        "[dm @cara] Time to reflect: check-in 1 of Finger Lakes CoP, Individual reflection."
    )
    assert invitation[1:4] == [
        "  1. What did I notice in my practice since we met?",
        "  2. One strategy I'll try before we meet again",
        "  3. What do I need (support, resources, time)?",
    ]
    assert "  1) Answer" in invitation

    # 3. Four members answer, each choosing who may read: the group with cara's name, only
    # eve, the group without fay's name, and dan's facilitators. Each is told who can read.
    assert block(lines, "[private @cara] Saved your answers")[1:3] == [
        "  What did I notice in my practice since we met? — the group, with your name",
        "  One strategy I'll try before we meet again — the group, with your name",
    ]
    assert block(lines, "[private @eve] Saved your answers")[1:3] == [
        "  What did I notice in my practice since we met? — only you",
        "  One strategy I'll try before we meet again — only you",
    ]
    assert block(lines, "[private @fay] Saved your answers")[1] == (
        "  What do I need (support, resources, time)? — the group, anonymously, when the "
        "check-in closes"
    )
    assert block(lines, "[private @dan] Saved your answers")[1] == (
        "  What do I need (support, resources, time)? — you and your facilitators"
    )

    # 4. cara's answers go at once to the thread under the check-in's post, with her name;
    # the console indents a thread's replies under the channel.
    thread = [line for line in lines if line.startswith("  ↳ [#cop]")]
    assert thread[:2] == [
        "  ↳ [#cop] cara — What did I notice in my practice since we met?",
        "  ↳ [#cop] cara — One strategy I'll try before we meet again",
    ]
    assert f"    {CARA_NOTICED}" in seen["channel"]
    async with db.session() as session:
        replies = (
            await session.execute(
                select(OutboxMessage.thread_of, OutboxMessage.sealed).where(
                    col(OutboxMessage.kind) == "channel",
                    col(OutboxMessage.thread_of).is_not(None),
                )
            )
        ).all()
    # Three thread replies (cara's two, the anonymous one), all under the round's post,
    # and all queued sealed: the outbox never holds a reflection in the clear.
    assert sorted(replies) == [("reflections:round:1", True)] * 3

    # 5. The one reminder, two days after opening (Saturday 17:00 in New York). For ben that
    # is the afternoon; for dan in Madrid it is 23:00, so his waits for 08:00 Madrid time
    # (02:00 in New York), and says until when in his own zone. Nobody is reminded twice,
    # and those who answered, or opted out, are not reminded at all.
    reminded = [line for line in lines if "A gentle reminder" in line]
    assert [line.split("]")[0] + "]" for line in reminded] == ["[dm @ben]", "[dm @dan]"]
    assert at(lines, "[dm @ben] A gentle reminder") == "~ Sat 7 Nov 2026, 17:00 EST"
    assert at(lines, "[dm @dan] A gentle reminder") == "~ Sun 8 Nov 2026, 02:00 EST"
    nudge = block(lines, "[dm @dan] A gentle reminder")
    assert nudge[0] == (
        "[dm @dan] A gentle reminder: the check-in “Individual reflection” of Finger Lakes CoP "
        "is open for your answer until Tue 10 Nov 2026, 23:00 CET."
    )
    assert nudge[1] == "  1) Answer"
    assert nudge[2].startswith("  (This is the only reminder for this round;")
    assert not any("reminder" in line.lower() for line in seen["channel"] if "check-in" in line)

    # dan answers from the reminder, for his facilitators: ben gets it by DM, nobody else.
    to_ben = block(lines, "[dm @ben] dan shared an answer with the facilitators")
    assert to_ben[1] == f"  {DAN_NEED}"
    assert saw(seen, DAN_NEED) == {"dan", "ben"}

    # 6. ben's status while the check-in is open: counts, cara's named answers and dan's
    # answer to the facilitators; not eve's private one, not fay's anonymous one (yet).
    status = block(lines, "[private @ben] Check-in 1: Individual reflection")
    assert status[1:] == [
        "  Round 1: 4 of 5 answered so far (80%); open until Tue 10 Nov 2026, 17:00 EST",
        "  (Answered: cara, dan, eve, fay.)",  # who, in name order; never what
        "  (Shared with the group, with names:)",
        f"  (cara — One strategy I'll try before we meet again: {CARA_TRY})",
        f"  (cara — What did I notice in my practice since we met?: {CARA_NOTICED})",
        "  (Shared with the facilitators:)",
        f"  (dan — What do I need (support, resources, time)?: {DAN_NEED})",
    ]

    # 7. At the close the post says how many answered, and fay's answer goes to the thread
    # without her name; ben now sees it too, without a name.
    assert at(lines, "[#cop] (message") == "~ Tue 10 Nov 2026, 17:00 EST"
    closed = block(lines, "[#cop] (message")
    assert closed == [
        closed[0],
        "  4 of 5 members answered. Thank you.",
    ]
    assert closed[0].endswith("Reflection check-in 1 (round 1) is closed: Individual reflection.")
    anonymous = block(lines, "  ↳ [#cop] Shared anonymously")
    assert anonymous == [
        "  ↳ [#cop] Shared anonymously — What do I need (support, resources, time)?",
        f"    • {FAY_NEED}",
    ]
    statuses = every(lines, "[private @ben] Check-in 1: Individual reflection")
    assert len(statuses) == 3  # open, closed, and after eve's erase
    status = statuses[1]
    assert status[1] == "  Round 1: 4 of 5 answered (80%); closed Tue 10 Nov 2026, 17:00 EST"
    assert status[-2:] == [
        "  (Shared with the group anonymously:)",
        f"  (What do I need (support, resources, time)?: {FAY_NEED})",
    ]

    # 8. Two days before the next meeting, cara and eve are each asked privately about
    # what they said they'd try; eve tells how it went, for herself only.
    assert at(lines, "[dm @eve] You said you'd try") == "~ Sun 29 Nov 2026, 16:00 EST"
    assert block(lines, "[dm @eve] You said you'd try") == [
        f"[dm @eve] You said you'd try: “{EVE_TRY}”. Did you?",
        "  (From your answer to “Individual reflection” in Finger Lakes CoP.)",
        "  1) Tried it · 2) Not yet · 3) Drop it · 4) Tell how it went",
        "  (Only you see this; a note on how it went is shared only if you choose.)",
        block(lines, "[dm @eve] You said you'd try")[4],  # the message's number
    ]
    assert f"[dm @cara] You said you'd try: “{CARA_TRY}”. Did you?" in lines
    assert "[private @eve] Saved; only you can read it, in /cop journal." in lines
    assert "[private @cara] Noted: you tried it. Well done for following through." in lines
    # The note is where the sentence says: in eve's journal, with her answers.
    journal = block(lines, "[private @eve] Your journal, newest first (only you see it):")
    assert journal[1:] == [
        "  Individual reflection in Finger Lakes CoP, round 1, Thu 5 Nov 2026",
        f"  What did I notice in my practice since we met? — {EVE_NOTICED} (only me)",
        f"  One strategy I'll try before we meet again — {EVE_TRY} (only me)",
        f"  How it went with “{EVE_TRY}” (tried it): {EVE_NOTE}",
    ]

    # 9. eve's export comes by DM to her alone, with her private answers and her note.
    assert "[private @eve] I've sent your data by direct message." in lines
    export = block(lines, "[dm @eve] Your data from circlebot")
    assert export[0] == (
        "[dm @eve] Your data from circlebot (one community): everything as JSON, and your "
        "reflections as a spreadsheet (CSV). Only you received this."
    )
    assert [line.split(",")[0] for line in export[1:3]] == [
        "  [file: my-data.json",
        "  [file: my-reflections.csv",
    ]
    data = json.loads((tmp_path / "my-data.json").read_text("utf-8"))
    [community] = data["communities"]
    assert [(a["answer"], a["who_can_read"]) for a in community["reflections"]["answers"]] == [
        (EVE_NOTICED, "private"),
        (EVE_TRY, "private"),
    ]
    [commitment] = community["reflections"]["commitments"]
    assert (commitment["commitment"], commitment["how_it_went"]) == (EVE_TRY, EVE_NOTE)
    table = (tmp_path / "my-reflections.csv").read_text("utf-8-sig")
    assert EVE_NOTICED in table and EVE_NOTE in table
    for others in (CARA_NOTICED, CARA_TRY, DAN_NEED, FAY_NEED):
        assert others not in json.dumps(data) and others not in table

    # 10. eve erases: she is told what happens first, confirms, and her journal is empty;
    # the counts stay as they were.
    ask = block(lines, "[private @eve] Erase your data in Finger Lakes CoP?")
    assert "Your reflections, commitments, check-in preferences" in ask[0]
    assert "This cannot be undone." in ask[0]
    assert ask[1] == "  1) Erase my data · 2) Cancel"
    assert "[private @eve] Your data is erased: nothing of it is linked to you any more." in lines
    assert lines[lines.index("eve> /cop journal", lines.index(ask[0])) + 1] == (
        "[private @eve] Your journal is empty: there are no check-in answers of yours to show."
    )
    # The same counts and shared answers; only eve's name is gone from who answered.
    assert statuses[1][2] == "  (Answered: cara, dan, eve, fay.)"
    assert statuses[2][2] == "  (Answered: cara, dan, fay.)"
    assert statuses[2][:2] + statuses[2][3:] == statuses[1][:2] + statuses[1][3:]
    assert statuses[2][1] == "  Round 1: 4 of 5 answered (80%); closed Tue 10 Nov 2026, 17:00 EST"
    async with db.session() as session:
        eve = (
            await session.execute(select(Member).where(col(Member.user_id) == "eve"))
        ).scalar_one()
        left = [
            *(
                await session.execute(
                    select(CheckinAnswer.id).where(col(CheckinAnswer.member_id) == eve.id)
                )
            ).scalars(),
            *(
                await session.execute(
                    select(CheckinCommitment.id).where(col(CheckinCommitment.member_id) == eve.id)
                )
            ).scalars(),
        ]
    assert left == []

    # What nobody else saw: eve's words reached eve alone (her form, journal and export DM),
    # never the channel, her facilitator or anyone else; fay's anonymous answer was never
    # shown with her name; dan was never named for not answering.
    for private in (EVE_NOTICED, EVE_TRY, EVE_NOTE):
        assert saw(seen, private) == {"eve"}
    assert saw(seen, FAY_NEED) == {"fay", "channel", "ben"}
    # The facilitator sees that fay answered (in name order), never next to any answer.
    assert not any("fay" in line for line in anonymous)
    assert [line for line in statuses[1] if "fay" in line] == ["  (Answered: cara, dan, eve, fay.)"]
    assert [line for line in seen["channel"] if "dan" in line] == [
        "[#cop] Welcome to Finger Lakes CoP, dan!"
    ]


async def test_erasing_takes_back_what_was_shared_with_ones_name(db: Database) -> None:
    """What a member shared with their name is withdrawn when they erase their data: cara's
    answers and note in the thread, dan's answer in ben's DMs (each message now says it was
    withdrawn); fay's anonymous answer stays."""
    note = "The children chose quickly and clean-up was calmer"
    lines: list[str] = []
    await run_script(
        [
            line.strip()
            for line in f"""
            :as ana admin
            :in #cop
            /cop setup "Finger Lakes CoP" America/New_York
            /cop facilitator add @ben
            :as cara
            /cop join
            :as fay
            /cop join
            :as dan
            /cop join
            :as eve
            /cop join
            :as ben
            /cop meeting series "monthly on the first Tuesday at 16:00" title="Monthly CoP"
            /cop checkins default
            :at 2026-11-05T17:01
            :as cara
            :in dm
            :press Answer
            :submit q1="{CARA_NOTICED}" q2="{CARA_TRY}" privacy=named
            :as fay
            :in dm
            :press Answer
            :submit q3="{FAY_NEED}" privacy=anonymous
            :as eve
            :in dm
            :press Answer
            :submit q1="{EVE_NOTICED}" privacy=private
            :as dan
            :in dm
            :press Answer
            :submit q3="{DAN_NEED}" privacy=facilitators
            /cop my-data erase
            :press Erase my data
            :at 2026-11-29T17:00
            :as cara
            :press Tell how it went
            :submit how=tried note="{note}" privacy=named
            /cop my-data erase
            :press Erase my data
            :as ben
            :in #cop
            /cop checkins status
            """.strip().splitlines()
        ],
        db,
        FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo(NY))),
        zone=NY,
        write=lines.append,
    )
    shared = [line for line in lines if line.startswith("  ↳ [#cop]")]
    assert shared == [
        "  ↳ [#cop] cara — What did I notice in my practice since we met?",
        "  ↳ [#cop] cara — One strategy I'll try before we meet again",
        "  ↳ [#cop] Shared anonymously — What do I need (support, resources, time)?",
        f"  ↳ [#cop] cara on what they said they'd try — tried it: “{CARA_TRY}”. "
        f"How it went: {note}",
    ]
    to_ben = block(lines, "[dm @ben] dan shared an answer with the facilitators")
    assert to_ben[1] == f"  {DAN_NEED}"
    dan_done = lines.index(
        "[private @dan] Your data is erased: nothing of it is linked to you any more."
    )
    # ben's DM with dan's answer now says it was withdrawn; nothing else changed.
    assert re.fullmatch(
        r"\[dm @ben\] \(message \d+ updated\) \(This answer was withdrawn by its author\.\)",
        lines[dan_done + 1],
    )
    assert lines[dan_done + 2] == "dan> :at 2026-11-29T17:00"
    done = lines.index(
        "[private @cara] Your data is erased: nothing of it is linked to you any more."
    )
    edits = [line.split(") ", 1)[1] for line in lines[done + 1 :] if "updated)" in line]
    assert sorted(edits) == [
        "(This answer was withdrawn by its author.)",
        "(This answer was withdrawn by its author.)",
        "(This note was withdrawn by its author.)",
    ]
    assert not any(FAY_NEED in line for line in lines[done + 1 :] if "updated)" in line)
    # ben's status shows neither cara's nor dan's words any more; fay's stays.
    status = block(lines, "[private @ben] Check-in 1:", last=True)
    assert status[2:] == [
        "  (Answered: eve, fay.)",  # cara's name went with her data; the counts stay
        "  (Shared with the group anonymously:)",
        f"  (What do I need (support, resources, time)?: {FAY_NEED})",
    ]
