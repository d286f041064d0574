"""The Discord adapter (discord.py 2.x): `build_discord_adapter(settings)` is what `circlebot run`
uses when DISCORD_TOKEN is set."""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.discord.adapter import WORKSPACE, DiscordAdapter

if TYPE_CHECKING:
    from bot.commands import Registry
    from bot.config import Settings

__all__ = ["WORKSPACE", "DiscordAdapter", "build_discord_adapter"]


def build_discord_adapter(settings: Settings, registry: Registry) -> DiscordAdapter:
    """The adapter for `settings` (token, dev guild, REST and gateway URLs) and the app's registry."""
    if settings.discord_token is None:
        raise ValueError("DISCORD_TOKEN is not set")
    return DiscordAdapter(
        settings.discord_token.get_secret_value(),
        dev_guild_id=settings.discord_dev_guild_id,
        api_url=settings.discord_api_url,
        gateway_url=settings.discord_gateway_url,
        registry=registry,
        members_intent=settings.discord_members_intent,
        shard_count=settings.discord_shard_count,
        shard_ids=settings.discord_shard_ids,
    )
