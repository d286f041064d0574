"""Discord's cap of 100 ids in allowed_mentions.users: the fake enforces it as Discord does, and
the last reminder naming 300 members going is accepted (the first 100 are pinged, all shown)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import discord
import pytest

from adapters.discord import WORKSPACE
from adapters.discord.render import MAX_ALLOWED_MENTIONS, render
from bot.events import ActionClicked, Actor, ConversationRef, Place, Respond, UserRef
from bot.ports import FakeClock
from bot.ui import ActionId, Actions, Button, Mention, Message, Section
from tests.discord.helpers import ADMIN_PERMISSIONS, running_adapter, running_bot, setup_community
from tests.fakes.discord_fake import FakeDiscord


def _named(n: int) -> list[Mention]:
    return [Mention(user_id=str(10**17 + i), name=f"m{i:03}") for i in range(n)]


async def test_the_fake_refuses_101_ids_as_discord_does(fake_discord: FakeDiscord) -> None:
    fake = fake_discord
    async with running_adapter(fake) as adapter:
        assert adapter.client is not None
        channel = await adapter.client.fetch_channel(fake.channel_id)
        assert isinstance(channel, discord.TextChannel)
        users = [discord.Object(10**17 + i) for i in range(MAX_ALLOWED_MENTIONS + 1)]
        with pytest.raises(discord.HTTPException) as refused:
            await channel.send("hi", allowed_mentions=discord.AllowedMentions(users=users))
        await channel.send("hi", allowed_mentions=discord.AllowedMentions(users=users[:100]))
    assert refused.value.status == 400 and refused.value.code == 50035
    [bad, good] = fake.calls_to("POST", rf"/channels/{fake.channel_id}/messages")
    assert bad.response["errors"] == {
        "allowed_mentions": {
            "users": {
                "_errors": [
                    {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 100 or fewer in length."}
                ]
            }
        }
    }
    assert good.status == 200


@pytest.mark.parametrize("embed", [False, True])
def test_300_mentions_show_everyone_and_ping_at_most_100_per_message(embed: bool) -> None:
    named = _named(300)
    parts_of_text: list[str | Mention] = ["Going: "]
    for i, mention in enumerate(named):
        parts_of_text += [", "] if i else []
        parts_of_text.append(mention)
    blocks: list = [Section(parts=parts_of_text)]
    if embed:
        blocks.append(Actions(elements=[Button(action=ActionId("rsvp", "going", 1), label="Go")]))
    parts = render(Message(text="Going", blocks=blocks))
    for part in parts:
        # Each Discord message pings at most 100 members: the first it names.
        users = [int(u) for u in part.allowed_mentions().to_dict().get("users", [])]
        assert 0 < len(users) <= MAX_ALLOWED_MENTIONS
        assert users == _ids_shown(part.content or "", part.embeds)[: len(users)]
    shown = [uid for part in parts for uid in _ids_shown("", part.embeds)]
    assert shown == [int(m.user_id) for m in named]  # everyone is named, in order


def _ids_shown(content: str, embeds: list) -> list[int]:
    text = "\n".join(
        [
            content,
            *((e["description"] if isinstance(e, dict) else e.description) or "" for e in embeds),
        ]
    )
    return list(dict.fromkeys(int(uid) for uid in re.findall(r"<@(\d+)>", text)))


async def test_a_reminder_naming_300_going_is_accepted(
    fake_discord: FakeDiscord, memory_db
) -> None:
    fake = fake_discord
    clock = FakeClock(datetime(2026, 11, 3, 20, 0, tzinfo=UTC))  # 2 1/2 hours before meeting 1
    members = [fake.add_user(f"m{i:03}") for i in range(300)]
    posts = rf"/channels/{fake.channel_id}/messages"
    async with running_bot(fake, memory_db, clock) as (app, _adapter):
        await setup_community(fake)
        series = await fake.interact(
            fake.slash_command_interaction(
                "cop meeting series",
                {
                    "schedule": "monthly on the first Tuesday at 18:30",
                    "title": "Monthly CoP",
                    "reminders": "1h",
                },
                member_permissions=ADMIN_PERMISSIONS,
            )
        )
        assert series.status == 200, series.response
        await app.worker.drain()
        for member in members[:2]:  # two answer through Discord, the rest straight to the core
            press = await fake.interact(fake.button_interaction("rsvp:going:1", user=member))
            assert press.status == 200, press.response
        channel = Place(ConversationRef("discord", WORKSPACE, str(fake.channel_id)), "general")
        for member in members[2:]:
            actor = Actor(UserRef("discord", WORKSPACE, member["id"]), member["username"])
            reply = await app.dispatcher.handle(
                ActionClicked(actor, channel, ActionId("rsvp", "going", 1))
            )
            assert isinstance(reply, Respond), reply
        await app.worker.drain()
        before = len(fake.calls_to("POST", posts))
        # Meeting 1: Tue 3 Nov 2026, 18:30 New York (23:30 UTC); its 1-hour reminder.
        await app.advance_to(datetime(2026, 11, 3, 22, 31, tzinfo=UTC))
        await app.worker.drain()

    reminders = fake.calls_to("POST", posts)[before:]
    assert reminders and all(call.status == 200 for call in reminders), fake.describe_calls()
    first = reminders[0].json
    assert first["embeds"][0]["description"].startswith("Reminder: Monthly CoP starts in 1 hour.")
    for call in reminders:
        users = [int(u) for u in call.json["allowed_mentions"].get("users", [])]
        assert len(users) <= MAX_ALLOWED_MENTIONS
        assert users == _ids_shown("", call.json.get("embeds", []))[: len(users)]
    assert call.json["allowed_mentions"].get("users")  # the going list does ping
    shown = [uid for call in reminders for uid in _ids_shown("", call.json.get("embeds", []))]
    assert shown == [int(m["id"]) for m in members]  # all 300 are named, by name
