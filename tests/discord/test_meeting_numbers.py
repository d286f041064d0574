"""On Discord: each community numbers its own meetings from 1 (cards, agenda, list past), and a
series' own agenda segments are on its meetings. Real discord.py over the fake gateway."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from storage.db import Database
from tests.discord.helpers import ADMIN_PERMISSIONS, running_bot, setup_community, shown_text
from tests.fakes.discord_fake import FakeDiscord


async def _command(fake: FakeDiscord, name: str, options: dict[str, Any], channel: Any) -> str:
    call = await fake.interact(
        fake.slash_command_interaction(
            name, options, channel=channel, member_permissions=ADMIN_PERMISSIONS
        )
    )
    assert call.status == 200, call.response
    return shown_text(call.json)


async def test_second_community_meets_as_number_one_with_its_series_segments(
    fake_discord: FakeDiscord, db: Database, clock: Any
) -> None:
    fake = fake_discord
    nyc = fake.add_text_channel("nyc")
    async with running_bot(fake, db, clock) as (app, _adapter):
        await setup_community(fake, "Finger Lakes")
        await _command(
            fake,
            "cop meeting series",
            {"schedule": "monthly on the first Tuesday at 18:30", "title": "Monthly CoP"},
            None,
        )
        await _command(fake, "cop setup", {"name": "NYC", "timezone": "America/New_York"}, nyc)
        created = await _command(
            fake,
            "cop meeting series",
            {
                "schedule": "weekly on Thursday at 12:00",
                "title": "NYC webinars",
                "segments": "Watch together; Discuss; Share resources",
            },
            nyc,
        )
        agenda = await _command(fake, "cop meeting agenda", {"meeting": "1"}, nyc)
        await app.worker.drain()
        [announce] = fake.calls_to("POST", rf"/channels/{nyc['id']}/messages")
        await app.advance(timedelta(days=3, hours=5))  # past NYC's #1 (Thu 5 Nov 12:00 EST)
        await app.worker.drain()
        attended = await _command(fake, "cop meeting attended", {"meeting": "1"}, nyc)
        past = await _command(fake, "cop meeting list", {"which": "past"}, nyc)

    assert created.startswith("Series 1 created: NYC webinars")
    assert "#1 " in created
    assert agenda.startswith("Agenda of meeting 1, NYC webinars, ")
    # Discord shows list numbers escaped, so they stay the text that was written.
    assert "1\\. Watch together\n2\\. Discuss\n3\\. Share resources" in agenda
    card = shown_text(announce.json)
    assert "1\\. Watch together" in card and "Sharing" not in card
    assert "meeting 1" in card and "meeting 4" not in card  # its number, not its row id
    assert attended.startswith("Recorded as attended, meeting 1 ")
    lines = past.splitlines()
    assert lines[0] == "Past meetings, newest first:"
    assert lines[1] == r"\#1 <t:1793898000:F> — NYC webinars (1 attended)"  # # escaped too
