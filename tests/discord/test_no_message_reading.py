"""circlebot never reads members' messages on Discord: the gateway IDENTIFY asks for no message
events and not the privileged Message Content intent, with or without the members intent.
Discussions in prompt threads happen without us (the Slack side: its manifest subscribes to
no message event, tests/slack/test_home_and_setup.py)."""

from __future__ import annotations

import pytest
from discord import Intents

from tests.discord.helpers import running_bot
from tests.fakes.discord_fake import FakeDiscord

MESSAGE_INTENTS = Intents(guild_messages=True, dm_messages=True, message_content=True).value


@pytest.mark.parametrize("members", [False, True])
async def test_the_gateway_is_asked_for_no_message_events(
    fake_discord: FakeDiscord, memory_db, clock, members: bool
) -> None:
    async with running_bot(fake_discord, memory_db, clock, members_intent=members):
        [conn] = [c for c in fake_discord.connections if c.identify is not None]
    assert conn.intents & Intents(guilds=True).value  # it did identify, with guilds
    assert conn.intents & MESSAGE_INTENTS == 0
    assert bool(conn.intents & Intents(members=True).value) is members
