"""Durable jobs: written with their cause, run once in time order, retried, never dropped."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.app import App, Limits
from bot.context import Context, background
from bot.jobs import Claimed, JobRunner
from bot.ports import FakeClock, SystemClock
from storage.db import Database
from storage.models import Job, JobStatus
from tests.support import CIRCLEBOT, RecordingAdapter, job_ids, schedule_job


def _app(db: Database, clock: FakeClock, **jobs) -> App:  # type: ignore[no-untyped-def]
    app = App(db, clock, [RecordingAdapter()], manual=True)
    app.registry.jobs.update(jobs)
    return app


async def test_due_jobs_run_once_in_time_order(db, clock) -> None:
    fired: list[tuple[str, datetime]] = []

    async def record(ctx: Context, name: str) -> None:
        assert ctx.job is not None and ctx.job.kind == "test.record"
        fired.append((name, ctx.now))

    app = _app(db, clock, **{"test.record": record})
    start = clock.now()
    await schedule_job(app, "b", start + timedelta(hours=5), "test.record", ["b"])
    await schedule_job(app, "a", start + timedelta(hours=1), "test.record", ["a"])
    await schedule_job(app, "c", start + timedelta(days=3), "test.record", ["c"])
    assert await app.advance(timedelta(days=1)) == 2
    assert fired == [("a", start + timedelta(hours=1)), ("b", start + timedelta(hours=5))]
    assert clock.now() == start + timedelta(days=1)
    assert await job_ids(db) == {"c"}


async def test_scheduling_an_id_again_replaces_the_job(db, clock) -> None:
    calls: list[int] = []

    async def close(ctx: Context, poll: int) -> None:
        calls.append(poll)

    app = _app(db, clock, **{"test.close": close})
    await schedule_job(app, "poll-close:1", clock.now() + timedelta(hours=1), "test.close", [1])
    later = clock.now() + timedelta(hours=2)
    await schedule_job(app, "poll-close:1", later, "test.close", [1])
    async with background(app.services) as ctx:
        assert await ctx.schedule.next_run("poll-close:1") == later
    await app.advance(timedelta(days=1))
    assert calls == [1]
    async with background(app.services) as ctx:
        await ctx.schedule.cancel("poll-close:1")  # cancelling a finished job is harmless


async def test_a_job_failing_twice_with_a_transient_error_runs_on_the_third_try(
    db, clock, caplog
) -> None:
    attempts: list[int] = []
    done: list[datetime] = []

    async def flaky(ctx: Context) -> None:
        assert ctx.job is not None
        attempts.append(ctx.job.attempt)
        if ctx.job.attempt < 3:
            # What SQLite says under a write burst; raised after the in-place retries too.
            raise OperationalError("UPDATE meeting", {}, Exception("database is locked"))
        done.append(ctx.now)

    app = _app(db, clock, **{"test.flaky": flaky})
    due = clock.now() + timedelta(minutes=1)
    await schedule_job(app, "flaky:1", due, "test.flaky")
    with caplog.at_level(logging.WARNING, logger="bot.jobs"):
        await app.advance(timedelta(hours=1))
    assert attempts == [1, 2, 3]
    # Backoff: 5 s after the first failure, 30 s after the second.
    assert done == [due + timedelta(seconds=35)]
    assert await job_ids(db) == set()
    assert [r.getMessage().split(" (")[0] for r in caplog.records].count(
        "job flaky:1 failed on attempt 1"
    ) == 1


async def test_a_job_that_keeps_failing_is_kept_as_failed_with_its_reason(
    db, clock, caplog
) -> None:
    async def broken(ctx: Context) -> None:
        raise ValueError("the reflection text must never reach the log")

    app = _app(db, clock, **{"test.broken": broken})
    await schedule_job(app, "broken:1", clock.now(), "test.broken")
    with caplog.at_level(logging.INFO):
        await app.advance(timedelta(days=1))
    async with db.session() as session:
        row = await session.get(Job, "broken:1")
    assert row is not None
    assert (row.status, row.attempts, row.last_error) == (JobStatus.FAILED, 6, "ValueError")
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        "job broken:1 failed for good after 6 attempts: ValueError"
    ]
    assert not any("reflection text" in r.getMessage() for r in caplog.records)


async def test_a_job_written_in_a_transaction_that_rolls_back_never_runs(db, clock) -> None:
    fired: list[str] = []

    async def ping(ctx: Context) -> None:
        fired.append("ping")

    app = _app(db, clock, **{"test.ping": ping})
    with pytest.raises(RuntimeError):
        async with background(app.services) as ctx:
            await ctx.schedule.at("ping:1", clock.now() + timedelta(minutes=5), "test.ping")
            raise RuntimeError("the domain change failed")
    assert await job_ids(db) == set()
    await app.advance(timedelta(days=1))
    assert fired == []


async def test_a_job_runs_once_and_not_again_after_a_restart(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    clock = FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    fired: list[tuple[int, datetime]] = []

    async def ping(ctx: Context, n: int) -> None:
        fired.append((n, ctx.now))

    db = Database(url)
    app = _app(db, clock, **{"test.ping": ping})
    await app.start()
    await schedule_job(app, "test:ping:1", clock.now() + timedelta(days=2), "test.ping", [1])
    await app.advance(timedelta(days=1, hours=23))
    assert fired == []
    await app.advance(timedelta(hours=1))
    assert fired == [(1, datetime(2026, 11, 4, 9, 0, tzinfo=UTC))]
    await app.stop()
    await db.dispose()

    db = Database(url)
    restarted = _app(db, clock, **{"test.ping": ping})
    await restarted.start()
    await restarted.advance(timedelta(days=30))
    assert len(fired) == 1
    await restarted.stop()
    await db.dispose()


async def test_a_job_whose_runner_died_is_taken_again_when_its_lease_ends(db, clock) -> None:
    fired: list[int] = []

    async def ping(ctx: Context) -> None:
        assert ctx.job is not None
        fired.append(ctx.job.attempt)

    app = _app(db, clock, **{"test.ping": ping})
    await schedule_job(app, "ping:1", clock.now(), "test.ping")
    crashed = await app.jobs.claim(10)  # claimed, then the process "dies" before running it
    assert [j.id for j in crashed] == ["ping:1"]
    assert await app.run_due() == 0
    assert fired == []
    await app.advance(timedelta(minutes=6))
    assert fired == [2]
    assert await job_ids(db) == set()


async def test_a_job_replaced_while_it_runs_keeps_the_new_version(db, clock) -> None:
    fired: list[str] = []
    app = _app(db, clock)

    async def move(ctx: Context) -> None:
        fired.append("old")
        # The meeting was moved while its reminder ran: the handler re-schedules its own id.
        await ctx.schedule.at("reminder:1", ctx.now + timedelta(hours=1), "test.later")

    async def later(ctx: Context) -> None:
        fired.append("new")

    app.registry.jobs.update({"test.move": move, "test.later": later})
    await schedule_job(app, "reminder:1", clock.now(), "test.move")
    await app.advance(timedelta(hours=2))
    assert fired == ["old", "new"]


async def test_jobs_run_with_bounded_concurrency(db, clock) -> None:
    running = 0
    peak = 0
    seen: list[int] = []

    async def slow(ctx: Context, n: int) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0)
        seen.append(n)
        running -= 1

    app = App(db, clock, [RecordingAdapter()], limits=Limits(interactions=2, jobs=3, delivery=1))
    app.registry.jobs["test.slow"] = slow
    for n in range(40):
        await schedule_job(app, f"slow:{n}", clock.now(), "test.slow", [n])
    assert await app.jobs.run_due() == 40
    assert sorted(seen) == list(range(40))
    assert 1 <= peak <= 3


async def test_two_runners_share_the_table_without_running_a_job_twice(db_url) -> None:
    """Several instances: claims never overlap (SKIP LOCKED on PostgreSQL)."""
    db = Database(db_url)
    await db.upgrade()
    clock = FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    ran: list[str] = []

    async def execute(job: Claimed) -> None:
        ran.append(job.id)
        async with db.session() as session:
            from bot.jobs import complete

            await complete(session, job)

    app = _app(db, clock)
    for n in range(60):
        await schedule_job(app, f"j:{n}", clock.now(), "test.any")
    first = JobRunner(db, clock, execute, batch=7)
    second = JobRunner(db, clock, execute, batch=7)
    counts = await asyncio.gather(first.run_due(), second.run_due())
    assert sum(counts) == 60
    assert sorted(ran) == sorted(f"j:{n}" for n in range(60))
    await db.dispose()


async def test_the_production_runner_wakes_at_the_due_time(db_url) -> None:
    """APScheduler is the timer; the job row is the truth and survives the restart."""
    db = Database(db_url)
    await db.upgrade()
    done = asyncio.Event()
    fired: list[list[object]] = []

    async def ping(ctx: Context, n: int, word: str) -> None:
        fired.append([n, word])
        done.set()

    app = App(db, SystemClock(), [RecordingAdapter()])
    app.registry.jobs["test.ping"] = ping
    await app.start()
    await schedule_job(app, "later", SystemClock().now() + timedelta(days=2), "test.ping", [1, "y"])
    await schedule_job(
        app, "soon", SystemClock().now() + timedelta(milliseconds=300), "test.ping", [9, "x"]
    )
    await asyncio.wait_for(done.wait(), 5)
    await app.stop()
    assert fired == [[9, "x"]]
    assert await job_ids(db) == {"later"}
    async with db.session() as session:
        leftover = (await session.execute(select(Job.status))).scalars().all()
    assert leftover == [JobStatus.PENDING]
    await db.dispose()


async def _circlebot(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        str(CIRCLEBOT), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_an_operator_sees_failed_jobs_and_runs_them_again(db, db_url, clock) -> None:
    broken = True
    ran: list[int] = []

    async def remind(ctx: Context, meeting: int) -> None:
        if broken:
            raise ValueError("the channel text must never reach the log")
        ran.append(meeting)

    app = _app(db, clock, **{"test.remind": remind})
    await schedule_job(app, "remind:7", clock.now(), "test.remind", [7])
    # Far beyond the wall clock, which `jobs retry` uses for "now".
    await schedule_job(app, "remind:8", datetime(2100, 1, 1, tzinfo=UTC), "test.remind", [8])
    await app.advance(timedelta(days=1))

    code, listing = await _circlebot("jobs", "--db", db_url)
    assert code == 0
    lines = listing.splitlines()
    assert lines[0] == "jobs: 1 pending, 0 running, 1 failed"
    assert lines[1].startswith("  remind:7  test.remind  6 attempts, last at ")
    assert lines[1].endswith(": ValueError")
    assert "channel text" not in listing

    code, answer = await _circlebot("jobs", "retry", "remind:7", "remind:8", "--db", db_url)
    assert code == 1  # remind:8 is waiting, not failed: said so, and left alone
    assert answer.splitlines() == [
        "circlebot: 1 failed job(s) will run again now",
        "circlebot: remind:8 is not a failed job; left alone",
    ]
    broken = False
    await app.advance_to(datetime.now(UTC) + timedelta(minutes=1))
    assert ran == [7]
    assert await job_ids(db) == {"remind:8"}


async def test_retrying_needs_ids_or_all(db_url) -> None:
    code, answer = await _circlebot("jobs", "retry", "--db", db_url)
    assert (code, answer.strip()) == (2, "circlebot: say which jobs to retry (their ids) or --all")


async def test_soon_keeps_the_earlier_time_and_runs_again_when_asked_while_running(
    db, clock
) -> None:
    """`ctx.schedule.soon` coalesces a burst into one run, and a request that arrives while
    the job runs makes it run once more (so it sees what happened meanwhile)."""
    runs: list[datetime] = []

    async def refresh(ctx: Context, n: int) -> None:
        runs.append(ctx.now)
        if len(runs) == 1:  # a ballot arrives while the first refresh is running
            await ctx.schedule.soon("refresh:1", ctx.now + timedelta(seconds=2), "t.r", [1])

    app = _app(db, clock, **{"t.r": refresh})
    start = clock.now()
    woken = []
    for offset in (0.0, 0.5, 1.5):  # three ballots within two seconds: the first one's time stands
        clock.set(start + timedelta(seconds=offset))
        async with background(app.services) as ctx:
            await ctx.schedule.soon("refresh:1", ctx.now + timedelta(seconds=2), "t.r", [1])
        woken.append(ctx.scheduled)
    # Only the first one wrote the job; the others leave the runner asleep.
    assert woken == [True, False, False]
    async with background(app.services) as ctx:
        assert await ctx.schedule.next_run("refresh:1") == start + timedelta(seconds=2)
    await app.advance(timedelta(minutes=1) - (clock.now() - start))
    assert runs == [start + timedelta(seconds=2), start + timedelta(seconds=4)]
    assert await job_ids(db) == set()
