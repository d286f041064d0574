"""P3 scale: communities created through the commands, reminders due together, cold start.

Three figures, on SQLite (a file) and PostgreSQL:

- **Seeding through the normal code path.** Each community is created as an admin would:
  ``/cop setup``, ``/cop meeting series`` (monthly, three reminders) and ``/cop poll new``,
  each a `CommandInvoked` through the real dispatcher (parse excluded, as the console and
  tests/test_load.py do), then ``/cop checkins default`` (not counted in the rate: the
  target counts the three). The app runs in production mode (job runner and delivery worker
  live, delivering to a stand-in adapter), communities arriving eight at a time.
- **2,000 reminders due in the same minute.** The clock moves to the minute in which every
  community's first 7-day reminder falls due and the runner is woken, as its timer would;
  the time runs until every reminder job has committed (card composed, outbox row written,
  job deleted). Each is checked to be queued once. The 7-day reminders run one transaction
  a job (as before `bot.job_groups`), then the 1-day ones as the runner runs them now, so
  one run shows both under the same load; the delivery worker sends meanwhile.
- **Cold start** of ``circlebot run`` on the database so created (`bench.startup`): the time
  to the first answered ``/cop help``, to the end of the reconcile, and the peak RSS.

Usage: ``python -m bench.scale [--quick] [--communities N] [--only sqlite|postgresql]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import col

from bench.seed import TEAM_ID, _SlackShaped, channel_id, user_id
from bench.startup import Row, database, measure, pg_up, print_table
from bot.app import App
from bot.events import Actor, CommandInvoked, ConversationRef, Place, Respond, UserRef
from bot.ports import FakeClock
from storage.db import Database
from storage.models import Job, OutboxMessage

ZONE = "America/New_York"
SCHEDULE = "monthly on the first Tuesday at 18:30"  # default reminders: 7 days, 1 day, 1 hour
ARRIVING = 8  # communities being set up at the same time
SEED_TARGET = 50.0  # communities a second
ENQUEUE_TARGET = 2.0  # seconds for 2,000 reminders
RSS_TARGET = 400.0  # MB


def _start_clock() -> datetime:
    """The 8th of a month a year ahead, 09:00 UTC: every first Tuesday is over a week away,
    and the fake clock stays ahead of real time, so timers never ring by themselves."""
    ahead = datetime.now(UTC) + timedelta(days=365)
    return ahead.replace(day=8, hour=9, minute=0, second=0, microsecond=0)


def commands(i: int) -> list[tuple[tuple[str, ...], dict[str, str]]]:
    """What community `i`'s admin types (named and placed as `bench.seed` does)."""
    return [
        (("setup",), {"name": f"Community {i}", "timezone": ZONE}),
        (("meeting", "series"), {"schedule": SCHEDULE, "title": "Monthly CoP"}),
        (
            ("poll", "new"),
            {"question": "Which topic next?", "options": "Outdoor play | Family | Transitions"},
        ),
    ]


Progress = Callable[[str], None]

CHECKIN: tuple[tuple[str, ...], dict[str, str]] = (("checkins", "default"), {})


@dataclass
class Seeded:
    communities: int
    seconds: float  # the three counted commands of every community
    checkin_seconds: float
    cpu: float  # CPU seconds of the process over the whole seeding


async def _type(app: App, i: int, path: tuple[str, ...], params: dict[str, str]) -> float:
    conv = ConversationRef("slack", TEAM_ID, channel_id(i))
    admin = Actor(UserRef("slack", TEAM_ID, user_id(i)), f"admin{i}", True)
    began = time.perf_counter()
    reply = await app.dispatcher.handle(
        CommandInvoked(admin, Place(conv, f"cop-{i}"), path, params)
    )
    took = time.perf_counter() - began
    if not isinstance(reply, Respond):
        raise RuntimeError(f"community {i}: {' '.join(path)} gave {reply!r}")
    return took


async def seed(app: App, n: int, progress: Progress) -> Seeded:
    """Create communities 1..n through the dispatcher, `ARRIVING` at a time."""
    counted = checkin = 0.0
    began, cpu = time.perf_counter(), time.process_time()
    for first in range(1, n + 1, ARRIVING):
        batch = range(first, min(n, first + ARRIVING - 1) + 1)
        start = time.perf_counter()
        for step in commands(0):
            path = step[0]
            await asyncio.gather(*(_type(app, i, path, _params(i, path)) for i in batch))
        counted += time.perf_counter() - start
        start = time.perf_counter()
        await asyncio.gather(*(_type(app, i, *CHECKIN) for i in batch))
        checkin += time.perf_counter() - start
        if first % 1000 < ARRIVING:
            progress(f"  seeded {batch[-1]} ({batch[-1] / (time.perf_counter() - began):.0f}/s)")
    return Seeded(n, counted, checkin, time.process_time() - cpu)


def _params(i: int, path: tuple[str, ...]) -> dict[str, str]:
    return next(params for p, params in commands(i) if p == path)


async def _count(db: Database, model: type, *where: object) -> int:
    async with db.session() as session:
        query = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
        return int((await session.execute(query)).scalar_one())


async def _quiet(app: App) -> None:
    """Wait until the runner has nothing due (it is woken, as by its timer)."""
    app.jobs.wake()
    while True:
        following = await app.jobs.next_due()
        if following is None or following > app.clock.now():
            return
        await asyncio.sleep(0.05)
        app.jobs.wake()


@dataclass
class Enqueued:
    reminders: int
    seconds: float
    cpu: float  # CPU seconds of the process meanwhile (delivery included)


async def reminders_together(
    app: App, clock: FakeClock, n: int, done: list[str], offset: str = "P7D"
) -> Enqueued:
    """Move to the minute every community's first `offset` reminder falls due; time them all."""
    pattern = f"reminder:%:{offset}"
    async with app.db.session() as session:
        due = (
            await session.execute(
                select(func.min(col(Job.due_at))).where(col(Job.id).like(pattern))
            )
        ).scalar_one()
    together = await _count(app.db, Job, col(Job.id).like(pattern), col(Job.due_at) == due)
    if together < n:
        raise RuntimeError(f"only {together} reminders fall due together, not {n}")
    clock.set(due - timedelta(seconds=1))
    await _quiet(app)  # whatever fell due before (nothing, normally)
    done.clear()
    clock.set(due + timedelta(seconds=30))
    began, cpu = time.perf_counter(), time.process_time()
    app.jobs.wake()
    while sum(j.startswith("reminder:") for j in done) < together:
        if time.perf_counter() - began > 900:
            raise RuntimeError("the reminders did not all run")
        await asyncio.sleep(0.005)
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    queued = await _count(app.db, OutboxMessage, col(OutboxMessage.key).like(pattern))
    if queued != together or len(set(done)) != len(done):
        raise RuntimeError(f"{queued} reminders queued for {together} jobs")
    return Enqueued(together, seconds, cpu)


async def one_database(kind: str, n: int, reminders: int, progress: Progress) -> list[Row]:
    rows: list[Row] = []
    async with database(kind) as url:
        db = Database(url)
        await db.upgrade()
        clock = FakeClock(_start_clock())
        done: list[str] = []

        async def ran(job_id: str) -> None:
            done.append(job_id)

        app = App(db, clock, [_SlackShaped()], manual=False, after_job=ran)
        await app.start(migrate=False)
        try:
            seeded = await seed(app, n, progress)
            rate = n / seeded.seconds
            progress(f"{kind}: seeded {n} communities at {rate:.1f}/s")
            met = "meets" if rate >= SEED_TARGET else "MISSES"
            rows.append(
                (
                    f"seeding through the dispatcher: setup + series + poll ({kind})",
                    f"{n:,} communities",
                    f"{rate:.1f} communities/s ({3 * rate:.0f} commands/s; {met} ≥ 50/s); "
                    f"{1000 * seeded.cpu / n:.0f} ms CPU a community (with its check-in, "
                    f"{n / seeded.checkin_seconds:.0f}/s)",
                )
            )
            # The same run, before and after: the 7-day reminders one transaction a job
            # (as before `bot.job_groups`), the 1-day ones as the runner now runs them.
            group = app.jobs.execute_group
            app.jobs.execute_group = None
            before = await reminders_together(app, clock, reminders, done, "P7D")
            app.jobs.execute_group = group
            enq = await reminders_together(app, clock, reminders, done, "P1D")
            progress(
                f"{kind}: {enq.reminders} reminders enqueued in {enq.seconds:.2f} s "
                f"({before.seconds:.2f} s one a transaction)"
            )
            met = "meets" if enq.seconds <= ENQUEUE_TARGET * enq.reminders / 2000 else "MISSES"
            rows.append(
                (
                    f"reminders due in the same minute, claimed to outbox ({kind})",
                    f"{enq.reminders:,} reminders",
                    f"{enq.seconds:.1f} s, {enq.cpu:.1f} s CPU (≤ 2 s for 2,000: {met}); "
                    f"one transaction a job in the same run: {before.seconds:.1f} s, "
                    f"{before.cpu:.1f} s CPU",
                )
            )
        finally:
            await app.stop()
            await db.dispose()
        started = await measure(url, n, seeded=True)
        rss = started.peak_rss_mb or 0.0
        met = "meets" if started.first_answer <= 10 and rss <= RSS_TARGET else "MISSES"
        rows.append(
            (
                f"cold start: process start to first `/cop help` answer ({kind})",
                f"{n:,} communities",
                f"{started.first_answer:.1f} s ({started.cpu_at_answer or 0:.1f} s CPU); "
                f"reconcile done at {started.reconciled:.1f} s; peak RSS {rss:.0f} MB ({met})",
            )
        )
        progress(f"{kind}: cold start {started.first_answer:.1f} s, RSS {rss:.0f} MB")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale")
    parser.add_argument("--communities", type=int, default=10_000)
    parser.add_argument("--reminders", type=int, default=2_000)
    parser.add_argument("--quick", action="store_true", help="2,000 communities")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    n = 2_000 if args.quick else args.communities
    kinds = [args.only] if args.only else ["sqlite"] + (["postgresql"] if pg_up() else [])

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    before = os.getloadavg()[0]
    rows: list[Row] = []
    for kind in kinds:
        rows += asyncio.run(one_database(kind, n, min(args.reminders, n), progress))
    print(f"Load average {before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    print()
    print_table(rows)


if __name__ == "__main__":
    main()
