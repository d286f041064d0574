"""On Slack, /cop meeting list and /cop poll list typed in the bot's DM answer for each of the
member's communities (signed requests through bolt, on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any

from storage.db import Database
from tests.fakes.slack_fake import CHANNEL_ID, FakeSlackWebAPI, slash_command_payload
from tests.slack.helpers import SlackBot, running_bot

ADMIN, BOB, NIA = "U0ADMIN001", "U0BOBBETA1", "U0NIANEW01"
BETA_CHANNEL, GAMMA_CHANNEL = "C0BETA0001", "C0GAMMA001"
BOB_DM, NIA_DM = "D0BOBDM001", "D0NIADM001"


async def _command(
    bot: SlackBot, fake: FakeSlackWebAPI, text: str, user: str, channel: str
) -> dict[str, Any]:
    status, body = await bot.post(
        slash_command_payload(text, fake=fake, user_id=user, channel_id=channel)
    )
    assert status == 200, body
    answer: dict[str, Any] = json.loads(body)
    assert "Sorry" not in answer["text"], answer
    return answer


async def test_dm_lists_answer_for_each_community_of_the_member(
    slack_api: FakeSlackWebAPI, db: Database
) -> None:
    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    slack_api.add_user(BOB, profile={"display_name": "bob"})
    slack_api.add_user(NIA, profile={"display_name": "nia"})
    slack_api.add_channel(BETA_CHANNEL, "beta")
    slack_api.add_channel(GAMMA_CHANNEL, "gamma")
    async with running_bot(slack_api, db=db) as bot:
        for name, channel in (
            ("Alpha", CHANNEL_ID),
            ("Beta", BETA_CHANNEL),
            ("Gamma", GAMMA_CHANNEL),
        ):
            await _command(bot, slack_api, f'setup "{name}" America/New_York', ADMIN, channel)
        await _command(
            bot,
            slack_api,
            'meeting series "monthly on the first Tuesday at 18:30" title="Alpha monthly"',
            ADMIN,
            CHANNEL_ID,
        )
        await _command(
            bot,
            slack_api,
            'poll new "Beta snack?" options="Apples | Pears" closes="in 3 days"',
            ADMIN,
            BETA_CHANNEL,
        )
        await _command(
            bot, slack_api, 'poll new "Gamma secret?" options="A | B"', ADMIN, GAMMA_CHANNEL
        )
        await _command(bot, slack_api, "join", BOB, CHANNEL_ID)
        await _command(bot, slack_api, "join", BOB, BETA_CHANNEL)

        meetings = await _command(bot, slack_api, "meeting list", BOB, BOB_DM)
        polls = await _command(bot, slack_api, "poll list", BOB, BOB_DM)
        nobody = await _command(bot, slack_api, "meeting list", NIA, NIA_DM)

    shown = json.dumps(meetings["blocks"], ensure_ascii=False)
    assert shown.index("Alpha") < shown.index("Beta")
    assert "Alpha monthly" in shown and "<!date^" in shown  # each viewer's own zone
    assert "Gamma" not in shown  # bob is not in Gamma
    assert len(meetings["blocks"]) <= 50  # Slack's limit for one message
    shown = json.dumps(polls["blocks"], ensure_ascii=False)
    assert "Beta snack?" in shown and "you have not voted yet" in shown
    assert "Gamma secret?" not in shown
    assert nobody["text"] == (
        "You are not in a community here yet; run /cop join in a community's channel."
    )


async def test_meeting_ics_asked_in_a_dm_comes_as_a_file_there(
    slack_api: FakeSlackWebAPI, db: Database
) -> None:
    from icalendar import Calendar

    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    slack_api.add_user(BOB, profile={"display_name": "bob"})
    async with running_bot(slack_api, db=db) as bot:
        await _command(bot, slack_api, 'setup "Alpha" America/New_York', ADMIN, CHANNEL_ID)
        await _command(
            bot,
            slack_api,
            'meeting series "monthly on the first Tuesday at 18:30" title="Alpha monthly"',
            ADMIN,
            CHANNEL_ID,
        )
        await _command(bot, slack_api, "join", BOB, CHANNEL_ID)
        answer = await _command(bot, slack_api, "meeting ics 1", BOB, BOB_DM)
        [done] = await slack_api.wait_for("files.completeUploadExternal")

    assert answer["response_type"] == "in_channel"  # in the DM: only bob and the bot see it
    assert done.params["channel_id"] == BOB_DM
    [content] = slack_api.uploaded_files.values()
    [event] = Calendar.from_ical(content).walk("VEVENT")
    assert "RECURRENCE-ID" not in event and str(event["SUMMARY"]) == "Alpha monthly"
