"""SIGKILL of a real `circlebot run` during a fan-out: nothing lost, nothing twice, nothing stuck.

A few hundred DMs are queued; the process delivers them to the fake Slack Web API, which
stores each post and answers it a little late (so some are out but unanswered when the
process dies). After the restart every message exists exactly once (counted per outbox key in
the fake's stored messages) and no row stays "sending" beyond one lease. On SQLite and
PostgreSQL.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.events import UserRef
from bot.outbox import DEFAULT_LEASE, Outbox
from bot.ports import SystemClock
from bot.ui import Message
from storage.db import Database
from storage.models import OutboxMessage
from tests.fakes.slack_fake import TEAM_ID, FakeSlackWebAPI
from tests.support import CIRCLEBOT, free_port, slack_http_env

pytestmark = pytest.mark.long

MEMBERS = 300
LEASE = DEFAULT_LEASE.total_seconds()


def _user(i: int) -> str:
    return f"U0CRASH{i:03d}"


async def _start(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(CIRCLEBOT),
        "run",
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def _statuses(db: Database) -> Counter[str]:
    async with db.session() as session:
        rows = await session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
        return Counter({status: count for status, count in rows.all()})


async def _keys_with(db: Database, *statuses: str) -> set[str]:
    async with db.session() as session:
        rows = await session.execute(
            select(OutboxMessage.key).where(OutboxMessage.status.in_(statuses))  # type: ignore[attr-defined]
        )
        return set(rows.scalars())


async def _wait(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.1)


async def test_sigkill_during_a_fan_out_loses_nothing_and_repeats_nothing(
    db_url: str, tmp_path: Path
) -> None:
    db = Database(db_url)
    await db.upgrade()
    outbox = Outbox(SystemClock())
    async with db.session() as session:
        for i in range(MEMBERS):
            await outbox.enqueue(
                session,
                key=f"reminder:1:PT1H:member:{i}",
                to=UserRef("slack", TEAM_ID, _user(i)),
                message=Message(text=f"The meeting starts in an hour ({i})"),
            )

    async with FakeSlackWebAPI(ts_clock=time.time) as fake:
        # Every post is stored at once and answered late: at the kill some are out, unanswered.
        fake.slow_next("chat.postMessage", 0.3, times=None)
        env = slack_http_env(fake.base_url, db_url, free_port(), SLACK_MESSAGES_PER_MINUTE="3000")

        def posted() -> int:
            return sum(len(m) for m in fake.messages.values())

        first = await _start(env, tmp_path)
        try:

            async def some_out() -> bool:
                if first.returncode is not None:
                    raise AssertionError("circlebot exited before the kill")
                return posted() >= MEMBERS // 3

            await _wait(some_out, 60, "a third of the fan-out")
        finally:
            first.send_signal(signal.SIGKILL)
            await first.wait()
        at_kill = posted()
        stranded = await _keys_with(db, "sending")
        assert 0 < at_kill < MEMBERS, "the kill must land in the middle of the fan-out"
        assert stranded, "some rows must be in flight at the kill"

        second = await _start(env, tmp_path)
        try:

            async def stranded_sent() -> bool:
                if second.returncode is not None:
                    raise AssertionError("circlebot exited after the restart")
                return not stranded & await _keys_with(db, "sending", "pending")

            async def all_sent() -> bool:
                return (await _statuses(db))["sent"] == MEMBERS

            # Stranded rows wait out their lease (the dead process cannot say it is dead),
            # then go first: nothing stays "sending" much longer than one lease.
            await _wait(stranded_sent, LEASE + 15, "the rows stranded by the kill")
            await _wait(all_sent, 120, "every row sent after the restart")
        except AssertionError as err:
            second.terminate()
            _, stderr = await asyncio.wait_for(second.communicate(), 15)
            left = stranded & await _keys_with(db, "sending", "pending")
            about = [
                line
                for line in stderr.decode().splitlines()
                if any(line.endswith(k) or f"{k} " in line or f"{k}:" in line for k in left)
            ]
            raise AssertionError(
                f"{err}: {await _statuses(db)}; stranded {len(stranded)}, left {sorted(left)}\n"
                + "\n".join(about[-40:])
            ) from None
        second.terminate()
        _, stderr = await asyncio.wait_for(second.communicate(), 15)
    await db.dispose()

    keys = Counter(
        ((m.get("metadata") or {}).get("event_payload") or {}).get("key")
        for messages in fake.messages.values()
        for m in messages
    )
    assert set(keys) == {f"reminder:1:PT1H:member:{i}" for i in range(MEMBERS)}  # none lost
    assert max(keys.values()) == 1, [k for k, n in keys.items() if n > 1]  # none twice
    # The rows in flight at the kill were looked for before anything was posted again.
    assert len(fake.calls_to("conversations.history")) >= 1
    assert "Traceback" not in stderr.decode()
