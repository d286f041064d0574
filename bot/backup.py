"""`circlebot backup PATH` / `circlebot restore PATH` for a SQLite database.

Both use SQLite's online backup API (`sqlite3.Connection.backup`), which copies a consistent
snapshot page by page while the database is in use, WAL included; a plain file copy of a
live WAL database can miss its last transactions. A backup is written to a temporary file
beside PATH and renamed over it when complete, so PATH is never half written. A restore
first checks that PATH is a circlebot database (SQLite, with circlebot's tables, intact),
then copies it into the configured database in one SQLite transaction: a failure leaves
the database as it was. Stop circlebot before restoring; it migrates an older backup at its
next start. PostgreSQL has its own tools (``pg_dump``/``pg_restore``), so it is refused.
The reflection key is not in the database: back up the key file separately.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.db import is_memory_sqlite

log = logging.getLogger(__name__)

SQLITE_MAGIC = b"SQLite format 3\x00"
#: Tables every circlebot database has (migrations' bookkeeping and the core's first table).
CIRCLEBOT_TABLES = ("alembic_version", "community", "job", "outbox")


class BackupRefused(Exception):
    """One sentence saying why nothing was copied."""


def sqlite_file(url: str) -> Path:
    """The SQLite file of DATABASE_URL; `BackupRefused` for PostgreSQL or in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise BackupRefused(
            "backup and restore work on SQLite databases only; for PostgreSQL use "
            "pg_dump and pg_restore"
        )
    if is_memory_sqlite(url) or not parsed.database:
        raise BackupRefused("an in-memory database has nothing to back up or restore")
    return Path(parsed.database)


def _check_circlebot(path: Path) -> None:
    """Refuse anything that is not an intact circlebot SQLite database."""
    if not path.is_file():
        raise BackupRefused(f"{path} does not exist or is not a file")
    try:
        with path.open("rb") as head:
            magic = head.read(len(SQLITE_MAGIC))
    except OSError as err:
        raise BackupRefused(f"cannot read {path}: {err.strerror}") from None
    if magic != SQLITE_MAGIC:
        raise BackupRefused(f"{path} is not a SQLite database")
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            missing = [t for t in CIRCLEBOT_TABLES if t not in names]
            if missing:
                raise BackupRefused(f"{path} is not a circlebot database (no {missing[0]} table)")
            if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupRefused(f"{path} is damaged (SQLite's quick check failed)")
    except sqlite3.DatabaseError as err:
        raise BackupRefused(f"{path} cannot be read as a database ({err})") from None


def backup(url: str, target: Path) -> int:
    """Copy the database of `url` to `target` (atomically); returns the bytes written."""
    source = sqlite_file(url)
    _check_circlebot(source)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise BackupRefused(f"folder {folder} does not exist")
    if target.resolve() == source.resolve():
        raise BackupRefused("the backup must go to another file than the database itself")
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    os.close(fd)
    try:
        with (
            closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src,
            closing(sqlite3.connect(temp)) as dst,
        ):
            src.backup(dst)
            # One self-contained file: no WAL beside it.
            dst.execute("PRAGMA journal_mode=DELETE")
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    log.info("backup written (%d bytes)", target.stat().st_size)
    return target.stat().st_size


def restore(url: str, source: Path) -> None:
    """Replace the database of `url` with the circlebot database in `source`."""
    target = sqlite_file(url)
    _check_circlebot(source)
    if target.exists() and target.resolve() == source.resolve():
        raise BackupRefused("that file is the database itself; nothing to restore")
    if not target.parent.is_dir():
        raise BackupRefused(f"folder {target.parent} does not exist")
    # The backup API copies every page inside one transaction of the destination: readers see
    # the old database or the new one, and an interrupted restore leaves the old one.
    with (
        closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src,
        closing(sqlite3.connect(target, timeout=10)) as dst,
    ):
        src.backup(dst)
    log.info("database restored from a backup")
