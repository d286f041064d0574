"""On Discord, /cop meeting list and /cop poll list in the bot's DM answer for each of the
member's communities (the real adapter on the loopback gateway, SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from storage.db import Database
from tests.discord.helpers import (
    ADMIN_PERMISSIONS,
    EPHEMERAL,
    running_bot,
    setup_community,
    shown_text,
)
from tests.fakes.discord_fake import FakeDiscord


async def test_dm_lists_answer_for_each_community_of_the_member(
    fake_discord: FakeDiscord, db: Database, clock: Any
) -> None:
    fake = fake_discord
    beta, gamma = fake.add_text_channel("beta"), fake.add_text_channel("gamma")
    bob, nia = fake.add_user("bob"), fake.add_user("nia")
    # Global commands (no development guild): as in production, /cop is offered in DMs too.
    async with running_bot(fake, db, clock, dev_guild_id=None) as (app, _adapter):
        await setup_community(fake, "Alpha")
        for name, channel in (("Beta", beta), ("Gamma", gamma)):
            made = await fake.interact(
                fake.slash_command_interaction(
                    "cop setup",
                    {"name": name, "timezone": "America/New_York"},
                    channel=channel,
                    member_permissions=ADMIN_PERMISSIONS,
                )
            )
            assert f"{name} is set up" in shown_text(made.json)
        await fake.interact(
            fake.slash_command_interaction(
                "cop meeting series",
                {"schedule": "monthly on the first Tuesday at 18:30", "title": "Alpha monthly"},
                member_permissions=ADMIN_PERMISSIONS,
            )
        )
        for question, channel in (("Beta snack?", beta), ("Gamma secret?", gamma)):
            await fake.interact(
                fake.slash_command_interaction(
                    "cop poll new",
                    {"question": question, "options": "Apples | Pears", "closes": "in 3 days"},
                    channel=channel,
                    member_permissions=ADMIN_PERMISSIONS,
                )
            )
        await app.worker.drain()
        await fake.interact(fake.slash_command_interaction("cop join", user=bob))
        await fake.interact(fake.slash_command_interaction("cop join", user=bob, channel=beta))

        meetings = await fake.interact(
            fake.slash_command_interaction("cop meeting list", user=bob, dm=True)
        )
        polls = await fake.interact(
            fake.slash_command_interaction("cop poll list", user=bob, dm=True)
        )
        nobody = await fake.interact(
            fake.slash_command_interaction("cop poll list", user=nia, dm=True)
        )

    assert meetings.json["data"]["flags"] == EPHEMERAL
    shown = shown_text(meetings.json)
    assert shown.index("Alpha") < shown.index("Beta")
    assert "Alpha monthly" in shown and "<t:" in shown  # each viewer's own zone
    assert "Gamma" not in shown
    shown = shown_text(polls.json)
    assert "Beta snack?" in shown and "closes <t:" in shown
    assert "you have not voted yet" in shown and "Gamma secret?" not in shown
    assert shown_text(nobody.json) == (
        "You are not in a community here yet; run /cop join in a community's channel."
    )
