"""`circlebot doctor` as a real process against the loopback fakes: all good, then a refused
token, a database behind its migrations and an unreadable key, each said in plain words."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

import pytest

from bot.sealed import encode_key
from storage.db import Database
from tests.fakes.discord_fake import FakeDiscord
from tests.fakes.slack_fake import BOT_TOKEN, SIGNING_SECRET, FakeSlackWebAPI
from tests.support import CIRCLEBOT

KEY = encode_key(b"k" * 32)


async def doctor(env: dict[str, str], cwd: Path) -> tuple[int, list[str]]:
    process = await asyncio.create_subprocess_exec(
        str(CIRCLEBOT),
        "doctor",
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode().splitlines()


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    env.pop("REFLECTION_KEY", None)
    return {
        **env,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'circlebot.db'}",
        "REFLECTION_KEY_FILE": str(tmp_path / "circlebot.key"),
        **extra,
    }


async def migrated(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'circlebot.db'}")
    await db.upgrade()
    await db.dispose()


def line(lines: list[str], name: str) -> str:
    [found] = [x for x in lines if x[2:].startswith(f"{name}:")]
    return found


async def test_all_good_against_the_fakes_and_no_secret_printed(tmp_path: Path) -> None:
    await migrated(tmp_path)
    (tmp_path / "circlebot.key").write_text(KEY + "\n")
    async with FakeSlackWebAPI(valid_tokens={BOT_TOKEN}) as slack, FakeDiscord() as discord:
        env = base_env(
            tmp_path,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.base_url,
            DISCORD_TOKEN=discord.token,
            DISCORD_API_URL=discord.api_base,
        )
        code, lines = await doctor(env, tmp_path)
    assert code == 0, lines
    assert [x[:2] for x in lines[:-1]] == ["✓ "] * 6
    assert line(lines, "migrations").endswith("the database is at the code's latest revision")
    assert "bot user" in line(lines, "Slack") and "bot user circlebot" in line(lines, "Discord")
    assert line(lines, "reflection key").endswith("holds a 32-byte key")
    assert lines[-1] == "circlebot: all checks passed"
    out = "\n".join(lines)
    assert BOT_TOKEN not in out and discord.token not in out and KEY not in out
    assert SIGNING_SECRET not in out


async def test_refused_tokens_are_named_with_what_to_do(tmp_path: Path) -> None:
    await migrated(tmp_path)
    async with (
        FakeSlackWebAPI(valid_tokens={"xoxb-another-token"}) as slack,
        FakeDiscord(token="the-real-token") as discord,
    ):
        env = base_env(
            tmp_path,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.base_url,
            DISCORD_TOKEN="a-stale-token",
            DISCORD_API_URL=discord.api_base,
        )
        code, lines = await doctor(env, tmp_path)
    assert code == 1
    assert line(lines, "Slack") == (
        "✗ Slack: Slack refused SLACK_BOT_TOKEN (invalid_auth); copy the Bot User OAuth Token "
        "(xoxb-...) again from the app's OAuth & Permissions page"
    )
    assert line(lines, "Discord").startswith("✗ Discord: Discord refused DISCORD_TOKEN; copy")
    assert lines[-1] == "circlebot: 2 check(s) failed"
    assert BOT_TOKEN not in "\n".join(lines) and "a-stale-token" not in "\n".join(lines)


@pytest.mark.long  # two doctor processes
async def test_a_database_behind_its_migrations_and_an_empty_one(tmp_path: Path) -> None:
    await migrated(tmp_path)
    with sqlite3.connect(tmp_path / "circlebot.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0023' WHERE version_num = '0024'")
    code, lines = await doctor(base_env(tmp_path), tmp_path)
    assert code == 1
    found = line(lines, "migrations")
    assert found.startswith("✗ migrations: the database is behind the code (missing 0024")
    assert found.endswith("run `circlebot db upgrade`")
    assert line(lines, "database").startswith("✓ database: sqlite:///")

    (tmp_path / "circlebot.db").unlink()
    (tmp_path / "circlebot.db").touch()
    code, lines = await doctor(base_env(tmp_path), tmp_path)
    assert code == 1
    assert line(lines, "migrations") == (
        "✗ migrations: the database has no circlebot tables yet; run `circlebot db upgrade` "
        "(`circlebot run` does it too)"
    )


async def test_an_unreachable_database_and_a_damaged_key(tmp_path: Path) -> None:
    (tmp_path / "circlebot.key").write_text("not-a-key\n")
    env = base_env(tmp_path, DATABASE_URL="postgresql://circlebot:s3cret-pw@127.0.0.1:1/circlebot")
    code, lines = await doctor(env, tmp_path)
    assert code == 1
    database = line(lines, "database")
    assert database.startswith("✗ database: cannot open postgresql://circlebot:***@127.0.0.1:1/")
    assert database.endswith("check DATABASE_URL and that the database server is running")
    assert "s3cret-pw" not in "\n".join(lines)
    key = line(lines, "reflection key")
    assert key.startswith(f"✗ reflection key: {tmp_path / 'circlebot.key'} is not a key")
    assert "not-a-key" not in key


async def test_a_bad_setting_is_the_only_line(tmp_path: Path) -> None:
    code, lines = await doctor(base_env(tmp_path, LOG_LEVEL="LOUD"), tmp_path)
    assert code == 1
    assert lines == [
        "✗ configuration: setting LOG_LEVEL is invalid: must be DEBUG, INFO, WARNING or ERROR; "
        "fix it in .env or the environment (see .env.example)",
        "circlebot: 1 check(s) failed",
    ]


def test_a_key_file_the_process_cannot_read_is_reported(tmp_path: Path) -> None:
    from bot.config import load_settings
    from bot.doctor import check_key

    (tmp_path / "key").mkdir()  # a folder where the key file should be: reading it fails
    finding = check_key(load_settings(reflection_key_file=str(tmp_path / "key"), _env_file=None))
    assert not finding.ok
    assert finding.says == (
        f"cannot read {tmp_path / 'key'}; give the user running circlebot read access to it"
    )
    good = load_settings(reflection_key=encode_key(b"x" * 32), _env_file=None)
    assert check_key(good).says == "REFLECTION_KEY is set (32 bytes)"


REFLECTION = """
:as ana admin
:in #cop
/cop setup "Finger Lakes CoP" America/New_York
:as cara
/cop join
:as ana
/cop checkins add Weekly timing=schedule:"every Monday at 10:00" open=1d
/cop checkins question 1 add What did you notice?
/cop checkins open 1
:at 2026-11-02T15:00
:as cara
:in dm
:press Answer
:submit q1="The toddlers stayed with water play." privacy=private
"""


@pytest.mark.long  # two doctor processes
async def test_a_key_that_does_not_open_the_stored_reflections(tmp_path: Path) -> None:
    from sqlalchemy import select

    from bot.sealed import Sealer
    from storage.reflections import CheckinAnswer
    from tests.support import transcript

    db = Database(f"sqlite:///{tmp_path / 'circlebot.db'}")
    await db.upgrade()
    # The console seals with a key of its own: not the one in the key file.
    await transcript(REFLECTION, db=db)
    (tmp_path / "circlebot.key").write_text(KEY + "\n")
    code, lines = await doctor(base_env(tmp_path), tmp_path)
    assert code == 1
    assert lines[-2] == (
        "✗ reflection key: the key does not open the stored reflections (it is not the key "
        "they were sealed with); put back the key this deployment used, from your backup"
    )
    # Sealed with the key file's key, the same answer opens.
    async with db.session() as session:
        answer = (await session.execute(select(CheckinAnswer))).scalar_one()
        aad = f"reflection:{answer.id}:{answer.question}"
        answer.sealed = Sealer(b"k" * 32).seal("The toddlers stayed with water play.", aad)
    await db.dispose()
    code, lines = await doctor(base_env(tmp_path), tmp_path)
    assert code == 0, lines
    assert lines[-2] == "✓ reflection key: the key opens the stored reflections"
    assert "water play" not in "\n".join(lines)
