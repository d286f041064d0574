"""A platform API out of reach at start: one line, quiet retries, and on once it answers.

Each case runs the real `circlebot run` process with its API pointed at a port where nothing
listens yet; the test then starts the loopback fake on that very port and waits for the
process to get through. A refused token, which no retry can cure, still ends the process.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

from tests.fakes.discord_fake import FakeDiscord
from tests.fakes.slack_fake import (
    BOT_TOKEN,
    FakeSlackWebAPI,
    encode_for_http,
    post_signed,
    slash_command_payload,
)
from tests.support import CIRCLEBOT, free_port, slack_http_env

WAIT = 30.0  # seconds a real process gets to say or do something (a loaded CI machine)


async def _start(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(CIRCLEBOT),
        "run",
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _line_with(proc: asyncio.subprocess.Process, text: str, seen: list[str]) -> str:
    """Read stderr (kept in `seen`) until a line contains `text`."""
    assert proc.stderr is not None
    async with asyncio.timeout(WAIT):
        while True:
            raw = await proc.stderr.readline()
            if not raw:
                raise AssertionError(f"circlebot ended before saying {text!r}: {seen}")
            seen.append(raw.decode().rstrip("\n"))
            if text in seen[-1]:
                return seen[-1]


async def _stop(proc: asyncio.subprocess.Process, seen: list[str]) -> int:
    if proc.returncode is None:
        proc.send_signal(signal.SIGINT)
    try:
        _, rest = await asyncio.wait_for(proc.communicate(), 15)
    except TimeoutError:
        proc.kill()
        _, rest = await proc.communicate()
    seen.extend(rest.decode().splitlines())
    assert proc.returncode is not None
    return proc.returncode


async def test_slack_out_of_reach_at_start_is_said_once_then_retried_quietly(
    tmp_path: Path,
) -> None:
    api_port, http_port = free_port(), free_port()
    api = f"http://127.0.0.1:{api_port}/api/"
    env = slack_http_env(api, f"sqlite:///{tmp_path / 'c.db'}", http_port, LOG_LEVEL="WARNING")
    proc = await _start(env, tmp_path)
    seen: list[str] = []
    try:
        line = await _line_with(proc, "cannot reach the Slack API", seen)
        assert f"cannot reach the Slack API at {api} (Connect call failed" in line
        assert "check SLACK_API_URL and the network" in line
        async with FakeSlackWebAPI(port=api_port) as fake:
            await _line_with(proc, "reached the Slack API at", seen)
            assert fake.calls_to("auth.test")
            body = encode_for_http(slash_command_payload("help", fake=fake))
            status, text = await post_signed(f"http://127.0.0.1:{http_port}/slack/events", body)
            assert status == 200
            assert json.loads(text)["text"].startswith("What you can do with circlebot here:")
    finally:
        await _stop(proc, seen)
    assert sum("cannot reach" in line for line in seen) == 1, seen
    assert not any("Traceback" in line for line in seen), seen
    assert not any(BOT_TOKEN in line for line in seen)


async def test_a_token_slack_refuses_ends_the_process_in_one_line(tmp_path: Path) -> None:
    async with FakeSlackWebAPI(valid_tokens={"xoxb-some-other-token"}) as fake:
        env = slack_http_env(fake.base_url, f"sqlite:///{tmp_path / 'c.db'}", free_port())
        env["LOG_LEVEL"] = "WARNING"
        proc = await _start(env, tmp_path)
        seen: list[str] = []
        code = await asyncio.wait_for(_stop_when_ended(proc, seen), WAIT)
    assert code == 1
    # A very first start also says, once, where it created the reflection key; nothing else.
    key = tmp_path / "circlebot.key"
    assert seen == [
        f"circlebot: created the reflection key {key}; back it up: without it, stored "
        "reflections cannot be read (or set REFLECTION_KEY instead)",
        "circlebot: Slack refused SLACK_BOT_TOKEN (invalid_auth); copy the bot token again",
    ]
    assert key.exists()
    async with FakeSlackWebAPI(valid_tokens={"xoxb-some-other-token"}) as fake:
        env = slack_http_env(fake.base_url, f"sqlite:///{tmp_path / 'c.db'}", free_port())
        env["LOG_LEVEL"] = "WARNING"
        proc = await _start(env, tmp_path)
        again: list[str] = []
        code = await asyncio.wait_for(_stop_when_ended(proc, again), WAIT)
    assert code == 1
    assert again == [  # the key is there now: the refusal alone, in one line
        "circlebot: Slack refused SLACK_BOT_TOKEN (invalid_auth); copy the bot token again"
    ]


async def _stop_when_ended(proc: asyncio.subprocess.Process, seen: list[str]) -> int:
    _, err = await proc.communicate()
    seen.extend(err.decode().splitlines())
    assert proc.returncode is not None
    return proc.returncode


async def test_discord_out_of_reach_at_start_is_said_once_then_retried_quietly(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    fake = FakeDiscord(port=port)
    env.update(
        DISCORD_TOKEN=fake.token,
        DISCORD_DEV_GUILD_ID=str(fake.guild_id),
        DISCORD_API_URL=f"http://127.0.0.1:{port}/api/v10",
        DISCORD_GATEWAY_URL=f"ws://127.0.0.1:{port}/gateway-ws",
        DATABASE_URL=f"sqlite:///{tmp_path / 'c.db'}",
        LOG_LEVEL="WARNING",
    )
    proc = await _start(env, tmp_path)
    seen: list[str] = []
    try:
        line = await _line_with(proc, "cannot reach the Discord API", seen)
        assert "check DISCORD_API_URL and the network" in line
        async with fake:
            await fake.wait_for_connection(timeout=WAIT)
            await _line_with(proc, "reached the Discord API at", seen)
    finally:
        await _stop(proc, seen)
    assert sum("cannot reach" in line for line in seen) == 1, seen
    assert not any("Traceback" in line or "Unclosed" in line for line in seen), seen
    assert not any(fake.token in line for line in seen)
