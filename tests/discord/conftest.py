"""Fixtures for tests that run the real discord.py stack against :mod:`tests.fakes.discord_fake`."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import discord
import pytest

# `.venv/bin/pytest` does not put the repository root on sys.path (only the editable install's
# packages are importable), so make `tests.fakes` importable from this __init__-free directory.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.fakes.discord_fake import FakeDiscord  # noqa: E402


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A started and installed :class:`FakeDiscord`; stopped and uninstalled afterwards."""
    async with FakeDiscord() as fake:
        yield fake


@pytest.fixture
def make_client() -> Callable[..., discord.Client]:
    """Factory for a ``discord.Client`` suited to the fake: GUILDS intent only and a short
    ``guild_ready_timeout`` so READY fires in ~50 ms instead of 2 s."""

    def factory(**kwargs: Any) -> discord.Client:
        kwargs.setdefault("intents", discord.Intents(guilds=True))
        kwargs.setdefault("guild_ready_timeout", 0.05)
        return discord.Client(**kwargs)

    return factory
