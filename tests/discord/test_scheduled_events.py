"""Meetings mirrored as Discord Guild Scheduled Events: created, moved, cancelled, refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.discord import WORKSPACE
from adapters.discord.adapter import EVENTS_FORBIDDEN
from bot.events import ConversationRef
from tests.discord.helpers import running_adapter
from tests.fakes.discord_fake import FakeDiscord, snowflake

START = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
JOIN = "https://meet.example.org/finger-lakes"


def _channel(fake: FakeDiscord) -> ConversationRef:
    return ConversationRef("discord", WORKSPACE, str(fake.channel_id))


async def _sync(adapter, fake, event_id, **overrides):  # type: ignore[no-untyped-def]
    fields = {
        "name": "Finger Lakes CoP: outdoor play",
        "start": START,
        "end": START + timedelta(hours=1),
        "location": JOIN,
        "description": "Agenda: agreements, outdoor play, reflection",
    }
    fields.update(overrides)
    return await adapter.sync_meeting_event(_channel(fake), event_id, **fields)


async def test_event_is_created_moved_and_cancelled_with_the_meeting(
    fake_discord: FakeDiscord,
) -> None:
    fake = fake_discord
    async with running_adapter(fake) as adapter:
        event_id = await _sync(adapter, fake, None)
        assert event_id is not None
        moved = START + timedelta(days=1, hours=2)
        assert await _sync(
            adapter, fake, event_id, start=moved, end=moved + timedelta(hours=1)
        ) == (event_id)
        assert await _sync(adapter, fake, event_id, cancelled=True) == event_id

    [create] = fake.calls_to("POST", rf"/guilds/{fake.guild_id}/scheduled-events")
    assert create.json["entity_type"] == 3  # EXTERNAL
    assert create.json["entity_metadata"] == {"location": JOIN}
    assert create.json["privacy_level"] == 2  # GUILD_ONLY
    assert datetime.fromisoformat(create.json["scheduled_start_time"]) == START
    assert create.json["name"] == "Finger Lakes CoP: outdoor play"
    move, cancel = fake.calls_to("PATCH", rf"/guilds/{fake.guild_id}/scheduled-events/{event_id}")
    assert datetime.fromisoformat(move.json["scheduled_start_time"]) == moved
    assert cancel.json == {"status": 4}  # CANCELED
    assert fake.scheduled_events[fake.guild_id][int(event_id)]["status"] == 4


async def test_each_occurrence_is_its_own_event(fake_discord: FakeDiscord) -> None:
    fake = fake_discord
    async with running_adapter(fake) as adapter:
        ids = [
            await _sync(
                adapter,
                fake,
                None,
                start=START + timedelta(weeks=4 * i),
                end=START + timedelta(weeks=4 * i, hours=1),
            )
            for i in range(3)
        ]
    assert len(set(ids)) == 3 and len(fake.scheduled_events[fake.guild_id]) == 3


async def test_event_deleted_by_hand_is_created_again(fake_discord: FakeDiscord) -> None:
    fake = fake_discord
    async with running_adapter(fake) as adapter:
        first = await _sync(adapter, fake, None)
        fake.scheduled_events[fake.guild_id].clear()
        second = await _sync(adapter, fake, first)
        assert await _sync(adapter, fake, str(snowflake()), cancelled=True) is None
    assert second is not None and second != first


async def test_without_manage_events_the_bot_says_so_once_and_carries_on(
    fake_discord: FakeDiscord,
) -> None:
    fake = fake_discord
    fake.fail_next(
        "POST",
        rf"/guilds/{fake.guild_id}/scheduled-events",
        status=403,
        json={"code": 50013, "message": "Missing Permissions"},
        times=None,
    )
    async with running_adapter(fake) as adapter:
        assert await _sync(adapter, fake, None) is None
        assert await _sync(adapter, fake, None, name="next one") is None
    [notice] = fake.calls_to("POST", rf"/channels/{fake.channel_id}/messages")
    assert notice.json["content"] == EVENTS_FORBIDDEN
    assert len(fake.calls_to("POST", rf"/guilds/{fake.guild_id}/scheduled-events")) == 2


async def test_the_100_upcoming_events_limit_is_respected(fake_discord: FakeDiscord) -> None:
    fake = fake_discord
    events = fake.scheduled_events[fake.guild_id]
    for _ in range(100):
        eid = snowflake()
        events[eid] = {
            "id": str(eid),
            "guild_id": str(fake.guild_id),
            "name": "someone else's event",
            "scheduled_start_time": START.isoformat(),
            "scheduled_end_time": None,
            "privacy_level": 2,
            "status": 1,
            "entity_type": 3,
            "entity_id": None,
            "entity_metadata": {"location": "x"},
            "channel_id": None,
            "creator_id": None,
            "description": None,
        }
    async with running_adapter(fake) as adapter:
        assert await _sync(adapter, fake, None) is None
        # The limit is not ours alone to count: if Discord says 30038, we also stop quietly.
        events.pop(next(iter(events)))
        fake.fail_next(
            "POST",
            rf"/guilds/{fake.guild_id}/scheduled-events",
            status=400,
            json={"code": 30038, "message": "Maximum number of guild scheduled events reached"},
        )
        assert await _sync(adapter, fake, None) is None
    assert len(fake.calls_to("POST", rf"/guilds/{fake.guild_id}/scheduled-events")) == 1


async def test_a_dm_channel_has_no_events(fake_discord: FakeDiscord) -> None:
    fake = fake_discord
    dm = fake.dm_channel()
    async with running_adapter(fake) as adapter:
        ref = ConversationRef("discord", WORKSPACE, dm["id"])
        result = await adapter.sync_meeting_event(
            ref, None, name="x", start=START, end=START + timedelta(hours=1), location=JOIN
        )
    assert result is None
