"""Start-up mistakes end in one line on stderr and a non-zero exit, never a traceback.

Each case runs the real `circlebot` process; nothing listens on the ports used for the
unreachable database (a port bound and released just before). A platform API out of reach
is not a mistake but a network to wait for: tests/test_unreachable_at_start.py.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support import CIRCLEBOT, free_port


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DISCORD_", "DATABASE_", "LOG_", "DEFAULT_"))
    }
    env.update(LOG_LEVEL="WARNING", **extra)
    return env


def _run(cwd: Path, env: dict[str, str], *args: str) -> tuple[int, list[str], str]:
    result = subprocess.run(
        [str(CIRCLEBOT), *(args or ("run",))],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    return result.returncode, result.stderr.strip().splitlines(), result.stdout


def _one_line(stderr: list[str], expected: str) -> None:
    assert len(stderr) == 1, stderr
    assert stderr[0].startswith(f"circlebot: {expected}"), stderr[0]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {"SLACK_APP_TOKEN": "xapp-1-secret"},
            "Slack is not fully configured: SLACK_APP_TOKEN is set without SLACK_BOT_TOKEN",
        ),
        (
            {"SLACK_SIGNING_SECRET": "secret"},
            "Slack is not fully configured: SLACK_SIGNING_SECRET is set without SLACK_BOT_TOKEN",
        ),
        (
            {"SLACK_CLIENT_ID": "1.2", "SLACK_SIGNING_SECRET": "secret"},
            "Slack is not fully configured: SLACK_CLIENT_ID is set without SLACK_CLIENT_SECRET",
        ),
        (
            {"SLACK_CLIENT_SECRET": "secret"},
            "Slack is not fully configured: SLACK_CLIENT_SECRET is set without SLACK_CLIENT_ID",
        ),
    ],
)
def test_half_a_slack_configuration_is_refused(
    tmp_path: Path, settings: dict[str, str], expected: str
) -> None:
    code, stderr, stdout = _run(tmp_path, _env(**settings))
    assert code == 2
    _one_line(stderr, expected)
    assert "console" not in stdout  # the console did not start instead
    assert "secret" not in "\n".join(stderr)


def test_a_sqlite_file_in_a_missing_folder(tmp_path: Path) -> None:
    url = "sqlite:///./no-such-folder/circlebot.db"
    for args in (("run",), ("db", "upgrade"), ("jobs",)):
        code, stderr, stdout = _run(tmp_path, _env(DATABASE_URL=url), *args)
        assert code == 1, args
        _one_line(stderr, "cannot open the SQLite database: folder no-such-folder does not exist")
        assert "console" not in stdout


def test_a_postgresql_server_refusing_connections(tmp_path: Path) -> None:
    url = f"postgresql://postgres:hunter2@127.0.0.1:{free_port()}/circlebot"
    code, stderr, _ = _run(tmp_path, _env(DATABASE_URL=url))
    assert code == 1
    _one_line(stderr, "cannot open the database: connection failed:")
    assert "Connection refused" in stderr[0] and "hunter2" not in stderr[0]


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda env: env.mkdir(), ".env is a folder"),
        (lambda env: env.symlink_to(env.parent / "gone"), ".env is a link to a file that"),
        (lambda env: env.write_bytes(b"DEFAULT_TIMEZONE=Am\xe9rica\n"), ".env is not UTF-8"),
    ],
    ids=["folder", "dangling-link", "not-utf8"],
)
def test_an_unusable_dotenv_is_not_ignored(tmp_path: Path, make: object, expected: str) -> None:
    assert callable(make)
    make(tmp_path / ".env")
    code, stderr, stdout = _run(tmp_path, _env())
    assert code == 2
    _one_line(stderr, expected)
    assert "console" not in stdout
