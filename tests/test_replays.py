"""A request handled once is remembered in the database with its effect: copies do nothing.

Through the real App and Dispatcher on SQLite and PostgreSQL, with a command whose every run
leaves a new job row (so a second effect would show). Copies answer Ack; an attempt that
rolled back leaves no mark; marks expire with the sweep job; copies racing each other, or
the first attempt still in its transaction, have one effect between them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import func, select

from bot import replays
from bot.app import App
from bot.commands import Command, Role
from bot.context import Context, UserError
from bot.events import (
    Ack,
    Actor,
    CommandInvoked,
    ConversationRef,
    Place,
    Reply,
    Respond,
    UserRef,
)
from bot.features import build_registry
from bot.ui import Message
from storage.db import Database
from storage.models import SeenRequest
from tests.support import RecordingAdapter, job_ids

ANA = Actor(UserRef("fake", "W1", "U1"), "ana")
HERE = Place(ConversationRef("fake", "W1", "C1"), "general")

Handler = Callable[[Context], Awaitable[Reply]]


async def leave_a_mark(ctx: Context) -> None:
    """The command's effect: one new job row per run (far in the future, never run)."""
    await ctx.schedule.at(f"note:{uuid.uuid4().hex}", ctx.now + timedelta(days=365), "test.none")


def app_with(db: Database, clock, handler: Handler) -> App:
    registry = build_registry()
    registry.command(
        Command(("note",), "core.help", handler, role=Role.ANYONE, needs_community=False)
    )
    return App(db, clock, [RecordingAdapter()], manual=True, registry=registry)


def note(delivery: str | None) -> CommandInvoked:
    return CommandInvoked(ANA, HERE, ("note",), {}, delivery=delivery)


async def effects(db: Database) -> int:
    return len([j for j in await job_ids(db) if j.startswith("note:")])


async def marks(db: Database) -> set[str]:
    async with db.session() as s:
        return set((await s.execute(select(SeenRequest.key))).scalars())


async def noted(ctx: Context) -> Reply:
    await leave_a_mark(ctx)
    return Respond(Message(text="Noted."))


async def test_a_copy_of_a_handled_request_has_no_second_effect(db, clock):
    app = app_with(db, clock, noted)
    await app.start()
    try:
        first = await app.dispatcher.handle(note("fake:command:T1"))
        copy = await app.dispatcher.handle(note("fake:command:T1"))
        other = await app.dispatcher.handle(note("fake:command:T2"))
        unnamed = [await app.dispatcher.handle(note(None)) for _ in range(2)]
    finally:
        await app.stop()
    assert first == Respond(Message(text="Noted."))
    assert copy == Ack()
    assert other == first and unnamed == [first, first]
    assert await effects(db) == 4  # T1 once, T2 once, and both requests without a name
    assert await marks(db) == {"fake:command:T1", "fake:command:T2"}


async def test_an_attempt_that_rolled_back_leaves_no_mark_so_the_retry_runs(db, clock):
    outcomes = ["crash", "refuse", "ok"]

    async def flaky(ctx: Context) -> Reply:
        await leave_a_mark(ctx)
        outcome = outcomes.pop(0)
        if outcome == "crash":
            raise RuntimeError("the handler broke after writing")
        if outcome == "refuse":
            raise UserError("Not now.")
        return Respond(Message(text="Noted."))

    app = app_with(db, clock, flaky)
    await app.start()
    try:
        replies = [await app.dispatcher.handle(note("fake:command:T1")) for _ in range(4)]
    finally:
        await app.stop()
    crashed, refused, ran, copy = replies
    assert isinstance(crashed, Respond) and "went wrong" in crashed.message.text.lower()
    assert refused == Respond(Message(text="Not now."))
    assert ran == Respond(Message(text="Noted."))
    assert copy == Ack()
    assert await effects(db) == 1
    assert await marks(db) == {"fake:command:T1"}


async def test_marks_are_forgotten_by_the_sweep_job_after_the_window(db, clock):
    app = app_with(db, clock, noted)
    await app.start()
    try:
        await app.dispatcher.handle(note("fake:command:T1"))
        assert replays.SWEEP_JOB in await job_ids(db)

        await app.advance(replays.WINDOW - timedelta(minutes=1))
        assert await marks(db) == {"fake:command:T1"}, "still inside the window"
        assert await app.dispatcher.handle(note("fake:command:T1")) == Ack()

        await app.advance(replays.SWEEP_EVERY + timedelta(minutes=2))
        assert await marks(db) == set()
        assert replays.SWEEP_JOB in await job_ids(db), "the sweep comes back by itself"
    finally:
        await app.stop()
    assert await effects(db) == 1


async def test_copies_arriving_together_have_one_effect(db, clock):
    app = app_with(db, clock, noted)
    await app.start()
    try:
        replies = await asyncio.gather(
            *(app.dispatcher.handle(note("fake:command:T1")) for _ in range(10))
        )
    finally:
        await app.stop()
    assert sorted(type(r).__name__ for r in replies) == ["Ack"] * 9 + ["Respond"]
    assert await effects(db) == 1


async def _waiting_on_a_lock(url: str, timeout: float = 5.0) -> None:
    """Until some transaction of this database waits for a row lock (the copy's insert)."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        async with asyncio.timeout(timeout):
            while True:
                row = await (
                    await conn.execute(
                        "select count(*) from pg_stat_activity"
                        " where datname = current_database() and wait_event_type = 'Lock'"
                    )
                ).fetchone()
                if row and row[0] >= 1:
                    return
                await asyncio.sleep(0.01)


@pytest.mark.parametrize("first_attempt", ["commits", "rolls back"])
async def test_a_copy_waits_for_the_first_attempt_then_does_only_what_it_left_undone(
    db_url, clock, first_attempt
):
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite runs one transaction at a time: copies cannot overlap")
    db = Database(db_url)
    await db.upgrade()
    inside, release = asyncio.Event(), asyncio.Event()
    runs: list[str] = []

    async def slow(ctx: Context) -> Reply:
        await leave_a_mark(ctx)
        runs.append("run")
        if len(runs) == 1:
            inside.set()
            await release.wait()
            if first_attempt == "rolls back":
                raise RuntimeError("the first attempt broke")
        return Respond(Message(text="Noted."))

    app = app_with(db, clock, slow)
    await app.start()
    try:
        first = asyncio.create_task(app.dispatcher.handle(note("fake:command:T1")))
        await asyncio.wait_for(inside.wait(), 5)
        copy = asyncio.create_task(app.dispatcher.handle(note("fake:command:T1")))
        await _waiting_on_a_lock(db_url)
        assert not copy.done()
        release.set()
        first_reply, copy_reply = await asyncio.wait_for(asyncio.gather(first, copy), 10)
        assert await effects(db) == 1
        assert await marks(db) == {"fake:command:T1"}
    finally:
        await app.stop()
        await db.dispose()
    if first_attempt == "commits":
        assert first_reply == Respond(Message(text="Noted.")) and copy_reply == Ack()
        assert runs == ["run"]
    else:
        assert copy_reply == Respond(Message(text="Noted.")), "the copy did what was undone"
        assert runs == ["run", "run"]


async def test_a_mark_names_no_click(db, clock):
    """A click's key is a digest: who pressed which ballot choice is not written down."""
    key = replays.delivery_key("slack:action", "T1", "U1", "vote:cast:3:1", "1700000000.123")
    assert key.startswith("slack:action:") and "vote" not in key and "U1" not in key
    assert key == replays.delivery_key(
        "slack:action", "T1", "U1", "vote:cast:3:1", "1700000000.123"
    )
    assert key != replays.delivery_key(
        "slack:action", "T1", "U1", "vote:cast:3:2", "1700000000.123"
    )
    assert replays.kind_of(key) == "slack:action"
    async with db.session() as s:
        assert await replays.first_time(s, key, clock.now())
    async with db.session() as s:
        assert not await replays.first_time(s, key, clock.now())
    async with db.session() as s:
        count = (await s.execute(select(func.count()).select_from(SeenRequest))).scalar_one()
    assert count == 1
