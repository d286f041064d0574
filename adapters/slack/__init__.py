"""Slack: bolt listeners in, Block Kit out. `build_slack_adapter(settings)` is the entry point."""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.slack.adapter import BOT_SCOPES, SlackAdapter, SlackConfig, config_from_settings
from bot.config import SettingsError

if TYPE_CHECKING:
    from bot.commands import Registry
    from bot.config import Settings

__all__ = ["BOT_SCOPES", "SlackAdapter", "SlackConfig", "build_slack_adapter"]


def build_slack_adapter(settings: Settings, registry: Registry) -> SlackAdapter:
    """The adapter for the configured mode; a missing token stops start-up with one line.

    `registry` is the app's, so `/cop` text parses against exactly what the dispatcher routes.
    """
    config = config_from_settings(settings)
    try:
        return SlackAdapter(config, registry=registry)
    except ValueError as err:
        raise SettingsError(f"Slack is not fully configured: {err}") from None
