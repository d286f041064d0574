"""Wires the database, clock, job runner, outbox, dispatcher and adapters into one running bot."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from bot.audience import Audiences
from bot.commands import Registry
from bot.context import Services
from bot.dispatcher import Dispatcher
from bot.features import build_registry
from bot.job_groups import run_group
from bot.jobs import Claimed, JobRunner
from bot.metrics import Metrics
from bot.once import COMMAND_SYNC, MIGRATE, RECONCILE, SyncsOnce, once
from bot.outbox import DeliveryWorker, Outbox
from bot.ports import ChatAdapter, Clock, FakeClock, Monitored
from bot.sealed import Sealer
from storage.db import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    """How many transactions each kind of work may hold at once.

    On PostgreSQL the three add up to the pool's size (`storage.db.POOL_SIZE`), so a burst
    of clicks, a thousand reminders due in one minute and a fan-out together never wait
    for a connection longer than the pool timeout; they queue in the app instead. On
    SQLite transactions run one at a time anyway; the limits only bound the queue.
    """

    interactions: int
    jobs: int
    delivery: int
    # Due jobs run this many to a transaction (`bot.job_groups`). On SQLite an interaction
    # may wait for one group: a group of reminders holds the writer for tens of milliseconds.
    job_group: int = 16

    @classmethod
    def for_database(cls, db: Database) -> Limits:
        if db.serialised:
            return cls(interactions=8, jobs=4, delivery=2)
        size = db.pool_size
        jobs = max(1, size // 4)
        delivery = max(1, size // 6)
        return cls(interactions=max(1, size - jobs - delivery), jobs=jobs, delivery=delivery)


class App:
    """The bot. `manual=True` runs jobs and delivery only when asked (console scripts, tests)."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        adapters: Sequence[ChatAdapter],
        *,
        manual: bool = False,
        default_timezone: str = "UTC",
        registry: Registry | None = None,
        after_job: Callable[[str], Awaitable[None]] | None = None,
        limits: Limits | None = None,
        sealer: Sealer | None = None,
    ) -> None:
        if manual and not isinstance(clock, FakeClock):
            raise ValueError("manual mode needs a FakeClock")
        self.db = db
        self.clock = clock
        self.adapters = list(adapters)
        self.manual = manual
        self.registry = registry or build_registry()
        self.limits = limits or Limits.for_database(db)
        # Without a key (tests, a throwaway console) private text is sealed with a fresh one.
        sealer = sealer or Sealer.generate()
        # What /metrics shows (`bot.metrics`): one registry per app, never a global one.
        self.metrics = Metrics()
        for adapter in self.adapters:
            if isinstance(adapter, Monitored):
                adapter.on_rate_limited = partial(self.metrics.rate_limit, adapter.platform)
            if isinstance(adapter, SyncsOnce):
                # Several instances (shards) sync the same commands: one does it for all.
                adapter.sync_lock = partial(once, db, COMMAND_SYNC)
        self.outbox = Outbox(clock, sealer)
        self.worker = DeliveryWorker(
            db,
            {a.platform: a for a in self.adapters},
            clock,
            db_slots=self.limits.delivery,
            sealer=sealer,
            metrics=self.metrics,
        )
        self.services = Services(
            db=db,
            clock=clock,
            outbox=self.outbox,
            registry=self.registry,
            wake_outbox=self.worker.wake,
            default_timezone=default_timezone,
            capabilities={a.platform: a.capabilities for a in self.adapters},
            audiences=Audiences({a.platform: a for a in self.adapters}),
            sealer=sealer,
            metrics=self.metrics,
        )
        self.dispatcher = Dispatcher(self.services, concurrency=self.limits.interactions)
        # Manual runs go one job at a time, so scripts and tests see a fixed order.
        self.jobs = JobRunner(
            db,
            clock,
            self.dispatcher.run_job,
            concurrency=1 if manual else self.limits.jobs,
            metrics=self.metrics,
            # Manual runs keep one transaction a job, in a fixed order, for scripts and tests.
            execute_group=None if manual else partial(run_group, self.dispatcher),
            group=self.limits.job_group,
        )
        self.services.wake_jobs = self.jobs.wake
        self.jobs.observers.append(self._after_job)
        self.after_job = after_job
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        # The two loops /healthz watches (`bot.ops`), by name, once started.
        self.loops: dict[str, asyncio.Task[None]] = {}
        self.reconciled = asyncio.Event()

    async def _after_job(self, job: Claimed) -> None:
        if self.manual:
            await self.worker.drain()
        if self.after_job is not None:
            await self.after_job(job.id)

    async def reconcile(self) -> None:
        """Repair jobs from domain rows (idempotent, incremental; needed after upgrades)."""
        started = time.monotonic()
        # Several instances starting together: one reconciles, the others skip (`bot.once`).
        async with once(self.db, RECONCILE) as mine:
            if mine:
                for reconciler in self.registry.reconcilers:
                    try:
                        await reconciler(self.services)
                    except Exception:
                        log.exception("a reconciler failed; the others still run")
        self.jobs.wake()
        self.reconciled.set()
        if mine:
            log.info("reconcile finished in %.1f s", time.monotonic() - started)
        else:
            log.info("reconcile skipped: another instance is reconciling")

    async def start(self, *, migrate: bool = True) -> None:
        """Migrate, then serve at once: adapters, jobs and delivery; reconcile in the background.

        Jobs are rows written with their cause, so nothing has to be re-planned before the
        adapters answer; reconciling only repairs what an upgrade left missing.
        """
        if migrate:
            # Instances starting together migrate one after the other (the later ones find
            # nothing left to do) instead of racing on the same DDL.
            async with once(self.db, MIGRATE, wait=True):
                await self.db.upgrade()
        if self.manual:
            await self.reconcile()
        else:
            self.loops["jobs"] = asyncio.create_task(self.jobs.run_forever(self._stop))
            self._tasks.append(self.loops["jobs"])
        for adapter in self.adapters:
            await adapter.start(self.dispatcher.handle)
        if not self.manual:
            # Delivery waits for the adapters: an API still out of reach (bot.reach) keeps
            # messages pending in the outbox instead of spending their attempts.
            self.loops["outbox"] = asyncio.create_task(self.worker.run_forever(self._stop))
            self._tasks.append(self.loops["outbox"])
            self._tasks.append(asyncio.create_task(self.reconcile()))

    async def stop(self) -> None:
        for adapter in self.adapters:
            try:
                await adapter.stop()
            except Exception:
                log.exception("stopping %s adapter failed", adapter.platform)
        self._stop.set()
        self.jobs.wake()
        self.worker.wake()
        for task in self._tasks:
            try:
                await asyncio.wait_for(task, 10)
            except Exception:
                log.exception("a background task did not stop cleanly")
        self._tasks.clear()

    # -- manual driving (console scripts, tests) ---------------------------------------------

    async def advance_to(self, when: datetime) -> int:
        """Move the fake clock to `when`, running every job due on the way in time order."""
        clock = self.clock
        assert isinstance(clock, FakeClock), "advance_to needs a FakeClock"
        fired = await self.jobs.advance_to(clock.set, when)
        if self.manual:
            await self.worker.drain()
        return fired

    async def advance(self, delta: timedelta) -> int:
        return await self.advance_to(self.clock.now() + delta)

    async def run_due(self) -> int:
        """Run the jobs due now (manual mode), then deliver what they queued."""
        fired = await self.jobs.run_due()
        if self.manual:
            await self.worker.drain()
        return fired
