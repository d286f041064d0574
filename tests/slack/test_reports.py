"""Reports on Slack end to end: a member's `/cop my hours` brings their PDF certificate by DM,
the facilitator's `/cop report summary` answers ephemerally and uploads the CSV and PNG files
into their DM (never the channel), and `/cop report verify` confirms the certificate's code.
Signed requests through real slack-bolt against the fake Web API, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

from tests.fakes.slack_fake import CHANNEL_ID, dm_channel_for, slash_command_payload
from tests.slack.helpers import running_bot

ADMIN = "U0ADMIN001"
MEMBER = "U0MEMBR001"
STRANGER = "U0OTHER001"


async def test_files_reach_the_facilitators_dm_and_verify_answers(slack_api, db):
    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    slack_api.add_user(MEMBER, profile={"display_name": "Begoña"})
    slack_api.add_user(STRANGER, profile={"display_name": "zoe"})
    async with running_bot(slack_api, db=db) as bot:

        async def cop(text: str, user: str) -> tuple[int, str]:
            """The command's private answer: in the HTTP ack, or through its response_url
            when the core took longer than the ack budget (a loaded machine)."""
            before = len(slack_api.response_url_posts)
            status, body = await bot.post(slash_command_payload(text, fake=slack_api, user_id=user))
            if body:
                return status, body
            await slack_api.wait_for("@response_url", count=before + 1, timeout=30)
            late = slack_api.response_url_posts[before].params
            return status, json.dumps({"response_type": late.get("response_type"), **late})

        await cop('setup "Finger Lakes CoP" America/New_York', ADMIN)
        # Monday 2 November 2026, 09:00 in New York: the meeting is at 10:00 for an hour.
        await cop('meeting series "weekly on Monday at 10:00" title="Taller" duration=60', ADMIN)
        await bot.app.advance(timedelta(hours=2))
        await cop("meeting attended 1", MEMBER)
        await bot.app.worker.drain()
        before = len(slack_api.calls_to("chat.postMessage"))
        mine = await cop("my hours 2026-11-01 2026-11-30", MEMBER)
        await bot.app.worker.drain()
        [statement] = slack_api.calls_to("chat.postMessage")[before:]
        uploads_before = len(slack_api.calls_to("files.getUploadURLExternal"))

        status, text = await cop("report summary 2026-11-01 2026-11-30", ADMIN)
        await bot.app.worker.drain()
        posts = slack_api.calls_to("chat.postMessage")[before + 1 :]
        uploads = slack_api.calls_to("files.getUploadURLExternal")[uploads_before:]
        completes = slack_api.calls_to("files.completeUploadExternal")

        code = re.search(r"verification code is ([A-Z0-9-]{12})", statement.params["text"])
        assert code
        checked = await cop(f"report verify {code.group(1).lower()}", STRANGER)
        forged = await cop("report verify ABCD-EFGH-JK", STRANGER)

    assert json.loads(mine[1])["text"] == (
        "Your statement and certificate are in your direct messages."
    )
    assert statement.params["channel"] == dm_channel_for(MEMBER)
    assert status == 200
    answer = json.loads(text)
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("Report for Finger Lakes CoP, Nov 1, 2026 to Nov 30, 2026.")
    assert "• Begoña: 1 meeting, 1 h" in answer["text"]
    assert [p.params["channel"] for p in posts] == [dm_channel_for(ADMIN)]  # not CHANNEL_ID
    assert all(p.params["channel"] != CHANNEL_ID for p in posts)
    assert sorted(u.params["filename"] for u in uploads) == [
        "attendance-2026-11-01-2026-11-30.csv",
        "attendance-2026-11-01-2026-11-30.png",
        "hours-2026-11-01-2026-11-30.csv",
        "participation-2026-11-01-2026-11-30.png",
    ]
    assert {c.params["channel_id"] for c in completes} == {
        dm_channel_for(MEMBER),
        dm_channel_for(ADMIN),
    }
    contents = list(slack_api.uploaded_files.values())
    assert sum(c.startswith(b"%PDF-") for c in contents) == 1
    assert sum(c.startswith(b"\x89PNG\r\n\x1a\n") for c in contents) == 2
    tables = [
        list(csv.reader(io.StringIO(c.decode("utf-8-sig"))))
        for c in contents
        if c.startswith(b"\xef\xbb\xbf")
    ]
    assert ["Begoña", "1", "60", "1.0"] in [row for t in tables for row in t]
    assert json.loads(checked[1])["text"] == (
        f"Certificate {code.group(1)} is genuine: Begoña took part in Finger Lakes CoP from "
        "Nov 1, 2026 to Nov 30, 2026, 1 hour of professional development (issued Nov 2, 2026)."
    )
    assert json.loads(forged[1])["text"] == (
        "No certificate has the code ABCD-EFGH-JK; please compare it with the one printed on "
        "the PDF."
    )
