"""The database: an async engine from DATABASE_URL, sessions, and migrations.

SQLite (the default) gets WAL and foreign keys on every connection; an in-memory
SQLite database keeps one shared connection so every session sees the same data.
SQLite allows one writer at a time, so the app serialises its transactions itself (one
session at a time, in arrival order) instead of leaving it to lock timeouts. PostgreSQL
URLs work unchanged (psycopg 3 serves both async and sync use); its pool is sized
deliberately, and the app's concurrency limits are derived from that size.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"

# PostgreSQL pool: POOL_SIZE connections kept open plus POOL_OVERFLOW on demand. The app
# divides POOL_SIZE between interactions, jobs and delivery (see `Limits` in bot.app) so
# that the sum of its concurrency limits never exceeds it; the overflow is headroom for
# the Slack OAuth stores and start-up work. A wait for a connection longer than
# POOL_TIMEOUT seconds is a transient error, retried before anyone is told anything.
POOL_SIZE = 12
POOL_OVERFLOW = 4
POOL_TIMEOUT = 10.0


class NestedSessionError(RuntimeError):
    """A session was opened inside another on SQLite, which would wait for itself forever."""


def is_transient(exc: BaseException) -> bool:
    """A database error worth retrying: locks, pool waits, lost connections, conflicts.

    A unique-key conflict counts too: it means a simultaneous transaction wrote the same
    row first (two first clicks of one member), and a retry sees that row.
    """
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.IntegrityError):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        if isinstance(exc, sa_exc.OperationalError):
            return True
        code = getattr(exc.orig, "sqlstate", None)
        # serialization_failure, deadlock_detected, lock_not_available
        return code in ("40001", "40P01", "55P03")
    return False


def async_url(url: str) -> URL:
    """`sqlite:///x.db` -> aiosqlite, `postgresql://` -> psycopg; explicit drivers are kept."""
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        return parsed.set(drivername="sqlite+aiosqlite")
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        return parsed.set(drivername="postgresql+psycopg")
    return parsed


def sync_url(url: str) -> URL:
    """The same database for synchronous users (Alembic, APScheduler's job store)."""
    parsed = async_url(url)
    if parsed.drivername == "sqlite+aiosqlite":
        return parsed.set(drivername="sqlite")
    if parsed.drivername == "postgresql+asyncpg":
        return parsed.set(drivername="postgresql+psycopg")
    return parsed


def is_memory_sqlite(url: str) -> bool:
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


def _sqlite_pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL syncs at checkpoints, not at every commit: a power cut may lose the
    # last commits but never corrupts the database; an application crash loses nothing.
    # FULL (the default) costs one fsync per transaction, the bulk of a small job's time.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class Database:
    """Owns the async engine; hand it to whatever needs the database."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        aurl = async_url(url)
        kwargs: dict[str, object] = {"echo": echo}
        self.pool_size = POOL_SIZE
        if aurl.get_backend_name() == "sqlite":
            if is_memory_sqlite(url):
                kwargs |= {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
        else:
            kwargs |= {
                "pool_pre_ping": True,
                "pool_size": POOL_SIZE,
                "max_overflow": POOL_OVERFLOW,
                "pool_timeout": POOL_TIMEOUT,
            }
        self.engine: AsyncEngine = create_async_engine(aurl, **kwargs)
        if aurl.get_backend_name() == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # One writer at a time on SQLite; None on PostgreSQL, which has row locks.
        self._writer: asyncio.Lock | None = (
            asyncio.Lock() if aurl.get_backend_name() == "sqlite" else None
        )
        self._owner: asyncio.Task[object] | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def serialised(self) -> bool:
        """True when transactions run one at a time (SQLite)."""
        return self._writer is not None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits on success and rolls back on error.

        On SQLite the whole transaction holds the app's writer lock. Opening a session
        inside another would then wait for itself, so it is refused loudly instead.
        """
        if self._writer is None:
            async with self._sessions() as session, session.begin():
                yield session
            return
        task = asyncio.current_task()
        if self._writer.locked() and self._owner is task:
            raise NestedSessionError("a database session was opened inside another")
        async with self._writer:
            self._owner = task
            try:
                async with self._sessions() as session, session.begin():
                    yield session
            finally:
                self._owner = None

    async def upgrade(self, revision: str = "heads") -> None:
        """Run Alembic migrations on this database (also for in-memory SQLite).

        "heads": features add their tables as branches off the core revision.
        """
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade, revision)

    async def dispose(self) -> None:
        await self.engine.dispose()


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", sync_url(url).render_as_string(hide_password=False))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)
