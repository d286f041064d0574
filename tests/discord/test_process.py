"""`circlebot run` as a real process, pointed at the loopback fake by its settings alone."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from adapters.discord import DiscordAdapter
from bot.cli import platform_adapters
from bot.config import load_settings
from bot.features import build_registry
from tests.fakes.discord_fake import FakeDiscord
from tests.support import CIRCLEBOT

ROOT = Path(__file__).resolve().parents[2]


def test_discord_token_enables_the_adapter_with_its_settings() -> None:
    settings = load_settings(discord_token="t0ken", discord_dev_guild_id=42)
    registry = build_registry()
    [adapter] = [a for a in platform_adapters(settings, registry) if a.platform == "discord"]
    assert isinstance(adapter, DiscordAdapter)
    assert adapter.registry is registry
    assert adapter.dev_guild_id == 42 and adapter.api_url == "https://discord.com/api/v10"
    assert "t0ken" not in repr(adapter)


async def test_circlebot_run_answers_cop_help_through_the_fake(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
        env.update(
            DISCORD_TOKEN=fake.token,
            DISCORD_DEV_GUILD_ID=str(fake.guild_id),
            DISCORD_API_URL=fake.api_base,
            DISCORD_GATEWAY_URL=fake.gateway_url,
            DATABASE_URL=f"sqlite:///{tmp_path / 'circlebot.db'}",
            LOG_LEVEL="WARNING",
        )
        proc = await asyncio.create_subprocess_exec(
            str(CIRCLEBOT),
            "run",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await fake.wait_for_call(
                "PUT",
                rf"/applications/{fake.application_id}/guilds/{fake.guild_id}/commands",
                timeout=30,
            )
            await fake.wait_for_connection(timeout=30)
            await asyncio.sleep(2.2)  # discord.py waits guild_ready_timeout (2 s) for READY
            call = await fake.interact(fake.slash_command_interaction("cop help"), timeout=10)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                _out, err = await asyncio.wait_for(proc.communicate(), 15)
            except TimeoutError:
                proc.kill()
                _out, err = await proc.communicate()
    assert call.json["data"]["flags"] == 64
    assert call.json["data"]["content"].startswith("What you can do with circlebot here:")
    assert fake.token.encode() not in err  # the token is never logged
