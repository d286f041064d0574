"""Schedulers: jobs fire once, in time order, and not again after a restart."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from bot.app import App
from bot.ports import FakeClock, SystemClock
from bot.scheduling import APSchedulerScheduler, ManualScheduler, run_at
from storage.db import Database
from tests.support import RecordingAdapter


async def test_manual_scheduler_fires_due_jobs_in_time_order(memory_db, clock) -> None:
    fired: list[tuple[str, datetime]] = []

    async def runner(job_id: str, kind: str, args: list) -> None:  # type: ignore[type-arg]
        fired.append((job_id, clock.now()))

    sched = ManualScheduler(memory_db, clock, runner)
    start = clock.now()
    await run_at(sched, "b", start + timedelta(hours=5), "k")
    await run_at(sched, "a", start + timedelta(hours=1), "k")
    await run_at(sched, "c", start + timedelta(days=3), "k")
    assert await sched.advance(timedelta(days=1)) == 2
    assert fired == [("a", start + timedelta(hours=1)), ("b", start + timedelta(hours=5))]
    assert clock.now() == start + timedelta(days=1)
    assert await sched.job_ids() == {"c"}


async def test_manual_scheduler_uses_apscheduler_cron_in_the_zone(memory_db) -> None:
    clock = FakeClock(datetime(2026, 10, 30, 12, 0, tzinfo=UTC))
    fired: list[datetime] = []

    async def runner(job_id: str, kind: str, args: list) -> None:  # type: ignore[type-arg]
        fired.append(clock.now())

    sched = ManualScheduler(memory_db, clock, runner)
    trigger = CronTrigger(hour=18, minute=30, timezone="America/New_York")
    await sched.add("daily", trigger, "prompt", [7])
    await sched.advance(timedelta(days=4))
    # 18:30 New York is 22:30Z before the 2026-11-01 change and 23:30Z after it.
    assert [f.strftime("%m-%d %H:%M") for f in fired] == [
        "10-30 22:30",
        "10-31 22:30",
        "11-01 23:30",
        "11-02 23:30",
    ]


async def test_replacing_a_job_keeps_one_job(memory_db, clock) -> None:
    calls: list[list] = []  # type: ignore[type-arg]

    async def runner(job_id: str, kind: str, args: list) -> None:  # type: ignore[type-arg]
        calls.append(args)

    sched = ManualScheduler(memory_db, clock, runner)
    await run_at(sched, "poll-close:1", clock.now() + timedelta(hours=1), "poll.close", [1])
    await run_at(sched, "poll-close:1", clock.now() + timedelta(hours=2), "poll.close", [1])
    assert await sched.next_run("poll-close:1") == clock.now() + timedelta(hours=2)
    await sched.advance(timedelta(days=1))
    assert calls == [[1]]
    await sched.remove("poll-close:1")  # removing a finished job is harmless


async def test_job_two_days_later_fires_once_and_not_again_after_restart(tmp_path) -> None:
    """The foundation's promise, through the App on a file database."""
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    clock = FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    fired: list[tuple[int, datetime]] = []

    async def ping(services, n: int) -> None:  # type: ignore[no-untyped-def]
        fired.append((n, services.clock.now()))

    db = Database(url)
    app = App(db, clock, [RecordingAdapter()], manual=True)
    app.registry.job("test.ping", ping)
    await app.start()
    await run_at(app.scheduler, "test:ping:1", clock.now() + timedelta(days=2), "test.ping", [1])
    await app.scheduler.advance(timedelta(days=1, hours=23))  # type: ignore[attr-defined]
    assert fired == []
    await app.scheduler.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    assert fired == [(1, datetime(2026, 11, 4, 9, 0, tzinfo=UTC))]
    await app.stop()
    await db.dispose()

    db = Database(url)
    restarted = App(db, clock, [RecordingAdapter()], manual=True)
    restarted.registry.job("test.ping", ping)
    await restarted.start()
    await restarted.scheduler.advance(timedelta(days=30))  # type: ignore[attr-defined]
    assert len(fired) == 1
    await restarted.stop()
    await db.dispose()


async def test_apscheduler_runs_a_job_once_and_forgets_it_across_restart(db_url) -> None:
    """The production scheduler with its SQLAlchemy job store on the bot's database."""
    db = Database(db_url)
    await db.upgrade()
    done = asyncio.Event()
    fired: list[list] = []  # type: ignore[type-arg]

    async def runner(job_id: str, kind: str, args: list) -> None:  # type: ignore[type-arg]
        fired.append([job_id, kind, *args])
        done.set()

    sched = APSchedulerScheduler(runner, db_url)
    await sched.start()
    when = SystemClock().now() + timedelta(milliseconds=300)
    await run_at(sched, "test:ping:9", when, "test.ping", [9, "x"])
    await run_at(sched, "later", SystemClock().now() + timedelta(days=2), "test.ping", [1])
    assert await sched.job_ids() == {"test:ping:9", "later"}
    await asyncio.wait_for(done.wait(), 5)
    await asyncio.sleep(0.1)
    await sched.shutdown()
    assert fired == [["test:ping:9", "test.ping", 9, "x"]]

    again = APSchedulerScheduler(runner, db_url)
    await again.start()
    assert await again.job_ids() == {"later"}  # the fired job is gone, the future one persisted
    await asyncio.sleep(0.5)
    await again.shutdown()
    assert len(fired) == 1
    await db.dispose()
