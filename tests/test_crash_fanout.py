"""A fan-out through `circlebot run` SIGKILLed again and again: every message once, none twice.

Messages for many channels and DMs are queued through the real Outbox (as every feature
queues them); a real `circlebot run` process in Slack HTTP mode delivers them to the fake
Slack Web API, which stores each post at once and answers it a little late, so at any
moment some posts are out but unanswered. The process is SIGKILLed at random points (after
a random number of new posts, seeded) and restarted on the same database each time; a
last process finishes the work. Then the fake's stored messages are counted per target:
each channel and each DM holds exactly its one message. The posts that were out but not
recorded at a kill are the ambiguous sends: each must have been looked for
(conversations.history) and recorded as the message already there, never posted again.
On SQLite and PostgreSQL; 200 messages x 3 kills by default, 2,000 x 20 under `long`.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.events import ConversationRef, UserRef
from bot.outbox import DEFAULT_LEASE, Outbox
from bot.ports import SystemClock
from bot.ui import Message
from storage.db import Database
from storage.models import OutboxMessage
from tests.fakes.slack_fake import TEAM_ID, FakeSlackWebAPI, dm_channel_for
from tests.support import CIRCLEBOT, free_port, slack_http_env

LEASE = DEFAULT_LEASE.total_seconds()


def _key(i: int) -> str:
    return f"fanout:1:{i}"


def _target(i: int) -> ConversationRef | UserRef:
    """Even messages go to a channel each, odd ones to a person's DM."""
    if i % 2:
        return UserRef("slack", TEAM_ID, f"U0FAN{i:05d}")
    return ConversationRef("slack", TEAM_ID, f"C0FAN{i:05d}")


def _channel(i: int) -> str:
    """Where message `i` lands in the fake."""
    to = _target(i)
    return dm_channel_for(to.user_id) if isinstance(to, UserRef) else to.channel_id


@dataclass
class Kill:
    posted: int  # messages the fake held at the kill
    in_flight: set[str]  # rows "sending" at the kill
    ambiguous: set[str]  # rows whose post the fake holds but the database does not record


@dataclass
class Run:
    db: Database
    fake: FakeSlackWebAPI
    env: dict[str, str]
    cwd: Path
    kills: list[Kill] = field(default_factory=list)

    async def start(self) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            str(CIRCLEBOT),
            "run",
            cwd=self.cwd,
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )

    def posted(self) -> int:
        return sum(len(m) for m in self.fake.messages.values())

    async def rows(self) -> list[OutboxMessage]:
        async with self.db.session() as session:
            return list((await session.execute(select(OutboxMessage))).scalars())


async def _wait(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


async def _kill_after(run: Run, new_posts: int) -> None:
    """Start a process, SIGKILL it once the fake holds `new_posts` more messages."""
    process = await run.start()
    want = run.posted() + new_posts
    try:

        async def enough() -> bool:
            if process.returncode is not None:
                raise AssertionError("circlebot exited before the kill")
            return run.posted() >= want

        await _wait(enough, LEASE + 60, f"{new_posts} more posts")
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()
    rows = await run.rows()
    arrived = run.fake.arrivals()
    run.kills.append(
        Kill(
            run.posted(),
            {r.key for r in rows if r.status == "sending"},
            {r.key for r in rows if r.key in arrived and r.status != "sent"},
        )
    )


async def _finish(run: Run, total: int, timeout: float) -> str:
    """A last process delivers what is left; returns its log."""
    process = await run.start()
    try:

        async def all_sent() -> bool:
            if process.returncode is not None:
                raise AssertionError("circlebot exited after the last restart")
            return sum(r.status == "sent" for r in await run.rows()) == total

        await _wait(all_sent, timeout, "every message sent after the last restart")
    finally:
        process.terminate()
        _, stderr = await asyncio.wait_for(process.communicate(), 15)
    return stderr.decode(errors="replace")


async def _crash_fan_out(db_url: str, cwd: Path, total: int, kills: int, seed: int) -> None:
    db = Database(db_url)
    outbox = Outbox(SystemClock())
    async with db.session() as session:
        for i in range(total):
            await outbox.enqueue(
                session, key=_key(i), to=_target(i), message=Message(text=f"News #{i}")
            )
    rng = random.Random(seed)
    started = time.monotonic()
    async with FakeSlackWebAPI(ts_clock=time.time) as fake:
        # Each post is stored at once and answered 0.1 s later: a kill finds some out, unanswered.
        fake.slow_next("chat.postMessage", 0.1, times=None)
        env = slack_http_env(fake.base_url, db_url, free_port(), SLACK_MESSAGES_PER_MINUTE="6000")
        run = Run(db, fake, env, cwd)
        try:
            # At most total * kills / (kills + 1) posts before the last kill: some are left.
            for _ in range(kills):
                await _kill_after(run, rng.randint(1, total // (kills + 1)))
            log = await _finish(run, total, timeout=LEASE + 30 + total / 10)
        finally:
            rows = await run.rows()
            await db.dispose()
    elapsed = time.monotonic() - started
    backend = db_url.split(":", 1)[0]
    ambiguous = set().union(*(k.ambiguous for k in run.kills))
    in_flight = set().union(*(k.in_flight for k in run.kills))
    print(
        f"\n{total} messages, {kills} SIGKILLs (seed {seed}) on {backend}: {elapsed:.1f} s; "
        f"{len(in_flight)} in flight at a kill, {len(ambiguous)} of them out but unrecorded"
    )

    assert [k.posted for k in run.kills] == sorted(k.posted for k in run.kills)
    assert run.kills[-1].posted < total, "the last kill must land before the end"
    # Every target holds exactly its one message, with its key: none lost, none twice.
    per_channel = {
        c: [m["metadata"]["event_payload"]["key"] for m in ms] for c, ms in fake.messages.items()
    }
    assert per_channel == {_channel(i): [_key(i)] for i in range(total)}
    assert fake.arrivals() == {_key(i): 1 for i in range(total)}
    by_key = {r.key: r for r in rows}
    assert Counter(r.status for r in rows) == {"sent": total}
    assert not any(r.in_doubt for r in rows)
    # The kills hit sends in flight; each one out but unrecorded was looked for and found:
    # its row records the message that was already there.
    assert in_flight, "no kill landed while a message was being sent"
    assert ambiguous, "no kill landed between a post and its answer"
    looked = {c.params.get("channel") for c in fake.calls_to("conversations.history")}
    for key in ambiguous:
        i = int(key.rsplit(":", 1)[1])
        [message] = fake.messages[_channel(i)]
        assert _channel(i) in looked, key
        assert (by_key[key].message_channel, by_key[key].message_id) == (
            _channel(i),
            message["ts"],
        )
        assert by_key[key].attempts >= 2
    assert "Traceback" not in log, log[-4000:]


async def test_a_fan_out_killed_three_times_delivers_each_message_once(
    db_url: str, tmp_path: Path
) -> None:
    await _crash_fan_out(db_url, tmp_path, total=200, kills=3, seed=16)


@pytest.mark.long
async def test_a_fan_out_of_2000_killed_20_times_delivers_each_message_once(
    db_url: str, tmp_path: Path
) -> None:
    await _crash_fan_out(db_url, tmp_path, total=2000, kills=20, seed=2000)
