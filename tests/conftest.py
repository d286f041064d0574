"""Shared fixtures: databases (SQLite always, PostgreSQL where it answers), clocks, apps."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest

from bot.ports import FakeClock
from storage.db import Database

PG_HOST, PG_PORT = "127.0.0.1", 5432


def _postgres_answers() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    if not _postgres_answers():
        pytest.skip("PostgreSQL does not answer on 127.0.0.1:5432")
    return f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres"


def _throwaway_postgres(admin_url: str) -> Iterator[str]:
    import psycopg

    name = f"circlebot_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A fresh, empty database URL: a SQLite file, then a throwaway PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'circlebot.db'}"
        return
    admin = request.getfixturevalue("postgres_admin_url")
    yield from _throwaway_postgres(admin)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """A migrated database on each backend."""
    database = Database(db_url)
    await database.upgrade()
    yield database
    await database.dispose()


@pytest.fixture
async def memory_db() -> AsyncIterator[Database]:
    database = Database("sqlite:///:memory:")
    await database.upgrade()
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 2, 14, 0, tzinfo=UTC))
