"""`circlebot run` as a real process in HTTP mode against the loopback fake Web API.

This is what the README's testing section shows by hand: settings point the process at the
fake (SLACK_API_URL) and at a local port; a signed /cop help gets the help as its ack.
"""

from __future__ import annotations

import asyncio
import json

from tests.fakes.slack_fake import (
    BOT_TOKEN,
    SIGNING_SECRET,
    encode_for_http,
    post_signed,
    slash_command_payload,
)
from tests.support import CIRCLEBOT, free_port, slack_http_env


async def test_circlebot_run_answers_cop_help_from_the_fake(slack_api, tmp_path):
    port = free_port()
    env = slack_http_env(slack_api.base_url, f"sqlite:///{tmp_path / 'circlebot.db'}", port)
    process = await asyncio.create_subprocess_exec(
        str(CIRCLEBOT),
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}/slack/events"
        body = encode_for_http(slash_command_payload("help", fake=slack_api))
        for _ in range(150):
            try:
                status, text = await post_signed(url, body)
                break
            except OSError:
                await asyncio.sleep(0.1)
        else:
            raise AssertionError("circlebot did not start listening")
    finally:
        process.terminate()
        _, stderr = await asyncio.wait_for(process.communicate(), 10)

    assert status == 200
    reply = json.loads(text)
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith("What you can do with circlebot here:")
    log = stderr.decode()
    assert "slack: listening on 127.0.0.1" in log
    assert BOT_TOKEN not in log and SIGNING_SECRET not in log
