"""Runs "job K at time T": APScheduler 3 in production, a manual scheduler on a fake clock.

Domain rows hold the truth; the scheduler only remembers when to act. Job ids are
stable (``poll-close:42``), a job is a `kind` plus string/int arguments, and the
`JobRunner` handed to the constructor turns a kind into work. Jobs are added with
`replace_existing`, so reconciling from domain rows at start is idempotent.

Misfire policy (chosen deliberately): APScheduler runs a late job however late
(``misfire_grace_time=None``) and coalesces missed runs into one; the job handler
itself decides whether the work is still useful (a reminder after the meeting has
started is skipped and logged). A grace period would silently drop work instead.
"""

from __future__ import annotations

import json
import logging
import pickle
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.base import BaseExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import delete, select

from bot.ports import FakeClock
from storage.db import Database, is_memory_sqlite, sync_url
from storage.models import ManualJob

log = logging.getLogger(__name__)

JobArg = int | str
JobRunner = Callable[[str, str, list[JobArg]], Awaitable[None]]
"""Called as ``runner(job_id, kind, args)`` when a job falls due."""


class Scheduler(Protocol):
    """What features need from a scheduler."""

    async def add(
        self, job_id: str, trigger: BaseTrigger, kind: str, args: Sequence[JobArg] = ()
    ) -> None: ...
    async def remove(self, job_id: str) -> None: ...
    async def next_run(self, job_id: str) -> datetime | None: ...
    async def job_ids(self) -> set[str]: ...
    async def start(self) -> None: ...
    async def shutdown(self) -> None: ...


async def run_at(
    scheduler: Scheduler, job_id: str, when: datetime, kind: str, args: Sequence[JobArg] = ()
) -> None:
    """Schedule a one-off job at `when` (aware)."""
    await scheduler.add(job_id, DateTrigger(run_date=when, timezone=UTC), kind, args)


async def scheduled_job(*_args: object) -> None:
    """The callable APScheduler stores for every job; the circlebot executor runs jobs instead."""
    raise RuntimeError("circlebot jobs are run by the scheduler's runner executor")


class _RunnerExecutor(BaseExecutor):
    """Runs due jobs through the `JobRunner` on the event loop, so jobs need no globals."""

    def __init__(self, runner: JobRunner) -> None:
        super().__init__()
        self._runner = runner
        self._tasks: set[object] = set()

    def start(self, scheduler, alias):  # type: ignore[no-untyped-def]
        super().start(scheduler, alias)
        self._loop = scheduler._eventloop

    def _do_submit_job(self, job, run_times):  # type: ignore[no-untyped-def]
        async def run() -> list[JobExecutionEvent]:
            events = []
            for run_time in run_times:
                try:
                    await self._runner(job.id, job.args[0], list(job.args[1:]))
                except Exception as exc:
                    log.exception("job %s failed", job.id)
                    events.append(
                        JobExecutionEvent(
                            EVENT_JOB_ERROR, job.id, job._jobstore_alias, run_time, exception=exc
                        )
                    )
                else:
                    events.append(
                        JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, job._jobstore_alias, run_time)
                    )
            return events

        def done(task):  # type: ignore[no-untyped-def]
            self._tasks.discard(task)
            self._run_job_success(job.id, task.result())

        task = self._loop.create_task(run())
        task.add_done_callback(done)
        self._tasks.add(task)


class APSchedulerScheduler:
    """APScheduler 3 (AsyncIOScheduler) with its SQLAlchemy job store on the bot's database."""

    def __init__(self, runner: JobRunner, database_url: str | None) -> None:
        if database_url and not is_memory_sqlite(database_url):
            store = SQLAlchemyJobStore(url=sync_url(database_url).render_as_string(False))
        else:
            store = MemoryJobStore()
        self._aps = AsyncIOScheduler(
            jobstores={"default": store},
            executors={"default": _RunnerExecutor(runner)},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
            timezone=UTC,
        )

    async def add(
        self, job_id: str, trigger: BaseTrigger, kind: str, args: Sequence[JobArg] = ()
    ) -> None:
        self._aps.add_job(
            scheduled_job,
            trigger=trigger,
            id=job_id,
            name=kind,
            args=[kind, *args],
            replace_existing=True,
        )

    async def remove(self, job_id: str) -> None:
        if self._aps.get_job(job_id) is not None:
            self._aps.remove_job(job_id)

    async def next_run(self, job_id: str) -> datetime | None:
        job = self._aps.get_job(job_id)
        return None if job is None else job.next_run_time

    async def job_ids(self) -> set[str]:
        return {job.id for job in self._aps.get_jobs()}

    async def start(self) -> None:
        self._aps.start()

    async def shutdown(self) -> None:
        if self._aps.running:
            self._aps.shutdown(wait=False)


class ManualScheduler:
    """Fires due jobs in time order when the fake clock is moved; jobs persist in the database.

    Fire times come from APScheduler's own trigger classes, so a cron trigger behaves
    exactly as it will in production.
    """

    def __init__(self, db: Database, clock: FakeClock, runner: JobRunner) -> None:
        self.db = db
        self.clock = clock
        self.runner = runner

    async def add(
        self, job_id: str, trigger: BaseTrigger, kind: str, args: Sequence[JobArg] = ()
    ) -> None:
        first = trigger.get_next_fire_time(None, self.clock.now())
        async with self.db.session() as session:
            existing = await session.get(ManualJob, job_id)
            if first is None:
                if existing is not None:
                    await session.delete(existing)
                return
            if existing is None:
                existing = ManualJob(id=job_id, kind=kind, next_run_at=first, trigger=b"")
            existing.kind = kind
            existing.args = json.dumps(list(args))
            existing.next_run_at = first
            existing.trigger = pickle.dumps(trigger)
            session.add(existing)

    async def remove(self, job_id: str) -> None:
        async with self.db.session() as session:
            await session.execute(delete(ManualJob).where(ManualJob.id == job_id))

    async def next_run(self, job_id: str) -> datetime | None:
        async with self.db.session() as session:
            job = await session.get(ManualJob, job_id)
            return None if job is None else job.next_run_at

    async def job_ids(self) -> set[str]:
        async with self.db.session() as session:
            return set((await session.execute(select(ManualJob.id))).scalars())

    async def start(self) -> None:
        """Nothing runs by itself; `advance_to` does the work."""

    async def shutdown(self) -> None:
        """Nothing to stop."""

    async def advance_to(self, when: datetime) -> int:
        """Move the clock to `when`, firing every job due on the way in time order."""
        fired = 0
        while True:
            async with self.db.session() as session:
                job = (
                    await session.execute(
                        select(ManualJob)
                        .where(ManualJob.next_run_at <= when)
                        .order_by(ManualJob.next_run_at, ManualJob.id)
                        .limit(1)
                    )
                ).scalar_one_or_none()
                if job is None:
                    break
                due = job.next_run_at
                trigger: BaseTrigger = pickle.loads(job.trigger)
                following = trigger.get_next_fire_time(due, due + timedelta(microseconds=1))
                job_id, kind, args = job.id, job.kind, json.loads(job.args)
                # The store moves on before the job runs: a crash repeats nothing.
                if following is None:
                    await session.delete(job)
                else:
                    job.next_run_at = following
                    session.add(job)
            if due > self.clock.now():
                self.clock.set(due)
            try:
                await self.runner(job_id, kind, args)
            except Exception:
                log.exception("job %s failed", job_id)
            fired += 1
        if when > self.clock.now():
            self.clock.set(when)
        return fired

    async def advance(self, delta: timedelta) -> int:
        return await self.advance_to(self.clock.now() + delta)
