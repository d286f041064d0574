"""A member's own data on Discord end to end: ``/cop my-data export`` answers ephemerally and
both files arrive as attachments of one DM to that member; ``/cop my-data erase`` asks
ephemerally and its button erases for its owner only; ``/cop my timezone`` sets the zone.

Real App, DiscordAdapter and discord.py against FakeDiscord, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import select
from sqlmodel import col

from storage.models import Member
from tests.discord.helpers import (
    ADMIN_PERMISSIONS,
    EPHEMERAL,
    custom_ids,
    running_bot,
    setup_community,
    shown_text,
)
from tests.fakes.discord_fake import FakeDiscord

BOM = b"\xef\xbb\xbf"


async def _secret_ballot(fake: FakeDiscord, app, bob) -> None:  # type: ignore[no-untyped-def]
    await setup_community(fake)
    await fake.interact(
        fake.slash_command_interaction(
            "cop poll new",
            {"question": "¿Qué tema?", "options": "Niños | Familias", "anonymous": "yes"},
            member_permissions=ADMIN_PERMISSIONS,
        )
    )
    await app.worker.drain()
    channel_posts = rf"/channels/{fake.channel_id}/messages"
    [poll] = [c for c in fake.calls_to("POST", channel_posts) if c.json.get("components")]
    await fake.interact(fake.button_interaction(custom_ids(poll.json["components"])[0], user=bob))


async def test_export_arrives_as_files_in_the_members_dm(fake_discord: FakeDiscord, db, clock):
    fake = fake_discord
    bob = fake.add_user("Begoña")
    channel_posts = rf"/channels/{fake.channel_id}/messages"
    async with running_bot(fake, db, clock) as (app, _adapter):
        await _secret_ballot(fake, app, bob)
        before = len(fake.calls_to("POST", channel_posts))
        zone = await fake.interact(
            fake.slash_command_interaction("cop my timezone", {"zone": "Europe/Madrid"}, user=bob)
        )
        answer = await fake.interact(
            fake.slash_command_interaction("cop my-data export", {}, user=bob)
        )
        await app.worker.drain()
        dm = fake.dm_channel(bob)["id"]
        [sent] = fake.calls_to("POST", rf"/channels/{dm}/messages")
        async with db.session() as s:
            zones = list((await s.execute(select(col(Member.timezone)))).scalars())

    assert zone.json["data"]["flags"] == EPHEMERAL
    assert shown_text(zone.json) == (
        "Your time zone is now Europe/Madrid, in every community you belong to here."
    )
    assert sorted(zones, key=str) == sorted([None, "Europe/Madrid"], key=str)
    assert answer.json["data"]["flags"] == EPHEMERAL
    assert shown_text(answer.json) == "I've sent your data by direct message."
    assert len(fake.calls_to("POST", channel_posts)) == before  # nothing in the channel
    assert shown_text(sent.json).startswith("Your data from circlebot (one community)")
    names = [f.filename for f in sent.files]
    assert names == ["my-data.json", "my-reflections.csv"]
    data = json.loads(sent.files[0].data)
    [community] = data["communities"]
    assert data["person"]["user_id"] == bob["id"]
    assert community["membership"]["time_zone"] == "Europe/Madrid"
    assert community["votes"]["ballots"][0]["choices"] == {"Niños": 1}
    table = sent.files[1].data
    assert table.startswith(BOM)
    assert next(csv.reader(io.StringIO(table.decode("utf-8-sig"))))[0] == "community"


async def test_erase_button_erases_for_its_owner_only(fake_discord: FakeDiscord, db, clock):
    fake = fake_discord
    bob = fake.add_user("Begoña")
    dan = fake.add_user("Dan")
    async with running_bot(fake, db, clock) as (app, _adapter):
        await _secret_ballot(fake, app, bob)
        ask = await fake.interact(fake.slash_command_interaction("cop my-data erase", {}, user=bob))
        erase, keep = custom_ids(ask.json["data"]["components"])
        # The my-data feature's own buttons, as DynamicItem custom ids that survive a restart.
        assert "mydata:erase:" in erase and "mydata:keep:" in keep
        refused = await fake.interact(fake.button_interaction(erase, user=dan))
        done = await fake.interact(fake.button_interaction(erase, user=bob))
        again = await fake.interact(fake.button_interaction(erase, user=bob))

    assert ask.json["data"]["flags"] == EPHEMERAL
    assert shown_text(ask.json).startswith("Erase your data in Finger Lakes CoP?")
    assert shown_text(refused.json) == (
        "This button is for the person who asked to erase their own data; nothing changed."
    )
    assert shown_text(done.json) == "Your data is erased: nothing of it is linked to you any more."
    assert shown_text(again.json) == "There was nothing of yours left to erase; nothing changed."
