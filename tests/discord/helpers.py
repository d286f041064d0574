"""Helpers for running the whole bot (App + DiscordAdapter) against the loopback FakeDiscord."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import discord

from adapters.discord import DiscordAdapter
from bot.app import App
from bot.commands import Registry
from bot.features import build_registry
from bot.ports import Clock
from storage.db import Database
from tests.fakes.discord_fake import FakeDiscord

EPHEMERAL = 64
# What a member may do in a channel; an admin additionally has Manage Server.
MEMBER_PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, use_application_commands=True
).value
ADMIN_PERMISSIONS = MEMBER_PERMISSIONS | discord.Permissions(manage_guild=True).value


def make_adapter(fake: FakeDiscord, registry: Registry, **kwargs: Any) -> DiscordAdapter:
    kwargs.setdefault("dev_guild_id", fake.guild_id)
    return DiscordAdapter(
        fake.token,
        registry=registry,
        api_url=fake.api_base,
        gateway_url=fake.gateway_url,
        guild_ready_timeout=0.05,
        **kwargs,
    )


@contextlib.asynccontextmanager
async def running_bot(
    fake: FakeDiscord,
    db: Database,
    clock: Clock,
    *,
    registry: Registry | None = None,
    manual: bool = True,
    **adapter_kwargs: Any,
) -> AsyncIterator[tuple[App, DiscordAdapter]]:
    """Start the real App with a DiscordAdapter on the fake; stop both (client before fake)."""
    registry = registry or build_registry()
    adapter = make_adapter(fake, registry, **adapter_kwargs)
    app = App(db, clock, [adapter], manual=manual, registry=registry)
    await app.start()
    try:
        await adapter.wait_until_ready()
        yield app, adapter
    finally:
        await app.stop()


def custom_ids(components: list[dict[str, Any]]) -> list[str]:
    """Every custom_id in a components payload, depth first."""
    out: list[str] = []
    for c in components:
        if "custom_id" in c:
            out.append(c["custom_id"])
        out.extend(custom_ids(c.get("components", [])))
        if "component" in c:
            out.extend(custom_ids([c["component"]]))
    return out


def shown_text(body: dict[str, Any]) -> str:
    """A message body's content plus embed descriptions and fields, as one string."""
    data = body.get("data", body)
    pieces = [data.get("content") or ""]
    for embed in data.get("embeds") or []:
        pieces.append(embed.get("description") or "")
        pieces.extend(f"{f['name']}: {f['value']}" for f in embed.get("fields") or [])
    return "\n".join(p for p in pieces if p)


async def setup_community(fake: FakeDiscord, name: str = "Finger Lakes CoP") -> None:
    """An admin runs /cop setup in the fake's default channel."""
    call = await fake.interact(
        fake.slash_command_interaction(
            "cop setup",
            {"name": name, "timezone": "America/New_York"},
            member_permissions=ADMIN_PERMISSIONS,
        )
    )
    assert call.status == 200, call.response
    assert "is set up in this channel" in shown_text(call.json), call.json


@contextlib.asynccontextmanager
async def running_adapter(fake: FakeDiscord, **kwargs: Any) -> AsyncIterator[DiscordAdapter]:
    """Just the adapter (no App): for delivery and scheduled-event tests."""
    from bot.events import Ack

    adapter = make_adapter(fake, build_registry(), **kwargs)

    async def handle(_event: Any) -> Ack:
        return Ack()

    await adapter.start(handle)
    try:
        await adapter.wait_until_ready()
        yield adapter
    finally:
        await adapter.stop()
