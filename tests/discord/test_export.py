"""`/cop poll export` on Discord end to end: the answer is ephemeral and the CSV files (UTF-8
with BOM, option numbers as on the poll) arrive as attachments of one DM to the facilitator.

Real App, DiscordAdapter and discord.py against FakeDiscord, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io

from adapters.discord.render import MAX_FILES
from bot.features.voting.files import MAX_EXPORT_FILES
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


async def test_export_attaches_bom_csv_files_to_a_dm(fake_discord: FakeDiscord, db, clock) -> None:
    fake = fake_discord
    bob = fake.add_user("Begoña")
    channel_posts = rf"/channels/{fake.channel_id}/messages"
    async with running_bot(fake, db, clock) as (app, _adapter):
        await setup_community(fake)
        await fake.interact(
            fake.slash_command_interaction(
                "cop poll new",
                {"question": "¿Qué tema?", "options": "Niños | Familias | Rutinas"},
                member_permissions=ADMIN_PERMISSIONS,
            )
        )
        await app.worker.drain()
        [poll] = [c for c in fake.calls_to("POST", channel_posts) if c.json.get("components")]
        buttons = custom_ids(poll.json["components"])
        await fake.interact(fake.button_interaction(buttons[2], user=bob))  # Rutinas
        before = len(fake.calls_to("POST", channel_posts))

        answer = await fake.interact(
            fake.slash_command_interaction(
                "cop poll export", {"poll": 1}, member_permissions=ADMIN_PERMISSIONS
            )
        )
        await app.worker.drain()
        dm = fake.dm_channel()["id"]
        [sent] = fake.calls_to("POST", rf"/channels/{dm}/messages")

    assert answer.json["data"]["flags"] == EPHEMERAL
    assert shown_text(answer.json) == "Poll #1's spreadsheets (CSV) are in your direct messages."
    assert len(fake.calls_to("POST", channel_posts)) == before  # nothing in the channel
    assert "Poll #1 (¿Qué tema?; ballots: 1) as spreadsheets" in shown_text(sent.json)
    names = [f.filename for f in sent.files]
    assert names == ["poll-1-totals.csv", "poll-1-ballots.csv"]
    assert len(names) <= MAX_EXPORT_FILES <= MAX_FILES  # one message carries them all
    assert all(f.data.startswith(BOM) for f in sent.files)
    totals, ballots = (
        list(csv.reader(io.StringIO(f.data.decode("utf-8-sig")))) for f in sent.files
    )
    assert totals == [
        ["number", "option", "votes", "winner"],
        ["1", "Niños", "0", ""],
        ["2", "Familias", "0", ""],
        ["3", "Rutinas", "1", "leading"],
    ]
    assert ballots[1][1:] == ["3", "Rutinas", "1"]
