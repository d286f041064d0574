"""Meeting reminders on Discord end to end: series by slash command, reminder to the channel
and by DM with native times and RSVP buttons, an RSVP press."""

from __future__ import annotations

from datetime import timedelta

from tests.discord.helpers import (
    ADMIN_PERMISSIONS,
    EPHEMERAL,
    custom_ids,
    running_bot,
    setup_community,
    shown_text,
)
from tests.fakes.discord_fake import FakeDiscord


async def test_reminder_goes_to_the_channel_and_by_dm_with_rsvp_buttons(
    fake_discord: FakeDiscord, memory_db, clock
) -> None:
    fake = fake_discord
    bob = fake.add_user("bob")
    channel_posts = rf"/channels/{fake.channel_id}/messages"
    async with running_bot(fake, memory_db, clock) as (app, _adapter):
        await setup_community(fake)
        await fake.interact(fake.slash_command_interaction("cop join", user=bob))
        series = await fake.interact(
            fake.slash_command_interaction(
                "cop meeting series",
                {
                    "schedule": "monthly on the first Tuesday at 18:30",
                    "title": "Monthly CoP",
                    "link": "https://meet.example.org/cop",
                    "reminders": "1d 1h",
                    "dm": "yes",
                },
                member_permissions=ADMIN_PERMISSIONS,
            )
        )
        assert series.status == 200 and series.json["type"] == 4
        await app.worker.drain()
        before = len(fake.calls_to("POST", channel_posts))
        await app.advance(timedelta(days=1))
        await app.worker.drain()

        reminders = fake.calls_to("POST", channel_posts)[before:]
        assert reminders, "no reminder in the channel"
        reminder = reminders[0].json
        text = shown_text(reminder)
        assert "Monthly CoP" in text and "https://meet.example.org/cop" in text
        assert "<t:" in text  # a native timestamp each member sees in their own zone
        assert reminder["allowed_mentions"] == {"parse": []}
        buttons = custom_ids(reminder.get("components", []))
        assert buttons and all(b.startswith(("rsvp:", "role:take:")) for b in buttons)

        assert not fake.dm_channels, "nobody has answered yet, so nobody is DM'd"

        # bob answers in the channel; the next reminder reaches him by DM too.
        press = await fake.interact(fake.button_interaction(buttons[0], user=bob))
        assert press.status == 200 and press.json["type"] in (4, 6)
        if press.json["type"] == 4:
            assert press.json["data"]["flags"] == EPHEMERAL
        await app.worker.drain()
        await app.advance(timedelta(hours=23))
        await app.worker.drain()
        bob_dm = fake.dm_channels.get(int(bob["id"]))
        assert bob_dm is not None, "bob got no DM"
        [dm] = fake.calls_to("POST", rf"/channels/{bob_dm}/messages")
        assert "Monthly CoP" in shown_text(dm.json) and "<t:" in shown_text(dm.json)
        assert custom_ids(dm.json.get("components", []))
        assert len(fake.calls_to("POST", channel_posts)[before:]) >= 2


async def test_meetings_are_mirrored_as_scheduled_events_created_moved_and_cancelled(
    fake_discord: FakeDiscord, memory_db, clock
) -> None:
    from datetime import datetime

    from sqlalchemy import select

    from storage.meetings import Meeting

    fake = fake_discord
    events = fake.scheduled_events[fake.guild_id]
    async with running_bot(fake, memory_db, clock) as (app, _adapter):
        await setup_community(fake)
        await fake.interact(
            fake.slash_command_interaction(
                "cop meeting series",
                {
                    "schedule": "monthly on the first Tuesday at 18:30",
                    "title": "Monthly CoP",
                    "link": "https://meet.example.org/cop",
                },
                member_permissions=ADMIN_PERMISSIONS,
            )
        )
        await app.worker.drain()
        async with memory_db.session() as s:
            meetings = list(
                (await s.execute(select(Meeting).order_by(Meeting.starts_at))).scalars()
            )
        assert len(meetings) == 3 and len(events) == 3
        by_start = {datetime.fromisoformat(e["scheduled_start_time"]): e for e in events.values()}
        assert set(by_start) == {m.starts_at for m in meetings}
        first = by_start[meetings[0].starts_at]
        assert first["name"] == "Monthly CoP" and first["entity_type"] == 3
        assert first["entity_metadata"] == {"location": "https://meet.example.org/cop"}

        # A restart re-announces every meeting; unchanged ones cost no API call.
        creates = len(fake.calls_to("POST", r"/guilds/\d+/scheduled-events"))
        await app.reconcile()
        await app.worker.drain()
        assert len(fake.calls_to("POST", r"/guilds/\d+/scheduled-events")) == creates
        assert not fake.calls_to("PATCH", r"/guilds/\d+/scheduled-events/\d+")

        target = meetings[1]
        moved = await fake.interact(
            fake.slash_command_interaction(
                "cop meeting move",
                {"meeting": str(target.id), "when": "2027-01-07 19:00"},
                member_permissions=ADMIN_PERMISSIONS,
            )
        )
        assert moved.status == 200, moved.response
        await app.worker.drain()
        starts = sorted(datetime.fromisoformat(e["scheduled_start_time"]) for e in events.values())
        assert datetime.fromisoformat("2027-01-08T00:00:00+00:00") in starts  # 19:00 EST
        assert target.starts_at not in starts
        assert len(events) == 3  # updated in place, not a second event

        cancelled = await fake.interact(
            fake.slash_command_interaction(
                "cop meeting cancel",
                {"meeting": str(meetings[2].id)},
                member_permissions=ADMIN_PERMISSIONS,
            )
        )
        assert cancelled.status == 200, cancelled.response
        await app.worker.drain()
        live = [
            datetime.fromisoformat(e["scheduled_start_time"])
            for e in events.values()
            if e.get("status") in (1, 2)
        ]
        assert meetings[2].starts_at not in live and len(live) == 2
