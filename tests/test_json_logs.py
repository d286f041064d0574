"""LOG_FORMAT=json: one JSON object a line, and a run that stores a reflection answer and
talks to Slack with its token logs neither (the real process, at LOG_LEVEL=DEBUG)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from bot.logs import JsonFormatter
from tests.fakes.slack_fake import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlackWebAPI,
    block_actions_payload,
    dm_channel_for,
    encode_for_http,
    post_signed,
    slash_command_payload,
    view_submission_payload,
)
from tests.support import CIRCLEBOT, free_port, slack_http_env

ADMIN = "U0ADMIN001"
MEMBER = "U0MEMBER01"
SECRET = "Tuesday I lost my patience with Mateo at nap time"


def test_a_record_is_one_json_line_with_its_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord(
            "bot.x", logging.ERROR, __file__, 1, "job %s failed\nsecond", ("j1",), None
        )
        import sys

        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["logger"] == "bot.x"
    assert entry["message"] == "job j1 failed\nsecond"
    assert entry["time"].endswith("+00:00")
    assert "ValueError: boom" in entry["exc_info"]


async def _until(condition: Any, what: str, timeout: float = 15.0) -> None:
    """Poll `condition` (the fake's record of what another process asked) until it holds."""
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110  # the calls come from another process
            await asyncio.sleep(0.05)


async def test_json_logs_of_a_run_hold_no_reflection_text_and_no_token(tmp_path) -> None:
    async with FakeSlackWebAPI() as slack:
        slack.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
        slack.add_user(MEMBER, profile={"display_name": "cara"})
        port = free_port()
        env = slack_http_env(
            slack.base_url,
            f"sqlite:///{tmp_path / 'circlebot.db'}",
            port,
            LOG_FORMAT="json",
            LOG_LEVEL="DEBUG",
        )
        process = await asyncio.create_subprocess_exec(
            str(CIRCLEBOT),
            "run",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        url = f"http://127.0.0.1:{port}/slack/events"

        async def post(payload: dict[str, Any]) -> int:
            status, _ = await post_signed(url, encode_for_http(payload))
            return status

        try:
            for _ in range(200):
                try:
                    await post(slash_command_payload("help", fake=slack, user_id=ADMIN))
                    break
                except OSError:
                    await asyncio.sleep(0.1)
            for user, text in (
                (ADMIN, 'setup "Finger Lakes CoP" America/New_York'),
                (MEMBER, "join"),
                (ADMIN, 'checkins add Weekly timing=schedule:"every Monday at 10:00" open=1d'),
                (ADMIN, "checkins question 1 add What did you notice?"),
                (ADMIN, "checkins open 1"),
            ):
                assert await post(slash_command_payload(text, fake=slack, user_id=user)) == 200
            dm = dm_channel_for(MEMBER)

            def invites() -> list[Any]:
                return [
                    c
                    for c in slack.calls_to("chat.postMessage")
                    if c.params["channel"] == dm and "Time to reflect" in c.params["text"]
                ]

            await _until(lambda: invites(), "the check-in DM")
            invite = invites()[0]
            ts = next(m["ts"] for m in slack.messages[dm] if m["text"] == invite.params["text"])
            [answer] = [
                e["action_id"]
                for b in invite.json_param("blocks")
                if b["type"] == "actions"
                for e in b["elements"]
                if e["type"] == "button" and e["text"]["text"] == "Answer"
            ]
            await post(
                block_actions_payload(
                    answer, "", in_dm=True, channel_id=dm, user_id=MEMBER, message_ts=ts, fake=slack
                )
            )
            [opened] = await slack.wait_for("views.open", timeout=10)
            view = opened.json_param("view")
            await post(
                view_submission_payload(
                    "reflections.answer",
                    values={
                        "q1": {"answer": {"type": "plain_text_input", "value": SECRET}},
                        "p1": {
                            "answer": {
                                "type": "static_select",
                                "selected_option": {"value": "private"},
                            }
                        },
                    },
                    private_metadata=view["private_metadata"],
                    view={"blocks": view["blocks"]},
                    user_id=MEMBER,
                )
            )

            def saved() -> bool:
                return any(
                    c.params["text"].startswith("Saved your answers")
                    for c in slack.calls_to("chat.postMessage")
                )

            await _until(saved, "the author's confirmation")
        finally:
            process.terminate()
            _, stderr = await asyncio.wait_for(process.communicate(), 15)
    text = stderr.decode()
    lines = [line for line in text.splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    assert any(
        e["logger"] == "bot.dispatcher" and "reflections.answer" in e["message"] for e in entries
    )
    assert any(e["level"] == "DEBUG" for e in entries)  # circlebot's own loggers at DEBUG
    assert SECRET not in text and "lost my patience" not in text
    assert BOT_TOKEN not in text and SIGNING_SECRET not in text
