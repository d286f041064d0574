"""Hostile requests to the real bolt app on loopback: a malformed signature timestamp is a 401
(never a 500), and ids or text that are not what they claim are refused in one sentence."""

from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy import select

from storage.models import Community
from tests.fakes.slack_fake import (
    SIGNING_SECRET,
    block_actions_payload,
    encode_for_http,
    sign,
    slash_command_payload,
)
from tests.slack.helpers import running_bot

ADMIN_ID = "U0ADMIN001"
STALE = "That button no longer works; please use the latest message."


@pytest.mark.parametrize(
    "stamp",
    [
        "abc",
        "",
        " ",
        "1e9",
        "+{now}",
        "{now}.5",
        "0x10",
        "\u0661\u0667\u0660\u0660",
        "99999999999999999999999999",
    ],
)
async def test_a_malformed_timestamp_is_401_and_dispatches_nothing(slack_api, caplog, stamp):
    caplog.set_level(logging.INFO)
    stamp = stamp.format(now=int(time.time()))
    async with running_bot(slack_api) as bot:
        payload = slash_command_payload("help", fake=slack_api)
        status, _ = await bot.post(payload, headers={"X-Slack-Request-Timestamp": stamp})
        calls = list(slack_api.calls)
        # The same request, properly signed, still goes through.
        ok, _ = await bot.post(payload)

    assert (status, ok) == (401, 200)
    assert calls == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_a_timestamp_signed_as_sent_but_not_digits_is_401(slack_api):
    # Signed over the malformed value itself, so only its form can refuse it.
    body = encode_for_http(slash_command_payload("help", fake=slack_api))
    headers = sign(body.body, SIGNING_SECRET)
    headers["X-Slack-Request-Timestamp"] = "+" + headers["X-Slack-Request-Timestamp"]
    async with running_bot(slack_api) as bot:
        status, _ = await bot.post(slash_command_payload("help", fake=slack_api), headers=headers)

    assert status == 401
    assert slack_api.calls == []


@pytest.mark.parametrize(
    "action",
    [
        "vote:cast:99999999999999999999:1",
        "vote:cast:+1:1",
        "vote:cast:0_1:1",
        "vote:cast:\u0661:1",
        "rsvp:going:2147483648",
    ],
)
async def test_a_button_whose_ids_are_not_ids_is_stale(slack_api, caplog, action):
    caplog.set_level(logging.INFO)
    async with running_bot(slack_api) as bot:
        status, _ = await bot.post(block_actions_payload(action, "x", fake=slack_api))
        [post] = await slack_api.wait_for("@response_url")

    assert status == 200
    assert post.params["text"] == STALE
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_control_and_bidi_characters_never_reach_the_database_or_the_reply(slack_api):
    slack_api.add_user(ADMIN_ID, is_admin=True, profile={"display_name": "ana"})
    name = "Finger\x00 Lakes\x1b[31m \u202eCoP\x07"
    async with running_bot(slack_api) as bot:
        status, text = await bot.post(
            slash_command_payload(f'setup "{name}" America/New_York', user_id=ADMIN_ID)
        )
        async with bot.db.session() as session:
            stored = (await session.execute(select(Community.name))).scalars().all()

    assert status == 200
    assert stored == ["Finger Lakes CoP"]
    assert "\x00" not in text and "\\u0000" not in text and "\u202e" not in text
    assert "Finger Lakes CoP" in text
