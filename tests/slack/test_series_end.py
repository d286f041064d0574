"""Ending a series and moving a meeting with a reason, end to end through the real Slack adapter:
the confirm button, the channel notice, DMs to those who answered, RSVP buttons after a move."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.fakes.slack_fake import (
    CHANNEL_ID,
    block_actions_payload,
    dm_channel_for,
    slash_command_payload,
)
from tests.slack.helpers import SlackBot, buttons, running_bot

ADMIN = "U0ADMIN001"
MEMBER = "U0MEMBER01"


async def _series_with_an_answer(bot: SlackBot) -> None:
    fake = bot.fake
    fake.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    await bot.post(
        slash_command_payload('setup "Finger Lakes CoP" America/New_York', fake=fake, user_id=ADMIN)
    )
    await bot.post(
        slash_command_payload(
            'meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP"',
            fake=fake,
            user_id=ADMIN,
        )
    )
    await bot.app.worker.drain()
    [announce] = fake.calls_to("chat.postMessage")
    ts = fake.messages[CHANNEL_ID][0]["ts"]
    going = buttons(announce.json_param("blocks"))["Going"]
    await bot.post(block_actions_payload(going, "", user_id=MEMBER, message_ts=ts, fake=fake))
    await fake.wait_for("@response_url", count=1)
    await bot.app.worker.drain()


async def test_ending_a_series_is_confirmed_by_button_and_told_once(slack_api) -> None:
    async with running_bot(slack_api) as bot:
        await _series_with_an_answer(bot)
        status, body = await bot.post(
            slash_command_payload("meeting end-series 1", fake=slack_api, user_id=ADMIN)
        )
        assert status == 200, body
        preview = json.loads(body)
        assert preview["response_type"] == "ephemeral"
        assert preview["text"].startswith(
            "End series 1, Monthly CoP, now? This cancels 3 meetings (#1, #2, #3)."
        )
        assert not [
            c for c in slack_api.calls_to("chat.postMessage")[1:] if "deleted" in c.params["text"]
        ], "nothing happens before the button"
        end = buttons(preview["blocks"])["End the series"]
        await bot.post(block_actions_payload(end, "", user_id=ADMIN, fake=slack_api))
        await slack_api.wait_for("@response_url", count=2)
        await bot.app.worker.drain()
        # A second press (a double click) changes nothing.
        await bot.post(block_actions_payload(end, "", user_id=ADMIN, fake=slack_api))
        again = await slack_api.wait_for("@response_url", count=3)
        await bot.app.worker.drain()
        await bot.app.advance(timedelta(seconds=2))  # one post a second in a channel

    notice = "The series “Monthly CoP” is deleted: 3 meetings are cancelled (#1, #2, #3)."
    posts = slack_api.calls_to("chat.postMessage")
    assert sorted(p.params["channel"] for p in posts if p.params["text"] == notice) == sorted(
        [CHANNEL_ID, dm_channel_for(MEMBER)]
    )
    update = slack_api.calls_to("chat.update")[-1]
    assert update.params["text"].startswith("Cancelled: Monthly CoP.")
    assert again[-1].params["text"] == "Series 1 (Monthly CoP) has already ended."


async def test_a_move_with_a_reason_asks_again_by_dm_with_rsvp_buttons(slack_api) -> None:
    async with running_bot(slack_api) as bot:
        await _series_with_an_answer(bot)
        before = len(slack_api.calls_to("chat.postMessage"))
        await bot.post(
            slash_command_payload(
                'meeting move 1 2026-11-05 18:00 reason="<!everyone> room 4 is flooded"',
                fake=slack_api,
                user_id=ADMIN,
            )
        )
        await bot.app.advance(timedelta(seconds=2))  # one post a second in a channel
        posts = slack_api.calls_to("chat.postMessage")[before:]
        [channel] = [p for p in posts if p.params["channel"] == CHANNEL_ID]
        [dm] = [p for p in posts if p.params["channel"] == dm_channel_for(MEMBER)]
        rsvp = buttons(dm.json_param("blocks"))
        assert set(rsvp) == {"Going", "Maybe", "Can't go"}
        await bot.post(
            block_actions_payload(rsvp["Maybe"], "", in_dm=True, user_id=MEMBER, fake=slack_api)
        )
        answers = await slack_api.wait_for("@response_url", count=2)

    for post in (channel, dm):
        text = post.params["text"]
        assert text.startswith("Monthly CoP has moved from ")
        # Member text never pings: Slack's control sequence arrives escaped.
        assert "Reason: &lt;!everyone&gt; room 4 is flooded" in text
        assert "<!everyone>" not in str(post.params.get("blocks"))
    assert answers[-1].params["text"].startswith("Your answer for Monthly CoP on ")
    assert answers[-1].params["text"].endswith(": Maybe.")
