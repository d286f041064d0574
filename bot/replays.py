"""Platform requests already handled, remembered in the database so a copy has no second effect.

Slack re-sends an Events API request that was not acknowledged in 3 seconds, a captured signed
request stays valid for the 5-minute signature window, and a Discord gateway resume can hand
the same interaction over again. Each incoming event names its request (`Delivered.delivery`);
the dispatcher marks that key in ``seen_request`` inside the transaction of the request's
effect. The mark commits with the effect or not at all: a first attempt that rolled back
leaves no mark and a retry runs, and a copy that finds the mark does nothing. The table is
shared by every instance, and outlives restarts. A durable job forgets marks after `WINDOW`.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import SeenRequest

if TYPE_CHECKING:
    from bot.context import Context

log = logging.getLogger(__name__)

#: How long a request is remembered. Slack's signature check accepts a timestamp up to
#: 5 minutes from the receiver's clock either way, so a request is replayable for at most
#: 5 minutes plus the clock difference between Slack and us (kept under 5 minutes here);
#: Slack's own retries (immediately, after 1 and after 5 minutes) fall inside too. Discord
#: hands an interaction over only while its 3-second answer window is open (a gateway resume
#: replays minutes at most; the token itself dies after 15 minutes and nothing can be done
#: with a stale interaction). 10 minutes covers all of these.
WINDOW = timedelta(minutes=10)
#: How often expired marks are deleted: a mark lives between WINDOW and WINDOW + SWEEP_EVERY.
SWEEP_EVERY = timedelta(minutes=5)
SWEEP_JOB = "core:forget-requests"
SWEEP_KIND = "core.forget_requests"
MAX_KEY = 200  # seen_request.key


def delivery_key(kind: str, *parts: object) -> str:
    """``<kind>:<digest of parts>``: stable for one request, and naming nothing in it.

    The parts of a click are who pressed which button ("vote:cast:POLL:OPTION"); an anonymous
    poll's voter must never be linked to a choice outside the ballot table, so only a digest
    is stored.
    """
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:40]
    return f"{kind}:{digest}"[:MAX_KEY]


def kind_of(key: str) -> str:
    """The key without the request's own identity (``slack:action``), for logs."""
    return key.rsplit(":", 1)[0] if key.count(":") >= 2 else key.split(":", 1)[0]


async def first_time(session: AsyncSession, key: str, now: datetime) -> bool:
    """Mark `key` in this transaction; False when it was already marked (a copy).

    The insert does nothing on a conflict. On PostgreSQL a copy racing the first attempt
    waits here for that transaction: when it commits the copy sees a conflict; when it rolls
    back the copy's insert goes through and the copy runs instead.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # RETURNING, not rowcount: psycopg's async cursor reports -1 for this insert.
    result = await session.execute(
        insert(SeenRequest)
        .values(key=key[:MAX_KEY], seen_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(col(SeenRequest.key))
    )
    return result.scalar_one_or_none() is not None


async def forget_expired(ctx: Context) -> None:
    """The sweep job: delete marks older than the window, and come back later."""
    cutoff = ctx.now - WINDOW
    result = await ctx.session.execute(delete(SeenRequest).where(col(SeenRequest.seen_at) < cutoff))
    gone = getattr(result, "rowcount", -1)  # -1 where the driver does not say
    if gone > 0:
        log.info("forgot %d handled requests older than %s", gone, WINDOW)
    await ctx.schedule.at(SWEEP_JOB, ctx.now + SWEEP_EVERY, SWEEP_KIND, community_id=None)


async def ensure_sweep(ctx: Context) -> None:
    """Schedule the sweep job unless it is waiting already (it reschedules itself)."""
    if await ctx.schedule.next_run(SWEEP_JOB) is None:
        await ctx.schedule.at(SWEEP_JOB, ctx.now + SWEEP_EVERY, SWEEP_KIND, community_id=None)
