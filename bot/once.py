"""Work that one instance does for all: a PostgreSQL advisory lock per task, named by a key.

Several instances share one PostgreSQL database and need no leader: due jobs and outbox rows
are claimed row by row (``FOR UPDATE SKIP LOCKED``), so each is done once. A few things are
not rows: the migrations at start, the start-up reconcile and Discord's command sync. Each
takes a transaction-level advisory lock (``pg_try_advisory_xact_lock``) under its own key
for as long as it runs; an instance that finds the lock taken skips the task (another one
is doing it), or, with ``wait=True`` (migrations), waits and then finds nothing left to do.
The lock lives in an open transaction on its own connection, so it ends with that
transaction, also when the process dies: a crashed instance never leaves a task locked.

SQLite is one process's file: `once` always runs the body there.

Retention and the other nightly work need no lock: they are jobs in the job table
(``reflections.retention:{community}``, the replay-mark sweep), claimed like any job.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol, runtime_checkable

from sqlalchemy import text

from storage.db import Database

log = logging.getLogger(__name__)

# One key per task (any 64-bit number, the same in every instance and version): "cb" then a
# task number, so they do not collide with locks another application takes on that server.
MIGRATE = 0x6362_0001
RECONCILE = 0x6362_0002
COMMAND_SYNC = 0x6362_0003


@asynccontextmanager
async def once(db: Database, key: int, *, wait: bool = False) -> AsyncIterator[bool]:
    """Hold the lock named `key` while the body runs; yields whether this instance holds it.

    Without `wait` a lock another instance holds is not waited for (the body sees False and
    should skip its task); with it the body runs once the other instance is done.
    """
    if db.dialect != "postgresql":
        yield True
        return
    async with db.engine.connect() as conn, conn.begin():
        if wait:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
            held = True
        else:
            found = await conn.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key})
            held = bool(found)
        if not held:
            log.info("lock %#x is held by another instance", key)
        # Committing (or the connection closing) gives the lock back.
        yield held


@runtime_checkable
class SyncsOnce(Protocol):
    """An adapter with a start-up task that one instance does for all (Discord's command
    sync): the app gives it `sync_lock`, `once` bound to the database and the task's key."""

    sync_lock: Callable[[], AbstractAsyncContextManager[bool]] | None
