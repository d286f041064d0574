"""Fan-out under Slack's limits: every message once, 429s waited out, failures recorded.

The loopback fake enforces chat.postMessage's limits (`SlackRateLimits`: about one message
a second per channel with a small burst, and a per-workspace cap), scaled up so a fan-out of
a hundred messages takes seconds. The App runs as in production (real clock, its outbox
worker running), with the real SlackAdapter and slack-sdk client.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from adapters.slack import SlackAdapter
from bot.app import App
from bot.events import ConversationRef, UserRef
from bot.features import build_registry
from bot.ports import SystemClock
from bot.ui import Message
from storage.db import Database
from storage.models import OutboxMessage
from tests.fakes.slack_fake import (
    BOT_TOKEN,
    TEAM_ID,
    FakeResponse,
    FakeSlackWebAPI,
    RecordedCall,
    SlackRateLimits,
)
from tests.slack.helpers import http_config
from tests.support import copy_sqlite

#: Slack's limits scaled up so a hundred messages take seconds: the per-channel limit as
#: published (one a second, here without a burst), the workspace cap at 30 a second.
PER_MINUTE = 1800
LIMITS = SlackRateLimits(
    per_channel_per_second=1.0, channel_burst=1, workspace_per_minute=PER_MINUTE, workspace_burst=5
)


@pytest.fixture
def fanout_db_url(tmp_path: Path, _sqlite_template: Path) -> str:
    path = tmp_path / "fanout.db"
    copy_sqlite(_sqlite_template, path)
    return f"sqlite:///{path}"


@asynccontextmanager
async def running(fake: FakeSlackWebAPI, db_url: str, **adapter_kwargs: Any) -> AsyncIterator[App]:
    """The App as `circlebot run` runs it (real clock, outbox worker running) on Slack."""
    db = Database(db_url)
    registry = build_registry()
    config = http_config(fake, messages_per_minute=PER_MINUTE)
    adapter = SlackAdapter(config, registry=registry, **adapter_kwargs)
    app = App(db, SystemClock(), [adapter], registry=registry)
    await app.start()
    try:
        yield app
    finally:
        await app.stop()
        await db.dispose()


def targets(channels: int, dms: int) -> list[ConversationRef | UserRef]:
    return [ConversationRef("slack", TEAM_ID, f"C{i:08d}") for i in range(channels)] + [
        UserRef("slack", TEAM_ID, f"U{i:08d}") for i in range(dms)
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


def key_of(call: RecordedCall) -> str:
    metadata = call.json_param("metadata") or {}
    return str((metadata.get("event_payload") or {}).get("key"))


def posts_per_key(fake: FakeSlackWebAPI) -> Counter[str]:
    """How many chat.postMessage requests each outbox key took (accepted or not)."""
    return Counter(key_of(c) for c in fake.calls_to("chat.postMessage"))


async def test_every_message_arrives_once_under_slacks_limits(fanout_db_url):
    async with FakeSlackWebAPI(rate_limits=LIMITS, ts_clock=time.time) as fake:
        async with running(fake, fanout_db_url) as app:
            keys = await queue(app, targets(60, 40), repeat=3)
            rows = await settled(app, keys)
    assert len(keys) == 106
    assert fake.arrivals() == {k: 1 for k in keys}
    assert {r.status for r in rows.values()} == {"sent"}
    # Paced below both limits: 429s are rare, and no message took more than two posts.
    assert sum(fake.rate_limited.values()) <= 3, fake.rate_limited
    assert max(posts_per_key(fake).values()) <= 2
    # The three messages to one channel went at least a second apart (Slack's channel pace).
    for channel in ("C00000000", "C00000001", "C00000002"):
        stamps = [float(m["ts"]) for m in fake.messages[channel]]
        assert len(stamps) == 3
        assert all(b - a >= 0.9 for a, b in zip(stamps, stamps[1:], strict=False)), stamps


@pytest.mark.parametrize("storm", [20, pytest.param(100, marks=pytest.mark.long)])
async def test_a_429_storm_delays_messages_but_loses_and_repeats_none(fanout_db_url, storm):
    async with FakeSlackWebAPI(rate_limits=LIMITS, ts_clock=time.time) as fake:
        fake.fail_next("chat.postMessage", status=429, headers={"Retry-After": "1"}, times=storm)
        async with running(fake, fanout_db_url) as app:
            keys = await queue(app, targets(60, 40))
            rows = await settled(app, keys)
    assert fake.arrivals() == {k: 1 for k in keys}
    # A 429 is a wait: nothing failed, and no attempt was spent on one.
    assert {(r.status, r.attempts) for r in rows.values()} == {("sent", 1)}
    # Every 429 cost one request and no more (no retry inside the client, no storm).
    posts = posts_per_key(fake)
    assert sum(posts.values()) == len(keys) + storm + sum(fake.rate_limited.values())
    assert max(posts.values()) <= 5, posts.most_common(3)


async def test_server_errors_and_answers_after_the_timeout_neither_lose_nor_repeat(fanout_db_url):
    async with FakeSlackWebAPI(rate_limits=LIMITS, ts_clock=time.time) as fake:
        fake.fail_next("chat.postMessage", status=503, times=5)
        # Posted, but answered after the client stopped waiting: in doubt, looked for later.
        fake.slow_next("chat.postMessage", 1.5, times=3)
        async with running(fake, fanout_db_url, request_timeout=0.5) as app:
            keys = await queue(app, targets(30, 20))
            rows = await settled(app, keys)
    assert fake.arrivals() == {k: 1 for k in keys}
    assert {r.status for r in rows.values()} == {"sent"}
    # The late ones were found in the history instead of being posted again.
    assert len(fake.calls_to("conversations.history")) >= 3
    assert max(posts_per_key(fake).values()) <= 3


async def test_closed_dms_and_missing_channels_fail_with_a_reason_while_the_rest_arrives(
    fanout_db_url,
):
    async with FakeSlackWebAPI(rate_limits=LIMITS, ts_clock=time.time) as fake:
        fake.add_channel("C00000005", is_archived=True)
        fake.add_channel("C00000006", is_member=False)
        default_post = fake._defaults["chat.postMessage"]
        default_open = fake._defaults["conversations.open"]

        def post(call: RecordedCall) -> Any:
            if call.params.get("channel") == "C00000007":
                return {"ok": False, "error": "channel_not_found"}
            return default_post(call)

        def open_dm(call: RecordedCall) -> Any:
            if call.params.get("users") == "U00000003":
                return {"ok": False, "error": "account_inactive"}
            return default_open(call)

        fake.set_responder("chat.postMessage", post)
        fake.set_responder("conversations.open", open_dm)
        async with running(fake, fanout_db_url) as app:
            keys = await queue(app, targets(30, 20))
            rows = await settled(app, keys)
    failed = {k: r.error for k, r in rows.items() if r.status == "failed"}
    assert failed == {
        "reminder:5:0": "is_archived",
        "reminder:6:0": "not_in_channel",
        "reminder:7:0": "channel_not_found",
        "reminder:33:0": "account_inactive",
    }
    assert fake.arrivals() == {k: 1 for k in keys if k not in failed}
    # A permanent refusal is asked once.
    assert all(posts_per_key(fake)[k] <= 1 for k in failed)


async def test_a_channel_told_to_wait_holds_up_no_other_channel(fanout_db_url):
    """One channel answered 429 (Retry-After 2 s) twice waits; the others go on meanwhile."""
    async with FakeSlackWebAPI(rate_limits=LIMITS, ts_clock=time.time) as fake:
        default_post = fake._defaults["chat.postMessage"]
        refused: list[float] = []

        def post(call: RecordedCall) -> Any:
            if call.params.get("channel") == "C00000000" and len(refused) < 2:
                refused.append(time.time())
                return FakeResponse(
                    body={"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": "2"},
                )
            return default_post(call)

        fake.set_responder("chat.postMessage", post)
        async with running(fake, fanout_db_url) as app:
            keys = await queue(app, targets(40, 0))
            rows = await settled(app, keys)
    assert fake.arrivals() == {k: 1 for k in keys}
    assert rows["reminder:0:0"].attempts == 1  # two 429s, no attempt spent
    waited = float(fake.messages["C00000000"][0]["ts"])
    assert waited - refused[0] >= 3.9  # it waited out both Retry-Afters
    others = [float(fake.messages[f"C{i:08d}"][0]["ts"]) for i in range(1, 40)]
    # Everyone else was posted while it waited (40 messages at 30/s take under 2 s).
    assert max(others) < waited, (max(others), waited)


@pytest.mark.long
async def test_a_bigger_fan_out_arrives_once_near_the_bound(fanout_db_url):
    """600 channels and 300 DMs under the scaled limits: once each, close to the bound."""
    async with FakeSlackWebAPI(rate_limits=LIMITS, ts_clock=time.time) as fake:
        async with running(fake, fanout_db_url) as app:
            started = time.monotonic()
            keys = await queue(app, targets(600, 300))
            rows = await settled(app, keys, timeout=300)
            took = time.monotonic() - started
    assert fake.arrivals() == {k: 1 for k in keys}
    assert {r.status for r in rows.values()} == {"sent"}
    assert sum(fake.rate_limited.values()) <= 10, fake.rate_limited
    bound = LIMITS.bound({k: 1 for k in keys})
    print(f"\n900 messages in {took:.1f} s, bound {bound:.1f} s, ratio {bound / took:.2f}")
    assert took < 3 * bound


async def test_the_fake_answers_429_over_slacks_channel_and_workspace_limits():
    """The fake's limiter itself: a channel's burst, then the workspace's, then 429 with
    Retry-After in whole seconds; refused posts are not stored and not counted."""
    limits = SlackRateLimits(
        per_channel_per_second=0.1, channel_burst=2, workspace_per_minute=6, workspace_burst=3
    )
    async with FakeSlackWebAPI(rate_limits=limits) as fake:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.base_url)
        await client.chat_postMessage(channel="C0000001", text="one")
        await client.chat_postMessage(channel="C0000001", text="two")
        with pytest.raises(SlackApiError) as channel_limit:
            await client.chat_postMessage(channel="C0000001", text="three")
        await client.chat_postMessage(channel="C0000002", text="other channel")
        with pytest.raises(SlackApiError) as workspace_limit:
            await client.chat_postMessage(channel="C0000003", text="over the workspace cap")
        # Another workspace (another bot token) has buckets of its own.
        other = AsyncWebClient(token="xoxb-other-workspace", base_url=fake.base_url)
        await other.chat_postMessage(channel="C0000003", text="elsewhere")

    for refused, wait in ((channel_limit.value, 10), (workspace_limit.value, 10)):
        assert refused.response.status_code == 429
        assert refused.response["error"] == "ratelimited"
        retry_after = int(refused.response.headers["Retry-After"])
        assert 1 <= retry_after <= wait
    assert fake.rate_limited == {"channel": 1, "workspace": 1}
    assert [m["text"] for m in fake.messages["C0000001"]] == ["one", "two"]
    assert [m["text"] for m in fake.messages["C0000003"]] == ["elsewhere"]
    # 4 messages, 3 of them at once: the 4th waits 10 s for the workspace (one a 10 s).
    assert limits.bound({"C1": 3, "C2": 1}) == pytest.approx(10.0)
    assert SlackRateLimits(channel_burst=1).bound({"C1": 4}) == pytest.approx(3.0)


async def test_a_429_whose_retry_after_is_not_whole_seconds_is_a_wait_too(fanout_db_url):
    """slack-sdk reads Retry-After with int(): "0.5" made a 429 a permanent failure."""
    async with FakeSlackWebAPI(rate_limits=LIMITS, ts_clock=time.time) as fake:
        fake.fail_next("chat.postMessage", status=429, headers={"Retry-After": "0.5"}, times=10)
        async with running(fake, fanout_db_url) as app:
            keys = await queue(app, targets(20, 10))
            rows = await settled(app, keys)
            # The interactive client (slack-sdk's own wait, bolt's replies) takes it too.
            fake.fail_next("chat.postMessage", status=429, headers={"Retry-After": "0.5"})
            adapter = app.adapters[0]
            assert isinstance(adapter, SlackAdapter)
            await adapter.client.chat_postMessage(channel="C00000001", text="an answer")
    assert fake.arrivals() == {k: 1 for k in keys}
    assert {(r.status, r.attempts) for r in rows.values()} == {("sent", 1)}
    assert [m["text"] for m in fake.messages["C00000001"]][-1] == "an answer"
