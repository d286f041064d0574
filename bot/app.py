"""Wires the database, clock, scheduler, outbox, dispatcher and adapters into one running bot."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from bot.commands import Registry
from bot.context import Services
from bot.dispatcher import Dispatcher
from bot.features import build_registry
from bot.outbox import DeliveryWorker, Outbox
from bot.ports import ChatAdapter, Clock, FakeClock
from bot.scheduling import APSchedulerScheduler, JobArg, ManualScheduler, Scheduler
from storage.db import Database

log = logging.getLogger(__name__)


class App:
    """The bot. `manual=True` drives the scheduler and delivery by hand (console scripts, tests)."""

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
    ) -> None:
        self.db = db
        self.clock = clock
        self.adapters = list(adapters)
        self.manual = manual
        self.registry = registry or build_registry()
        self.after_job = after_job
        self.outbox = Outbox(clock)
        self.worker = DeliveryWorker(db, {a.platform: a for a in self.adapters}, clock)
        self.scheduler: Scheduler
        if manual:
            if not isinstance(clock, FakeClock):
                raise ValueError("the manual scheduler needs a FakeClock")
            self.scheduler = ManualScheduler(db, clock, self.run_job)
        else:
            self.scheduler = APSchedulerScheduler(self.run_job, db.url)
        self.services = Services(
            db=db,
            clock=clock,
            outbox=self.outbox,
            scheduler=self.scheduler,
            registry=self.registry,
            wake_outbox=self.worker.wake,
            default_timezone=default_timezone,
        )
        self.dispatcher = Dispatcher(self.services)
        self._stop = asyncio.Event()
        self._worker_task: asyncio.Task[None] | None = None

    async def run_job(self, job_id: str, kind: str, args: list[JobArg]) -> None:
        """The scheduler's runner: job kinds map to feature handlers in the registry."""
        handler = self.registry.jobs.get(kind)
        if handler is None:
            log.warning("job %s has unknown kind %s; skipped", job_id, kind)
            return
        log.info("job %s running", job_id)
        await handler(self.services, *args)
        if self.manual:
            await self.worker.drain()
        else:
            self.worker.wake()
        if self.after_job is not None:
            await self.after_job(job_id)

    async def reconcile(self) -> None:
        """Re-create scheduled jobs from domain rows (idempotent: stable ids, replace_existing)."""
        for reconciler in self.registry.reconcilers:
            await reconciler(self.services)

    async def start(self, *, migrate: bool = True) -> None:
        """Migrate, reconcile jobs, start the scheduler, delivery and adapters."""
        if migrate:
            await self.db.upgrade()
        await self.reconcile()
        await self.scheduler.start()
        if not self.manual:
            self._worker_task = asyncio.create_task(self.worker.run_forever(self._stop))
        for adapter in self.adapters:
            await adapter.start(self.dispatcher.handle)

    async def stop(self) -> None:
        for adapter in self.adapters:
            try:
                await adapter.stop()
            except Exception:
                log.exception("stopping %s adapter failed", adapter.platform)
        self._stop.set()
        if self._worker_task is not None:
            await self._worker_task
        await self.scheduler.shutdown()
