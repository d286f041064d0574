"""The member's home on Discord, which has no home tab: `/cop home` sends it by DM."""

from __future__ import annotations

from tests.discord.helpers import (
    ADMIN_PERMISSIONS,
    EPHEMERAL,
    custom_ids,
    running_bot,
    setup_community,
    shown_text,
)
from tests.fakes.discord_fake import FakeDiscord


async def test_cop_home_sends_meetings_with_rsvp_buttons_by_dm(
    fake_discord: FakeDiscord, memory_db, clock
) -> None:
    fake = fake_discord
    bob = fake.add_user("bob")
    async with running_bot(fake, memory_db, clock) as (app, _adapter):
        await setup_community(fake)
        await fake.interact(fake.slash_command_interaction("cop join", user=bob))
        await fake.interact(
            fake.slash_command_interaction(
                "cop meeting series",
                {"schedule": "monthly on the first Tuesday at 18:30", "title": "Monthly CoP"},
                member_permissions=ADMIN_PERMISSIONS,
            )
        )
        await app.worker.drain()
        asked = await fake.interact(fake.slash_command_interaction("cop home", user=bob))
        await app.worker.drain()
        bob_dm = fake.dm_channels.get(int(bob["id"]))
        assert bob_dm is not None, "bob got no DM"
        [dm] = fake.calls_to("POST", rf"/channels/{bob_dm}/messages")

    assert asked.json["type"] == 4
    assert asked.json["data"]["flags"] == EPHEMERAL
    assert asked.json["data"]["content"] == "I sent you your home in a direct message."
    text = shown_text(dm.json)
    assert "Your communities of practice" in text and "Monthly CoP" in text
    assert custom_ids(dm.json.get("components", []))[:3] == [
        "rsvp:going:1",
        "rsvp:maybe:1",
        "rsvp:no:1",
    ]
