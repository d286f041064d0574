"""Issue 14's first "done when", as one console transcript over one month, on SQLite and
PostgreSQL: between two meetings a community carries on by itself.

ben facilitates Finger Lakes CoP; its first meeting is Tuesday 1 December at 16:00 (New
York). During November a discussion prompt is posted every other Wednesday and talked about
in its thread (circlebot reads nothing there: the transcript shows the bot's post and the
first line that opens its thread); cara and dan add two resources, dan attaches one to the
meeting; eve brings a challenge openly and fay privately, and both appear in the meeting's
agenda under Problem-solving, fay's without her name; cara signs up to share her
experience; ben makes dan the host, and dan edits the agenda; a check-in round is answered,
cara sharing with her name and eve anonymously. ben chose the digest two days before each
meeting: it appears once, on Sunday 29 November at 16:00, with exactly what the features
gave it (fay, asking with /cop digest in a DM ten days before, saw the same privately).
Other CoP, with a meeting the same day and nothing happening, gets no digest.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.ports import FakeClock
from storage.db import Database
from storage.digest import Digest
from storage.models import Community
from tests.support import transcript

NY = "America/New_York"

SCRIPT = """
# ana, the program's admin, sets up two communities; ben facilitates the first, zoe the other.
:as ana admin
:in #cop
/cop setup "Finger Lakes CoP" America/New_York
/cop facilitator add @ben
:in #other
/cop setup "Other CoP" America/New_York
/cop facilitator add @zoe
:as zoe
/cop meeting series "monthly on the first Tuesday at 16:00" title="Other meeting"
:in #cop
:as cara
/cop join
:as dan
/cop join
:as eve
/cop join
:as fay
/cop join
# ben plans the meetings, chooses the digest two days ahead, and lists two prompts.
:as ben
/cop meeting series "monthly on the first Tuesday at 16:00" title="Monthly CoP"
/cop digest settings offset=2d
/cop prompts add What is one thing a child taught you this week?
/cop prompts add How do you welcome a new family?
/cop prompts schedule "every other Wednesday at 12:00"
/cop checkins default
# At noon the first prompt is posted; members answer in its thread (circlebot does not read it).
:at 2026-11-04T12:30
:at 2026-11-05T10:00
:as cara
/cop resources add https://example.org/outdoor-play title="Outdoor play ideas" #outdoor
:as dan
/cop resources add https://example.org/loose-parts title="Loose parts for toddlers" #toddlers
/cop resources attach 2 meeting=next
:as eve
/cop challenge add Transitions after outdoor play take twenty minutes.
:as fay
/cop challenge add A parent questions our nap routine every day private
:as cara
/cop meeting role 1 share
:as ben
/cop meeting host 1 @dan
:as dan
/cop meeting agenda 1 topic="Outdoor play" objectives="Name two risks worth taking; Plan one change"
# ben opens a check-in round now; cara shares with her name, eve anonymously, fay keeps hers.
:as ben
/cop checkins open 1
:advance 1m
:as cara
:in dm
:press Answer
:submit q1="The toddlers stayed with water play for twenty minutes." privacy=named
:as eve
:press Answer
:submit q3="More planning time" privacy=anonymous
:as fay
:press Answer
:submit q1="fay-private-8810 a hard week" privacy=private
:in #cop
# On 20 November fay asks for the digest by DM: what it would say so far, for her alone.
:at 2026-11-20T09:00
:in dm
/cop digest
:in #cop
:at 2026-11-29T15:59
:at 2026-12-01T15:00
"""

# The digest, line for line: the headline, the meeting's topic (meetings' frame), who is
# doing what (roles), reflections shared since, the challenges (the private one without a
# name) with the button to bring one, the prompts posted, the new resources and the one
# attached to the meeting, since when, and the RSVP buttons (meetings' frame).
DIGEST = [
    "~ Sun 29 Nov 2026, 16:00 EST",
    "[#cop] What's new in Finger Lakes CoP before Monthly CoP on Tue 1 Dec 2026, 16:00 EST:",
    "  Topic: Outdoor play",
    "  Who is doing what at meeting 1:",
    "  Host: @dan",
    "  Sharing their experience: @cara",
    "  (Take a role with the buttons on the meeting's card, or /cop meeting role 1 share.)",
    "  Reflections shared with the group (read them in each check-in's thread):",
    "  • Individual reflection, round 1: shared by cara, and 1 anonymously.",
    "  Challenges brought for the next problem-solving round (2):",
    "  #1 “Transitions after outdoor play take twenty minutes.” (eve)",
    "  #2 “A parent questions our nap routine every day” (brought privately)",
    "  1) Bring a challenge",
    "  Discussion prompts since we last met (reply in their threads):",
    "  • What is one thing a child taught you this week? — Wed 4 Nov 2026",
    "  • How do you welcome a new family? — Wed 18 Nov 2026",
    "  New resources (1):",
    "  • Outdoor play ideas — https://example.org/outdoor-play (resource 1)  #outdoor",
    "  Resources for the coming meeting:",
    "  • Loose parts for toddlers — https://example.org/loose-parts (resource 2)  #toddlers",
    "  (New since Wed 4 Nov 2026, 09:00 EST.)",
    "  1) Going · 2) Maybe · 3) Can't go",
]


def post_at(lines: list[str], start: str) -> list[list[str]]:
    """Each line starting with `start`, with its indented lines and the clock line before it."""
    out, clock = [], ""
    for i, line in enumerate(lines):
        if line.startswith("~ "):
            clock = line
        if line.startswith(start):
            body = [clock, line]
            for more in lines[i + 1 :]:
                if not more.startswith("  ") or more.startswith("  ↳"):
                    break
                body.append(more)
            out.append(body)
    return out


def answer_to(lines: list[str], typed: str) -> list[str]:
    """What a typed line got back: the lines after it up to the next typed line."""
    i = lines.index(typed)
    rest = []
    for line in lines[i + 1 :]:
        if re.match(r"^[a-z]+> ", line):
            break
        rest.append(line)
    return rest


async def test_a_month_between_two_meetings(db: Database) -> None:
    lines = await transcript(
        SCRIPT, db=db, clock=FakeClock(datetime(2026, 11, 4, 9, 0, tzinfo=ZoneInfo(NY))), zone=NY
    )

    assert not [line for line in lines if line.startswith("! ")]  # every script line worked

    # A prompt is posted at its time and opens its thread with the bot's own first line.
    i = lines.index("[#cop] A question to talk about until we meet:")
    assert lines[i - 1] == "~ Wed 4 Nov 2026, 12:00 EST"
    assert lines[i + 1 : i + 4] == [
        "  What is one thing a child taught you this week?",
        "  (Reply in this message's thread, so the conversation stays together.)",
        "  ↳ [#cop] Replies here ↓",
    ]
    assert lines.count("  How do you welcome a new family?") == 1  # the second, on 18 Nov

    # Two resources are added; dan's is attached to meeting 1.
    assert "[private @cara] Saved as resource 1 for the community:" in lines
    assert "[private @dan] Saved as resource 2 for the community:" in lines
    assert "[private @dan] Resource 2 is attached to meeting #1, on Tue 1 Dec 2026." in lines

    # cara signs up to share; ben makes dan the host, and dan (not a facilitator) edits the
    # agenda. The agenda he gets back shows the challenges under Problem-solving, fay's
    # without her name, and who shares and hosts.
    assert answer_to(lines, "cara> /cop meeting role 1 share")[0].startswith(
        "[private @cara] You are sharing your experience at meeting 1"
    )
    assert (
        "[#cop] dan is the host of meeting 1: until it ends they may edit its agenda, post the "
        "agreements recap and open its check-in." in lines
    )
    agenda = answer_to(
        lines,
        'dan> /cop meeting agenda 1 topic="Outdoor play" objectives="Name two risks worth '
        'taking; Plan one change"',
    )
    assert agenda[:3] == [
        "[private @dan] Agenda of meeting 1 updated.",
        "  Agenda of meeting 1, Monthly CoP, Tue 1 Dec 2026, 16:00 EST",
        "  Topic: Outdoor play",
    ]
    problem = agenda.index("  4. Problem-solving")
    assert agenda[problem + 1 : problem + 5] == [
        "  Challenges brought for this round:",
        "  #1 “Transitions after outdoor play take twenty minutes.” (eve)",
        "  #2 “A parent questions our nap routine every day” (brought privately)",
        "  5. Individual reflection",
    ]
    assert "  Host: @dan" in agenda and "  Sharing their experience: @cara" in agenda
    # Nobody but fay and the facilitators ever sees her name with her challenge.
    assert not any(
        "nap routine" in line and "fay" in line for line in lines if not line.startswith("fay> ")
    )

    # The digest appears once, two days before the meeting, with exactly that content.
    [digest] = post_at(lines, "[#cop] What's new in")
    assert digest[:-1] == DIGEST
    assert re.fullmatch(r"  \(message \d+: :press \d+ LABEL\)", digest[-1])
    assert "fay-private-8810" not in "\n".join(
        line for line in lines if not line.startswith("fay> ")
    )

    # fay's /cop digest in her DM, ten days earlier, was the same, privately, and did not use
    # up the channel's digest.
    asked = answer_to(lines, "fay> /cop digest")
    assert asked[0] == "[private @fay]" + DIGEST[1].removeprefix("[#cop]")
    assert asked[1:-1] == DIGEST[2:]

    # Other CoP, whose meeting is the same day, had nothing new: no digest.
    assert not any("What's new in Other CoP" in line for line in lines)
    async with db.session() as session:
        drawn = (
            await session.execute(
                select(Community.name, Digest.status).join(
                    Community, Community.id == Digest.community_id
                )
            )
        ).all()
    assert sorted(tuple(d) for d in drawn) == [
        ("Finger Lakes CoP", "posted"),
        ("Other CoP", "empty"),
    ]
