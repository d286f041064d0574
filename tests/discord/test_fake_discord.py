"""The real discord.py Client / CommandTree / discord.ui running against the loopback FakeDiscord.

Every test asserts effects the fake recorded (REST calls, gateway frames), never only the
library's own view of things.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
import zlib

import aiohttp
import discord
import pytest
from discord import app_commands

from tests.fakes.discord_fake import (
    FakeDiscord,
    running_client,
    snowflake,
)

EPHEMERAL = 64


def _component_custom_ids(components: list[dict]) -> list[str]:
    out: list[str] = []
    for c in components:
        if "custom_id" in c:
            out.append(c["custom_id"])
        out.extend(_component_custom_ids(c.get("components", [])))
        if "component" in c:
            out.extend(_component_custom_ids([c["component"]]))
    return out


# --------------------------------------------------------------------------------------------
# 1. Connect, sync a guild command group, run a slash subcommand
# --------------------------------------------------------------------------------------------


INTENTS = {
    "none": discord.Intents.none(),
    "guilds": discord.Intents(guilds=True),
    # members without presences -> the client requests member chunks (op 8) before READY
    "members": discord.Intents(guilds=True, members=True),
}


@pytest.mark.parametrize("intents_name", list(INTENTS))
async def test_slash_subcommand_in_guild_replies_ephemerally(
    fake_discord: FakeDiscord, make_client, intents_name: str
):
    fake = fake_discord
    intents = INTENTS[intents_name]
    client = make_client(intents=intents)
    tree = app_commands.CommandTree(client)
    cop = app_commands.Group(name="cop", description="Community of practice commands")
    seen: dict[str, object] = {}

    @cop.command(name="help", description="Explain what circlebot can do")
    @app_commands.describe(topic="What you need help with")
    async def help_command(interaction: discord.Interaction, topic: str | None = None) -> None:
        seen.update(
            topic=topic,
            user_id=interaction.user.id,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
            is_member=isinstance(interaction.user, discord.Member),
        )
        await interaction.response.send_message(f"Help about {topic}", ephemeral=True)

    guild = discord.Object(fake.guild_id)
    tree.add_command(cop, guild=guild)

    async with running_client(client, fake):
        # The gateway handshake happened for real, with zlib-stream transport compression.
        conn = fake.connections[0]
        assert conn.query == {"v": "10", "encoding": "json", "compress": "zlib-stream"}
        assert conn.compress == "zlib-stream"
        assert conn.identify is not None and conn.identify["token"] == fake.token
        assert conn.identify["intents"] == intents.value
        assert conn.received_ops(1), "the client heartbeats right after HELLO"
        assert client.user is not None and client.user.id == fake.application_id
        if intents.guilds:
            assert conn.sent_events()[:2] == ["READY", "GUILD_CREATE"]
            assert client.get_channel(fake.channel_id) is not None
        else:
            assert conn.sent_events() == ["READY"]
            assert client.get_channel(fake.channel_id) is None
        if intents.members:
            [chunk_request] = conn.received_ops(8)
            assert chunk_request["d"]["guild_id"] == fake.guild_id
            assert "GUILD_MEMBERS_CHUNK" in conn.sent_events()
            guild_obj = client.get_guild(fake.guild_id)
            assert guild_obj is not None and guild_obj.chunked and len(guild_obj.members) == 2
        assert fake.calls_to("GET", "/users/@me") and fake.calls_to(
            "GET", "/oauth2/applications/@me"
        )

        synced = await tree.sync(guild=guild)

        put = fake.calls_to(
            "PUT", rf"/applications/{fake.application_id}/guilds/{fake.guild_id}/commands"
        )
        assert len(put) == 1
        assert put[0].headers["Authorization"] == f"Bot {fake.token}"
        [cmd] = put[0].json
        assert cmd["name"] == "cop" and cmd["type"] == 1
        [sub] = cmd["options"]
        assert (sub["name"], sub["type"]) == ("help", 1)
        assert [(o["name"], o["type"], o["required"]) for o in sub["options"]] == [
            ("topic", 3, False)
        ]
        assert sub["options"][0]["description"] == "What you need help with"
        assert [c.id for c in synced] == [int(c["id"]) for c in fake.commands[fake.guild_id]]

        payload = fake.slash_command_interaction("cop help", {"topic": "voting"})
        assert payload["data"]["guild_id"] == str(fake.guild_id)
        call = await fake.interact(payload)

    assert call.path == f"/interactions/{payload['id']}/{payload['token']}/callback"
    assert call.query == {"with_response": "1"}
    assert "Authorization" not in call.headers
    assert call.json["type"] == 4
    assert call.json["data"]["content"] == "Help about voting"
    assert call.json["data"]["flags"] == EPHEMERAL
    assert call.status == 200 and call.response["interaction"]["response_message_ephemeral"]
    assert seen == {
        "topic": "voting",
        "user_id": int(fake.user["id"]),
        "guild_id": fake.guild_id,
        "channel_id": fake.channel_id,
        "is_member": True,
    }
    assert fake.unhandled == []


async def test_global_command_in_dm(fake_discord: FakeDiscord, make_client):
    fake = fake_discord
    client = make_client()
    tree = app_commands.CommandTree(client)
    seen: dict[str, object] = {}

    @tree.command(name="ping", description="Check that the bot is alive")
    @app_commands.allowed_contexts(guilds=True, dms=True)
    async def ping(interaction: discord.Interaction, times: int = 1) -> None:
        seen.update(guild=interaction.guild, channel=type(interaction.channel), times=times)
        await interaction.response.send_message("pong " * times)

    async with running_client(client, fake):
        await tree.sync()
        [put] = fake.calls_to("PUT", rf"/applications/{fake.application_id}/commands")
        assert [c["name"] for c in put.json] == ["ping"]
        assert put.json[0]["contexts"] == [0, 1]

        payload = fake.slash_command_interaction("ping", {"times": 2}, dm=True)
        assert "guild_id" not in payload and payload["channel"]["type"] == 1
        call = await fake.interact(payload)

    assert call.json["type"] == 4
    assert call.json["data"]["content"] == "pong pong "
    assert "flags" not in call.json["data"]
    assert seen == {"guild": None, "channel": discord.DMChannel, "times": 2}


# --------------------------------------------------------------------------------------------
# 2. Persistent dynamic button survives a restart
# --------------------------------------------------------------------------------------------


async def test_dynamic_button_handled_after_restart(fake_discord: FakeDiscord, make_client):
    fake = fake_discord
    votes: list[tuple[int, int, int]] = []

    class VoteButton(
        discord.ui.DynamicItem[discord.ui.Button],
        template=r"vote:cast:(?P<poll>\d+):(?P<opt>\d+)",
    ):
        def __init__(self, poll: int, opt: int) -> None:
            super().__init__(
                discord.ui.Button(
                    label=f"Option {opt}",
                    style=discord.ButtonStyle.primary,
                    custom_id=f"vote:cast:{poll}:{opt}",
                )
            )
            self.poll, self.opt = poll, opt

        @classmethod
        async def from_custom_id(
            cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
        ) -> VoteButton:
            return cls(int(match["poll"]), int(match["opt"]))

        async def callback(self, interaction: discord.Interaction) -> None:
            votes.append((self.poll, self.opt, interaction.user.id))
            await interaction.response.send_message(
                f"Vote recorded: poll {self.poll}, option {self.opt}", ephemeral=True
            )

    # First process: post the poll message with its buttons.
    first = make_client()
    async with running_client(first, fake):
        view = discord.ui.View(timeout=None)
        view.add_item(VoteButton(42, 3))
        view.add_item(VoteButton(42, 4))
        channel = first.get_channel(fake.channel_id)
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send("Which topic next?", view=view)

    [post] = fake.calls_to("POST", rf"/channels/{fake.channel_id}/messages")
    assert post.json["content"] == "Which topic next?"
    assert _component_custom_ids(post.json["components"]) == ["vote:cast:42:3", "vote:cast:42:4"]
    assert sent.id == int(post.response["id"])
    assert fake.connections[0].closed

    # Second process (restart): nothing but the dynamic item registration survives.
    second = make_client()
    second.add_dynamic_items(VoteButton)
    async with running_client(second, fake):
        payload = fake.button_interaction("vote:cast:42:3")
        assert payload["message"]["id"] == str(sent.id)
        call = await fake.interact(payload)

    assert votes == [(42, 3, int(fake.user["id"]))]
    assert call.json["type"] == 4
    assert call.json["data"]["content"] == "Vote recorded: poll 42, option 3"
    assert call.json["data"]["flags"] == EPHEMERAL
    assert len(fake.connections) == 2 and all(c.closed for c in fake.connections)


# --------------------------------------------------------------------------------------------
# 3. Button -> modal -> modal submit
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("labels", [False, True], ids=["action-rows", "labels"])
async def test_button_opens_modal_and_submit_runs_on_submit(
    fake_discord: FakeDiscord, make_client, labels: bool
):
    fake = fake_discord
    submitted: list[tuple[str, str, int]] = []

    class ProposeModal(discord.ui.Modal, title="Propose a topic"):
        topic = discord.ui.TextInput(label="Topic", custom_id="topic", max_length=100)
        details = discord.ui.TextInput(
            label="Details",
            custom_id="details",
            style=discord.TextStyle.paragraph,
            required=False,
        )

        async def on_submit(self, interaction: discord.Interaction) -> None:
            submitted.append((self.topic.value, self.details.value, interaction.user.id))
            await interaction.response.send_message(f"Proposed: {self.topic.value}", ephemeral=True)

    class ProposeView(discord.ui.View):
        @discord.ui.button(label="Propose", custom_id="propose:open")
        async def propose(self, interaction: discord.Interaction, button: discord.ui.Button):
            await interaction.response.send_modal(ProposeModal(custom_id="propose:modal"))

    client = make_client()
    async with running_client(client, fake):
        channel = client.get_channel(fake.channel_id)
        assert isinstance(channel, discord.TextChannel)
        await channel.send("Got an idea?", view=ProposeView(timeout=None))

        click = await fake.interact(fake.button_interaction("propose:open"))
        assert click.json["type"] == 9
        modal = click.json["data"]
        assert modal["custom_id"] == "propose:modal"
        assert modal["title"] == "Propose a topic"
        assert _component_custom_ids(modal["components"]) == ["topic", "details"]

        submit = await fake.interact(
            fake.modal_submit_interaction(
                "propose:modal",
                {"topic": "Retrospectives", "details": "How we run them"},
                labels=labels,
            )
        )

    assert submitted == [("Retrospectives", "How we run them", int(fake.user["id"]))]
    assert submit.json["type"] == 4
    assert submit.json["data"]["content"] == "Proposed: Retrospectives"
    assert submit.json["data"]["flags"] == EPHEMERAL


# --------------------------------------------------------------------------------------------
# 4. DMs closed -> Forbidden 50007
# --------------------------------------------------------------------------------------------


async def test_dm_to_user_with_closed_dms_raises_forbidden(fake_discord: FakeDiscord, make_client):
    fake = fake_discord
    fake.fail_next(
        "POST",
        r"/channels/\d+/messages",
        status=403,
        json={"code": 50007, "message": "Cannot send messages to this user"},
    )
    client = make_client()
    async with running_client(client, fake):
        user = await client.fetch_user(int(fake.user["id"]))
        with pytest.raises(discord.Forbidden) as excinfo:
            await user.send("hi")

    assert excinfo.value.code == 50007
    assert excinfo.value.status == 403
    [open_dm] = fake.calls_to("POST", "/users/@me/channels")
    assert int(open_dm.json["recipient_id"]) == int(fake.user["id"])
    dm_id = fake.dm_channels[int(fake.user["id"])]
    [post] = fake.calls_to("POST", rf"/channels/{dm_id}/messages")
    assert (post.status, post.json["content"]) == (403, "hi")
    assert fake.messages == {}


# --------------------------------------------------------------------------------------------
# 5. 429 is retried after retry_after; 503 surfaces immediately
# --------------------------------------------------------------------------------------------


async def test_rate_limited_send_is_retried(fake_discord: FakeDiscord, make_client):
    fake = fake_discord
    path = rf"/channels/{fake.channel_id}/messages"
    fake.rate_limit_next("POST", path, retry_after=0.05)
    client = make_client()
    async with running_client(client, fake):
        channel = client.get_channel(fake.channel_id)
        assert isinstance(channel, discord.TextChannel)
        started = time.monotonic()
        message = await channel.send("agenda for Thursday")
        elapsed = time.monotonic() - started

    first, second = fake.calls_to("POST", path)
    assert (first.status, second.status) == (429, 200)
    assert first.response["retry_after"] == 0.05
    assert first.json == second.json and second.json["content"] == "agenda for Thursday"
    assert second.at - first.at >= 0.04 and elapsed >= 0.04
    assert message.id == int(second.response["id"])
    assert fake.messages[message.id]["content"] == "agenda for Thursday"


async def test_server_error_raises_discord_server_error(fake_discord: FakeDiscord, make_client):
    fake = fake_discord
    fake.fail_next("POST", r"/channels/\d+/messages", status=503)
    client = make_client()
    async with running_client(client, fake):
        channel = client.get_channel(fake.channel_id)
        assert isinstance(channel, discord.TextChannel)
        with pytest.raises(discord.DiscordServerError):
            await channel.send("will fail")
        await channel.send("works again")  # the rule was for one call only

    assert [c.status for c in fake.calls_to("POST", r"/channels/\d+/messages")] == [503, 200]


# --------------------------------------------------------------------------------------------
# Extra coverage of the fake itself
# --------------------------------------------------------------------------------------------


async def test_defer_followup_edit_original_and_scheduled_events(
    fake_discord: FakeDiscord, make_client
):
    fake = fake_discord
    client = make_client()
    tree = app_commands.CommandTree(client)
    results: dict[str, object] = {}

    @tree.command(name="meet", description="Schedule a meeting")
    async def meet(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        assert interaction.guild is not None
        start = discord.utils.utcnow().replace(microsecond=0) + dt.timedelta(days=1)
        event = await interaction.guild.create_scheduled_event(
            name="Circle meeting",
            start_time=start,
            end_time=start + dt.timedelta(hours=1),
            entity_type=discord.EntityType.external,
            location="Room 1",
            privacy_level=discord.PrivacyLevel.guild_only,
        )
        event = await event.edit(name="Circle meeting (moved)")
        results["event_id"] = event.id
        await interaction.edit_original_response(content=f"Scheduled {event.name}")
        followup = await interaction.followup.send("Reminder set", ephemeral=True, wait=True)
        results["followup_id"] = followup.id
        await event.delete()

    guild = discord.Object(fake.guild_id)
    tree.copy_global_to(guild=guild)
    async with running_client(client, fake):
        await tree.sync(guild=guild)
        payload = fake.slash_command_interaction("meet")
        callback = await fake.interact(payload)
        token = payload["token"]
        delete = await fake.wait_for_call(
            "DELETE", rf"/guilds/{fake.guild_id}/scheduled-events/\d+"
        )

    assert callback.json == {"type": 5, "data": {"flags": EPHEMERAL}}
    [create] = fake.calls_to("POST", rf"/guilds/{fake.guild_id}/scheduled-events")
    assert create.json["name"] == "Circle meeting"
    assert create.json["entity_type"] == 3
    assert create.json["entity_metadata"] == {"location": "Room 1"}
    [edit] = fake.calls_to("PATCH", rf"/guilds/{fake.guild_id}/scheduled-events/\d+")
    assert edit.json["name"] == "Circle meeting (moved)"
    assert delete.path.endswith(f"/{results['event_id']}") and delete.status == 204
    assert fake.scheduled_events[fake.guild_id] == {}

    app = fake.application_id
    [original] = fake.calls_to("PATCH", rf"/webhooks/{app}/{token}/messages/@original")
    assert original.json["content"] == "Scheduled Circle meeting (moved)"
    [followup] = fake.calls_to("POST", rf"/webhooks/{app}/{token}")
    assert followup.query["wait"] == "1"
    assert followup.json["content"] == "Reminder set"
    assert followup.json["flags"] == EPHEMERAL
    assert results["followup_id"] == int(followup.response["id"])
    assert fake.unhandled == []


async def test_uncompressed_gateway_and_raw_dispatch(make_client):
    async with FakeDiscord(compression=False) as fake:
        client = make_client()
        seen: list[discord.ScheduledEvent] = []

        @client.event
        async def on_scheduled_event_create(event: discord.ScheduledEvent) -> None:
            seen.append(event)

        async with running_client(client, fake):
            conn = await fake.wait_for_connection()
            assert conn.query["compress"] == "zlib-stream" and conn.compress is None
            start = conn.seq
            seq = await fake.dispatch(
                "GUILD_SCHEDULED_EVENT_CREATE",
                {
                    "id": str(snowflake()),
                    "guild_id": str(fake.guild_id),
                    "name": "Dispatched event",
                    "scheduled_start_time": discord.utils.utcnow().isoformat(),
                    "privacy_level": 2,
                    "status": 1,
                    "entity_type": 3,
                    "entity_metadata": {"location": "Online"},
                },
            )
            assert seq == start + 1
            for _ in range(100):
                if seen:
                    break
                await asyncio.sleep(0.01)
    assert [e.name for e in seen] == ["Dispatched event"]


def test_zlib_stream_framing_matches_discord_py_decompressor():
    from discord.utils import _ActiveDecompressionContext

    if _ActiveDecompressionContext.COMPRESSION_TYPE != "zlib-stream":
        pytest.skip("discord.py uses zstd-stream here; the fake then sends text frames")
    compressor = zlib.compressobj()
    decompressor = _ActiveDecompressionContext()
    for text in ['{"op":10}', '{"op":11}']:
        frame = compressor.compress(text.encode()) + compressor.flush(zlib.Z_SYNC_FLUSH)
        assert decompressor.decompress(frame) == text


async def test_wrong_token_is_rejected_and_network_is_blocked(fake_discord: FakeDiscord):
    client = discord.Client(intents=discord.Intents.none())
    try:
        with pytest.raises(discord.LoginFailure):
            await client.login("not-the-token")
    finally:
        await client.close()
    [me] = fake_discord.calls_to("GET", "/users/@me")
    assert me.status == 401

    async with aiohttp.ClientSession() as session:
        with pytest.raises(RuntimeError, match="blocked a real network request"):
            await session.get("https://discord.com/api/v10/gateway")


async def test_user_message_dispatch_and_reply(fake_discord: FakeDiscord, make_client):
    fake = fake_discord
    client = make_client(
        intents=discord.Intents(guilds=True, guild_messages=True, message_content=True)
    )
    received: list[discord.Message] = []

    @client.event
    async def on_message(message: discord.Message) -> None:
        if message.author.id == client.user.id:
            return
        received.append(message)
        await message.reply(f"echo: {message.content}")

    async with running_client(client, fake):
        incoming = fake.user_message("hello circle")
        await fake.dispatch("MESSAGE_CREATE", incoming)
        reply = await fake.wait_for_call("POST", rf"/channels/{fake.channel_id}/messages")

    [message] = received
    assert message.content == "hello circle"
    assert isinstance(message.author, discord.Member)
    assert reply.json["content"] == "echo: hello circle"
    assert reply.json["message_reference"]["message_id"] == int(incoming["id"])


async def test_late_interaction_ack_gets_unknown_interaction(
    fake_discord: FakeDiscord, make_client
):
    fake = fake_discord
    fake.ack_deadline = 0.0
    client = make_client()
    tree = app_commands.CommandTree(client)
    errors: list[BaseException] = []

    @tree.command(name="slow", description="Answers too late")
    async def slow(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.01)
        try:
            await interaction.response.send_message("too late")
        except discord.NotFound as exc:
            errors.append(exc)

    async with running_client(client, fake):
        await tree.sync()
        call = await fake.interact(fake.slash_command_interaction("slow"))

    assert (call.status, call.response["code"]) == (404, 10062)
    [error] = errors
    assert isinstance(error, discord.NotFound) and error.code == 10062
