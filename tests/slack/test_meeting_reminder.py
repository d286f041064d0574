"""A meeting reminder delivered to the channel and as DMs, with RSVP by button in Slack."""

from __future__ import annotations

from datetime import timedelta

from tests.fakes.slack_fake import (
    CHANNEL_ID,
    block_actions_payload,
    dm_channel_for,
    slash_command_payload,
)
from tests.slack.helpers import buttons, running_bot

ADMIN = "U0ADMIN001"
MEMBERS = ["U0MEMBER01", "U0MEMBER02"]


async def test_reminder_goes_to_the_channel_and_by_dm_to_those_who_answered(slack_api):
    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    async with running_bot(slack_api) as bot:
        await bot.post(
            slash_command_payload(
                'setup "Finger Lakes CoP" America/New_York', fake=slack_api, user_id=ADMIN
            )
        )
        status, _ = await bot.post(
            slash_command_payload(
                'meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP" '
                'duration=90 link=https://zoom.us/j/123 reminders="1d" dm=yes',
                fake=slack_api,
                user_id=ADMIN,
            )
        )
        assert status == 200
        await bot.app.worker.drain()
        [announce] = slack_api.calls_to("chat.postMessage")
        ts = slack_api.messages[CHANNEL_ID][0]["ts"]
        rsvp = buttons(announce.json_param("blocks"))
        going = next(action for label, action in rsvp.items() if label.lower().startswith("going"))
        for n, user in enumerate(MEMBERS, start=1):
            await bot.post(
                block_actions_payload(going, "", user_id=user, message_ts=ts, fake=slack_api)
            )
            await slack_api.wait_for("@response_url", count=n)
        before = len(slack_api.calls)

        # The 1-day reminder for Tue 3 Nov 18:30 EST is due Mon 2 Nov 23:30 UTC.
        await bot.app.advance(timedelta(hours=10))
        await bot.app.worker.drain()
        after = slack_api.calls[before:]

    posts = [c for c in after if c.method == "chat.postMessage"]
    opened = [c for c in after if c.method == "conversations.open"]
    channel_posts = [p for p in posts if p.params["channel"] == CHANNEL_ID]
    dm_posts = [p for p in posts if p.params["channel"].startswith("D")]
    assert len(channel_posts) == 1
    reminder = channel_posts[0]
    assert reminder.params["text"].startswith("Reminder: Monthly CoP starts in 1 day.")
    blocks = reminder.json_param("blocks")
    when = "".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert "<!date^1793748600^{date_short_pretty} at {time}|Tue 3 Nov 2026, 18:30 EST>" in when
    assert sorted(p.params["channel"] for p in dm_posts) == sorted(
        dm_channel_for(u) for u in MEMBERS
    )
    assert sorted(c.params["users"] for c in opened) == MEMBERS
    assert all(p.params["text"] == reminder.params["text"] for p in dm_posts)
