"""Configuration: a bad setting stops start-up with one line naming it, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import SettingsError, load_settings

CIRCLEBOT = Path(sys.executable).parent / "circlebot"


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DISCORD_", "DATABASE_", "LOG_", "DEFAULT_"))
    }
    env.update(extra)
    return env


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DATABASE_URL", "not a url", "setting DATABASE_URL is invalid: must be a database URL"),
        ("DATABASE_URL", "mysql://x/y", "setting DATABASE_URL is invalid: must be a sqlite"),
        ("DEFAULT_TIMEZONE", "Mars/Base", "setting DEFAULT_TIMEZONE is invalid: must be an IANA"),
        (
            "SLACK_BOT_TOKEN",
            "xoxp-secret-123",
            "setting SLACK_BOT_TOKEN is invalid: must be a bot token",
        ),
        ("SLACK_HTTP_PORT", "99999", "setting SLACK_HTTP_PORT is invalid"),
        ("LOG_LEVEL", "LOUD", "setting LOG_LEVEL is invalid: must be DEBUG"),
    ],
)
def test_bad_settings_stop_start_up_with_one_line(
    tmp_path: Path, name: str, value: str, expected: str
) -> None:
    result = subprocess.run(
        [str(CIRCLEBOT), "run"],
        env=_clean_env(**{name: value}),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"circlebot: {expected}")
    assert "Traceback" not in result.stderr
    assert "secret" not in result.stderr  # values are never echoed


def test_settings_come_from_a_dotenv_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(("SLACK_", "DISCORD_", "DATABASE_", "DEFAULT_")):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "DEFAULT_TIMEZONE=America/Chicago\nDATABASE_URL=sqlite:///x.db\n"
    )
    settings = load_settings()
    assert settings.default_timezone == "America/Chicago"
    assert settings.database_url == "sqlite:///x.db"
    assert not settings.slack_enabled and not settings.discord_enabled
    with pytest.raises(SettingsError, match="DEFAULT_TIMEZONE"):
        load_settings(default_timezone="Nowhere/Land")


def test_env_example_documents_every_setting() -> None:
    from bot.config import Settings

    example = (Path(__file__).resolve().parent.parent / ".env.example").read_text()
    lines = example.splitlines()
    for field in Settings.model_fields:
        key = field.upper()
        assert any(line.lstrip("# ").startswith(f"{key}=") for line in lines), key
        index = next(i for i, line in enumerate(lines) if line.lstrip("# ").startswith(f"{key}="))
        assert lines[index - 1].startswith("#"), f"{key} has no comment above it"
