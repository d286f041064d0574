"""The `circlebot` command itself: its version, and a start-up log without noise."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from importlib.metadata import version
from pathlib import Path

from tests.fakes.discord_fake import FakeDiscord
from tests.fakes.slack_fake import (
    FakeSlackWebAPI,
    encode_for_http,
    post_signed,
    slash_command_payload,
)
from tests.support import CIRCLEBOT, free_port, slack_http_env


def test_version_comes_from_the_package_metadata() -> None:
    result = subprocess.run(
        [str(CIRCLEBOT), "--version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"circlebot {version('circlebot')}"


async def _stop(proc: asyncio.subprocess.Process) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        _out, err = await asyncio.wait_for(proc.communicate(), 15)
    except TimeoutError:
        proc.kill()
        _out, err = await proc.communicate()
    return err.decode()


async def test_slack_starts_without_warnings(tmp_path: Path) -> None:
    port = free_port()
    async with FakeSlackWebAPI() as fake:
        env = slack_http_env(
            fake.base_url, f"sqlite:///{tmp_path / 'c.db'}", port, LOG_LEVEL="WARNING"
        )
        proc = await asyncio.create_subprocess_exec(
            str(CIRCLEBOT), "run", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
        )
        try:
            body = encode_for_http(slash_command_payload("help", fake=fake))
            for _ in range(300):  # until it answers: start-up is over by then
                try:
                    status, _text = await post_signed(f"http://127.0.0.1:{port}/slack/events", body)
                    break
                except OSError:
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("circlebot did not start listening")
        finally:
            log = await _stop(proc)
    assert status == 200
    assert "WARNING" not in log, log  # bolt's "token will be unused" among them, before


async def test_discord_starts_without_warnings(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
        env.update(
            DISCORD_TOKEN=fake.token,
            DISCORD_DEV_GUILD_ID=str(fake.guild_id),
            DISCORD_API_URL=fake.api_base,
            DISCORD_GATEWAY_URL=fake.gateway_url,
            DATABASE_URL=f"sqlite:///{tmp_path / 'c.db'}",
            LOG_LEVEL="WARNING",
        )
        proc = await asyncio.create_subprocess_exec(
            str(CIRCLEBOT), "run", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
        )
        try:
            await fake.wait_for_connection(timeout=30)  # past the client's construction
        finally:
            log = await _stop(proc)
    assert "WARNING" not in log, log  # discord.py's PyNaCl and davey notices, before
