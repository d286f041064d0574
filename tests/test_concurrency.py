"""Many people pressing at the same moment, through the dispatcher, on SQLite and PostgreSQL.

Ballots on one poll and RSVPs across many meetings are handed to `App.dispatcher` all at
once (as the adapters hand in concurrent clicks); every person is new to circlebot, so their
member rows are created in the same rush. Every answer must be the success sentence, every
ballot and RSVP stored exactly once, and the tallies exact. 100 ballots and 500 RSVPs
across 50 meetings by default; 500 ballots and 2,500 RSVPs under `long`. (The Slack HTTP
path through a real process is `tests/slack/test_burst.py`.)
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.app import App
from bot.events import ActionClicked, Actor, CommandInvoked, Place, Reply, Respond, UserRef
from bot.events import ConversationRef as Conv
from bot.ports import FakeClock
from bot.ui import ActionId
from storage.db import Database
from storage.meetings import Meeting, MeetingRsvp
from storage.models import Member
from storage.voting import Ballot, PollOption
from tests.support import RecordingAdapter

CHANNEL = Place(Conv("fake", "W1", "C1"), "cop")
OPTIONS = ("Outdoor play", "Family engagement", "Transitions")
ANSWERS = ("going", "maybe", "no")
SCHEDULES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _actor(user: str) -> Actor:
    return Actor(UserRef("fake", "W1", user), user, is_admin=user == "ana")


async def _command(app: App, path: str, **params: str) -> str:
    event = CommandInvoked(_actor("ana"), CHANNEL, tuple(path.split()), params)
    reply = await app.dispatcher.handle(event)
    assert isinstance(reply, Respond), reply
    return reply.message.text


async def _all_at_once(app: App, presses: list[tuple[str, ActionId]]) -> tuple[list[str], float]:
    """Hand every press to the dispatcher at the same moment; their answers, and the time taken."""
    gate = asyncio.Event()

    async def press(user: str, action: ActionId) -> Reply:
        await gate.wait()
        return await app.dispatcher.handle(ActionClicked(_actor(user), CHANNEL, action))

    tasks = [asyncio.create_task(press(u, a)) for u, a in presses]
    await asyncio.sleep(0)
    started = time.perf_counter()
    gate.set()
    replies = await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    texts = []
    for reply in replies:
        assert isinstance(reply, Respond), reply
        texts.append(reply.message.text)
    return texts, elapsed


async def _app(url: str) -> tuple[App, Database, RecordingAdapter]:
    db = Database(url)
    adapter = RecordingAdapter()
    app = App(db, FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC)), [adapter], manual=True)
    await app.start()
    text = await _command(app, "setup", name="Rush CoP", timezone="UTC")
    assert "is set up in this channel" in text, text
    return app, db, adapter


async def _ballots(db_url: str, voters: int) -> None:
    app, db, adapter = await _app(db_url)
    try:
        text = await _command(
            app,
            "poll new",
            question="Which topic next?",
            options=" | ".join(OPTIONS),
            closes="in 2 days",
        )
        assert text == "Poll #1 is posted in the channel.", text
        async with db.session() as session:
            ids = {o.label: o.id for o in (await session.execute(select(PollOption))).scalars()}
        choice = {f"U0V{i:05d}": OPTIONS[i % 7 % len(OPTIONS)] for i in range(voters)}
        texts, elapsed = await _all_at_once(
            app, [(u, ActionId("vote", "cast", 1, ids[label])) for u, label in choice.items()]
        )
        results = await _command(app, "poll results")
        await app.worker.drain()
        async with db.session() as session:
            rows = (
                await session.execute(
                    select(Member.user_id, Ballot.choices).join(
                        Member, Member.id == Ballot.member_id
                    )
                )
            ).all()
            members = list((await session.execute(select(Member.user_id))).scalars())
    finally:
        await app.stop()
        await db.dispose()
    print(f"\n{voters} ballots at once on {db_url.split(':')[0]}: {elapsed:.2f} s")

    wanted = [
        f"Your vote is saved: {choice[u]}. You can change it until the poll closes." for u in choice
    ]
    assert texts == wanted
    assert Counter(u for u, _ in rows) == Counter(list(choice))  # one ballot each, nobody else's
    assert {u: c for u, c in rows} == {u: f'{{"{ids[label]}": 1}}' for u, label in choice.items()}
    assert Counter(members) == Counter([*choice, "ana"])  # each voter became one member
    assert f"Turnout: {voters} of {voters + 1} members known to circlebot voted." in results
    counted = {m[1]: int(m[2]) for m in re.finditer(r"^\d+\. (.+?) +[█░]+ (\d+) \(", results, re.M)}
    assert counted == Counter(choice.values()), results
    assert not [s for s in adapter.sent if "went wrong" in s.message.text.lower()]


async def _rsvps(db_url: str, people: int, per_person: int) -> None:
    """`people` newcomers each answer `per_person` of 50 meetings, all at the same moment."""
    app, db, adapter = await _app(db_url)
    try:
        for day in SCHEDULES:  # 7 weekly series x 3 upcoming meetings, and more below
            text = await _command(
                app,
                "meeting series",
                schedule=f"weekly on {day} at 18:30",
                title=f"{day} circle",
                duration="60",
            )
            assert text.startswith("Series ") and " created" in text, text
        for day in SCHEDULES:
            for hour in range(10, 14):
                await _command(
                    app,
                    "meeting series",
                    schedule=f"weekly on {day} at {hour}:00",
                    title=f"{day} {hour} circle",
                    duration="30",
                )
        async with db.session() as session:
            meetings = sorted((await session.execute(select(Meeting.id))).scalars())[:50]
        assert len(meetings) == 50
        presses, wanted = [], Counter[tuple[int, str]]()
        for p in range(people):
            for k in range(per_person):
                meeting = meetings[(p * per_person + k) % 50]
                answer = ANSWERS[(p + k) % 3]
                presses.append((f"U0R{p:05d}", ActionId("rsvp", answer, meeting)))
                wanted[meeting, answer] += 1
        texts, elapsed = await _all_at_once(app, presses)
        await app.worker.drain()
        async with db.session() as session:
            rows = (
                await session.execute(
                    select(Member.user_id, MeetingRsvp.meeting_id, MeetingRsvp.answer).join(
                        Member, Member.id == MeetingRsvp.member_id
                    )
                )
            ).all()
            members = list((await session.execute(select(Member.user_id))).scalars())
    finally:
        await app.stop()
        await db.dispose()
    print(f"\n{len(presses)} RSVPs at once on {db_url.split(':')[0]}: {elapsed:.2f} s")

    bad = [t for t in texts if not t.startswith("Your answer for ")]
    assert not bad, bad[:3]
    assert len(rows) == len(presses)
    assert Counter((u, m) for u, m, _ in rows) == Counter(
        (u, a.int_arg(0)) for u, a in presses
    )  # one RSVP per person and meeting
    assert Counter((m, a) for _, m, a in rows) == wanted  # exact tallies per meeting and answer
    assert Counter(members) == Counter([*{u for u, _ in presses}, "ana"])
    assert not [s for s in adapter.sent if "went wrong" in s.message.text.lower()]


async def test_a_hundred_ballots_at_once_on_one_poll(db_url: str) -> None:
    await _ballots(db_url, 100)


async def test_five_hundred_rsvps_at_once_across_fifty_meetings(db_url: str) -> None:
    await _rsvps(db_url, people=100, per_person=5)


@pytest.mark.long
async def test_five_hundred_ballots_at_once_on_one_poll(db_url: str) -> None:
    await _ballots(db_url, 500)


@pytest.mark.long
async def test_2500_rsvps_at_once_across_fifty_meetings(db_url: str) -> None:
    await _rsvps(db_url, people=250, per_person=10)
