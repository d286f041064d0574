"""Shared fixtures: databases (SQLite always, PostgreSQL where it answers), clocks, apps."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.ports import FakeClock
from storage.db import Database
from tests.support import copy_sqlite, migrated_memory_db, sqlite_template

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


def _create_database(admin_url: str, template: str | None = None) -> str:
    import psycopg

    name = f"circlebot_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        suffix = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{suffix}')
    return name


def _drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_url(name: str) -> str:
    return f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"


async def _migrate(url: str) -> None:
    database = Database(url)
    await database.upgrade()
    await database.dispose()


# Migrating a fresh database takes about half a second; the suite does it for nearly every
# test on two backends. So each test session migrates one template per backend with the
# real migrations, and a test's database starts as a copy of it (SQLite's backup API,
# PostgreSQL's CREATE DATABASE ... TEMPLATE). Migration tests ask for `empty_db_url`.


@pytest.fixture(scope="session")
def _sqlite_template() -> Path:
    return asyncio.run(sqlite_template())


@pytest.fixture(scope="session")
def _postgres_template(postgres_admin_url: str) -> Iterator[str]:
    name = _create_database(postgres_admin_url)
    try:
        asyncio.run(_migrate(_pg_url(name)))
        yield name
    finally:
        _drop_database(postgres_admin_url, name)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database URL, migrated to head: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "circlebot.db"
        copy_sqlite(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    admin = request.getfixturevalue("postgres_admin_url")
    name = _create_database(admin, template=request.getfixturevalue("_postgres_template"))
    try:
        yield _pg_url(name)
    finally:
        _drop_database(admin, name)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL (no tables): for tests of the migrations themselves."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'circlebot.db'}"
        return
    admin = request.getfixturevalue("postgres_admin_url")
    name = _create_database(admin)
    try:
        yield _pg_url(name)
    finally:
        _drop_database(admin, name)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """A migrated database on each backend."""
    database = Database(db_url)
    yield database
    await database.dispose()


@pytest.fixture
async def memory_db() -> AsyncIterator[Database]:
    database = await migrated_memory_db()
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 2, 14, 0, tzinfo=UTC))
