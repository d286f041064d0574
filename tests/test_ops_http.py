"""/healthz and /metrics over loopback: the figures move when a reminder is delivered, a 429
is counted, and health turns 503 naming what failed (loops stopped, database gone)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import App
from bot.metrics import Metrics
from bot.ops import OpsServer
from bot.ports import SystemClock
from storage.db import Database
from tests.fakes.slack_fake import CHANNEL_ID, FakeSlackWebAPI, slash_command_payload
from tests.slack.helpers import running_bot
from tests.support import CIRCLEBOT, RecordingAdapter, free_port, slack_http_env

ADMIN = "U0ADMIN001"


@pytest.fixture
async def slack_api():
    async with FakeSlackWebAPI() as fake:
        yield fake


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.text()


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text (0 when the series does not exist yet)."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


async def test_metrics_move_when_a_reminder_is_delivered_after_a_429(slack_api):
    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    async with running_bot(slack_api) as bot:
        ops = OpsServer(bot.app, "127.0.0.1", 0)
        await ops.start()
        base = f"http://127.0.0.1:{ops.port}"
        try:
            status, ctype, before = await get(f"{base}/metrics")
            assert status == 200 and ctype.startswith("text/plain")
            assert sample(before, "circlebot_outbox_depth") == 0
            assert sample(before, "circlebot_deliveries_total", platform="slack") == 0

            await bot.post(
                slash_command_payload(
                    'setup "Finger Lakes CoP" America/New_York', fake=slack_api, user_id=ADMIN
                )
            )
            await bot.post(
                slash_command_payload(
                    'meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP" '
                    'duration=90 reminders="1d"',
                    fake=slack_api,
                    user_id=ADMIN,
                )
            )
            await bot.app.worker.drain()
            _, _, setup = await get(f"{base}/metrics")
            commands = sample(
                setup, "circlebot_events_handled_total", kind="CommandInvoked", result="ok"
            )
            assert commands == 2
            assert sample(setup, "circlebot_interaction_seconds_count", kind="CommandInvoked") == 2
            sent_before = sample(
                setup, "circlebot_deliveries_total", platform="slack", result="sent"
            )
            assert sent_before >= 1  # the series announcement
            assert sample(setup, "circlebot_outbox_depth") == 0
            # A member may not do a facilitator's job: refused, and counted as such.
            slack_api.add_user("U0MEMBER01", profile={"display_name": "cara"})
            await bot.post(
                slash_command_payload(
                    'meeting series "monthly on the first Friday at 12:00" title="Other"',
                    fake=slack_api,
                    user_id="U0MEMBER01",
                )
            )
            _, _, refused = await get(f"{base}/metrics")
            assert (
                sample(
                    refused,
                    "circlebot_events_handled_total",
                    kind="CommandInvoked",
                    result="refused",
                )
                == 1
            )

            # Slack answers the reminder's post with a 429 that asks for 30 s: it waits.
            slack_api.fail_next("chat.postMessage", status=429, headers={"Retry-After": "30"})
            posted = len(slack_api.calls_to("chat.postMessage"))
            # The 1-day reminder for Tue 3 Nov 18:30 EST is due Mon 2 Nov 23:30 UTC.
            await bot.app.advance_to(datetime(2026, 11, 2, 23, 30, tzinfo=UTC))
            _, _, waiting = await get(f"{base}/metrics")
            assert sample(waiting, "circlebot_outbox_depth") == 1
            assert sample(waiting, "circlebot_outbox_oldest_age_seconds") == 0  # fake clock
            assert sample(waiting, "circlebot_rate_limited_total", platform="slack") == 1
            assert sample(waiting, "circlebot_deliveries_total", result="rate_limited") == 1
            assert sample(waiting, "circlebot_job_lag_seconds_count") >= 1
            assert sample(waiting, "circlebot_jobs_run_total", result="ok") >= 1

            bot.clock.advance(timedelta(seconds=31))
            _, _, later = await get(f"{base}/metrics")
            assert sample(later, "circlebot_outbox_oldest_age_seconds") == 31
            await bot.app.worker.drain()
            _, _, after = await get(f"{base}/metrics")
        finally:
            await ops.stop()
    reminders = slack_api.calls_to("chat.postMessage")[posted:]
    assert [
        c.params["channel"] for c in reminders if c.params.get("text", "").startswith("Reminder:")
    ] == [CHANNEL_ID, CHANNEL_ID]  # the refused attempt, then the delivery
    assert sample(after, "circlebot_outbox_depth") == 0
    assert sample(after, "circlebot_deliveries_total", platform="slack", result="sent") == (
        sent_before + 1
    )
    assert "Finger Lakes" not in after and ADMIN not in after  # kinds and results only


async def _healthz(base: str) -> tuple[int, dict[str, object]]:
    status, ctype, text = await get(f"{base}/healthz")
    assert ctype.startswith("application/json")
    return status, json.loads(text)


async def test_healthz_names_the_loops_once_the_app_stops(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path / 'circlebot.db'}")
    app = App(db, SystemClock(), [RecordingAdapter()])
    ops = OpsServer(app, "127.0.0.1", 0)
    await ops.start()
    base = f"http://127.0.0.1:{ops.port}"
    try:
        status, body = await _healthz(base)
        assert status == 503 and body["failing"] == ["jobs", "outbox"]  # not started yet
        await app.start()
        status, body = await _healthz(base)
        assert status == 200, body
        assert body["status"] == "ok"
        assert set(body["checks"]) == {"database", "jobs", "outbox", "adapter:fake"}  # type: ignore[arg-type]
        # A loop that has not gone round for longer than allowed is stuck, though its task
        # still runs (here: allowed no time at all).
        strict = OpsServer(app, "127.0.0.1", 0, stale_after={"jobs": 3600, "outbox": -1})
        await strict.start()
        try:
            status, body = await _healthz(f"http://127.0.0.1:{strict.port}")
        finally:
            await strict.stop()
        assert status == 503 and body["failing"] == ["outbox"]
        detail = body["checks"]["outbox"]["detail"]  # type: ignore[index]
        assert detail.startswith("no round for ")
        await app.stop()
        status, body = await _healthz(base)
        assert status == 503 and body["failing"] == ["jobs", "outbox"]
        assert body["checks"]["jobs"] == {"ok": False, "detail": "stopped"}  # type: ignore[index]
    finally:
        await ops.stop()
        await db.dispose()


async def test_healthz_is_503_when_the_postgresql_database_is_dropped(postgres_admin_url):
    name = f"circlebot_test_healthz_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    db = Database(postgres_admin_url.rsplit("/", 1)[0] + f"/{name}")
    app = App(db, SystemClock(), [RecordingAdapter()])
    ops = OpsServer(app, "127.0.0.1", 0)
    try:
        await app.start()
        await ops.start()
        base = f"http://127.0.0.1:{ops.port}"
        status, body = await _healthz(base)
        assert status == 200, body
        with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        status, body = await _healthz(base)
        assert status == 503
        assert body["failing"] == ["database"]
        assert "SELECT 1 failed" in body["checks"]["database"]["detail"]  # type: ignore[index]
        # /metrics still answers with its counters when the gauges cannot be read.
        status, _, text = await get(f"{base}/metrics")
        assert status == 200 and "circlebot_events_handled" in text
    finally:
        await ops.stop()
        await app.stop()
        await db.dispose()
        with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_each_app_has_its_own_registry():
    one, two = Metrics(), Metrics()
    one.delivered("slack", "sent")
    assert b'circlebot_deliveries_total{platform="slack",result="sent"} 1.0' in one.exposition()
    assert b"circlebot_deliveries_total{" not in two.exposition()


@pytest.mark.long
async def test_circlebot_run_serves_healthz_and_metrics(slack_api, tmp_path):
    """The real process with OPS_HTTP_PORT: healthy once up, and a handled command counted."""
    from tests.fakes.slack_fake import encode_for_http, post_signed

    port, ops_port = free_port(), free_port()
    env = slack_http_env(
        slack_api.base_url,
        f"sqlite:///{tmp_path / 'circlebot.db'}",
        port,
        OPS_HTTP_PORT=str(ops_port),
    )
    process = await asyncio.create_subprocess_exec(
        str(CIRCLEBOT),
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{ops_port}"
    try:
        body: dict[str, object] = {}
        for _ in range(200):
            try:
                status, body = await _healthz(base)
            except aiohttp.ClientConnectionError:
                status = 0
            if status == 200:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"/healthz never answered 200: {body}")
        help_ = encode_for_http(slash_command_payload("help", fake=slack_api))
        status, _ = await post_signed(f"http://127.0.0.1:{port}/slack/events", help_)
        assert status == 200
        _, _, text = await get(f"{base}/metrics")
    finally:
        process.terminate()
        await asyncio.wait_for(process.communicate(), 10)
    assert body["checks"]["adapter:slack"] == {"ok": True}  # type: ignore[index]
    assert sample(text, "circlebot_events_handled_total", kind="CommandInvoked", result="ok") == 1


async def test_discord_health_follows_the_gateway_and_its_429s_are_counted(tmp_path: Path):
    """discord.py waits out a 429 by itself; the adapter's trace still counts it."""
    from bot.events import ConversationRef
    from bot.ui import Message
    from tests.discord.helpers import running_bot as running_discord
    from tests.fakes.discord_fake import FakeDiscord

    db = Database(f"sqlite:///{tmp_path / 'circlebot.db'}")
    async with FakeDiscord() as fake:
        async with running_discord(fake, db, SystemClock(), manual=False) as (app, adapter):
            ops = OpsServer(app, "127.0.0.1", 0)
            await ops.start()
            base = f"http://127.0.0.1:{ops.port}"
            try:
                status, body = await _healthz(base)
                assert status == 200, body
                assert body["checks"]["adapter:discord"] == {"ok": True}  # type: ignore[index]
                fake.rate_limit_next("POST", rf"/channels/{fake.channel_id}/messages")
                channel = ConversationRef("discord", "discord", str(fake.channel_id))
                await adapter.send(channel, Message(text="hello"))
                _, _, text = await get(f"{base}/metrics")
                assert sample(text, "circlebot_rate_limited_total", platform="discord") == 1
                await adapter.stop()  # the gateway closes
                status, body = await _healthz(base)
                assert status == 503 and body["failing"] == ["adapter:discord"]
                assert body["checks"]["adapter:discord"] == {  # type: ignore[index]
                    "ok": False,
                    "detail": "not connected",
                }
            finally:
                await ops.stop()
    await db.dispose()


async def test_slack_socket_mode_is_connected_while_its_session_is_open(slack_api):
    from tests.fakes.slack_fake import FakeSocketModeServer
    from tests.slack.helpers import socket_config

    async with FakeSocketModeServer(slack_api) as server:
        async with running_bot(slack_api, config=socket_config(slack_api)) as bot:
            await server.wait_for_connection()
            assert bot.adapter.connected()
            await bot.adapter.stop()
            assert not bot.adapter.connected()
