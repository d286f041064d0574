"""A whole circlebot (`bot.app.App`) with the Slack adapter, pointed at the loopback fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.slack import SlackAdapter, SlackConfig
from bot.app import App
from bot.commands import Registry
from bot.features import build_registry
from bot.ports import FakeClock
from storage.db import Database
from tests.fakes.slack_fake import (
    APP_TOKEN,
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlackWebAPI,
    encode_for_http,
    post_signed,
)
from tests.support import migrated_memory_db

EVENTS_PATH = "/slack/events"
START = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


@dataclass
class SlackBot:
    app: App
    adapter: SlackAdapter
    fake: FakeSlackWebAPI
    clock: FakeClock
    db: Database

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.adapter.http_port}{EVENTS_PATH}"

    async def post(self, payload: dict[str, Any], **kwargs: Any) -> tuple[int, str]:
        """POST a payload signed like Slack does to the bot's HTTP endpoint."""
        return await post_signed(self.url, encode_for_http(payload), **kwargs)


def http_config(fake: FakeSlackWebAPI, **overrides: Any) -> SlackConfig:
    values: dict[str, Any] = {
        "bot_token": BOT_TOKEN,
        "signing_secret": SIGNING_SECRET,
        "api_url": fake.base_url,
        "http_host": "127.0.0.1",
        "http_port": 0,
        "http_path": EVENTS_PATH,
    }
    values.update(overrides)
    return SlackConfig(**values)


def socket_config(fake: FakeSlackWebAPI) -> SlackConfig:
    return SlackConfig(bot_token=BOT_TOKEN, app_token=APP_TOKEN, api_url=fake.base_url)


@asynccontextmanager
async def running_bot(
    fake: FakeSlackWebAPI,
    *,
    config: SlackConfig | None = None,
    registry: Registry | None = None,
    db: Database | None = None,
    **adapter_kwargs: Any,
) -> AsyncIterator[SlackBot]:
    """Start App + SlackAdapter (HTTP mode on an ephemeral port unless `config` says otherwise).

    The scheduler and the outbox are manual: tests call ``bot.app.worker.drain()`` and
    ``bot.app.advance(...)``.
    """
    database = db or await migrated_memory_db()
    clock = FakeClock(START)
    adapter_kwargs.setdefault("workspace_interval", 0.0)
    registry = registry or build_registry()
    adapter = SlackAdapter(config or http_config(fake), registry=registry, **adapter_kwargs)
    app = App(database, clock, [adapter], manual=True, registry=registry)
    before = len(fake.calls)
    await app.start()
    # Start-up checks the token once (auth.test, see bot.reach); the tests look at what
    # requests cause, so that call is taken out of the record (it is tested on its own).
    # Socket Mode's apps.connections.open stays.
    checks = [c for c in fake.calls[before:] if c.method == "auth.test"]
    assert len(checks) <= 1, checks
    fake.calls[before:] = [c for c in fake.calls[before:] if c.method != "auth.test"]
    try:
        yield SlackBot(app, adapter, fake, clock, database)
    finally:
        await app.stop()
        if db is None:
            await database.dispose()


def buttons(blocks: list[dict[str, Any]]) -> dict[str, str]:
    """The buttons of a Block Kit message, label -> action_id."""
    return {
        e["text"]["text"]: e["action_id"]
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "button"
    }
