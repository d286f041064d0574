"""The issue's end-to-end poll: created by slash command, three votes by button (one a double
click), the message edited in place with counts, the deadline closes it, the result posted once.

Everything goes through bolt's real request handling (signed HTTP) and the real
AsyncWebClient against the fake Web API; the clock and scheduler are manual.
"""

from __future__ import annotations

import json
from datetime import timedelta

from tests.fakes.slack_fake import CHANNEL_ID, block_actions_payload, slash_command_payload
from tests.slack.helpers import running_bot

ADMIN = "U0ADMIN001"
VOTERS = ["U0VOTER001", "U0VOTER002", "U0VOTER003"]


def button_ids(blocks: list[dict]) -> dict[str, str]:
    return {
        e["text"]["text"]: e["action_id"]
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "button"
    }


def texts(blocks: list[dict]) -> str:
    out = []
    for b in blocks:
        if b["type"] == "section" and "text" in b:
            out.append(b["text"]["text"])
        elif b["type"] == "context":
            out.extend(e["text"] for e in b["elements"])
    return "\n".join(out)


async def test_poll_by_slash_command_votes_by_button_closed_by_deadline(slack_api):
    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    async with running_bot(slack_api) as bot:
        status, text = await bot.post(
            slash_command_payload(
                'setup "Finger Lakes CoP" America/New_York', fake=slack_api, user_id=ADMIN
            )
        )
        assert status == 200 and json.loads(text)["response_type"] == "in_channel"
        status, text = await bot.post(
            slash_command_payload(
                'poll new "Which topic next?" options="Outdoor play | Family engagement | '
                'Transitions" closes="in 2 days"',
                fake=slack_api,
                user_id=ADMIN,
            )
        )
        assert json.loads(text) == {
            "response_type": "ephemeral",
            "text": "Poll #1 is posted in the channel.",
        }
        await bot.app.worker.drain()
        [posted] = slack_api.calls_to("chat.postMessage")
        ts = slack_api.messages[CHANNEL_ID][0]["ts"]
        buttons = button_ids(posted.json_param("blocks"))
        assert list(buttons) == ["Outdoor play", "Family engagement", "Transitions"]

        clicks = [
            (VOTERS[0], "Outdoor play"),
            (VOTERS[1], "Outdoor play"),
            (VOTERS[2], "Transitions"),
            (VOTERS[2], "Transitions"),  # a double click: a second request, new action_ts
        ]
        for n, (user, label) in enumerate(clicks, start=1):
            status, _ = await bot.post(
                block_actions_payload(
                    buttons[label], "", user_id=user, message_ts=ts, fake=slack_api
                )
            )
            assert status == 200
            await slack_api.wait_for("@response_url", count=n)
        confirmations = [p.params for p in slack_api.response_url_posts]

        # Ballots within the edit delay coalesce into one in-place edit.
        await bot.app.advance(timedelta(seconds=5))
        updates = slack_api.calls_to("chat.update")
        live = texts(updates[-1].json_param("blocks"))

        await bot.app.advance(timedelta(days=3))
        await bot.app.worker.drain()
        final_updates = slack_api.calls_to("chat.update")
        posts = slack_api.calls_to("chat.postMessage")
        uploads = slack_api.calls_to("files.completeUploadExternal")

    assert all(c["response_type"] == "ephemeral" for c in confirmations)
    assert all(c["replace_original"] is False for c in confirmations)
    assert len(updates) == 1
    assert updates[0].params["channel"] == CHANNEL_ID and updates[0].params["ts"] == ts
    assert "3 of 4 members known to circlebot voted" in live
    assert "Outdoor play" in live and "2 (67%)" in live

    # The deadline edited the poll (closed) and posted the result exactly once.
    assert len(final_updates) == 2
    closed = final_updates[-1].json_param("blocks")
    assert button_ids(closed) == {}
    results = [p for p in posts[1:] if p.params["channel"] == CHANNEL_ID]
    assert len(results) == 1
    assert "Winner: Outdoor play." in results[0].params["text"]
    assert "Turnout: 3 of 4 members known to circlebot voted." in results[0].params["text"]
    # The result's chart went up with the current upload API, into the same channel.
    assert [u.params["channel_id"] for u in uploads] == [CHANNEL_ID]
