"""Slash commands through the real discord.Client and CommandTree against FakeDiscord."""

from __future__ import annotations

import asyncio
import logging

from bot.commands import Command, Param, Role
from bot.events import Respond
from bot.features import build_registry
from bot.ui import Message
from tests.discord.helpers import (
    ADMIN_PERMISSIONS,
    EPHEMERAL,
    running_bot,
    setup_community,
    shown_text,
)
from tests.fakes.discord_fake import FakeDiscord


async def test_cop_group_is_generated_from_the_registry_and_synced_to_the_dev_guild(
    fake_discord: FakeDiscord, memory_db, clock
) -> None:
    fake = fake_discord
    async with running_bot(fake, memory_db, clock):
        pass
    [put] = fake.calls_to(
        "PUT", rf"/applications/{fake.application_id}/guilds/{fake.guild_id}/commands"
    )
    assert not fake.calls_to("PUT", rf"/applications/{fake.application_id}/commands")
    [cop] = put.json
    assert cop["name"] == "cop" and cop["type"] == 1
    assert cop["contexts"] == [0, 1]  # servers and DMs with the bot
    subs = {o["name"]: o for o in cop["options"]}
    registry = build_registry()
    assert set(subs) == {path[0] for path in registry.commands}
    assert subs["help"]["type"] == 1
    assert [(o["name"], o["required"]) for o in subs["help"]["options"]] == [("command", False)]
    setup = {o["name"]: o for o in subs["setup"]["options"]}
    assert [o["name"] for o in subs["setup"]["options"]] == ["name", "timezone", "language"]
    assert (setup["name"]["type"], setup["name"]["required"], setup["name"]["max_length"]) == (
        3,
        True,
        100,
    )
    assert setup["timezone"]["autocomplete"] is True and setup["timezone"]["required"] is False
    facilitator = subs["facilitator"]
    assert facilitator["type"] == 2  # a sub-command group
    add = {o["name"]: o for o in facilitator["options"]}["add"]
    assert [(o["name"], o["type"], o["required"]) for o in add["options"]] == [("user", 6, True)]
    assert all(1 <= len(o["description"]) <= 100 for o in cop["options"])


async def test_commands_sync_globally_without_a_dev_guild(
    fake_discord: FakeDiscord, memory_db, clock
) -> None:
    fake = fake_discord
    async with running_bot(fake, memory_db, clock, dev_guild_id=None):
        pass
    [put] = fake.calls_to("PUT", rf"/applications/{fake.application_id}/commands")
    assert [c["name"] for c in put.json] == ["cop"]


async def test_cop_help_answers_privately_through_the_app(
    fake_discord: FakeDiscord, memory_db, clock
) -> None:
    fake = fake_discord
    async with running_bot(fake, memory_db, clock):
        call = await fake.interact(fake.slash_command_interaction("cop help"))
    assert call.json["type"] == 4
    assert call.json["data"]["flags"] == EPHEMERAL
    text = call.json["data"]["content"]
    assert text.startswith("What you can do with circlebot here:")
    assert "/cop help" in text and "/cop setup" not in text  # a member is not an admin
    assert call.json["data"]["allowed_mentions"] == {"parse": []}
    assert fake.unhandled == []


async def test_a_stuck_interaction_answer_is_given_up_after_the_answer_timeout(
    fake_discord: FakeDiscord, memory_db, clock
) -> None:
    # discord.py sets no timeout on interaction answers (aiohttp would wait 300 s); the
    # adapter gives one up after its own, and the next interaction is answered as usual.
    fake = fake_discord
    fake.fail_next("POST", r"/interactions/\d+/[^/]+/callback", status=200, written=True, delay=30)
    gave_up = asyncio.Event()
    warnings: list[str] = []

    class Watch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            warnings.append(record.getMessage())
            gave_up.set()

    watch = Watch(logging.WARNING)
    logging.getLogger("adapters.discord").addHandler(watch)
    try:
        async with running_bot(fake, memory_db, clock, answer_timeout=0.3):
            await fake.dispatch("INTERACTION_CREATE", fake.slash_command_interaction("cop help"))
            await asyncio.wait_for(gave_up.wait(), 5)
            second = await fake.interact(fake.slash_command_interaction("cop help"))
    finally:
        logging.getLogger("adapters.discord").removeHandler(watch)
    assert warnings == ["answering a command timed out after 0.3 s"]
    assert second.json["data"]["content"].startswith("What you can do with circlebot here:")


async def test_setup_by_a_member_without_manage_server_is_refused_in_one_sentence(
    fake_discord: FakeDiscord, memory_db, clock
) -> None:
    fake = fake_discord
    async with running_bot(fake, memory_db, clock):
        call = await fake.interact(fake.slash_command_interaction("cop setup", {"name": "Circle"}))
    assert call.json["data"]["content"] == "Only a workspace admin can do that."
    assert call.json["data"]["flags"] == EPHEMERAL
    assert fake.calls_to("POST", r"/channels/\d+/messages") == []


async def test_setup_by_an_admin_is_public_and_everyone_in_the_name_never_pings(
    fake_discord: FakeDiscord, memory_db, clock
) -> None:
    fake = fake_discord
    async with running_bot(fake, memory_db, clock):
        call = await fake.interact(
            fake.slash_command_interaction(
                "cop setup",
                {"name": "@everyone <@&123> @here party", "timezone": "europe/berlin"},
                member_permissions=ADMIN_PERMISSIONS,
            )
        )
        about = await fake.interact(fake.slash_command_interaction("cop about"))
    data = call.json["data"]
    assert "flags" not in data or not data["flags"] & EPHEMERAL  # public
    shown = "@\u200beveryone \\<@&123> @\u200bhere party"  # as typed, escaped
    assert f"{shown} is set up" in data["content"]
    assert "Europe/Berlin" in data["content"]
    assert data["allowed_mentions"] == {"parse": []}
    assert shown in shown_text(about.json)


async def test_bad_option_is_refused_before_the_core_runs(
    fake_discord: FakeDiscord, memory_db, clock
) -> None:
    fake = fake_discord
    async with running_bot(fake, memory_db, clock):
        call = await fake.interact(
            fake.slash_command_interaction(
                "cop setup", {"name": "x" * 101}, member_permissions=ADMIN_PERMISSIONS
            )
        )
    assert call.json["data"]["flags"] == EPHEMERAL
    assert call.json["data"]["content"] == "name is too long; keep it under 100 characters."


async def test_facilitator_add_takes_a_user_option(
    fake_discord: FakeDiscord, memory_db, clock
) -> None:
    fake = fake_discord
    ben = fake.add_user("ben")
    async with running_bot(fake, memory_db, clock):
        await setup_community(fake)
        call = await fake.interact(
            fake.slash_command_interaction(
                "cop facilitator add",
                [{"name": "user", "type": 6, "value": ben["id"]}],
                resolved={"users": {ben["id"]: ben}},
                member_permissions=ADMIN_PERMISSIONS,
            )
        )
    assert f"{ben['id']} is now a facilitator of Finger Lakes CoP." in call.json["data"]["content"]


async def test_zone_autocompletion(fake_discord: FakeDiscord, memory_db, clock) -> None:
    fake = fake_discord
    async with running_bot(fake, memory_db, clock):
        payload = fake.slash_command_interaction(
            "cop setup",
            [
                {"name": "name", "type": 3, "value": "x"},
                {"name": "timezone", "type": 3, "value": "new_y", "focused": True},
            ],
        )
        payload["type"] = 4  # APPLICATION_COMMAND_AUTOCOMPLETE
        call = await fake.interact(payload)
    assert call.json["type"] == 8
    assert {"name": "America/New_York", "value": "America/New_York"} in call.json["data"]["choices"]


def _slow_registry(delay: float, *, private: bool):
    """circlebot's registry plus a slow command. /cop already has 24 of Discord's 25
    children, so the slow one is typed through /cop more, like any overflow."""
    registry = build_registry()

    async def slow(ctx):  # type: ignore[no-untyped-def]
        await asyncio.sleep(delay)
        return Respond(Message(text=f"slow answer {ctx.params.get('what', '')}"), private=private)

    registry.command(
        Command(
            ("slow",),
            "communities.help.help",
            slow,
            Role.ANYONE,
            (Param("what", "communities.param.name", required=False),),
            needs_community=False,
        )
    )
    return registry


async def test_a_slow_core_is_deferred_then_answered_privately(
    fake_discord: FakeDiscord, memory_db, clock
) -> None:
    fake = fake_discord
    registry = _slow_registry(0.3, private=True)
    async with running_bot(fake, memory_db, clock, registry=registry, ack_budget=0.05):
        payload = fake.slash_command_interaction("cop more", {"text": "slow here"})
        call = await fake.interact(payload)
        edit = await fake.wait_for_call(
            "PATCH", rf"/webhooks/{fake.application_id}/[^/]+/messages/@original"
        )
    assert call.json == {"type": 5, "data": {"flags": EPHEMERAL}}
    assert edit.json["content"] == "slow answer here"


async def test_a_slow_public_answer_is_posted_after_the_private_thinking(
    fake_discord: FakeDiscord, memory_db, clock
) -> None:
    fake = fake_discord
    registry = _slow_registry(0.3, private=False)
    async with running_bot(fake, memory_db, clock, registry=registry, ack_budget=0.05):
        call = await fake.interact(fake.slash_command_interaction("cop more", {"text": "slow"}))
        followup = await fake.wait_for_call("POST", rf"/webhooks/{fake.application_id}/[^/]+")
    assert call.json["type"] == 5
    [edit] = fake.calls_to("PATCH", rf"/webhooks/{fake.application_id}/[^/]+/messages/@original")
    assert edit.json["content"] == "Posted in the channel."
    assert followup.json["content"] == "slow answer "
    assert not (followup.json.get("flags") or 0) & EPHEMERAL
