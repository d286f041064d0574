"""Durable jobs: rows written with their cause, claimed with a lease, retried, never dropped.

A job is "kind K with args A at time T" under a stable id (``reminder:17:P1D``). A
handler writes it through ``ctx.schedule.at(...)`` in its own transaction, so a change
and the jobs it causes commit together or not at all, and a rolled-back change leaves no
job behind. The `JobRunner` claims due rows with a lease (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so several instances can share the table), runs each in its own context and
transaction through the `execute` function it is given, and deletes the row in that same
transaction. A failure is retried with backoff; after the last attempt the row stays as
``failed`` with its reason and an error is logged. A runner that dies mid-job leaves the
row ``running`` until its lease ends; then any runner takes it again, so job handlers are
written to be idempotent (their messages go through the outbox under stable keys).

APScheduler 3 is only the timer: `JobTimer` wakes the runner at the next due time (its
in-memory store holds that one wake-up, nothing else). Due jobs run with bounded
concurrency, so a thousand falling due in one minute queue instead of exhausting the
database pool.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement
from sqlmodel import col

from bot.metrics import Metrics
from bot.ports import Clock
from storage.db import Database, is_transient
from storage.models import Job, JobStatus

log = logging.getLogger(__name__)

JobArg = int | str

#: Waits before the 2nd, 3rd, ... attempt; after the last one the job is marked failed.
BACKOFF = (
    timedelta(seconds=5),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class Claimed:
    """A job a runner holds: what its handler needs, and which version it claimed."""

    id: str
    kind: str
    args: list[JobArg]
    community_id: int | None
    due_at: datetime
    version: int
    attempt: int


def _insert(session: AsyncSession) -> postgresql.Insert | sqlite.Insert:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Job)


class Schedule:
    """``ctx.schedule``: add, replace or cancel jobs inside the handler's transaction."""

    def __init__(
        self,
        session: AsyncSession,
        clock: Clock,
        community_id: Callable[[], int | None],
        notify: Callable[[datetime], None],
    ) -> None:
        self._session = session
        self._clock = clock
        self._community_id = community_id
        self._notify = notify

    def _values(
        self, when: datetime, kind: str, args: Sequence[JobArg], community_id: int | None
    ) -> dict[str, object]:
        """The columns of a pending job due at `when` (aware)."""
        if when.tzinfo is None:
            raise ValueError("job times must be aware")
        return {
            "kind": kind,
            "args": json.dumps(list(args)),
            "community_id": community_id if community_id is not None else self._community_id(),
            "due_at": when.astimezone(UTC),
            "status": JobStatus.PENDING.value,
            "attempts": 0,
            "lease_until": None,
            "last_error": None,
            "updated_at": self._clock.now(),
        }

    async def at(
        self,
        job_id: str,
        when: datetime,
        kind: str,
        args: Sequence[JobArg] = (),
        *,
        community_id: int | None = None,
    ) -> None:
        """Run `kind(args)` at `when` (aware); an existing job of that id is replaced."""
        values = self._values(when, kind, args, community_id)
        stmt = _insert(self._session).values(id=job_id, version=1, **values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[col(Job.id)], set_={**values, "version": col(Job.version) + 1}
        )
        await self._session.execute(stmt)
        self._notify(when)

    async def soon(
        self,
        job_id: str,
        when: datetime,
        kind: str,
        args: Sequence[JobArg] = (),
        *,
        community_id: int | None = None,
    ) -> None:
        """Run `kind(args)` at `when`, or at the earlier time it is already pending for.

        Coalesces a burst into one run (a live poll's refresh: 500 ballots, one edit). A job
        of that id already running gets a new version, so it runs once more afterwards and
        sees what happened while it ran.
        """
        values = self._values(when, kind, args, community_id)
        stmt = _insert(self._session).values(id=job_id, version=1, **values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[col(Job.id)],
            set_={**values, "version": col(Job.version) + 1},
            # Already pending: the earlier time stands and nothing is written.
            where=col(Job.status) != JobStatus.PENDING.value,
        )
        written = (await self._session.execute(stmt.returning(col(Job.id)))).first()
        # Nothing written: the runner already knows that earlier time, so it is not woken
        # (each wake costs it two queries on the writer lock, per vote of a burst).
        if written is not None:
            self._notify(when)

    async def cancel(self, job_id: str) -> None:
        """Forget the job (a no-op when there is none); a runner holding it will not repeat it."""
        await self._session.execute(delete(Job).where(col(Job.id) == job_id))

    async def next_run(self, job_id: str) -> datetime | None:
        """When a pending job is due (None when there is no such job)."""
        return (
            await self._session.execute(
                select(col(Job.due_at)).where(
                    col(Job.id) == job_id, col(Job.status) != JobStatus.FAILED
                )
            )
        ).scalar_one_or_none()

    async def exists(self, job_ids: Sequence[str]) -> set[str]:
        """Which of `job_ids` are in the table (for reconcilers that repair only what is missing)."""
        if not job_ids:
            return set()
        return set(
            (
                await self._session.execute(select(col(Job.id)).where(col(Job.id).in_(job_ids)))
            ).scalars()
        )


async def complete(session: AsyncSession, job: Claimed) -> None:
    """Delete the job inside the transaction that did its work (a newer version stays)."""
    await session.execute(delete(Job).where(col(Job.id) == job.id, col(Job.version) == job.version))


async def counts(session: AsyncSession) -> dict[str, int]:
    """How many jobs are in each status (an operator's first look)."""
    rows = await session.execute(select(col(Job.status), func.count()).group_by(col(Job.status)))
    return {str(status): int(n) for status, n in rows.all()}


async def failed_jobs(session: AsyncSession) -> list[Job]:
    """Jobs given up after their last attempt, oldest first."""
    query = select(Job).where(col(Job.status) == JobStatus.FAILED).order_by(col(Job.updated_at))
    return list((await session.execute(query)).scalars())


async def retry_failed(
    session: AsyncSession, now: datetime, job_ids: Sequence[str] | None = None
) -> list[str]:
    """Put failed jobs (all of them when `job_ids` is None) back as due now, with fresh
    attempts; returns the ids that were failed and now wait again."""
    where = [col(Job.status) == JobStatus.FAILED]
    if job_ids is not None:
        where.append(col(Job.id).in_(job_ids))
    ids = list((await session.execute(select(col(Job.id)).where(*where))).scalars())
    if ids:
        await session.execute(
            update(Job)
            .where(col(Job.id).in_(ids))
            .values(
                status=JobStatus.PENDING, due_at=now, attempts=0, lease_until=None, updated_at=now
            )
        )
    return ids


def failure_reason(exc: BaseException) -> str:
    """A short, content-free reason: the exception's type (and SQL state), never its text,
    which may quote the data a statement carried."""
    name = type(exc).__name__
    orig = getattr(exc, "orig", None)
    if orig is not None:
        code = getattr(orig, "sqlstate", None)
        name += f" ({type(orig).__name__}{' ' + code if code else ''})"
    return name[:200]


Execute = Callable[[Claimed], Awaitable[None]]
"""Runs a claimed job's handler and `complete`s it, all in one transaction; raises on failure."""

ExecuteGroup = Callable[[Sequence[Claimed]], Awaitable[None]]
"""Runs several claimed jobs in order, each completed in the transaction that did its work,
several to a transaction (`bot.job_groups`); on a failure it raises an exception whose
``committed`` says how many of the first jobs were committed (the rest were not)."""


class JobTimer:
    """APScheduler 3 as an alarm clock: one in-memory wake-up at the next due time."""

    WAKE_ID = "circlebot-job-runner"

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._aps = AsyncIOScheduler(
            jobstores={"default": MemoryJobStore()},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
            timezone=UTC,
        )

    def start(self) -> None:
        if not self._aps.running:
            self._aps.start()

    def shutdown(self) -> None:
        if self._aps.running:
            self._aps.shutdown(wait=False)

    def arm(self, when: datetime) -> None:
        self._aps.add_job(
            self._ring,
            DateTrigger(run_date=when, timezone=UTC),
            id=self.WAKE_ID,
            replace_existing=True,
        )

    async def _ring(self) -> None:
        self._event.set()

    def wake(self) -> None:
        self._event.set()

    async def wait(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            pass
        self._event.clear()


class JobRunner:
    """Claims due jobs and runs them through `execute`, `concurrency` at a time."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        execute: Execute,
        *,
        concurrency: int = 4,
        batch: int = 50,
        lease: timedelta = LEASE,
        backoff: Sequence[timedelta] = BACKOFF,
        metrics: Metrics | None = None,
        execute_group: ExecuteGroup | None = None,
        group: int = 1,
    ) -> None:
        self.db = db
        self.clock = clock
        self.execute = execute
        # Up to `group` claimed jobs share one transaction through `execute_group`.
        self.execute_group = execute_group
        self.group = max(1, group)
        self.concurrency = max(1, concurrency)
        self.batch = batch
        self.lease = lease
        self.backoff = tuple(backoff)
        self.timer = JobTimer()
        self.observers: list[Callable[[Claimed], Awaitable[None]]] = []
        self.metrics = metrics or Metrics()
        # `time.monotonic()` of the last round of `run_forever` or claim (/healthz reads it).
        self.beat = time.monotonic()

    @property
    def max_attempts(self) -> int:
        return len(self.backoff) + 1

    def _due(self, now: datetime) -> ColumnElement[bool]:
        return or_(
            and_(col(Job.status) == JobStatus.PENDING, col(Job.due_at) <= now),
            and_(col(Job.status) == JobStatus.RUNNING, col(Job.lease_until) <= now),
        )

    async def claim(self, limit: int) -> list[Claimed]:
        """Take up to `limit` due jobs (and jobs whose runner's lease ran out), oldest first."""
        now = self.clock.now()
        self.beat = time.monotonic()
        async with self.db.session() as session:
            query = (
                select(Job)
                .where(self._due(now))
                .order_by(col(Job.due_at), col(Job.id))
                .limit(limit)
            )
            if self.db.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = list((await session.execute(query)).scalars())
            claimed = []
            for row in rows:
                row.status = JobStatus.RUNNING
                row.lease_until = now + self.lease
                row.attempts += 1
                row.updated_at = now
                self.metrics.job_claimed(row.due_at, now)
                claimed.append(
                    Claimed(
                        row.id,
                        row.kind,
                        json.loads(row.args),
                        row.community_id,
                        row.due_at,
                        row.version,
                        row.attempts,
                    )
                )
            return claimed

    async def run_due(self) -> int:
        """Run every job due now (in batches); returns how many were run or retried."""
        total = 0
        gate = asyncio.Semaphore(self.concurrency)
        while True:
            batch = await self.claim(self.batch)
            if not batch:
                return total
            if self.execute_group is None or self.group == 1:
                await asyncio.gather(*(self._run(job, gate) for job in batch))
            else:
                groups = [batch[i : i + self.group] for i in range(0, len(batch), self.group)]
                await asyncio.gather(*(self._run_group(group, gate) for group in groups))
            total += len(batch)

    async def _run_group(self, jobs: list[Claimed], gate: asyncio.Semaphore) -> None:
        """Run `jobs` through `execute_group`; those it did not commit, each alone."""
        assert self.execute_group is not None
        if len(jobs) == 1:
            await self._run(jobs[0], gate)
            return
        async with gate:
            try:
                await self.execute_group(jobs)
                committed = len(jobs)
            except Exception as exc:
                committed = getattr(exc, "committed", 0)
                log.info(
                    "a group of %d jobs stopped after %d (%s); running the others alone",
                    len(jobs),
                    committed,
                    failure_reason(getattr(exc, "cause", exc)),
                )
            for job in jobs[:committed]:
                self.metrics.job_done("ok")
                for observer in self.observers:
                    await observer(job)
        for job in jobs[committed:]:
            await self._run(job, gate)

    async def _run(self, job: Claimed, gate: asyncio.Semaphore) -> None:
        async with gate:
            try:
                await self.execute(job)
            except Exception as exc:
                await self._failed(job, exc)
                return
            self.metrics.job_done("ok")
            for observer in self.observers:
                await observer(job)

    async def _failed(self, job: Claimed, exc: BaseException) -> None:
        reason = failure_reason(exc)
        now = self.clock.now()
        self.metrics.job_done("retry" if job.attempt < self.max_attempts else "failed")
        if job.attempt < self.max_attempts:
            retry_at = now + self.backoff[job.attempt - 1]
            values = {"status": JobStatus.PENDING, "due_at": retry_at}
            log.warning(
                "job %s failed on attempt %d (%s); retrying at %s",
                job.id,
                job.attempt,
                reason,
                retry_at.isoformat(timespec="seconds"),
            )
        else:
            values = {"status": JobStatus.FAILED}
            log.error("job %s failed for good after %d attempts: %s", job.id, job.attempt, reason)
        for attempt in range(3):
            try:
                async with self.db.session() as session:
                    await session.execute(
                        update(Job)
                        .where(col(Job.id) == job.id, col(Job.version) == job.version)
                        .values(lease_until=None, last_error=reason, updated_at=now, **values)
                    )
                return
            except Exception as err:
                if not is_transient(err) or attempt == 2:
                    # The row stays "running": when its lease ends it is claimed again.
                    log.exception("job %s: could not record its failure", job.id)
                    return
                await asyncio.sleep(0.05 * (attempt + 1))

    async def next_due(self) -> datetime | None:
        """The earliest time a job becomes runnable (due, or its runner's lease over)."""
        async with self.db.session() as session:
            pending = (
                await session.execute(
                    select(func.min(col(Job.due_at))).where(col(Job.status) == JobStatus.PENDING)
                )
            ).scalar_one_or_none()
            lapsed = (
                await session.execute(
                    select(func.min(col(Job.lease_until))).where(
                        col(Job.status) == JobStatus.RUNNING
                    )
                )
            ).scalar_one_or_none()
        times = [t for t in (pending, lapsed) if t is not None]
        return min(times) if times else None

    def wake(self) -> None:
        """A job was scheduled: look again at what is due (cheap; may be called often)."""
        self.timer.wake()

    async def run_forever(self, stop: asyncio.Event, poll_seconds: float = 30.0) -> None:
        """Production loop: run what is due, then sleep until the next due time or a wake-up.

        The periodic look (`poll_seconds`) also finds jobs another instance scheduled.
        """
        self.timer.start()
        failures = 0
        while not stop.is_set():
            self.beat = time.monotonic()
            try:
                await self.run_due()
                following = await self.next_due()
                failures = 0
            except Exception as exc:
                failures += 1
                log.error("job runner: a round failed (%s)", failure_reason(exc))
                following = self.clock.now() + timedelta(seconds=min(30, 2**failures))
            if following is not None:
                self.timer.arm(max(following, self.clock.now()))
            if stop.is_set():
                break
            await self.timer.wait(poll_seconds)
        self.timer.shutdown()

    async def advance_to(self, clock_set: Callable[[datetime], None], when: datetime) -> int:
        """Fake-clock driving: move time to `when`, running each job at its due time in order."""
        fired = 0
        while True:
            following = await self.next_due()
            if following is None or following > when:
                break
            if following > self.clock.now():
                clock_set(following)
            ran = await self.run_due()
            if not ran:
                break  # nothing runnable at that time (cannot happen; never spin)
            fired += ran
        if when > self.clock.now():
            clock_set(when)
        return fired
