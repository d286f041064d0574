"""On Slack: each community numbers its own meetings from 1, and a series' own agenda segments
are on its meetings' cards. Signed requests through the real slack-bolt app, on both databases."""

from __future__ import annotations

import json

from storage.db import Database
from tests.fakes.slack_fake import CHANNEL_ID, FakeSlackWebAPI, slash_command_payload
from tests.slack.helpers import SlackBot, running_bot

ADMIN = "U0ADMIN001"
NYC_CHANNEL = "C0NYC00001"


async def _command(bot: SlackBot, fake: FakeSlackWebAPI, text: str, channel: str) -> str:
    status, body = await bot.post(
        slash_command_payload(text, fake=fake, user_id=ADMIN, channel_id=channel)
    )
    assert status == 200, body
    return str(json.loads(body)["text"])


def _card_text(call) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(
        b["text"]["text"] if b["type"] == "section" else e.get("text", "")
        for b in call.json_param("blocks")
        if b["type"] in ("section", "context")
        for e in (b.get("elements") or [{}])
    )


async def test_second_community_meets_as_number_one_with_its_series_segments(
    slack_api: FakeSlackWebAPI, db: Database
) -> None:
    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    slack_api.add_channel(NYC_CHANNEL, "nyc")
    async with running_bot(slack_api, db=db) as bot:
        await _command(bot, slack_api, 'setup "Finger Lakes" America/New_York', CHANNEL_ID)
        await _command(
            bot,
            slack_api,
            'meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP"',
            CHANNEL_ID,
        )
        await _command(bot, slack_api, 'setup "NYC" America/New_York', NYC_CHANNEL)
        created = await _command(
            bot,
            slack_api,
            'meeting series "weekly on Thursday at 12:00" title="NYC webinars" '
            'segments="Watch together; Discuss; Share resources"',
            NYC_CHANNEL,
        )
        agenda = await _command(bot, slack_api, "meeting agenda 1", NYC_CHANNEL)
        listed = await _command(bot, slack_api, "meeting list", NYC_CHANNEL)
        await bot.app.worker.drain()
        cards = [
            c for c in slack_api.calls_to("chat.postMessage") if c.params["channel"] == NYC_CHANNEL
        ]

    assert created.startswith("Series 1 created: NYC webinars")
    assert "Upcoming: #1 " in created and ", #2 " in created and ", #3 " in created
    assert agenda.startswith("Agenda of meeting 1, NYC webinars, ")
    assert "1. Watch together\n2. Discuss\n3. Share resources" in agenda
    assert "Welcome and agreements" not in agenda
    assert listed.startswith("Upcoming meetings:\n#1 ")
    [announce] = cards
    text = _card_text(announce)
    assert "1. Watch together" in text and "Sharing" not in text
    assert text.endswith("Can't go 0 · meeting 1")  # its number here, not its row id (4)
