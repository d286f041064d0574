"""Ending a series and moving a meeting with a reason, end to end through the real Discord
adapter: the confirm button, the channel notice, DMs, scheduled events, RSVP buttons by DM."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.discord.helpers import (
    ADMIN_PERMISSIONS,
    EPHEMERAL,
    custom_ids,
    running_bot,
    setup_community,
    shown_text,
)
from tests.fakes.discord_fake import FakeDiscord


async def _series_bob_answered(fake: FakeDiscord, app: Any, bob: dict[str, Any]) -> None:
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
    press = await fake.interact(fake.button_interaction("rsvp:going:1", user=bob))
    assert press.status == 200, press.response
    await app.worker.drain()


async def test_ending_a_series_by_button_tells_once_and_cancels_the_events(
    fake_discord: FakeDiscord, memory_db, clock
) -> None:
    fake = fake_discord
    bob = fake.add_user("bob")
    channel_posts = rf"/channels/{fake.channel_id}/messages"
    events = fake.scheduled_events[fake.guild_id]
    async with running_bot(fake, memory_db, clock) as (app, _adapter):
        await _series_bob_answered(fake, app, bob)
        assert len(events) == 3
        preview = await fake.interact(
            fake.slash_command_interaction(
                "cop meeting end-series", {"series": 1}, member_permissions=ADMIN_PERMISSIONS
            )
        )
        assert preview.status == 200, preview.response
        assert preview.json["data"]["flags"] == EPHEMERAL
        assert shown_text(preview.json).startswith("End series 1, Monthly CoP, now?")
        [end] = custom_ids(preview.json["data"]["components"])
        before = len(fake.calls_to("POST", channel_posts))
        # Bob is a member, not a facilitator: his press is refused and changes nothing.
        refused = await fake.interact(
            fake.button_interaction(
                end, user=bob, message=None, channel=fake.channels[fake.channel_id]
            )
        )
        assert "Only a facilitator" in shown_text(refused.json)
        done = await fake.interact(
            fake.button_interaction(
                end, channel=fake.channels[fake.channel_id], member_permissions=ADMIN_PERMISSIONS
            )
        )
        assert done.status == 200, done.response
        await app.worker.drain()
        await app.advance(timedelta(seconds=2))  # posts in one channel are paced

        notice = "The series “Monthly CoP” is deleted: 3 meetings are cancelled (#1, #2, #3)."
        posts = [c.json for c in fake.calls_to("POST", channel_posts)[before:]]
        assert [shown_text(p) for p in posts] == [notice]
        bob_dm = fake.dm_channels[int(bob["id"])]
        [dm] = fake.calls_to("POST", rf"/channels/{bob_dm}/messages")
        assert shown_text(dm.json) == notice
        assert not [e for e in events.values() if e.get("status") in (1, 2)]


async def test_a_move_with_a_reason_asks_again_by_dm_with_rsvp_buttons(
    fake_discord: FakeDiscord, memory_db, clock
) -> None:
    fake = fake_discord
    bob = fake.add_user("bob")
    channel_posts = rf"/channels/{fake.channel_id}/messages"
    async with running_bot(fake, memory_db, clock) as (app, _adapter):
        await _series_bob_answered(fake, app, bob)
        before = len(fake.calls_to("POST", channel_posts))
        moved = await fake.interact(
            fake.slash_command_interaction(
                "cop meeting move",
                {"meeting": "1", "when": "2026-12-03 18:00", "reason": "@everyone room 4 is wet"},
                member_permissions=ADMIN_PERMISSIONS,
            )
        )
        assert moved.status == 200, moved.response
        await app.advance(timedelta(seconds=2))
        [notice] = [c.json for c in fake.calls_to("POST", channel_posts)[before:]]
        bob_dm = fake.dm_channels[int(bob["id"])]
        [dm] = fake.calls_to("POST", rf"/channels/{bob_dm}/messages")
        for body in (notice, dm.json):
            text = shown_text(body)
            assert text.startswith("Monthly CoP has moved from ")
            assert "Reason: @\u200beveryone room 4 is wet" in text  # shown, never a ping
            assert body["allowed_mentions"] == {"parse": []}
        rsvp = custom_ids(dm.json["components"])
        assert rsvp == ["rsvp:going:1", "rsvp:maybe:1", "rsvp:no:1"]
        again = await fake.interact(fake.button_interaction("rsvp:maybe:1", dm=True, user=bob))
        assert again.status == 200, again.response
        assert shown_text(again.json).endswith(": Maybe.")
