"""Voting integrity on SQLite and PostgreSQL: one ballot per member, refusals, closing once,
reminders only to non-voters, anonymity in exports, jobs that survive a restart."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from bot.app import App
from bot.context import background
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
from bot.features.voting.close import close_job, remind_job
from bot.features.voting.polls import EDIT_DELAY
from bot.i18n import Translator
from bot.ports import Capabilities
from bot.ui import ActionId, File
from storage.db import Database
from storage.models import Community, Job, Member
from storage.models import OutboxMessage as Row
from storage.voting import Ballot, Poll, PollOption
from tests.support import RecordingAdapter, job_ids

T = Translator()


class Bot:
    """An App on a fake platform, driven by events as an adapter would hand them in."""

    def __init__(self, db, clock) -> None:  # type: ignore[no-untyped-def]
        self.fake = RecordingAdapter()
        self.app = App(db, clock, [self.fake], manual=True)
        self.db = db

    async def start(self) -> Bot:
        await self.app.start()
        return self

    def actor(self, user: str, admin: bool = False, workspace: str = "W1") -> Actor:
        return Actor(UserRef("fake", workspace, user), user, admin)

    def place(self, channel: str = "C1", workspace: str = "W1") -> Place:
        return Place(ConversationRef("fake", workspace, channel), channel)

    async def handle(self, event) -> Reply:  # type: ignore[no-untyped-def]
        reply = await self.app.dispatcher.handle(event)
        await self.app.worker.drain()
        return reply

    async def cmd(self, user: str, text: str, *, admin: bool = False, channel: str = "C1") -> str:
        command, params = self.app.registry.parse(text, T)
        event = CommandInvoked(self.actor(user, admin), self.place(channel), command.path, params)
        return _text(await self.handle(event))

    async def press(
        self, user: str, action: str, *, channel: str = "C1", workspace: str = "W1"
    ) -> Reply:
        event = ActionClicked(
            self.actor(user, workspace=workspace),
            self.place(channel, workspace),
            ActionId.parse(action),
        )
        return await self.handle(event)

    async def submit(self, user: str, form: str, metadata: str, **values: str) -> str:
        event = FormSubmitted(self.actor(user), self.place(), form, values, metadata)
        return _text(await self.handle(event))

    async def advance(self, delta: timedelta) -> None:
        await self.app.advance(delta)

    async def setup(self) -> None:
        await self.cmd("ana", 'setup "Finger Lakes CoP" America/New_York', admin=True)
        await self.cmd("ana", "facilitator add @ben", admin=True)
        for name in ("cara", "dan"):
            await self.cmd(name, "join")

    def sent(self, kind: str, start: str = "") -> list[str]:
        return [
            s.message.text
            for s in self.fake.sent
            if s.kind == kind and s.message.text.startswith(start)
        ]

    async def count(self, model, *where) -> int:  # type: ignore[no-untyped-def]
        async with self.db.session() as s:
            return (
                await s.execute(select(func.count()).select_from(model).where(*where))
            ).scalar_one()


def _text(reply: Reply) -> str:
    assert isinstance(reply, Respond), reply
    return reply.message.text


@pytest.fixture
async def bot(db, clock):  # type: ignore[no-untyped-def]
    b = await Bot(db, clock).start()
    await b.setup()
    yield b
    await b.app.stop()


async def test_double_click_and_retried_delivery_change_nothing(bot: Bot) -> None:
    await bot.cmd("ben", 'poll new "Snack?" options="Apples | Pears"')
    first = await bot.press("cara", "vote:cast:1:1")
    again = await bot.press("cara", "vote:cast:1:1")
    assert _text(first).startswith("Your vote is saved: Apples.")
    assert _text(again) == "Your vote is already Apples; nothing changed."
    assert await bot.count(Ballot) == 1
    # One pending refresh of the poll message, however many clicks; it queues one edit.
    assert await bot.count(Job, Job.id == "poll-refresh:1") == 1
    assert await bot.count(Row, Row.key == "poll:1:message:edit") == 0
    await bot.app.advance(EDIT_DELAY)
    assert await bot.count(Job, Job.id == "poll-refresh:1") == 0
    assert await bot.count(Row, Row.key == "poll:1:message:edit") == 1


async def test_simultaneous_clicks_store_one_ballot(bot: Bot, db_url: str) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    await bot.cmd("ben", 'poll new "Snack?" options="Apples | Pears"')
    replies = await asyncio.gather(*(bot.press("cara", "vote:cast:1:2") for _ in range(4)))
    texts = sorted(_text(r) for r in replies)
    assert sum(t.startswith("Your vote is saved: Pears.") for t in texts) == 1
    assert await bot.count(Ballot) == 1


async def test_the_database_refuses_a_second_ballot(bot: Bot) -> None:
    await bot.cmd("ben", 'poll new "Snack?" options="Apples | Pears"')
    async with bot.db.session() as s:
        member = (await s.execute(select(Member).where(Member.user_id == "cara"))).scalar_one()
    with pytest.raises(IntegrityError):
        async with bot.db.session() as s:
            for _ in range(2):
                s.add(Ballot(poll_id=1, community_id=1, member_id=member.id, choices="{}"))
                await s.flush()


async def test_refusals_are_one_sentence(bot: Bot) -> None:
    await bot.cmd("ben", 'poll new "Snack?" options="Apples | Pears"')
    await bot.cmd("ben", 'poll new "Day?" options="Mon | Tue"')
    # An option of another poll.
    assert (
        _text(await bot.press("cara", "vote:cast:1:3"))
        == "That option does not belong to this poll."
    )
    # Someone from another workspace pressing a copied button.
    other = await bot.press("zed", "vote:cast:1:1", workspace="W2")
    assert _text(other) == "That button belongs to a community you are not part of."
    # A member of another community in the same workspace, pressing from their channel.
    await bot.cmd("ana", "setup Other UTC", admin=True, channel="C2")
    await bot.cmd("yan", "join", channel="C2")
    outsider = await bot.press("yan", "vote:cast:1:1", channel="C2")
    assert _text(outsider) == (
        "That button belongs to Finger Lakes CoP; please use it in that community's channel."
    )
    # A poll that does not exist (any more).
    assert _text(await bot.press("cara", "vote:cast:99:1")) == (
        "That button no longer works; please use the latest message."
    )
    # A closed poll.
    await bot.cmd("ben", "poll close 1")
    assert _text(await bot.press("cara", "vote:cast:1:1")) == 'Voting on "Snack?" has closed.'
    # Forms too.
    await bot.cmd("ben", 'poll new "Rank" method=ranked options="A | B | C"')
    form = await bot.press("cara", "vote:form:3")
    assert isinstance(form, OpenForm) and form.form.metadata == "3"
    assert await bot.submit("cara", "vote.ranked", "3", ballot="2 1") == (
        "Your vote is saved: 1st B, 2nd A. You can change it until the poll closes."
    )
    assert await bot.submit("cara", "vote.dots", "3", ballot="1") == (
        "That form has expired; please open it again."
    )
    assert await bot.count(Ballot) == 1


async def test_deadline_close_posts_the_result_once_and_again_after_reopen(bot: Bot) -> None:
    await bot.cmd("ben", 'poll new "Snack?" options="Apples | Pears" closes="in 1 day" quorum=2')
    await bot.press("cara", "vote:cast:1:1")
    await bot.press("dan", "vote:cast:1:1")
    await bot.advance(timedelta(days=1))
    async with background(bot.app.services) as ctx:  # a job that fires twice
        await close_job(ctx, 1)
    await bot.app.worker.drain()
    results = bot.sent("send", "Result of vote #1")
    assert len(results) == 1
    assert "Winner: Apples." in results[0]
    assert "Turnout: 2 of 4 members known to circlebot voted. Quorum of 2 reached." in results[0]
    [result] = [s.message for s in bot.fake.sent if s.message.text.startswith("Result of vote #1")]
    [chart] = [b for b in result.blocks if isinstance(b, File)]
    assert chart.mime == "image/png" and chart.content.startswith(b"\x89PNG\r\n\x1a\n")
    # Reopen, vote, close by hand: one more result, and closing twice adds nothing.
    assert (await bot.cmd("ben", "poll reopen 1")).startswith("Poll #1 is open again")
    await bot.press("cara", "vote:cast:1:2")
    await bot.cmd("ben", "poll close 1")
    assert await bot.cmd("ben", "poll close 1") == "Poll #1 is already closed."
    async with background(bot.app.services) as ctx:
        await close_job(ctx, 1)
    await bot.app.worker.drain()
    results = bot.sent("send", "Result of vote #1")
    assert len(results) == 2
    assert "1 of 2 members" not in results[1] and "Apples" in results[1]
    assert await job_ids(bot.app.db) == set()


async def test_reminder_goes_privately_to_non_voters_once(bot: Bot) -> None:
    await bot.cmd(
        "ben", 'poll new "Snack?" options="Apples | Pears" closes="in 2 days" remind="1 day before"'
    )
    await bot.press("cara", "vote:cast:1:1")
    before = len(bot.fake.sent)
    await bot.advance(timedelta(days=1, hours=1))
    dms = [s for s in bot.fake.sent[before:] if s.kind == "dm"]
    assert sorted(s.target for s in dms) == ["ana", "ben", "dan"]  # not cara, who voted
    assert all(s.message.text.startswith("A reminder from Finger Lakes CoP") for s in dms)
    assert [s for s in bot.fake.sent[before:] if s.kind == "send"] == []  # nothing public
    async with background(bot.app.services) as ctx:  # fired again: nothing more
        await remind_job(ctx, 1)
    await bot.app.worker.drain()
    # The reminder's own buttons vote, from the DM.
    [dan] = [s for s in dms if s.target == "dan"]
    dm = Place(ConversationRef("fake", "W1", "D-dan"), "D-dan", is_dm=True)
    reply = await bot.handle(
        ActionClicked(bot.actor("dan"), dm, ActionId.parse(dan.message.buttons()[1].action))
    )
    assert _text(reply).startswith("Your vote is saved: Pears.")
    await bot.advance(timedelta(days=2))
    assert len([s for s in bot.fake.sent[before:] if s.kind == "dm"]) == 3


async def test_hidden_results_stay_hidden_until_close(bot: Bot) -> None:
    await bot.cmd("ben", 'poll new "Snack?" options="Apples | Pears" results=hidden')
    await bot.press("cara", "vote:cast:1:1")
    await bot.advance(timedelta(seconds=5))
    await bot.app.worker.drain()
    edits = [s.message.text for s in bot.fake.sent if s.kind == "edit"]
    assert edits and all("█" not in e and "(100%)" not in e for e in edits)
    assert "1 of 4 members known to circlebot voted" in edits[-1]
    assert await bot.cmd("cara", "poll results") == (
        "The results of this poll are hidden until it closes."
    )
    assert await bot.cmd("ben", "poll export") == (
        "The results of this poll are hidden until it closes."
    )
    await bot.cmd("ben", "poll close")
    assert "Apples  ██████████ 1 (100%)" in await bot.cmd("cara", "poll results")


async def _export(bot: Bot, poll: int) -> dict[str, list[list[str]]]:
    """The CSV files of `/cop poll export`, which reach the facilitator by DM."""
    before = len(bot.fake.sent)
    await bot.cmd("ben", f"poll export {poll}")
    [dm] = [s for s in bot.fake.sent[before:] if s.kind == "dm" and s.target == "ben"]
    files = [b for b in dm.message.blocks if isinstance(b, File)]
    assert files and all(f.mime == "text/csv" for f in files)
    return {f.filename: list(csv.reader(io.StringIO(f.content.decode("utf-8-sig")))) for f in files}


async def test_exports_show_ballots_only_when_not_anonymous(bot: Bot) -> None:
    await bot.cmd("ben", 'poll new "Open?" options="Apples | Pears"')
    await bot.cmd("ben", 'poll new "Secret?" options="Apples | Pears" anonymous=yes')
    for poll, (cara, dan) in ((1, (1, 2)), (2, (3, 4))):
        await bot.press("cara", f"vote:cast:{poll}:{cara}")
        await bot.press("dan", f"vote:cast:{poll}:{dan}")
    await bot.cmd("ben", "poll close 2")
    shown = await _export(bot, 1)
    assert shown["poll-1-ballots.csv"] == [
        ["voter", "number", "option", "vote"],
        ["cara", "1", "Apples", "1"],
        ["dan", "2", "Pears", "1"],
    ]
    secret = await _export(bot, 2)
    assert secret == {
        "poll-2-totals.csv": [
            ["number", "option", "votes", "winner"],
            ["1", "Apples", "1", "yes"],
            ["2", "Pears", "1", ""],
        ]
    }
    # The result names who voted (never what they chose) for anonymous polls too.
    results = await bot.cmd("cara", "poll results 2")
    assert "Voted: cara, dan." in results


async def test_winner_becomes_next_topic_and_meetings_hear_of_it(bot: Bot) -> None:
    heard: list[tuple[int, str]] = []

    async def on_chosen(ctx, chosen) -> None:  # type: ignore[no-untyped-def]
        heard.append((chosen.community_id, chosen.title))
        # The hook runs inside the emitter's transaction and sees its change.
        community = await ctx.session.get(Community, chosen.community_id)
        assert community.next_topic == chosen.title

    bot.app.registry.hooks.setdefault("topic.chosen", []).append(on_chosen)
    await bot.cmd("ben", 'poll new "Topic?" options="Outdoor play | Routines"')
    await bot.press("cara", "vote:cast:1:2")
    await bot.cmd("ben", "poll close")
    assert _text(await bot.press("cara", "vote:agenda:1")) == (
        "Only a facilitator of Finger Lakes CoP can do that."
    )
    reply = await bot.press("ben", "vote:agenda:1")
    assert _text(reply) == "Next topic for Finger Lakes CoP: Routines."
    assert heard == [(1, "Routines")]
    assert await bot.cmd("ben", "poll agenda") == '"Routines" is already the next topic.'


async def test_open_polls_get_their_jobs_back_at_start(db, clock) -> None:  # type: ignore[no-untyped-def]
    bot = await Bot(db, clock).start()
    await bot.setup()
    await bot.cmd("ben", 'poll new "Snack?" options="A | B" closes="in 3 days" remind="1d"')
    await bot.cmd("ben", 'poll new "Now?" options="A | B"')
    assert await job_ids(bot.app.db) == {"poll-close:1", "poll-remind:1"}
    async with background(bot.app.services) as ctx:
        for job in ("poll-close:1", "poll-remind:1"):
            await ctx.schedule.cancel(job)  # e.g. upgraded from the old job store
    await bot.app.stop()

    again = await Bot(db, clock).start()
    assert await job_ids(again.app.db) == {"poll-close:1", "poll-remind:1"}
    await again.advance(timedelta(days=3))
    assert len(again.sent("send", "Result of vote #1")) == 1
    await again.app.stop()


async def test_counting_is_a_function_of_the_stored_ballots(bot: Bot) -> None:
    await bot.cmd("ben", 'poll new "Rank" method=ranked options="A | B | C"')
    for user, ranking in (("cara", "1 3"), ("dan", "2 1"), ("ana", "3 2"), ("ben", "3 1")):
        await bot.press(user, "vote:form:1")
        await bot.submit(user, "vote.ranked", "1", ballot=ranking)
    first = await bot.cmd("ben", "poll results")
    async with bot.db.session() as s:  # same ballots, stored in another order
        rows = list((await s.execute(select(Ballot).order_by(Ballot.id.desc()))).scalars())
        kept = [(r.member_id, r.choices) for r in rows]
        for r in rows:
            await s.delete(r)
        await s.flush()
        for member_id, choices in kept:
            s.add(Ballot(poll_id=1, community_id=1, member_id=member_id, choices=choices))
    assert await bot.cmd("ben", "poll results") == first
    assert "Winner: C with 2 of 4 votes." in first  # tie broken by earlier rounds
    async with bot.db.session() as s:
        assert (await s.get(Poll, 1)).status == "open"  # type: ignore[union-attr]
        assert len(list((await s.execute(select(PollOption))).scalars())) == 3


async def test_leaving_and_rejoining_does_not_give_a_second_vote() -> None:
    from tests.support import transcript

    lines = await transcript(
        """
        :as ana admin
        :in #cop
        /cop setup Circle UTC
        /cop poll new Snack? options="Fruit | Cheese"
        :as cara
        :press Fruit
        /cop leave
        /cop join
        :press Cheese
        :as ana admin
        /cop poll close
        """
    )
    start = lines.index("ana> /cop poll close")
    # The rejoined member's press changed their one ballot instead of adding a second.
    assert lines[start + 3 : start + 7] == [
        "  Winner: Cheese.",
        "  1. Fruit   ░░░░░░░░░░ 0 (0%)",
        "  2. Cheese  ██████████ 1 (100%)",
        "  (Turnout: 1 of 2 channel members voted.)",
    ]


async def test_a_platform_with_fewer_buttons_gets_fewer_button_options(bot: Bot) -> None:
    # The feature asks the platform's Capabilities instead of assuming 25 buttons.
    bot.app.services.capabilities["fake"] = Capabilities(max_buttons=5)
    six = "A | B | C | D | E | F"
    refused = await bot.cmd("ben", f'poll new "Snack?" options="{six}"')
    assert refused == (
        "Here a poll voted by button can have at most 5 options, not 6; "
        "try method=ranked or method=score, which use a form."
    )
    assert await bot.count(Poll) == 0
    opened = await bot.cmd("ben", f'poll new "Snack?" options="{six}" method=ranked')
    assert opened == "Poll #1 is posted in the channel."
    five = await bot.cmd("ben", 'poll new "Fruit?" options="A | B | C | D | E"')
    assert five == "Poll #2 is posted in the channel."
    assert await bot.count(Poll) == 2


async def test_a_vote_reads_only_the_voters_own_ballot_however_many_the_poll_has(
    bot: Bot, db: Database
) -> None:
    """The voter's transaction writes their ballot and a pending refresh; counting every
    ballot to redraw the poll happens once per burst, in the refresh job, so a vote costs
    the same with 3 ballots or 300."""
    await bot.cmd("ben", 'poll new "Snack?" options="Apples | Pears"')
    for n in range(300):
        await bot.press(f"voter{n}", f"vote:cast:1:{1 + n % 2}")
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(" ".join(statement.lower().split()))

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        reply = await bot.press("cara", "vote:cast:1:1")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert _text(reply).startswith("Your vote is saved: Apples.")
    reading_ballots = [s for s in statements if s.startswith("select") and "from ballot" in s]
    assert reading_ballots, statements  # the voter's own ballot is looked up
    assert all("ballot.member_id =" in s for s in reading_ballots), reading_ballots
    # The redraw still happens, once, with every ballot counted.
    await bot.advance(EDIT_DELAY)
    edits = [s for s in bot.fake.sent if s.kind == "edit"]
    assert "1. Apples  █████░░░░░ 151 (50%)" in edits[-1].message.text
    assert "301 of 304 members known to circlebot voted" in edits[-1].message.text
