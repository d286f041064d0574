"""On Discord, /cop meeting ics attaches one meeting's calendar file, which stands alone."""

from __future__ import annotations

from typing import Any

from icalendar import Calendar

from storage.db import Database
from tests.discord.helpers import ADMIN_PERMISSIONS, running_bot, setup_community
from tests.fakes.discord_fake import FakeDiscord


async def test_meeting_ics_is_attached_and_imports_on_its_own(
    fake_discord: FakeDiscord, db: Database, clock: Any
) -> None:
    fake = fake_discord
    bob = fake.add_user("bob")
    async with running_bot(fake, db, clock) as (app, _adapter):
        await setup_community(fake)
        await fake.interact(
            fake.slash_command_interaction(
                "cop meeting series",
                {"schedule": "monthly on the first Tuesday at 18:30", "title": "Monthly CoP"},
                member_permissions=ADMIN_PERMISSIONS,
            )
        )
        await app.worker.drain()
        await fake.interact(fake.slash_command_interaction("cop join", user=bob))
        single = await fake.interact(
            fake.slash_command_interaction("cop meeting ics", {"meeting": "1"}, user=bob)
        )
        series = await fake.interact(
            fake.slash_command_interaction("cop meeting ics", {"series": 1}, user=bob)
        )

    [file] = single.files
    assert file.filename == "meeting-1.ics"
    [event] = Calendar.from_ical(file.data).walk("VEVENT")
    assert "RECURRENCE-ID" not in event and "RRULE" not in event
    assert str(event["SUMMARY"]) == "Monthly CoP"
    assert "Welcome and agreements" in str(event["DESCRIPTION"])  # the default CoP agenda
    [series_file] = series.files
    master, *occurrences = Calendar.from_ical(series_file.data).walk("VEVENT")
    assert "RRULE" in master and str(master["UID"]) != str(event["UID"])
    assert occurrences and all(
        "Welcome and agreements" in str(o["DESCRIPTION"]) for o in occurrences
    )
