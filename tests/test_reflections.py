"""Reflection check-ins through the console: defined by a facilitator, opened two days after a
meeting, answered privately or shared by choice, closed with the anonymous answers.

The console types the form's fallback (the questions and one privacy choice for them all),
so each member here picks one privacy for their whole submission; the per-answer choice is
tested end to end through Slack (tests/slack/test_reflections.py).
"""

from __future__ import annotations

from datetime import datetime
from itertools import takewhile
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from bot.app import App
from bot.events import (
    ActionClicked,
    Actor,
    CommandInvoked,
    ConversationRef,
    FormSubmitted,
    OpenForm,
    Place,
    Reply,
    Respond,
    UserRef,
)
from bot.i18n import Translator
from bot.ports import FakeClock
from bot.ui import ActionId
from storage.db import Database
from storage.reflections import (
    Checkin,
    CheckinAnswer,
    CheckinDelivery,
    CheckinRound,
    Privacy,
    RoundStatus,
)
from tests.support import RecordingAdapter, transcript

NY = "America/New_York"
CANARY = "canary-7f3a my private note about Jamal"
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
"""
SERIES = '/cop meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP"'


def ny(*args: int) -> FakeClock:
    return FakeClock(datetime(*args, tzinfo=ZoneInfo(NY)))


def block(lines: list[str], start: str, *, last: bool = False) -> list[str]:
    """The (first or last) line starting with `start` and its indented continuation lines."""
    found = [i for i, line in enumerate(lines) if line.startswith(start)]
    i = found[-1] if last else found[0]
    return [lines[i], *takewhile(lambda ln: ln.startswith("  ") and "↳" not in ln, lines[i + 1 :])]


async def test_a_round_after_a_meeting_private_by_default_shared_by_choice(db: Database) -> None:
    lines = await transcript(
        SETUP
        + f"""
        /cop checkins default
        {SERIES}
        :at 2026-11-05T19:29
        :at 2026-11-05T19:31
        :as cara
        :in dm
        :press Answer
        :submit q1="The toddlers stayed with water play for twenty minutes." q2="Put the water table outside" privacy=named
        :as dan
        :press Answer
        :submit q1="{CANARY}" privacy=private
        :as eve
        :press Answer
        :submit q3="More planning time" privacy=anonymous
        :as ana
        :press Answer
        :submit q2="Ask families about bedtime routines" privacy=facilitators
        :as ben
        :in #cop
        /cop checkins status
        :as cara
        :in dm
        :press Answer
        :submit q1="The toddlers stayed with water play for half an hour." q2="Put the water table outside" privacy=named
        :as ben
        :in #cop
        :at 2026-11-10T19:31
        /cop checkins status 1
        :as cara
        :in dm
        :press Answer
        """,
        db=db,
        clock=ny(2026, 11, 2, 9, 0),
        zone=NY,
    )
    # The round opens two days after the meeting ended (3 Nov 19:30), not before.
    opened = lines.index("[#cop] Reflection check-in 1 is open (round 1): Individual reflection.")
    assert lines[opened - 1] == "~ Thu 5 Nov 2026, 19:30 EST"
    post = block(lines, "[#cop] Reflection check-in 1 is open")
    assert "Answers are private unless you share them" in post[1]
    # Each member gets one DM with the questions and the Answer button, nobody twice.
    dms = [line for line in lines if line.startswith("[dm @") and "Time to reflect" in line]
    assert sorted(dms) == sorted(
        f"[dm @{who}] Time to reflect: check-in 1 of Finger Lakes CoP, Individual reflection."
        for who in ("ana", "ben", "cara", "dan", "eve")
    )
    invite = block(lines, "[dm @cara] Time to reflect")
    assert "  1. What did I notice in my practice since we met?" in invite
    assert "  1) Answer" in invite
    # The author is told who can read each answer; nothing else is said to anyone.
    saved = block(lines, "[private @dan] Saved your answers to check-in 1.")
    assert saved[1] == "  What did I notice in my practice since we met? — only you"
    # Named answers go to the thread under the round's post at once, with the name.
    thread = [line for line in lines if line.startswith("  ↳ [#cop]")]
    assert "  ↳ [#cop] cara — What did I notice in my practice since we met?" in thread
    # Facilitator-only answers reach the facilitator by DM, never the channel.
    to_ben = block(lines, "[dm @ben] ana shared an answer with the facilitators")
    assert to_ben[1] == "  Ask families about bedtime routines"
    assert not any("bedtime" in line for line in lines if "[#cop]" in line)
    # The facilitator's status while open: counts and the named answers only.
    status = block(lines, "[private @ben] Check-in 1: Individual reflection")
    assert status[1].startswith("  Round 1: 4 of 5 answered so far (80%); open until Tue 10 Nov")
    assert (
        "  (cara — What did I notice in my practice since we met?: The toddlers stayed with water play for twenty minutes.)"
        in status
    )  # noqa: E501
    assert (
        "  (ana — One strategy I'll try before we meet again: Ask families about bedtime routines)"
        in status
    )  # noqa: E501
    assert not any("More planning time" in line for line in status)  # anonymous: not until close
    # An edit after sharing: the earlier post says so, the new version follows in the thread.
    replaced = [line for line in lines if "updated) (This answer was edited" in line]
    assert len(replaced) == 1  # only q1 changed; q2 was sent again unchanged
    again = block(lines, "  ↳ [#cop] cara — What did I notice", last=True)
    assert again[1:] == [
        "    The toddlers stayed with water play for half an hour.",
        "    (edited)",
    ]
    # At close: the channel post says so with counts, and the anonymous answer goes to the thread
    # without a name.
    closed = next(line for line in lines if "is closed: Individual reflection" in line)
    assert closed.endswith("Reflection check-in 1 (round 1) is closed: Individual reflection.")
    assert lines[lines.index(closed) + 1] == "  4 of 5 members answered. Thank you."
    anonymous = block(lines, "  ↳ [#cop] Shared anonymously — What do I need")
    assert anonymous[1].strip() == "• More planning time"
    assert not any("eve" in line for line in anonymous)
    later_status = block(lines, "[private @ben] Check-in 1:", last=True)
    assert later_status[1].startswith("  Round 1: 4 of 5 answered (80%); closed Tue 10 Nov 2026")
    assert "  (What do I need (support, resources, time)?: More planning time)" in later_status
    # After the close the form no longer opens.
    assert lines[-1] == "[private @cara] That check-in is closed; answers can no longer be changed."
    # The private answer appears nowhere: not to the facilitator, not in the channel.
    said = [line for line in lines if not line.startswith("dan> ")]  # not dan's own typing
    assert not any(CANARY in line for line in said)
    # Stored sealed, with each author's choice; searching the database finds no answer text.
    async with db.session() as session:
        answers = list((await session.execute(select(CheckinAnswer))).scalars())
        rnd = (await session.execute(select(CheckinRound))).scalar_one()
        deliveries = list((await session.execute(select(CheckinDelivery))).scalars())
    assert sorted(a.privacy for a in answers) == sorted(
        [Privacy.NAMED, Privacy.NAMED, Privacy.PRIVATE, Privacy.ANONYMOUS, Privacy.FACILITATORS]
    )
    assert all(a.sealed.startswith("v1.") for a in answers)
    assert (rnd.status, rnd.asked, rnd.answered) == (RoundStatus.CLOSED, 5, 4)
    assert len(deliveries) == 5
    assert await _found_anywhere(db, "Finger Lakes CoP") != []  # the search does find clear text
    assert await _found_anywhere(db, "canary-7f3a") == []
    assert await _found_anywhere(db, "planning time") == []
    assert await _found_anywhere(db, "half an hour") == []  # shared, yet sealed at rest too


def _file_holds(path: Path, needle: str) -> bool:
    """Whether the SQLite file (or its write-ahead log) holds `needle` in clear."""
    files = [path, path.with_name(path.name + "-wal")]
    return any(f.exists() and needle.encode() in f.read_bytes() for f in files)


async def _found_anywhere(db: Database, needle: str) -> list[str]:
    """Tables and columns holding `needle` in clear, and the raw SQLite file if it is one."""
    hits: list[str] = []
    url = make_url(db.url)
    if url.get_backend_name() == "sqlite" and url.database:
        if _file_holds(Path(url.database), needle):
            hits.append("sqlite file")
        return hits
    async with db.session() as session:
        tables = (
            await session.execute(
                text(
                    "SELECT table_name, column_name FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND data_type IN ('text', 'character varying')"
                )
            )
        ).all()
        for table, column in tables:
            found = await session.execute(
                text(f'SELECT 1 FROM "{table}" WHERE "{column}" LIKE :n LIMIT 1'),
                {"n": f"%{needle}%"},
            )
            if found.first() is not None:
                hits.append(f"{table}.{column}")
    return hits


async def test_before_meetings_follows_a_moved_meeting_and_skips_a_cancelled_one() -> None:
    lines = await transcript(
        SETUP
        + f"""
        {SERIES}
        /cop checkins add Before we meet timing=before:3d open=2d
        /cop checkins question 1 add How ready do you feel? kind=scale
        /cop meeting move 2 2026-12-08 18:30
        /cop meeting cancel 3
        :at 2027-02-03T00:00
        /cop checkins status 1
        """,
        clock=ny(2026, 11, 2, 9, 0),
        zone=NY,
    )
    headers = []
    header = ""
    for line in lines:
        if line.startswith("~ "):
            header = line
        if line.startswith("[#cop] Reflection check-in 1 is open"):
            headers.append(header)
    # Meeting 1 (3 Nov) is under 3 days away: its round opens at once. Meeting 2 moved to
    # 8 Dec: 5 Dec. Meeting 3 (5 Jan) cancelled: none. Meeting 4 (2 Feb): 30 Jan.
    assert headers == [
        "~ Mon 2 Nov 2026, 09:00 EST",
        "~ Sat 5 Dec 2026, 18:30 EST",
        "~ Sat 30 Jan 2027, 18:30 EST",
    ]
    status = block(lines, "[private @ben] Check-in 1: Before we meet", last=True)
    assert "  Round 3 was skipped (its meeting was cancelled, or the check-in stopped)." in status


async def test_a_scheduled_check_in_and_stop() -> None:
    lines = await transcript(
        SETUP
        + """
        /cop checkins add Friday pulse timing=schedule:"every Friday at 15:00" open=1d
        /cop checkins question 1 add How was your week? kind=choice options="calm,busy,hard"
        /cop checkins question 1 add "One thing I'll try next week" commitment=yes
        /cop checkins list
        :at 2026-11-07T12:00
        /cop checkins stop 1
        :at 2026-11-21T12:00
        /cop checkins list
        """,
        clock=ny(2026, 11, 2, 9, 0),
        zone=NY,
    )
    listed = block(lines, "[private @ben] The check-ins of this community:")
    assert listed[1] == (
        "  Check-in 1: Friday pulse — on its own schedule (every Friday at 15:00), open 1 day."
    )
    assert listed[2] == "  (1. How was your week? (a choice: calm, busy, hard))"
    assert listed[3] == (
        "  (2. One thing I'll try next week (free text; a commitment, checked back later))"
    )
    opened = [line for line in lines if line.startswith("[#cop] Reflection check-in 1 is open")]
    assert opened == ["[#cop] Reflection check-in 1 is open (round 1): Friday pulse."]
    assert (
        "[private @ben] Check-in 1 is stopped: no new rounds go out. A round that is open stays open until it closes."
        in lines
    )  # noqa: E501
    assert (
        lines[-1]
        == "  Check-in 1: Friday pulse — on its own schedule (every Friday at 15:00), open 1 day. (stopped)"
    )  # noqa: E501


async def test_refusals_are_one_sentence_and_change_nothing(db: Database) -> None:
    lines = await transcript(
        SETUP
        + """
        /cop checkins default
        /cop checkins default
        /cop checkins stop 7
        /cop checkins status 7
        /cop checkins question 9 add Anything?
        /cop checkins add Later timing=sometimes
        /cop checkins add Later timing=after:99d
        /cop checkins add Later timing=after:2d open=forever
        /cop checkins add Later timing=schedule:"whenever we like"
        /cop checkins question 1 add Pick one kind=choice options=a
        /cop checkins question 1 add Anything? options=a,b kind=text
        /cop checkins question 1 add What did I notice in my practice since we met?
        /cop checkins question 1 add A fourth one
        /cop checkins question 1 add A fifth one
        /cop checkins question 1 remove 9
        /cop checkins question 1 remove 4
        /cop checkins question 1 add {long}
        :as cara
        /cop checkins default
        /cop checkins add Mine timing=after:1d
        /cop checkins stop 1
        /cop checkins status
        """.replace("{long}", "Why " * 26),
        db=db,
    )
    refusals = [line for line in lines if line.startswith("[private")][1:]
    assert refusals == [
        "[private @ben] The individual-reflection check-in is already on (check-in 1).",
        "[private @ben] There is no check-in 7; /cop checkins list shows them with their numbers.",
        "[private @ben] There is no check-in 7; /cop checkins list shows them with their numbers.",
        "[private @ben] There is no check-in 9; /cop checkins list shows them with their numbers.",
        "[private @ben] I couldn't read timing=sometimes: use after:2d (days after each meeting), "
        'before:5d (days before each meeting) or schedule:"every Monday at 17:00".',
        "[private @ben] The number of days must be between 0 and 60, such as after:2d.",
        "[private @ben] I couldn't read open=forever: give how long it stays open, such as 5d, "
        "36h or 1w.",
        refusals[7],  # the schedule grammar's own sentence
        '[private @ben] A choice needs between 2 and 10 options separated by commas, such as options="yes,not yet,no".',  # noqa: E501
        "[private @ben] Only kind=choice takes options=.",
        "[private @ben] The check-in already asks that question.",
        refusals[11],  # the fourth question is added
        "[private @ben] A check-in can ask at most 4 questions; remove one first.",
        "[private @ben] There is no question 9 in that check-in; /cop checkins list shows their numbers.",  # noqa: E501
        refusals[14],  # question 4 removed
        "[private @ben] A question can be at most 100 characters.",
        "[private @cara] Only a facilitator of Finger Lakes CoP can do that.",
        "[private @cara] Only a facilitator of Finger Lakes CoP can do that.",
        "[private @cara] Only a facilitator of Finger Lakes CoP can do that.",
        "[private @cara] Only a facilitator of Finger Lakes CoP can do that.",
    ]
    assert refusals[11].startswith("[private @ben] Question 4 is added to check-in 1")
    assert refusals[14].startswith("[private @ben] Question 4 is removed from check-in 1")
    assert "\n" not in refusals[7] and refusals[7].startswith("[private @ben] ")
    async with db.session() as session:
        checkins = list((await session.execute(select(Checkin))).scalars())
    assert [(c.number, c.status) for c in checkins] == [(1, "active")]


# -- a button or form of one community, used from another -------------------------------------

T = Translator()


class TwoCommunities:
    """Alpha (#CA: amy facilitates, max answers) and Beta (#CB: bob facilitates, zed)."""

    def __init__(self, db: Database, clock: FakeClock) -> None:
        self.fake = RecordingAdapter()
        self.app = App(db, clock, [self.fake], manual=True)
        self.db = db

    async def handle(self, event: CommandInvoked | ActionClicked | FormSubmitted) -> Reply:
        reply = await self.app.dispatcher.handle(event)
        await self.app.worker.drain()
        return reply

    def actor(self, user: str, admin: bool = False) -> Actor:
        return Actor(UserRef("fake", "W1", user), user, admin)

    def where(self, user: str, channel: str) -> Place:
        if channel == "dm":
            return Place(ConversationRef("fake", "W1", f"D-{user}"), "", is_dm=True)
        return Place(ConversationRef("fake", "W1", channel), channel)

    async def cmd(self, user: str, line: str, channel: str, *, admin: bool = False) -> str:
        command, params = self.app.registry.parse(line, T)
        reply = await self.handle(
            CommandInvoked(self.actor(user, admin), self.where(user, channel), command.path, params)
        )
        assert isinstance(reply, Respond), reply
        return reply.message.text

    async def submit(self, user: str, round_id: int, values: dict[str, str]) -> Reply:
        return await self.handle(
            FormSubmitted(
                self.actor(user),
                self.where(user, "dm"),
                "reflections.answer",
                values,
                str(round_id),
            )
        )

    async def press(self, user: str, round_id: int) -> Reply:
        return await self.handle(
            ActionClicked(
                self.actor(user), self.where(user, "dm"), ActionId("reflect", "answer", round_id)
            )
        )


async def test_a_form_or_button_from_another_community_is_refused(db: Database) -> None:
    clock = FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("UTC")))
    w = TwoCommunities(db, clock)
    await w.cmd("root", "setup Alpha UTC", "CA", admin=True)
    await w.cmd("root", "facilitator add @amy", "CA", admin=True)
    await w.cmd("max", "join", "CA")
    await w.cmd("root", "setup Beta UTC", "CB", admin=True)
    await w.cmd("zed", "join", "CB")
    await w.cmd("amy", 'checkins add Weekly timing=schedule:"every Monday at 10:00" open=1d', "CA")
    await w.cmd("amy", "checkins question 1 add How did today go?", "CA")
    await w.app.advance_to(datetime(2026, 11, 2, 10, 1, tzinfo=ZoneInfo("UTC")))
    async with db.session() as session:
        rounds = list(
            (await session.execute(select(CheckinRound).order_by(CheckinRound.number))).scalars()
        )
    # The first is open; the schedule's next occurrence waits as round 2.
    assert [(r.number, r.status) for r in rounds] == [
        (1, RoundStatus.OPEN),
        (2, RoundStatus.SCHEDULED),
    ]
    rnd = rounds[0]
    # zed (Beta only) presses Alpha's button and submits Alpha's form: refused, nothing stored.
    pressed = await w.press("zed", rnd.id)
    assert isinstance(pressed, Respond)
    assert pressed.message.text == (
        "That button is for members of Alpha; join it with /cop join in its channel first."
    )
    submitted = await w.submit("zed", rnd.id, {"q1": "Not mine to say", "p1": "named"})
    assert isinstance(submitted, Respond)
    assert submitted.message.text == (
        "That form is for members of Alpha; join it with /cop join in its channel first."
    )
    # A form naming a round that does not exist is an expired form.
    gone = await w.submit("max", 999_999, {"q1": "Hello"})
    assert isinstance(gone, Respond)
    assert gone.message.text == "That form has expired; please open it again."
    # max may answer; an answer of only spaces is refused and stores nothing.
    opened = await w.press("max", rnd.id)
    assert isinstance(opened, OpenForm)
    blank = await w.submit("max", rnd.id, {"q1": "   \u200b ", "p1": "private"})
    assert getattr(blank, "errors", None) == {"q1": "Write at least one answer."}
    huge = await w.submit("max", rnd.id, {"q1": "x" * 2001, "p1": "private"})
    assert getattr(huge, "errors", None) == {
        "q1": '"How did today go?" is too long; keep it to 2000 characters.'
    }
    async with db.session() as session:
        assert list((await session.execute(select(CheckinAnswer))).scalars()) == []
    ok = await w.submit("max", rnd.id, {"q1": "Calm\x07 day\x1b[31m", "p1": "private"})
    assert isinstance(ok, Respond) and ok.private
    async with db.session() as session:
        answer = (await session.execute(select(CheckinAnswer))).scalar_one()
    assert w.app.services.sealer.open(answer.sealed, f"reflection:{answer.id}:0") == "Calm day"
    # After the close, a form opened before is refused in one sentence.
    await w.app.advance_to(datetime(2026, 11, 3, 10, 2, tzinfo=ZoneInfo("UTC")))
    late = await w.submit("max", rnd.id, {"q1": "Changed", "p1": "private"})
    assert isinstance(late, Respond)
    assert late.message.text == "That check-in is closed; answers can no longer be changed."
    # Nothing of max's private answer was sent anywhere.
    assert not any("Calm day" in s.message.text for s in w.fake.sent)


async def test_an_answer_taken_back_is_withdrawn_from_the_thread_and_an_emptied_one_deleted(
    db: Database,
) -> None:
    lines = await transcript(
        SETUP
        + """
        /cop checkins add Friday pulse timing=schedule:"every Friday at 15:00" open=1d
        /cop checkins question 1 add What went well?
        /cop checkins question 1 add What was hard?
        :at 2026-11-06T15:01
        :as cara
        :in dm
        :press Answer
        :submit q1="Circle time" q2="Pick-up" privacy=named
        :press Answer
        :submit q1="Circle time" q2="Pick-up" privacy=anonymous
        :press Answer
        :submit q1="Circle time" privacy=private
        """,
        db=db,
        clock=ny(2026, 11, 2, 9, 0),
        zone=NY,
    )
    shared = [line for line in lines if line.startswith("  ↳ [#cop] cara —")]
    assert shared == ["  ↳ [#cop] cara — What went well?", "  ↳ [#cop] cara — What was hard?"]
    withdrawn = [line for line in lines if "(This answer was withdrawn by its author.)" in line]
    assert len(withdrawn) == 2 and all("updated)" in line for line in withdrawn)
    saved = block(lines, "[private @cara] Saved your answers", last=True)
    assert saved[1:3] == [
        "  What went well? — only you",
        "  (You can change them by pressing Answer again until Sat 7 Nov 2026, 15:00 EST)",
    ]  # noqa: E501
    async with db.session() as session:
        answers = list((await session.execute(select(CheckinAnswer))).scalars())
    assert [(a.question, a.privacy, a.shared_at) for a in answers] == [(0, "private", None)]
    # Anonymous for a while, then private: nothing anonymous was ever posted.
    assert not any("Shared anonymously" in line for line in lines)
