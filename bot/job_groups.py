"""Several due jobs in one transaction: a thousand reminders due in one minute, fast.

Each job in its own transaction costs a transaction's fixed price per job (a session, the
community read twice, BEGIN and COMMIT, on SQLite the writer lock taken and given back) and
that price is most of a reminder's. `run_group` runs a small group of claimed jobs one after
the other in ONE transaction, each in its own `Context`, each completed (its row deleted) in
that transaction after its handler: a job's outbox rows and its completion still commit
together, and the group commits all or nothing. The communities the group needs are read
in one query first, and their audiences warmed together before the transaction opens.

Should any handler of the group fail, the whole group rolls back and the runner runs each
of its jobs alone (`Dispatcher.run_job`), so one bad job is retried on its own and never
holds the others back, and nothing is done twice (the rolled-back group left nothing).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from sqlalchemy import select
from sqlmodel import col

from bot.context import Context, channel_of
from bot.dispatcher import CORE_JOBS, Dispatcher, UnknownJobKind
from bot.i18n import translator
from bot.jobs import Claimed, complete
from bot.languages import community_language
from storage.models import Community

log = logging.getLogger(__name__)


async def run_group(dispatcher: Dispatcher, jobs: Sequence[Claimed]) -> None:
    """Run `jobs` in one transaction, each completed in it; raises (rolling all back) on
    the first failure."""
    if len(jobs) == 1:
        await dispatcher.run_job(jobs[0])
        return
    services = dispatcher.services
    handlers = []
    for job in jobs:
        handler = dispatcher.registry.jobs.get(job.kind) or CORE_JOBS.get(job.kind)
        if handler is None:
            raise UnknownJobKind(job.kind)
        handlers.append(handler)
    ids = sorted({job.community_id for job in jobs if job.community_id is not None})
    if ids:
        async with services.db.session() as session:
            found = (
                await session.execute(select(Community).where(col(Community.id).in_(ids)))
            ).scalars()
            channels = {channel_of(c) for c in found}
        await asyncio.gather(*(services.audiences.warm(channel) for channel in channels))
    scheduled = False
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
    if scheduled:
        services.wake_jobs()
    services.wake_outbox()
