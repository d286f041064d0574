"""`circlebot backup PATH` / `restore PATH`: an online copy of a live SQLite database (its WAL
included), restored over a changed one; anything else is refused in one sentence, untouched."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from storage.db import Database
from tests.support import transcript

SETUP = """
:as ana admin
:in #cop-finger-lakes
/cop setup "Finger Lakes CoP" America/New_York
"""
SECOND = """
:as ana admin
:in #cop-hudson
/cop setup "Hudson Valley CoP" America/New_York
"""


def communities(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute("SELECT name FROM community ORDER BY id")]


def leftovers(folder: Path) -> list[str]:
    """Temporary files a backup left behind (none, once it is done)."""
    return [p.name for p in folder.iterdir() if p.name.endswith(".part")]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no .env of the repository's
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'circlebot.db'}")
    return tmp_path


async def test_backup_of_a_database_in_use_then_restore_over_a_changed_one(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = Database(f"sqlite:///{here / 'circlebot.db'}")
    try:
        await transcript(SETUP, db=db)
        # The app still holds its connections: the newest pages may be in the WAL only.
        assert (here / "circlebot.db-wal").exists()
        (here / "backup.db").write_bytes(b"yesterday's backup")  # replaced as a whole
        assert main(["backup", str(here / "backup.db")]) == 0
        out = capsys.readouterr().out
        assert out.startswith(f"circlebot: database backed up to {here / 'backup.db'} (")
        assert "the reflection key is not in it" in out
        assert communities(here / "backup.db") == ["Finger Lakes CoP"]
        assert not (here / "backup.db-wal").exists()
        assert leftovers(here) == []

        await transcript(SECOND, db=db)
        assert communities(here / "circlebot.db") == ["Finger Lakes CoP", "Hudson Valley CoP"]
    finally:
        await db.dispose()

    assert main(["restore", str(here / "backup.db")]) == 0
    assert capsys.readouterr().out == (
        f"circlebot: database restored from {here / 'backup.db'}; start circlebot again\n"
    )
    assert communities(here / "circlebot.db") == ["Finger Lakes CoP"]
    # The restored database works for the app: it opens, migrates (nothing to do) and serves.
    db = Database(f"sqlite:///{here / 'circlebot.db'}")
    await db.upgrade()
    lines = await transcript(SECOND, db=db)
    await db.dispose()
    assert any("Hudson Valley CoP" in line for line in lines)


async def test_what_is_not_a_circlebot_database_is_refused_and_nothing_changes(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = Database(f"sqlite:///{here / 'circlebot.db'}")
    await transcript(SETUP, db=db)
    await db.dispose()
    before = digest(here / "circlebot.db")

    (here / "notes.txt").write_text("not a database at all\n" * 10)
    with sqlite3.connect(here / "other.db") as conn:
        conn.execute("CREATE TABLE recipes (name TEXT)")
    refusals = {
        "notes.txt": f"circlebot: {here / 'notes.txt'} is not a SQLite database\n",
        "other.db": f"circlebot: {here / 'other.db'} is not a circlebot database "
        "(no alembic_version table)\n",
        "missing.db": f"circlebot: {here / 'missing.db'} does not exist or is not a file\n",
    }
    for name, said in refusals.items():
        assert main(["restore", str(here / name)]) == 1
        assert capsys.readouterr().err == said
    assert main(["restore", str(here / "circlebot.db")]) == 1
    assert "the database itself" in capsys.readouterr().err
    assert digest(here / "circlebot.db") == before
    assert communities(here / "circlebot.db") == ["Finger Lakes CoP"]


def test_postgresql_and_memory_databases_are_refused_in_one_sentence(
    here: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/circlebot")
    for command in ("backup", "restore"):
        assert main([command, str(here / "x.db")]) == 1
        assert capsys.readouterr().err == (
            "circlebot: backup and restore work on SQLite databases only; for PostgreSQL use "
            "pg_dump and pg_restore\n"
        )
    assert not (here / "x.db").exists()
    monkeypatch.setenv("DATABASE_URL", "sqlite:///:memory:")
    assert main(["backup", str(here / "x.db")]) == 1
    assert "in-memory" in capsys.readouterr().err
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{here / 'circlebot.db'}")
    assert main(["backup", str(here / "nowhere" / "x.db")]) == 1  # no database yet
    assert capsys.readouterr().err.endswith("does not exist or is not a file\n")
