"""Several instances on one database: outbox rows and due jobs claimed concurrently go out
once each, and what must run once (`bot.once`) runs on one instance — SQLite and PostgreSQL.

On PostgreSQL each "instance" has its own `Database` (its own engine and connection pool),
as two processes would; on SQLite (one process) two workers share one.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy.engine import make_url

from bot.app import App
from bot.context import Services
from bot.events import ConversationRef, MessageRef
from bot.jobs import Claimed, JobRunner, complete
from bot.once import COMMAND_SYNC, RECONCILE, once
from bot.outbox import DeliveryWorker, Outbox
from bot.ports import FakeClock
from bot.ui import Message
from storage.db import Database
from tests.support import RecordingAdapter, schedule_job

ROWS = 90


class SlowPlatform(RecordingAdapter):
    """Takes a moment per post, so two workers' batches overlap in time."""

    async def send(self, to: ConversationRef, msg: Message) -> MessageRef:
        await asyncio.sleep(0.002)
        return await super().send(to, msg)


async def _instances(db_url: str) -> list[Database]:
    """Two instances' databases: on PostgreSQL two engines, as two processes would have; a
    SQLite file is served by one process (README, Deployment), so its two share one."""
    if make_url(db_url).get_backend_name() == "postgresql":
        return [Database(db_url), Database(db_url)]
    shared = Database(db_url)
    return [shared, shared]


async def test_two_delivery_workers_send_each_outbox_row_once(db_url) -> None:
    first_db, second_db = await _instances(db_url)
    await first_db.upgrade()
    clock = FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    outbox = Outbox(clock)
    async with first_db.session() as session:
        for n in range(ROWS):
            channel = ConversationRef("fake", "W1", f"C{n}")
            await outbox.enqueue(session, key=f"k:{n}", to=channel, message=Message(text=f"{n}"))
    platforms = [SlowPlatform(), SlowPlatform()]
    workers = [
        DeliveryWorker(database, {"fake": platform}, clock, batch=7)
        for database, platform in zip((first_db, second_db), platforms, strict=True)
    ]
    await asyncio.gather(*(worker.drain(max_rounds=1000) for worker in workers))
    sent = Counter(s.message.text for platform in platforms for s in platform.sent)
    assert sent == Counter({str(n): 1 for n in range(ROWS)})
    if first_db.dialect == "postgresql":
        # Both took a share (a worker that never claimed would not prove the claims overlap).
        assert all(platform.sent for platform in platforms)
    for database in (first_db, second_db):
        await database.dispose()


async def test_two_job_runners_on_two_engines_run_each_job_once(db_url) -> None:
    first_db, second_db = await _instances(db_url)
    await first_db.upgrade()
    clock = FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    app = App(first_db, clock, [RecordingAdapter()], manual=True)
    for n in range(ROWS):
        await schedule_job(app, f"j:{n}", clock.now(), "test.any")
    ran: list[str] = []

    def execute_on(database: Database):  # type: ignore[no-untyped-def]
        async def execute(job: Claimed) -> None:
            async with database.session() as session:
                await asyncio.sleep(0.001)
                ran.append(job.id)
                await complete(session, job)

        return execute

    runners = [
        JobRunner(database, clock, execute_on(database), batch=5)
        for database in (first_db, second_db)
    ]
    counts = await asyncio.gather(*(runner.run_due() for runner in runners))
    assert Counter(ran) == Counter({f"j:{n}": 1 for n in range(ROWS)})
    assert sum(counts) == ROWS
    if first_db.dialect == "postgresql":
        assert all(counts)
    for database in (first_db, second_db):
        await database.dispose()


async def test_once_lets_one_instance_hold_a_task(db_url) -> None:
    first_db, second_db = await _instances(db_url)
    postgres = first_db.dialect == "postgresql"
    async with once(first_db, RECONCILE) as mine:
        assert mine
        async with once(second_db, RECONCILE) as theirs:
            # SQLite is one process: nothing to share, the body always runs.
            assert theirs is not postgres
        async with once(second_db, COMMAND_SYNC) as other_task:
            assert other_task  # another key is another lock
    async with once(second_db, RECONCILE) as after:
        assert after  # given back when the first body ended
    for database in (first_db, second_db):
        await database.dispose()


async def test_waiting_for_a_lock_runs_after_the_holder(db_url) -> None:
    first_db, second_db = await _instances(db_url)
    order: list[str] = []
    holding = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with once(first_db, RECONCILE) as mine:
            assert mine
            holding.set()
            await asyncio.wait_for(release.wait(), 10)
            order.append("first")

    async def waiter() -> None:
        await holding.wait()
        async with once(second_db, RECONCILE, wait=True) as mine:
            assert mine
            order.append("second")

    task = asyncio.create_task(holder())
    waiting = asyncio.create_task(waiter())
    await holding.wait()
    if first_db.dialect == "postgresql":
        # The waiter is blocked on the lock; the holder finishes first.
        release.set()
        await asyncio.gather(task, waiting)
        assert order == ["first", "second"]
    else:
        await waiting  # SQLite: no lock to wait for
        release.set()
        await task
        assert order == ["second", "first"]
    for database in (first_db, second_db):
        await database.dispose()


async def test_two_instances_starting_together_reconcile_once(db_url) -> None:
    first_db, second_db = await _instances(db_url)
    await first_db.upgrade()
    clock = FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    apps = [App(database, clock, [RecordingAdapter()]) for database in (first_db, second_db)]
    calls: list[int] = []
    first_in, second_done = asyncio.Event(), asyncio.Event()

    async def reconciler(services: Services) -> None:
        calls.append(id(services))
        first_in.set()
        if len(calls) == 1:
            # The first instance is still reconciling while the second one starts.
            await asyncio.wait_for(second_done.wait(), 10)

    for app in apps:
        app.registry.reconcilers[:] = [reconciler]
    first = asyncio.create_task(apps[0].reconcile())
    await asyncio.wait_for(first_in.wait(), 10)
    await apps[1].reconcile()
    second_done.set()
    await first
    expected = 1 if first_db.dialect == "postgresql" else 2
    assert len(calls) == expected
    assert all(app.reconciled.is_set() for app in apps)
    for database in (first_db, second_db):
        await database.dispose()
