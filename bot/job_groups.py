"""Several due jobs in one transaction: a thousand reminders due in one minute, fast.

Each job in its own transaction costs a transaction's fixed price per job (a session, the
community read twice, BEGIN and COMMIT, on SQLite the writer lock taken and given back) and
that price is most of a reminder's. `run_group` runs a small group of claimed jobs one after
the other in one transaction (a new one once `BUDGET` is spent), each in its own `Context`,
each completed (its row deleted) in that transaction after its handler: a job's outbox rows
and its completion still commit together. The communities the group needs are read in one
query first, and their audiences warmed together before any transaction opens.

Should a handler fail, its transaction rolls back and `GroupFailed` says how many jobs had
committed before it; the runner runs each of the others alone (`Dispatcher.run_job`), so one
bad job is retried on its own, never holds the others back, and nothing is done twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from bot.context import Context, channel_of
from bot.dispatcher import CORE_JOBS, Dispatcher, UnknownJobKind
from bot.i18n import translator
from bot.jobs import Claimed, complete
from bot.languages import community_language
from storage.models import Community

log = logging.getLogger(__name__)

JobHandler = Callable[..., Awaitable[Any]]

# A transaction takes no further job once it has run this long (seconds): on SQLite an
# interaction waits for one transaction at most, so a slow job never holds it up for a
# whole group; the group's remaining jobs go on in the next transaction.
BUDGET = 0.1


class GroupFailed(Exception):
    """A job of the group failed: the jobs before `committed` were committed, the rest not."""

    def __init__(self, committed: int, cause: BaseException) -> None:
        super().__init__(f"{committed} committed, then {type(cause).__name__}")
        self.committed = committed
        self.cause = cause


async def run_group(dispatcher: Dispatcher, jobs: Sequence[Claimed]) -> None:
    """Run `jobs` in order, as few transactions as `BUDGET` allows, each job completed in its
    transaction; raises `GroupFailed` (the failing transaction rolled back) on a failure."""
    if len(jobs) == 1:
        try:
            await dispatcher.run_job(jobs[0])
        except Exception as exc:
            raise GroupFailed(0, exc) from exc
        return
    services = dispatcher.services
    handlers = []
    for job in jobs:
        handler = dispatcher.registry.jobs.get(job.kind) or CORE_JOBS.get(job.kind)
        if handler is None:
            raise GroupFailed(0, UnknownJobKind(job.kind))
        handlers.append(handler)
    ids = sorted({job.community_id for job in jobs if job.community_id is not None})
    if ids:
        async with services.db.session() as session:
            found = (
                await session.execute(select(Community).where(col(Community.id).in_(ids)))
            ).scalars()
            channels = {channel_of(c) for c in found}
        await asyncio.gather(*(services.audiences.warm(channel) for channel in channels))
    done = 0
    while done < len(jobs):
        try:
            done += await _transaction(dispatcher, jobs[done:], handlers[done:], ids)
        except Exception as exc:
            raise GroupFailed(done, exc) from exc


async def _transaction(
    dispatcher: Dispatcher, jobs: Sequence[Claimed], handlers: Sequence[JobHandler], ids: list[int]
) -> int:
    """Run jobs from the start of `jobs` in one transaction until `BUDGET` is spent; how many."""
    services = dispatcher.services
    scheduled, ran = False, 0
    began = time.monotonic()
    async with services.db.session() as session:
        # One read puts every community of the group in the session: `get` then finds it.
        communities = {
            c.id: c
            for c in (
                await session.execute(select(Community).where(col(Community.id).in_(ids)))
            ).scalars()
        }
        for job, handler in zip(jobs, handlers, strict=True):
            ctx = Context(services, session, job=job)
            community = communities.get(job.community_id) if job.community_id else None
            if community is not None:
                ctx.community = community
                ctx.t = ctx.t_channel = translator(community_language(community))
            log.info("job %s running", job.id)
            await handler(ctx, *job.args)
            await complete(session, job)
            scheduled = scheduled or bool(ctx.scheduled)
            ran += 1
            if time.monotonic() - began >= BUDGET:
                break
    if scheduled:
        services.wake_jobs()
    services.wake_outbox()
    return ran
