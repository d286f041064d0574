"""`/cop poll export` on Slack end to end: the CSV files (UTF-8 with BOM) go up with
files_upload_v2 into the facilitator's DM, never into the channel; the command's own answer
is ephemeral. Signed requests through real slack-bolt against the fake Web API.
"""

from __future__ import annotations

import csv
import io
import json

from tests.fakes.slack_fake import (
    CHANNEL_ID,
    block_actions_payload,
    dm_channel_for,
    slash_command_payload,
)
from tests.slack.helpers import running_bot
from tests.slack.test_poll_end_to_end import button_ids

ADMIN = "U0ADMIN001"
VOTER = "U0VOTER001"
BOM = b"\xef\xbb\xbf"


async def test_export_uploads_bom_csv_files_to_the_facilitators_dm(slack_api, db):
    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    slack_api.add_user(VOTER, profile={"display_name": "Begoña"})
    async with running_bot(slack_api, db=db) as bot:
        await bot.post(
            slash_command_payload(
                'setup "Finger Lakes CoP" America/New_York', fake=slack_api, user_id=ADMIN
            )
        )
        await bot.post(
            slash_command_payload(
                'poll new "¿Qué tema?" options="Niños | Familias"', fake=slack_api, user_id=ADMIN
            )
        )
        await bot.app.worker.drain()
        [posted] = slack_api.calls_to("chat.postMessage")
        ts = slack_api.messages[CHANNEL_ID][0]["ts"]
        niños = button_ids(posted.json_param("blocks"))["Niños"]
        await bot.post(
            block_actions_payload(niños, "", user_id=VOTER, message_ts=ts, fake=slack_api)
        )
        await slack_api.wait_for("@response_url", count=1)
        before = len(slack_api.calls_to("chat.postMessage"))

        status, text = await bot.post(
            slash_command_payload("poll export 1", fake=slack_api, user_id=ADMIN)
        )
        await bot.app.worker.drain()
        posts = slack_api.calls_to("chat.postMessage")[before:]
        uploads = slack_api.calls_to("files.getUploadURLExternal")
        [complete] = slack_api.calls_to("files.completeUploadExternal")

    assert status == 200
    assert json.loads(text) == {
        "response_type": "ephemeral",
        "text": "Poll #1's spreadsheets (CSV) are in your direct messages.",
    }
    dm = dm_channel_for(ADMIN)
    assert [p.params["channel"] for p in posts] == [dm]  # nothing new in the channel
    assert "Poll #1 (¿Qué tema?; ballots: 1) as spreadsheets" in posts[0].params["text"]
    assert complete.params["channel_id"] == dm
    assert sorted(u.params["filename"] for u in uploads) == [
        "poll-1-ballots.csv",
        "poll-1-totals.csv",
    ]
    contents = list(slack_api.uploaded_files.values())
    assert len(contents) == 2 and all(c.startswith(BOM) for c in contents)
    tables = [list(csv.reader(io.StringIO(c.decode("utf-8-sig")))) for c in contents]
    assert ["number", "option", "votes", "winner"] in [t[0] for t in tables]
    assert ["Begoña", "1", "Niños", "1"] in [row for t in tables for row in t]
