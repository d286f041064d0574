"""The same signed Slack request replayed after a restart of `circlebot run` has no second effect.

A real process in HTTP mode against the loopback fake Web API, on a SQLite file and on
PostgreSQL: a member answers a meeting "Going" then "Can't go" and votes for one option then
another; the process is stopped and started again; the first "Going" and the first ballot
press are sent again, byte for byte with their original signature (still inside Slack's
5-minute window). The process says it had already handled them, and the RSVP stays
"Can't go", the ballot on the second option.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import select

from storage.db import Database
from storage.meetings import MeetingRsvp
from storage.voting import Ballot, PollOption
from tests.fakes.slack_fake import (
    CHANNEL_ID,
    FakeSlackWebAPI,
    SlackBody,
    block_actions_payload,
    encode_for_http,
    post_signed,
    slash_command_payload,
)
from tests.support import CIRCLEBOT, free_port, slack_http_env

ADMIN = "U0ADMIN001"
MEMBER = "U0MEMBER01"


class Process:
    """`circlebot run` with its log read as it comes (a full pipe would stall the process)."""

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.url = f"http://127.0.0.1:{port}/slack/events"
        self.lines: list[str] = []
        self._changed = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            async with self._changed:
                self.lines.append(raw.decode(errors="replace").rstrip())
                self._changed.notify_all()
        async with self._changed:
            self.lines.append("<exit>")
            self._changed.notify_all()

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines)

    async def wait_for_log(self, text: str, count: int = 1, timeout: float = 15.0) -> None:
        try:
            async with asyncio.timeout(timeout):
                async with self._changed:
                    await self._changed.wait_for(
                        lambda: self.count(text) >= count or "<exit>" in self.lines
                    )
        except TimeoutError:
            pass
        assert self.count(text) >= count, f"{text!r} x{count} not logged:\n" + "\n".join(
            self.lines[-40:]
        )

    async def post(self, body: SlackBody, timestamp: int) -> tuple[int, str]:
        return await post_signed(self.url, body, timestamp=timestamp)

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
        await asyncio.wait_for(self.process.wait(), 15)
        await asyncio.wait_for(self._reader, 5)


@contextlib.asynccontextmanager
async def circlebot_run(fake: FakeSlackWebAPI, db_url: str, cwd: Path) -> AsyncIterator[Process]:
    port = free_port()
    env = slack_http_env(fake.base_url, db_url, port, LOG_LEVEL="INFO")
    raw = await asyncio.create_subprocess_exec(
        str(CIRCLEBOT), "run", cwd=cwd, env=env, stderr=asyncio.subprocess.PIPE
    )
    process = Process(raw, port)
    try:
        await process.wait_for_log("slack: listening on 127.0.0.1", timeout=30)
        yield process
    finally:
        await process.stop()


def buttons(call) -> dict[str, str]:
    return {
        e["text"]["text"]: e["action_id"]
        for b in call.json_param("blocks")
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "button"
    }


async def test_a_signed_request_replayed_after_a_restart_has_no_second_effect(
    slack_api: FakeSlackWebAPI, db_url, tmp_path
):
    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    now = int(time.time())
    answered = 0

    def ts_of(phrase: str) -> str:
        return next(m["ts"] for m in slack_api.messages[CHANNEL_ID] if phrase in m["text"])

    async def press(process: Process, action_id: str, ts: str) -> SlackBody:
        nonlocal answered
        body = encode_for_http(
            block_actions_payload(action_id, "", user_id=MEMBER, message_ts=ts, fake=slack_api)
        )
        status, _ = await process.post(body, now)
        assert status == 200
        answered += 1
        await slack_api.wait_for("@response_url", count=answered, timeout=15)
        return body

    async with circlebot_run(slack_api, db_url, tmp_path) as first:
        for text in (
            'setup "Finger Lakes CoP" America/New_York',
            'meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP"',
            'poll new "Which topic next?" options="Outdoor play | Transitions"',
        ):
            status, reply = await first.post(
                encode_for_http(slash_command_payload(text, fake=slack_api, user_id=ADMIN)), now
            )
            assert status == 200, reply
        announce, poll = await slack_api.wait_for("chat.postMessage", count=2, timeout=15)
        if "Which topic" in announce.params["text"]:
            announce, poll = poll, announce
        rsvp, vote = buttons(announce), buttons(poll)
        meeting_ts, poll_ts = ts_of("Monthly CoP"), ts_of("Which topic")

        going = await press(first, rsvp["Going"], meeting_ts)
        await press(first, rsvp["Can't go"], meeting_ts)
        outdoor = await press(first, vote["Outdoor play"], poll_ts)
        await press(first, vote["Transitions"], poll_ts)

    async with circlebot_run(slack_api, db_url, tmp_path) as again:
        for body in (going, outdoor):
            status, text = await again.post(body, now)
            assert (status, text) == (200, ""), "an empty ack, as for any click"
        await again.wait_for_log("ActionClicked slack:action already handled", count=2)
        log = "\n".join(again.lines)

    db = Database(db_url)
    try:
        async with db.session() as s:
            [answer] = (await s.execute(select(MeetingRsvp.answer))).scalars()
            labels = {o.id: o.label for o in (await s.execute(select(PollOption))).scalars()}
            [ballot] = (await s.execute(select(Ballot))).scalars()
    finally:
        await db.dispose()
    assert answer == "no"
    assert [labels[int(k)] for k in json.loads(ballot.choices)] == ["Transitions"]
    assert len(slack_api.response_url_posts) == answered, "the replays answered nothing"
    replayed = [line for line in log.splitlines() if "already handled" in line]
    assert len(replayed) == 2 and not any(MEMBER in line for line in replayed)
