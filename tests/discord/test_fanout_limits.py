"""Fan-out under Discord's limits: every message once, 429s waited out, failures recorded.

The loopback fake enforces Discord's global limit (50 requests a second) and per-route
buckets with their ``X-RateLimit-*`` headers (`DiscordRateLimits`; the channel bucket scaled
to 2 messages a second so a test takes seconds). The App runs as in production (real clock,
its outbox worker running) with the real DiscordAdapter; discord.py waits on the buckets
itself, the adapter keeps under the global limit.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from adapters.discord import WORKSPACE
from bot.app import App
from bot.events import ConversationRef, UserRef
from bot.features import build_registry
from bot.ports import SystemClock
from bot.ui import Message
from storage.db import Database
from storage.models import OutboxMessage
from tests.discord.helpers import make_adapter
from tests.fakes.discord_fake import DiscordRateLimits, FakeDiscord, RouteLimit
from tests.support import copy_sqlite

MESSAGES = r"/channels/(\d+)/messages"
LIMITS = DiscordRateLimits(routes=(RouteLimit("POST", MESSAGES, 2, 1.0, "create-message"),))


@pytest.fixture
def fanout_db_url(tmp_path: Path, _sqlite_template: Path) -> str:
    path = tmp_path / "fanout.db"
    copy_sqlite(_sqlite_template, path)
    return f"sqlite:///{path}"


@asynccontextmanager
async def running(fake: FakeDiscord, db_url: str, **adapter_kwargs: Any) -> AsyncIterator[App]:
    """The App as `circlebot run` runs it (real clock, outbox worker running) on Discord."""
    db = Database(db_url)
    registry = build_registry()
    adapter = make_adapter(fake, registry, **adapter_kwargs)
    app = App(db, SystemClock(), [adapter], registry=registry)
    await app.start()
    try:
        await adapter.wait_until_ready()
        yield app
    finally:
        await app.stop()
        await db.dispose()


def targets(fake: FakeDiscord, channels: int, dms: int) -> list[ConversationRef | UserRef]:
    made = [fake.add_text_channel(f"circle-{i}") for i in range(channels)]
    users = [fake.add_user(f"member{i}") for i in range(dms)]
    return [ConversationRef("discord", WORKSPACE, str(c["id"])) for c in made] + [
        UserRef("discord", WORKSPACE, str(u["id"])) for u in users
    ]


async def queue(app: App, to: list[ConversationRef | UserRef], repeat: int = 1) -> list[str]:
    """A reminder to each target (`repeat` to the first three), committed together."""
    keys = []
    async with app.db.session() as session:
        for i, target in enumerate(to):
            for n in range(repeat if i < 3 else 1):
                key = f"reminder:{i}:{n}"
                message = Message(text=f"The circle meets in an hour ({i}, {n}).")
                await app.outbox.enqueue(session, key=key, to=target, message=message)
                keys.append(key)
    app.worker.wake()
    return keys


async def settled(app: App, keys: list[str], timeout: float = 60.0) -> dict[str, OutboxMessage]:
    """Wait until every row is sent or failed; the rows by key."""
    deadline = time.monotonic() + timeout
    while True:
        async with app.db.session() as session:
            rows = {r.key: r for r in (await session.execute(select(OutboxMessage))).scalars()}
        if all(rows[k].status in ("sent", "failed") for k in keys):
            return rows
        assert time.monotonic() < deadline, Counter(r.status for r in rows.values())
        await asyncio.sleep(0.1)


def arrived(fake: FakeDiscord, to: list[ConversationRef | UserRef]) -> list[int]:
    """How many messages each target has in the fake (a DM: in its DM channel)."""
    per_channel = Counter(m["channel_id"] for m in fake.messages.values())
    counts = []
    for target in to:
        if isinstance(target, UserRef):
            channel = str(fake.dm_channels.get(int(target.user_id), 0))
        else:
            channel = target.channel_id
        counts.append(per_channel[channel])
    return counts


def expected(to: list[ConversationRef | UserRef], repeat: int = 1) -> list[int]:
    return [repeat if i < 3 else 1 for i in range(len(to))]


def posts(fake: FakeDiscord) -> int:
    return len(fake.calls_to("POST", r"/channels/\d+/messages"))


async def test_every_message_arrives_once_under_discords_limits(fanout_db_url):
    async with FakeDiscord(rate_limits=LIMITS) as fake:
        to = targets(fake, 30, 40)
        async with running(fake, fanout_db_url) as app:
            keys = await queue(app, to, repeat=4)
            rows = await settled(app, keys)
    assert arrived(fake, to) == expected(to, repeat=4)
    assert {r.status for r in rows.values()} == {"sent"}
    # Kept under the global limit and inside the buckets: 429s are rare, requests bounded.
    assert sum(fake.rate_limited.values()) <= 3, fake.rate_limited
    assert posts(fake) <= len(keys) + 3
    # DM channels are opened once each.
    opened = [c for c in fake.calls_to("POST", r"/users/@me/channels") if c.status == 200]
    assert len(opened) == 40


async def test_a_429_storm_delays_messages_but_loses_and_repeats_none(fanout_db_url):
    async with FakeDiscord(rate_limits=LIMITS) as fake:
        to = targets(fake, 30, 30)
        fake.rate_limit_next("POST", MESSAGES, retry_after=0.2, times=25)
        fake.rate_limit_next("POST", MESSAGES, retry_after=0.2, times=10, is_global=True)
        async with running(fake, fanout_db_url) as app:
            keys = await queue(app, to)
            rows = await settled(app, keys)
    assert arrived(fake, to) == expected(to)
    # A 429 is a wait: nothing failed, and no attempt was spent on one.
    assert {(r.status, r.attempts) for r in rows.values()} == {("sent", 1)}
    # Every 429 cost one request and no more.
    assert posts(fake) == len(keys) + 35 + fake.rate_limited["route"] + fake.rate_limited["global"]


async def test_server_errors_and_answers_after_the_timeout_neither_lose_nor_repeat(fanout_db_url):
    async with FakeDiscord(rate_limits=LIMITS) as fake:
        to = targets(fake, 20, 20)
        fake.fail_next("POST", MESSAGES, status=503, times=4)
        # Made, but answered after the client stopped waiting: the retry's nonce finds it.
        fake.fail_next("POST", MESSAGES, status=200, written=True, delay=1.5, times=3)
        async with running(fake, fanout_db_url, request_timeout=0.5) as app:
            keys = await queue(app, to)
            rows = await settled(app, keys)
    assert arrived(fake, to) == expected(to)
    assert {r.status for r in rows.values()} == {"sent"}
    assert posts(fake) <= len(keys) + 7 + sum(fake.rate_limited.values())


async def test_closed_dms_and_missing_channels_fail_with_a_reason_while_the_rest_arrives(
    fanout_db_url,
):
    async with FakeDiscord(rate_limits=LIMITS) as fake:
        to = targets(fake, 20, 20)
        closed = to[25]
        assert isinstance(closed, UserRef)
        dm = fake.dm_channel(fake.users[int(closed.user_id)])
        fake.fail_next(
            "POST",
            rf"/channels/{dm['id']}/messages",
            status=403,
            json={"code": 50007, "message": "Cannot send messages to this user"},
            times=None,
        )
        gone = ConversationRef("discord", WORKSPACE, "1234567890123456789")
        async with running(fake, fanout_db_url) as app:
            keys = await queue(app, [*to, gone])
            rows = await settled(app, keys)
    failed = {k: r.error for k, r in rows.items() if r.status == "failed"}
    assert failed == {"reminder:25:0": "dm_closed", "reminder:40:0": "channel_not_found"}
    counts = arrived(fake, to)
    assert counts[25] == 0 and counts[:25] + counts[26:] == [1] * 39
    # A permanent refusal is asked once.
    assert len(fake.calls_to("POST", rf"/channels/{dm['id']}/messages")) == 1


async def test_several_dms_are_in_flight_at_once(fanout_db_url):
    """A slow Discord does not make DMs go one by one: the worker keeps several in flight,
    so discord.py's buckets (not circlebot) decide the pace."""
    async with FakeDiscord(rate_limits=LIMITS) as fake:
        to = targets(fake, 0, 16)
        fake.fail_next(
            "POST", r"/users/@me/channels", status=200, written=True, delay=0.5, times=None
        )
        async with running(fake, fanout_db_url) as app:
            keys = await queue(app, to)
            await settled(app, keys)
    assert arrived(fake, to) == expected(to)
    opened = sorted(c.at for c in fake.calls_to("POST", r"/users/@me/channels"))
    # Each open took half a second; one at a time, 16 would have taken 8 s.
    most = max(sum(1 for t in opened if start <= t < start + 0.5) for start in opened)
    assert most >= 4, opened


@pytest.mark.long
async def test_five_hundred_dms_arrive_once_near_the_bound(fanout_db_url):
    """500 DMs (1,000 requests) under the real global limit: once each, close to the bound."""
    async with FakeDiscord(rate_limits=DiscordRateLimits()) as fake:
        to = targets(fake, 0, 500)
        async with running(fake, fanout_db_url) as app:
            started = time.monotonic()
            keys = await queue(app, to)
            rows = await settled(app, keys, timeout=300)
            took = time.monotonic() - started
    assert arrived(fake, to) == expected(to)
    assert {r.status for r in rows.values()} == {"sent"}
    bound = DiscordRateLimits().bound(1000)
    print(f"\n500 DMs in {took:.1f} s, bound {bound:.1f} s, ratio {bound / took:.2f}")
    assert sum(fake.rate_limited.values()) <= 20, fake.rate_limited
    assert took < 4 * bound  # in-process fake; several times the bound only on a loaded machine


async def test_the_fake_enforces_discords_route_buckets_and_global_limit() -> None:
    """The fake's limiter itself: bucket headers on every answer of a limited route, a 429
    per route and a global one as Discord shapes them; interactions are not counted."""
    limits = DiscordRateLimits(
        global_per_second=3,
        global_window=30.0,
        routes=(RouteLimit("POST", r"/channels/(\d+)/messages", 2, 30.0, "bucket-a"),),
    )
    async with FakeDiscord(rate_limits=limits) as fake:
        headers = {"Authorization": f"Bot {fake.token}", "Content-Type": "application/json"}
        url = f"{fake.api_base}/channels/{fake.channel_id}/messages"
        answers = []
        async with aiohttp.ClientSession() as session:
            for text in ("one", "two", "three"):
                async with session.post(url, json={"content": text}, headers=headers) as r:
                    answers.append((r.status, dict(r.headers), await r.json()))
            async with session.get(f"{fake.api_base}/users/@me", headers=headers) as r:
                answers.append((r.status, dict(r.headers), await r.json()))
            async with session.get(f"{fake.api_base}/users/@me", headers=headers) as r:
                answers.append((r.status, dict(r.headers), await r.json()))

    (s1, h1, _), (s2, h2, _), (s3, h3, b3), (s4, _, _), (s5, h5, b5) = answers
    assert (s1, s2, s3, s4, s5) == (200, 200, 429, 200, 429)
    assert (h1["X-RateLimit-Limit"], h1["X-RateLimit-Remaining"]) == ("2", "1")
    assert h2["X-RateLimit-Remaining"] == "0" and h2["X-RateLimit-Bucket"] == "bucket-a"
    assert 0 < float(h2["X-RateLimit-Reset-After"]) <= 30
    assert h3["X-RateLimit-Scope"] == "user" and "X-RateLimit-Global" not in h3
    assert b3["global"] is False and 0 < b3["retry_after"] <= 30
    assert h5["X-RateLimit-Global"] == "true" and h5["X-RateLimit-Scope"] == "global"
    assert b5["global"] is True and b5["message"] == "You are being rate limited."
    assert fake.rate_limited == {"global": 1, "route": 1}
    assert [m["content"] for m in fake.messages_in(fake.channel_id)] == ["one", "two"]
    assert limits.bound(7) == 60.0  # windows at 0, 30 and 60 s
    assert DiscordRateLimits().bound(1000) == 19.0
