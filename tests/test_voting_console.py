"""Topic voting through the console, as a facilitator and members would type it."""

from __future__ import annotations

from tests.support import transcript

INTAKE_AND_VOTE = """
:as ana admin
:in #cop
/cop setup "Finger Lakes CoP" America/New_York
/cop facilitator add @ben
:as ben
/cop topics open What should we explore in January? closes="in 2 days"
:as cara
:press Propose a topic
:submit title="Outdoor play in winter" why="My toddlers are inside too much"
:as dan
/cop topics propose
:submit title="Family engagement"
:as eve
:press Propose a topic
:submit title="Transitions" why="Drop-off is hard"
:as ben
/cop topics vote method=ranked closes="in 3 days"
:as cara
:press Rank your choices
:submit ballot="1 3 2"
:as dan
:press Rank your choices
:submit ballot="2 1"
:as eve
:press Rank your choices
:submit ballot="3 1"
:as fay
:press Rank your choices
:submit ballot="2 3"
:as gus
:press Rank your choices
:submit ballot="3 2"
:advance 3d
:advance 1d
:as ben
:press Send to the agenda
/cop topics list
"""


async def test_intake_to_ranked_vote_to_next_topic() -> None:
    lines = await transcript(INTAKE_AND_VOTE, zone="America/New_York")
    text = "\n".join(lines)
    # Intake: the button and the command both open the form; proposals are listed in place.
    assert "[form @cara] Propose a topic" in lines
    assert "[form @dan] Propose a topic" in lines
    assert '[private @eve] Thanks! "Transitions" is on the list as #3.' in lines
    start = lines.index("eve> :as ben")
    assert lines[start + 1 : start + 16] == [
        'ben> /cop topics vote method=ranked closes="in 3 days"',
        "[private @ben] Poll #1 is posted in the channel.",
        "[#cop] (message 4 updated) Topic intake: What should we explore in January?",
        "  (Proposals are closed.)",
        "  #1 Outdoor play in winter (proposed by cara)",
        "  #2 Family engagement (proposed by dan)",
        "  #3 Transitions (proposed by eve)",
        "  (3 proposed)",
        "[#cop] Vote #1: What should we explore in January?",
        "  (Ranked choice: rank as many as you like, best first. Closes Thu 5 Nov 2026, 09:00 EST)",
        "  First choices so far:",
        "  1. Outdoor play in winter  ░░░░░░░░░░ 0 (0%)",
        "  2. Family engagement       ░░░░░░░░░░ 0 (0%)",
        "  3. Transitions             ░░░░░░░░░░ 0 (0%)",
        "  (0 of 5 channel members voted)",
    ]
    # Ranked ballots go through a form; the confirmation is private.
    assert (
        "[private @cara] Your vote is saved: 1st Outdoor play in winter, 2nd Transitions, "
        "3rd Family engagement. You can change it until the poll closes."
    ) in lines
    # Five ballots typed within seconds coalesce into one live edit two seconds after the
    # first; the deadline then edits the message once more with the final round.
    assert text.count("(message 9 updated)") == 2
    end = lines.index("gus> :advance 3d")
    assert lines[end:] == [
        "gus> :advance 3d",
        "~ Mon 2 Nov 2026, 09:00 EST",
        "[#cop] (message 9 updated) Vote #1: What should we explore in January?",
        "  (Ranked choice: rank as many as you like, best first. Closes Thu 5 Nov 2026, 09:00 EST)",
        "  First choices so far:",
        "  1. Outdoor play in winter  ██░░░░░░░░ 1 (20%)",
        "  2. Family engagement       ████░░░░░░ 2 (40%)",
        "  3. Transitions             ████░░░░░░ 2 (40%)",
        "  (5 of 7 channel members voted)",
        "  1) Rank your choices",
        "  (message 9: :press 9 LABEL)",
        "~ Thu 5 Nov 2026, 09:00 EST",
        "[#cop] (message 9 updated) Vote #1: What should we explore in January?",
        "  (Ranked choice: rank as many as you like, best first. Closed Thu 5 Nov 2026, 09:00 EST)",
        "  Final round:",
        "  2. Family engagement  ████░░░░░░ 2 (40%)",
        "  3. Transitions        ██████░░░░ 3 (60%)",
        "  (5 of 7 channel members voted)",
        "  (Voting has closed; the result is posted below.)",
        "[#cop] Result of vote #1: What should we explore in January?",
        "  Round 1: Family engagement 2, Transitions 2, Outdoor play in winter 1 — Outdoor play in "
        "winter eliminated; 1 vote moved to Transitions, 0 exhausted.",
        "  Round 2: Transitions 3, Family engagement 2 — Transitions has a majority.",
        "  Winner: Transitions with 3 of 5 votes.",
        "  (Turnout: 5 of 7 channel members voted.)",
        "  1) Send to the agenda",
        "  [file: poll-1-result.png, " + _size(lines, "poll-1-result.png") + " bytes]",
        "  (message 15: :press 15 LABEL)",
        "gus> :advance 1d",
        "gus> :as ben",
        "ben> :press Send to the agenda",
        "[#cop] Next topic for Finger Lakes CoP: Transitions.",
        "ben> /cop topics list",
        "[private @ben] Next topic for Finger Lakes CoP: Transitions",
        "  Backlog (from earlier votes):",
        "  #2 Family engagement (proposed by dan) — 2 in the last vote",
        "  #1 Outdoor play in winter (proposed by cara) — 1 in the last vote",
    ]
    assert text.count("Result of vote #1") == 1


def _size(lines: list[str], name: str) -> str:
    line = next(x for x in lines if f"[file: {name}, " in x)
    return line.split(", ")[1].split(" ")[0]


async def test_poll_commands_and_refusals() -> None:
    lines = await transcript(
        """
        :as ana admin
        :in #cop
        /cop setup "Finger Lakes CoP" America/New_York
        /cop facilitator add @ben
        :as cara
        /cop join
        /cop poll new Which snack? options="A | B"
        :as ben
        /cop poll new Bad options="a"
        /cop poll new Bad options="a | b | A"
        /cop poll new Bad options="a | b" closes="yesterday"
        /cop poll new Bad options="a | b" closes="2026-03-08 10:00"
        /cop poll new Bad options="a | b" remind="1 day before"
        /cop poll new Bad options="a | b" max=1
        /cop poll new Bad options="a | b" method=dot dots=500
        /cop poll close
        /cop poll new Which snack on Friday? options="Apples | Pears | @everyone" quorum=3
        :as cara
        :press Apples
        :press Apples
        :press Pears
        /cop poll results
        :as ben
        /cop poll close
        /cop poll close
        :as cara
        :press Send to the agenda
        """,
        zone="America/New_York",
    )
    replies = [x for x in lines if x.startswith("[private")]
    assert replies == [
        "[private @cara] Only a facilitator of Finger Lakes CoP can do that.",
        "[private @ben] A poll needs 2 to 25 options, not 1.",
        '[private @ben] The option "A" is listed twice.',
        '[private @ben] I can\'t read "yesterday" as a time; try "in 3 days", "friday 17:00" or '
        '"2026-12-01 17:00".',
        '[private @ben] "2026-03-08 10:00" is already past; pick a time in the future.',
        '[private @ben] A reminder needs a deadline; add closes="...".',
        "[private @ben] max= only applies to approval polls.",
        "[private @ben] dots= must be between 1 and 99.",
        "[private @ben] There is no open poll here.",
        "[private @ben] Poll #1 is posted in the channel.",
        "[private @cara] Your vote is saved: Apples. You can change it until the poll closes.",
        "[private @cara] Your vote is already Apples; nothing changed.",
        "[private @cara] Your vote is saved: Pears. You can change it until the poll closes.",
        "[private @cara] Count so far of vote #1: Which snack on Friday?",
        "[private @ben] Poll #1 is closed; the result is posted in the channel.",
        "[private @ben] There is no open poll here.",
        "[private @cara] Only a facilitator of Finger Lakes CoP can do that.",
    ]
    at = lines.index("[private @cara] Count so far of vote #1: Which snack on Friday?")
    assert lines[at + 1 : at + 7] == [
        "  Leading: Pears.",
        "  1. Apples     ░░░░░░░░░░ 0 (0%)",
        "  2. Pears      ██████████ 1 (100%)",
        "  3. @everyone  ░░░░░░░░░░ 0 (0%)",
        "  Turnout: 1 of 3 channel members voted. Quorum of 3 not reached.",
        "  Voted: cara.",
    ]
    result = lines.index("[#cop] Result of vote #1: Which snack on Friday?")
    assert lines[result + 1 : result + 6] == [
        "  Winner: Pears.",
        "  1. Apples     ░░░░░░░░░░ 0 (0%)",
        "  2. Pears      ██████████ 1 (100%)",
        "  3. @everyone  ░░░░░░░░░░ 0 (0%)",
        "  (Turnout: 1 of 3 channel members voted. Quorum of 3 not reached.)",
    ]


async def test_approval_dots_and_score_ballots() -> None:
    lines = await transcript(
        """
        :as ana admin
        :in #cop
        /cop setup Circle UTC
        /cop facilitator add @ben
        :as ben
        /cop poll new Which days? method=approval max=2 options="Mon | Tue | Wed"
        :as cara
        :press Mon
        :press 4 Tue
        :press 4 Wed
        :press Remove Mon
        :press 5 Remove Mon
        :as ben
        /cop poll new Dots? method=dot dots=3 options="A | B | C"
        :as cara
        :press Place your dots
        :submit ballot="1 1 1 2"
        :submit ballot="1 1 3"
        :as ben
        /cop poll new Score? method=score options="A | B | C"
        :as cara
        :press Score the options
        :submit ballot="5 9"
        :submit ballot="5 3"
        :as ben
        /cop poll close 3
        """
    )
    replies = [x for x in lines if x.startswith("[private @cara]")]
    assert replies == [
        "[private @cara] Your vote is saved: Mon. You can change it until the poll closes.",
        "[private @cara] Your vote is saved: Mon, Tue. You can change it until the poll closes.",
        "[private @cara] You can approve at most 2 options; remove one first.",
        "[private @cara] Your vote is saved: Tue. You can change it until the poll closes.",
        "[private @cara] Your vote is already Tue; nothing changed.",
        "[private @cara] ballot: You have 3 dots to place; remove some.",
        "[private @cara] Your vote is saved: A ×2, C ×1. You can change it until the poll closes.",
        "[private @cara] ballot: Scores go from 0 to 5.",
        "[private @cara] Your vote is saved: A 5, B 3. You can change it until the poll closes.",
    ]
    result = lines.index("[#cop] Result of vote #3: Score?")
    assert lines[result + 1 : result + 6] == [
        "  Winner: A.",
        "  1. A  ██████░░░░ 5 (63%)",
        "  2. B  ████░░░░░░ 3 (38%)",
        "  3. C  ░░░░░░░░░░ 0 (0%)",
        "  Average scores: A 5.0, B 3.0, C 0.0.",
    ]


async def test_topic_moderation_tells_the_proposer_privately() -> None:
    lines = await transcript(
        """
        :as ana admin
        :in #cop
        /cop setup Circle UTC
        /cop facilitator add @ben
        :as ben
        /cop topics open "What next?"
        :as cara
        /cop topics propose Outdoor play
        /cop topics propose outdoor play
        :as dan
        /cop topics propose Playing outdoors
        /cop topics propose "Screen time @everyone"
        /cop topics merge 3 1
        :as ben
        /cop topics merge 2 1
        /cop topics edit 3 Screens and toddlers
        /cop topics drop 3 Covered in October
        /cop topics vote
        /cop topics list
        """
    )
    assert [x for x in lines if x.startswith(("[private", "[dm"))] == [
        "[private @ben] Topic intake is posted in the channel.",
        '[private @cara] Thanks! "Outdoor play" is on the list as #1.',
        '[private @cara] "Outdoor play" is already proposed as #1.',
        '[private @dan] Thanks! "Playing outdoors" is on the list as #2.',
        '[private @dan] Thanks! "Screen time @everyone" is on the list as #3.',
        "[private @dan] Only a facilitator of Circle can do that.",
        "[private @ben] Topic #2 is merged into #1 (Outdoor play).",
        '[dm @dan] Your topic "Playing outdoors" in Circle was merged into "Outdoor play", '
        "which is very close; its support counts there.",
        '[private @ben] Topic #3 is now "Screens and toddlers".',
        '[dm @dan] A facilitator of Circle renamed your topic "Screen time @everyone" to '
        '"Screens and toddlers".',
        '[private @ben] Topic #3 ("Screens and toddlers") is dropped.',
        '[dm @dan] A facilitator of Circle dropped your topic "Screens and toddlers" from the '
        "list. Reason: Covered in October",
        "[private @ben] A poll needs 2 to 25 options, not 1.",
        "[private @ben] Proposals for: What next?",
    ]


async def test_intake_deadline_is_announced_once_and_stops_proposals() -> None:
    lines = await transcript(
        """
        :as ana admin
        :in #cop
        /cop setup Circle America/New_York
        /cop topics open What next? closes="in 1 day"
        :as cara
        /cop topics propose Outdoor play
        :advance 1d
        :advance 1d
        /cop topics propose Transitions
        """,
        zone="America/New_York",
    )
    start = lines.index("cara> :advance 1d")
    assert lines[start + 1 : start + 8] == [
        "~ Tue 3 Nov 2026, 09:00 EST",
        "[#cop] (message 3 updated) Topic intake: What next?",
        "  (Proposals are closed.)",
        "  #1 Outdoor play (proposed by cara)",
        "  (1 proposed)",
        '[#cop] Proposals for "What next?" have closed (1 proposed); a facilitator can start '
        "the vote with /cop topics vote.",
        "cara> :advance 1d",
    ]
    assert lines[start + 8 :] == [
        "cara> /cop topics propose Transitions",
        "[private @cara] Proposals for this intake have closed.",
    ]
