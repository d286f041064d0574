"""Two real `circlebot run` processes on ONE PostgreSQL database behind one fake Slack Web API.

Communities in many channels have a meeting whose reminder fell due while circlebot was
offline (typed through the dispatcher with the clock two hours back, the normal code path),
and a poll is open. Both instances start in Slack HTTP mode; the reminders fan out at once.
Meanwhile voters press the poll's buttons, alternating between the two instances, and every
press is also replayed, at the same moment, to the other instance. In the long variant one
instance is killed (SIGKILL) mid fan-out. Every reminder must reach its channel exactly once
(the rows the dead instance held come back after their lease, in doubt: the survivor looks
in the channel before it posts), and every press must be answered once and stored once.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import time
from base64 import urlsafe_b64encode
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlmodel import col

from bot.app import App
from bot.events import Actor, CommandInvoked, ConversationRef, Place, Respond, UserRef
from bot.ports import FakeClock
from bot.sealed import Sealer, decode_key
from storage.db import Database
from storage.models import Member, OutboxMessage
from storage.voting import Ballot
from tests.fakes.slack_fake import (
    CHANNEL_ID,
    SIGNING_SECRET,
    TEAM_ID,
    FakeSlackWebAPI,
    block_actions_payload,
    encode_for_http,
    post_signed,
    sign,
    slash_command_payload,
)
from tests.support import CIRCLEBOT, RecordingAdapter, free_port, slack_http_env

ADMIN = "U0ADMIN001"
OPTIONS = ("Outdoor play", "Family engagement", "Transitions")
POSTGRES_ONLY = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


class SlackShaped(RecordingAdapter):
    """Only for typing the seed commands: the instances do every delivery."""

    platform: ClassVar[str] = "slack"


@dataclass
class Instance:
    """One `circlebot run` process and its log."""

    name: str
    url: str
    process: asyncio.subprocess.Process
    log: list[str] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None


@asynccontextmanager
async def instances(
    fake: FakeSlackWebAPI, database_url: str, tmp_path: Path, n: int, key: str, **extra: str
) -> AsyncIterator[list[Instance]]:
    """Start `n` instances (same database, same reflection key); stop what is still running."""
    started: list[Instance] = []
    for i in range(n):
        port = free_port()
        cwd = tmp_path / f"instance{i}"
        cwd.mkdir()
        env = slack_http_env(fake.base_url, database_url, port, REFLECTION_KEY=key, **extra)
        process = await asyncio.create_subprocess_exec(
            str(CIRCLEBOT),
            "run",
            cwd=cwd,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        instance = Instance(f"instance{i}", f"http://127.0.0.1:{port}/slack/events", process)
        instance.reader = asyncio.create_task(_read_log(instance))
        started.append(instance)
    try:
        for instance in started:
            await _listening(fake, instance)
        yield started
    finally:
        for instance in started:
            if instance.process.returncode is None:
                instance.process.terminate()
        for instance in started:
            await asyncio.wait_for(instance.process.wait(), 20)
            assert instance.reader is not None
            await asyncio.wait_for(instance.reader, 5)


async def _read_log(instance: Instance) -> None:
    assert instance.process.stderr is not None
    async for line in instance.process.stderr:
        instance.log.append(line.decode(errors="replace"))


async def _listening(fake: FakeSlackWebAPI, instance: Instance) -> None:
    body = encode_for_http(slash_command_payload("help", fake=fake))
    for _ in range(300):
        if instance.process.returncode is not None:
            raise AssertionError(f"{instance.name} exited:\n" + "".join(instance.log))
        try:
            status, _ = await post_signed(instance.url, body)
            assert status == 200
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise AssertionError(f"{instance.name} did not start listening")


def _channel(i: int) -> str:
    return f"C0REMIND{i:03d}"


async def seed(database_url: str, channels: int, key: str) -> None:
    """What facilitators typed two hours ago: a community per channel, each with a meeting
    30 minutes from now reminded 1 hour before (so due half an hour ago), and a poll."""
    now = datetime.now(UTC)
    clock = FakeClock(now - timedelta(hours=2))
    starts = (now + timedelta(minutes=31)).replace(second=0, microsecond=0)
    db = Database(database_url)
    await db.upgrade()
    app = App(db, clock, [SlackShaped()], manual=True, sealer=Sealer(decode_key(key)))
    admin = Actor(UserRef("slack", TEAM_ID, ADMIN), "ana", True)

    async def command(channel: str, path: str, **params: str) -> None:
        place = Place(ConversationRef("slack", TEAM_ID, channel), "cop")
        reply = await app.dispatcher.handle(
            CommandInvoked(admin, place, tuple(path.split()), params)
        )
        assert isinstance(reply, Respond), reply

    await command(CHANNEL_ID, "setup", name="Poll CoP", timezone="UTC")
    options = " | ".join(OPTIONS)
    await command(CHANNEL_ID, "poll new", question="Which topic next?", options=options)
    for i in range(channels):
        await command(_channel(i), "setup", name=f"Circle {i}", timezone="UTC")
        await command(
            _channel(i),
            "meeting series",
            schedule=f"once on {starts:%Y-%m-%d} at {starts:%H:%M}",
            title=f"Meeting {i}",
            reminders="1h",
        )
    async with db.session() as session:
        queued = (
            await session.execute(select(func.count()).select_from(OutboxMessage))
        ).scalar_one()
    await db.dispose()
    assert queued >= 1  # the poll's post waits in the outbox for an instance


def _reminders(fake: FakeSlackWebAPI) -> Counter[str]:
    """Reminder posts per channel, by the outbox key each post carries as metadata."""
    seen: Counter[str] = Counter()
    for channel, messages in fake.messages.items():
        for message in messages:
            key = ((message.get("metadata") or {}).get("event_payload") or {}).get("key", "")
            if key.startswith("reminder:"):
                seen[channel] += 1
    return seen


async def _until(what: str, done: Any, timeout: float) -> None:
    """Wait (polling the fake or the database) until `done()` is true; `what` names it."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                result = done()
                if asyncio.iscoroutine(result):
                    result = await result
                if result:
                    return
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out waiting until {what}") from None


def _buttons(blocks: list[dict[str, Any]]) -> dict[str, str]:
    return {
        e["text"]["text"]: e["action_id"]
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "button"
    }


async def _press_twice(
    session: aiohttp.ClientSession, first: Instance, second: Instance, body: str, kind: str
) -> list[int]:
    """The same signed request to both instances at the same moment (a replay's worst case)."""

    async def post(instance: Instance) -> int:
        headers = {"Content-Type": kind, **sign(body, SIGNING_SECRET)}
        async with session.post(instance.url, data=body.encode(), headers=headers) as response:
            await response.read()
            return response.status

    return list(await asyncio.gather(post(first), post(second)))


async def _vote(fake: FakeSlackWebAPI, running: list[Instance], voters: int) -> dict[str, str]:
    """Each voter presses once (instances alternating), the press replayed to the other
    instance at once; returns response_url -> the label voted."""
    await fake.wait_for("chat.postMessage", timeout=30)
    await _until("the poll is posted", lambda: fake.messages.get(CHANNEL_ID), 30)
    [poll] = [m for m in fake.messages[CHANNEL_ID] if _buttons(m.get("blocks") or [])]
    buttons = _buttons(poll["blocks"])
    assert list(buttons) == list(OPTIONS)
    pressed: dict[str, str] = {}
    async with aiohttp.ClientSession() as session:
        presses = []
        for n in range(voters):
            user, label = f"U0VOTER{n:03d}", OPTIONS[n % len(OPTIONS)]
            payload = block_actions_payload(
                buttons[label], "", user_id=user, message_ts=poll["ts"], fake=fake
            )
            payload["user"].update(name=user.lower(), username=user.lower())
            encoded = encode_for_http(payload)
            first, second = running[n % 2], running[(n + 1) % 2]
            presses.append(_press_twice(session, first, second, encoded.body, encoded.content_type))
            pressed[payload["response_url"]] = label
        statuses = await asyncio.gather(*presses)
    assert statuses == [[200, 200]] * voters
    return pressed


async def _stored_ballots(database_url: str) -> tuple[Counter[str], int]:
    db = Database(database_url)
    try:
        async with db.session() as session:
            rows = (
                await session.execute(
                    select(Member.user_id).join(Ballot, col(Ballot.member_id) == col(Member.id))
                )
            ).scalars()
            per_voter = Counter(rows)
            reminders = (
                await session.execute(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(col(OutboxMessage.key).startswith("reminder:"))
                )
            ).scalar_one()
    finally:
        await db.dispose()
    return per_voter, int(reminders)


async def _reminder_rows(database_url: str) -> int:
    return (await _stored_ballots(database_url))[1]


async def _two_instances(
    database_url: str, tmp_path: Path, *, channels: int, voters: int, kill: bool
) -> None:
    # Every instance has the same reflection key, as the README's deployment section says.
    key = urlsafe_b64encode(secrets.token_bytes(32)).decode()
    await seed(database_url, channels, key)
    # Each post is stored at once but answered late, so a kill finds posts in flight whose
    # outcome the dead instance never learnt (the ambiguous case the look-first covers).
    async with FakeSlackWebAPI(ts_clock=time.time) as fake:
        fake.slow_next("chat.postMessage", 0.2, times=None)
        fake.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
        # A slower workspace pace stretches the fan-out so the kill lands in the middle.
        pace = {"SLACK_MESSAGES_PER_MINUTE": "60"} if kill else {}
        began, out_at_kill = time.perf_counter(), 0
        async with instances(fake, database_url, tmp_path, 2, key, **pace) as running:
            up = time.perf_counter() - began
            pressed = await _vote(fake, running, voters)
            if kill:
                victim = running[0]
                # Every reminder job has run (the rows are queued), some are out: kill now.
                await _until(
                    "every reminder is queued",
                    lambda: _reminder_rows_equal(database_url, channels),
                    60,
                )
                await _until("the fan-out began", lambda: sum(_reminders(fake).values()) >= 3, 60)
                out_at_kill = sum(_reminders(fake).values())
                assert out_at_kill < channels, "the fan-out ended before the kill"
                victim.process.send_signal(signal.SIGKILL)
                await victim.process.wait()
            await _until(
                "every channel has its reminder",
                lambda: len(_reminders(fake)) == channels,
                90,
            )
            # What the survivors queued for the poll (its edits) may still be on its way;
            # reminders are what is counted, so nothing more is waited for.
        took = time.perf_counter() - began
        answers = [
            (fake.root_url.rstrip("/") + c.path, c.params.get("text", ""))
            for c in fake.response_url_posts
        ]
    print(
        f"\n2 instances, {channels} channels, {voters} voters"
        f"{' (one killed at ' + str(out_at_kill) + ' out)' if kill else ''}: both up in"
        f" {up:.1f} s, all delivered {took:.1f} s after the start"
    )
    # Every reminder exactly once per channel, whichever instance (or the survivor) sent it.
    assert _reminders(fake) == Counter({_channel(i): 1 for i in range(channels)})
    # Every press answered once (the replay to the other instance did nothing), and stored once.
    by_url = Counter(url for url, _ in answers if url in pressed)
    assert by_url == Counter(dict.fromkeys(pressed, 1)), by_url
    for url, text in answers:
        if url in pressed:
            assert text.startswith(f"Your vote is saved: {pressed[url]}."), text
    per_voter, reminder_rows = await _stored_ballots(database_url)
    assert per_voter == Counter({f"U0VOTER{n:03d}": 1 for n in range(voters)})
    assert reminder_rows == channels
    lines = [line for instance in running for line in instance.log]
    replays = [line for line in lines if "already handled; nothing done" in line]
    assert len(replays) == voters, "".join(lines)[-6000:]
    assert "Traceback" not in "".join(running[-1].log)


async def _reminder_rows_equal(database_url: str, channels: int) -> bool:
    return await _reminder_rows(database_url) == channels


@POSTGRES_ONLY
async def test_two_instances_share_the_reminders_and_the_presses(db_url, tmp_path) -> None:
    await _two_instances(db_url, tmp_path, channels=12, voters=10, kill=False)


@pytest.mark.long
@POSTGRES_ONLY
async def test_an_instance_killed_mid_fan_out_loses_and_repeats_no_reminder(
    db_url, tmp_path
) -> None:
    await _two_instances(db_url, tmp_path, channels=30, voters=20, kill=True)
