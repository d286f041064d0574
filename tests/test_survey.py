"""The annual interest survey through the console, on SQLite and PostgreSQL: it opens on its
schedule two years running, members rate the focus areas (forms of five, or typed), the result
ranks them with ties explained, compares with the year before, and only areas that never went
to the topic backlog go there. Refusals are one sentence and change nothing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from itertools import takewhile
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.app import App
from bot.context import background
from bot.hooks import DigestSections, MemberErasing
from bot.ports import FakeClock
from bot.ui import Actions, Section, plain
from storage.db import Database
from storage.models import Member
from storage.survey import Survey, SurveyArea, SurveyItem, SurveyProposal, SurveyRating
from storage.voting import Topic
from tests.support import RecordingAdapter, job_ids, transcript

NY = "America/New_York"
PROMPT = re.compile(r"^\S+> ")
SETUP = """
:as ana admin
:in #cop
/cop setup "Finger Lakes CoP" America/New_York
/cop facilitator add @ben
:as cara
/cop join
:as dan
/cop join
:as eve
/cop join
:as ben
/cop survey areas add Relationships with families
/cop survey areas add Learning environments
/cop survey areas add Health and safety
/cop survey areas add Curriculum and planning
/cop survey areas add Professionalism
/cop survey areas add Observation and assessment
"""


def ny(*args: int) -> FakeClock:
    return FakeClock(datetime(*args, tzinfo=ZoneInfo(NY)))


def block(lines: list[str], start: str, *, last: bool = False) -> list[str]:
    """The (first or last) line starting with `start` and its indented continuation lines."""
    found = [i for i, line in enumerate(lines) if line.startswith(start)]
    i = found[-1] if last else found[0]
    return [lines[i], *takewhile(lambda ln: ln.startswith("  "), lines[i + 1 :])]


def answer_to(lines: list[str], typed: str) -> list[str]:
    """What the bot said right after the line `typed` (until the next prompt)."""
    i = lines.index(typed)
    return list(takewhile(lambda ln: not PROMPT.match(ln), lines[i + 1 :]))


async def test_the_survey_feeds_the_backlog_across_two_years(db: Database) -> None:
    lines = await transcript(
        SETUP
        + """
        /cop survey schedule "every September" days=14 top=2
        /cop topics open What should we explore this year?
        :as dan
        /cop topics propose Health and safety
        :at 2027-09-01T12:01
        :as cara
        :press Rate areas 1–5
        :submit a1=5 a2=4 a3=1 a4=3 a5=0
        :press Rate area 6
        :submit a6=2
        /cop survey propose Outdoor play
        :as dan
        :press Rate areas 1–5
        :submit a1=4 a2=5 a3=2 a4=1
        :as eve
        /cop survey rate 1 5
        /cop survey rate 4 5
        :as ben
        /cop survey areas list
        /cop survey adopt 1
        :at 2027-09-15T12:01
        :at 2028-09-01T12:01
        :as cara
        :press Rate areas 1–5
        :submit a1=1 a2=5 a3=5
        :press Rate areas 6–7
        :submit a7=5
        :as dan
        :press Rate areas 1–5
        :submit a2=4 a3=5
        :press Rate areas 6–7
        :submit a7=4
        :as eve
        /cop survey rate 1 2
        :at 2028-09-15T12:01
        :as ben
        /cop survey results
        """,
        db=db,
        clock=ny(2027, 8, 1, 9, 0),
        zone=NY,
    )
    # Year one opens by itself on the schedule, with the list frozen and a button per form of 5.
    plan = block(lines, "[private @ben] The interest survey opens every year on 1 September")
    assert plan == [
        "[private @ben] The interest survey opens every year on 1 September at 12:00 "
        "(America/New_York).",
        "  Each survey stays open 14 days; the top 2 areas go to the topic backlog.",
        "  The next one opens on Wed 1 Sep 2027, 12:00 EDT.",
    ]
    first = block(lines, "[#cop] The 2027 interest survey of Finger Lakes CoP is open")
    assert lines[lines.index(first[0]) - 1] == "~ Wed 1 Sep 2027, 12:00 EDT"
    assert "  6. Observation and assessment" in first
    assert "  Open until Wed 15 Sep 2027, 12:00 EDT." in first
    assert "  1) Rate areas 1–5 · 2) Rate area 6 · 3) Propose an area" in first
    # The facilitator sees the proposal and adds it to the list for next year.
    listing = block(lines, "[private @ben] Focus areas of Finger Lakes CoP:")
    assert listing[-2:] == [
        "  Proposed by members (add one with /cop survey adopt N):",
        "    1. Outdoor play (by cara)",
    ]
    assert answer_to(lines, "ben> /cop survey adopt 1") == [
        "[private @ben] Focus area 7 added: Outdoor play. The open survey keeps its list; "
        "this area is rated from the next survey.",
        '[dm @cara] Your proposed focus area "Outdoor play" is now on the list of Finger Lakes '
        "CoP; the next interest survey asks about it.",
    ]
    # Year one's result: ranked by total, the tie explained, the top two places (three areas,
    # because of the tie) go to the backlog. Nothing to compare with yet.
    result = block(lines, "[#cop] Result of the 2027 interest survey")
    assert result == [
        "[#cop] Result of the 2027 interest survey of Finger Lakes CoP (members who rated: 3):",
        "  1. Relationships with families: total 14, average 4.7 (3 rated it)",
        "  2. Learning environments: total 9, average 4.5 (2 rated it)",
        "  2. Curriculum and planning: total 9, average 3.0 (3 rated it)",
        "  4. Health and safety: total 3, average 1.5 (2 rated it)",
        "  5. Observation and assessment: total 2, average 2.0 (1 rated it)",
        "  6. Professionalism: total 0, average 0.0 (1 rated it)",
        "  Learning environments, Curriculum and planning tie with 9 points each, so they share "
        "place 2 (shown in the order of the list).",
        "  Because of a shared place, 3 areas go to the topic backlog instead of 2.",
        "  Added to the topic backlog: Relationships with families, Learning environments, "
        "Curriculum and planning.",
    ]
    assert "[#cop] (message" in lines[lines.index(result[-1]) + 1]  # the post says it closed
    # Year two opens a year later on its own, with the added area.
    second = block(lines, "[#cop] The 2028 interest survey of Finger Lakes CoP is open")
    assert lines[lines.index(second[0]) - 1] == "~ Fri 1 Sep 2028, 12:00 EDT"
    assert "  7. Outdoor play" in second
    assert "  1) Rate areas 1–5 · 2) Rate areas 6–7 · 3) Propose an area" in second
    # Year two's result compares each area with 2027; only areas never in the backlog go there.
    result = block(lines, "[#cop] Result of the 2028 interest survey")
    assert result == [
        "[#cop] Result of the 2028 interest survey of Finger Lakes CoP (members who rated: 3):",
        "  1. Health and safety: total 10, average 5.0 (2 rated it) "
        "(up 3 from place 4 in 2027; average 1.5 then)",
        "  2. Learning environments: total 9, average 4.5 (2 rated it) "
        "(same place as in 2027; average 4.5 then)",
        "  2. Outdoor play: total 9, average 4.5 (2 rated it) (new this year)",
        "  4. Relationships with families: total 3, average 1.5 (2 rated it) "
        "(down 3 from place 1 in 2027; average 4.7 then)",
        "  5. Curriculum and planning: nobody rated it (down 3 from place 2 in 2027; "
        "average 3.0 then)",
        "  5. Professionalism: nobody rated it (up 1 from place 6 in 2027; average 0.0 then)",
        "  5. Observation and assessment: nobody rated it (same place as in 2027; "
        "average 2.0 then)",
        "  Learning environments, Outdoor play tie with 9 points each, so they share place 2 "
        "(shown in the order of the list).",
        "  Curriculum and planning, Professionalism, Observation and assessment tie with 0 points "
        "each, so they share place 5 (shown in the order of the list).",
        "  Because of a shared place, 3 areas go to the topic backlog instead of 2.",
        "  Added to the topic backlog: Outdoor play.",
        "  Already in the topic backlog from an earlier survey or proposal: Health and safety, "
        "Learning environments.",
    ]
    # Anyone can see the last result again, with the same comparison.
    again = block(lines, "[private @ben] Result of the 2028 interest survey")
    assert again[1:4] == result[1:4]

    async with db.session() as session:
        topics = list((await session.execute(select(Topic).order_by(Topic.id))).scalars())
        areas = list(await session.execute(select(SurveyArea).order_by(SurveyArea.number)))
        surveys = list((await session.execute(select(Survey).order_by(Survey.number))).scalars())
    # Each area is in the backlog once; the proposed topic was not duplicated.
    assert [(t.title, t.status, t.support) for t in topics] == [
        ("Health and safety", "proposed", 0),
        ("Relationships with families", "backlog", 14),
        ("Learning environments", "backlog", 9),
        ("Curriculum and planning", "backlog", 9),
        ("Outdoor play", "backlog", 9),
    ]
    assert topics[1].proposer_name == "the 2027 interest survey"
    assert topics[4].why == "Place 2 in the 2028 interest survey (average 4.5 of 5)."
    linked = {a.title: a.topic_id for (a,) in areas}
    assert linked["Health and safety"] == topics[0].id
    assert linked["Professionalism"] is None
    assert [(s.number, s.status, s.turnout) for s in surveys] == [
        (1, "closed", 3),
        (2, "closed", 3),
    ]
    assert [s.scheduled_for for s in surveys] == [
        datetime(2027, 9, 1, 16, 0, tzinfo=UTC),
        datetime(2028, 9, 1, 16, 0, tzinfo=UTC),
    ]
    assert "survey-open:1" in await job_ids(db)  # 2029's opening is waiting


async def _ratings(db: Database) -> list[tuple[int, int]]:
    async with db.session() as session:
        rows = await session.execute(
            select(SurveyItem.position, SurveyRating.score)
            .join(SurveyItem, SurveyItem.id == SurveyRating.item_id)
            .order_by(SurveyItem.position)
        )
        return [(p, s) for p, s in rows.all()]


async def test_refusals_are_one_sentence_and_change_nothing(db: Database) -> None:
    lines = await transcript(
        """
        :as ana admin
        :in #cop
        /cop setup "Finger Lakes CoP" America/New_York
        /cop facilitator add @ben
        :as cara
        /cop join
        :as ben
        /cop survey open
        /cop survey areas add Relationships with families
        /cop survey areas add relationships WITH families
        /cop survey areas add Learning environments
        /cop survey areas remove 9
        /cop survey schedule "every Septembre"
        /cop survey schedule "every February on the 30th"
        /cop survey schedule "every September" month=9
        /cop survey schedule month=13
        /cop survey schedule "every September" top=11
        /cop survey results
        /cop survey open days=5
        /cop survey open
        :as cara
        /cop survey areas add Outdoor play
        /cop survey close
        :press Rate the focus areas
        :submit a1=4
        :press Rate the focus areas
        :submit a1=9 a2=3
        :submit a1=x
        :submit a1= a2=
        /cop survey rate 1 6
        /cop survey rate 3 2
        /cop survey rate 1 -1
        /cop survey propose Relationships with families
        /cop survey propose Outdoor play
        /cop survey propose outdoor PLAY
        :press Rate the focus areas
        :at 2026-11-07T09:01
        :submit a1=1
        /cop survey rate 1 1
        /cop survey propose Transitions
        """,
        db=db,
        clock=ny(2026, 11, 2, 9, 0),
        zone=NY,
    )
    said = [
        ("ben> /cop survey open", "Add a focus area first with /cop survey areas add."),
        (
            "ben> /cop survey areas add relationships WITH families",
            ('Area 1 is already "Relationships with families".'),
        ),
        (
            "ben> /cop survey areas remove 9",
            ("There is no focus area 9 on the list; /cop survey areas shows the numbers."),
        ),
        (
            'ben> /cop survey schedule "every Septembre"',
            ('I don\'t know the month "septembre"; try "every September" or month=9.'),
        ),
        (
            'ben> /cop survey schedule "every February on the 30th"',
            ("That schedule never produces a meeting; check its days and dates."),
        ),
        (
            'ben> /cop survey schedule "every September" month=9',
            (
                'Give the schedule either as text ("every September") or as month= day= at=, not both.'
            ),
        ),
        ("ben> /cop survey schedule month=13", "The month must be from 1 to 12, not 13."),
        ('ben> /cop survey schedule "every September" top=11', "top must be from 1 to 10."),
        ("ben> /cop survey results", "No interest survey has closed yet."),
        (
            "cara> /cop survey areas add Outdoor play",
            ("Only a facilitator of Finger Lakes CoP can do that."),
        ),
        (
            "cara> :submit a1=9 a2=3",
            'a1: Rate "Relationships with families" with a whole number from 0 to 5.',
        ),
        (
            "cara> :submit a1=x",
            'a1: Rate "Relationships with families" with a whole number from 0 to 5.',
        ),
        ("cara> :submit a1= a2=", "Pick a score for at least one area."),
        (
            "cara> /cop survey rate 1 6",
            ('Rate "Relationships with families" with a whole number from 0 to 5.'),
        ),
        (
            "cara> /cop survey rate 3 2",
            ("The open survey has no area 3; its post shows the numbers."),
        ),
        (
            "cara> /cop survey propose Relationships with families",
            ('Area 1 is already "Relationships with families".'),
        ),
        ("cara> /cop survey propose outdoor PLAY", '"outdoor PLAY" is already proposed.'),
        (
            "ben> /cop survey open",
            "An interest survey is already open; close it first with /cop survey close.",
        ),
        (
            "cara> :submit a1=1",
            "Interest survey 1 is closed; ratings and proposals are no longer taken.",
        ),
        ("cara> /cop survey rate 1 1", "No interest survey is open right now."),
        ("cara> /cop survey propose Transitions", "No interest survey is open right now."),
    ]
    for typed, sentence in said:
        who = typed.split(">")[0]
        answers = [answer_to(lines[i:], line) for i, line in enumerate(lines) if line == typed]
        assert [f"[private @{who}] {sentence}"] in answers, (typed, answers)
    assert answer_to(lines, "cara> /cop survey close") == [
        "[private @cara] Only a facilitator of Finger Lakes CoP can do that."
    ]
    assert answer_to(lines, "cara> /cop survey rate 1 -1")[0].startswith("[private @cara] ")
    # The only rating stored is the one that was accepted; the refusals changed nothing.
    assert await _ratings(db) == [(1, 4)]
    async with db.session() as session:
        areas = list((await session.execute(select(SurveyArea.title))).scalars())
        proposals = list((await session.execute(select(SurveyProposal.title))).scalars())
        survey = (await session.execute(select(Survey))).scalar_one()
    assert sorted(areas) == ["Learning environments", "Relationships with families"]
    assert proposals == ["Outdoor play"]
    assert (survey.status, survey.turnout) == ("closed", 1)
    # The one survey closed on its own after the 5 days it was opened for.
    result = block(lines, "[#cop] Result of the 2026 interest survey")
    assert result[1] == "  1. Relationships with families: total 4, average 4.0 (1 rated it)"


async def test_digest_shows_an_open_survey_and_an_erase_takes_the_ratings(db: Database) -> None:
    clock = ny(2027, 9, 1, 9, 0)
    await transcript(
        SETUP
        + """
        /cop survey open days=7
        :as cara
        /cop survey rate 1 5
        /cop survey rate 2 3
        /cop survey propose Outdoor play
        :as dan
        /cop survey rate 1 4
        """,
        db=db,
        clock=clock,
        zone=NY,
    )
    app = App(db, clock, [RecordingAdapter()], manual=True)
    async with db.session() as session:
        cara = (
            await session.execute(select(Member).where(Member.display_name == "cara"))
        ).scalar_one()
    now = clock.now()

    async def digest(until: datetime, private_to: int | None = None) -> list[str]:
        async with background(app.services) as ctx:
            payload = DigestSections(1, None, now - timedelta(days=7), until, "en", private_to)
            blocks = await ctx.emit("digest.sections", payload)
        shown = [b for found in blocks for b in found]
        texts = [plain(b.parts) for b in shown if isinstance(b, Section)]
        buttons = [e.label for b in shown if isinstance(b, Actions) for e in b.elements]
        return texts + buttons

    assert await digest(now) == [
        "The 2027 interest survey is open until Wed 8 Sep 2027, 09:00 EDT: rate 6 focus areas "
        "and propose new ones.",
        "Rate areas 1–5",
        "Rate area 6",
        "Propose an area",
    ]
    assert "You have rated 2 of 6 areas." in await digest(now, cara.id)
    assert await digest(now + timedelta(days=8)) == []  # closed by then: nothing to say

    async with background(app.services) as ctx:
        await ctx.emit("member.erasing", MemberErasing(1, cara.id))
    assert await _ratings(db) == [(1, 4)]  # dan's stays
    async with db.session() as session:
        assert list((await session.execute(select(SurveyProposal))).scalars()) == []
