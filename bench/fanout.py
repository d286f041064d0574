"""P2 fan-out: reminders due in the same minute against the platforms' rate limits.

Usage: ``python -m bench.fanout [--quick] [--only NAME ...]``. Results are recorded in
bench/RESULTS.md.

Each scenario runs the real App (its outbox worker, SQLite file database, real clock) with
the real adapter against a loopback fake that enforces the platform's published limits
(`tests.fakes.slack_fake.SlackRateLimits`, `tests.fakes.discord_fake.DiscordRateLimits`).
The reminders are queued the way the reminder jobs queue them (`Outbox.enqueue`, one row
per channel or member, committed together); the clock runs from that commit until the
fake has received the last of them. The bound is the least time the fake's limits allow
for the requests the messages need (`bound`), so bound/actual is how close circlebot
comes to the platform's own ceiling. The fake counts what arrived per outbox key: lost
(never arrived) and duplicated (arrived more than once) come from there; 429s are the
answers over a limit the fake gave; requests per message are the posting requests it saw.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import platform
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import func, select

from adapters.discord import WORKSPACE, DiscordAdapter
from adapters.slack import SlackAdapter, SlackConfig
from bot.app import App
from bot.events import ConversationRef, UserRef
from bot.features import build_registry
from bot.ports import SystemClock
from bot.ui import Message
from storage.db import Database
from storage.models import OutboxMessage
from tests.fakes.discord_fake import DiscordRateLimits, FakeDiscord
from tests.fakes.slack_fake import (
    BOT_TOKEN,
    SIGNING_SECRET,
    TEAM_ID,
    FakeSlackWebAPI,
    SlackRateLimits,
)

log = logging.getLogger(__name__)

#: The workspace cap the fake enforces and circlebot is configured with (Slack publishes
#: "several hundred messages per minute"; 600 is circlebot's default `messages_per_minute`).
WORKSPACE_PER_MINUTE = 600
#: How long a scenario may run before it is reported as not finished.
TIMEOUT = 900.0
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Result:
    name: str
    messages: int
    actual: float
    bound: float
    limited: int
    lost: int
    duplicated: int
    failed: int
    requests: int
    cpu: float  # CPU seconds the bench process used meanwhile (circlebot; Slack's fake too)

    def row(self) -> str:
        ratio = self.bound / self.actual if self.actual else 0.0
        per = self.requests / self.messages if self.messages else 0.0
        return (
            f"| {self.name} | {self.messages} | {self.actual:.1f} s | {self.bound:.1f} s | "
            f"{ratio:.2f} | {self.limited} | {self.lost} | {self.duplicated} | {self.failed} | "
            f"{per:.2f} | {self.cpu:.1f} s |"
        )


HEADER = (
    "| scenario | messages | actual | bound | bound/actual | 429s | lost | duplicated "
    "| failed rows | posting requests per message | CPU of the bench process |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|"
)


async def _queue(app: App, targets: list[ConversationRef | UserRef], what: str) -> list[str]:
    """One reminder per target, queued in one transaction as the reminder jobs do."""
    keys = []
    async with app.db.session() as session:
        for i, to in enumerate(targets):
            key = f"bench:{what}:{i}"
            await app.outbox.enqueue(
                session,
                key=key,
                to=to,
                message=Message(text=f"Reminder: the community meets in 1 hour ({i})."),
            )
            keys.append(key)
    app.worker.wake()
    return keys


async def _until(done: Callable[[], bool], db: Database, timeout: float = TIMEOUT) -> float:
    """Wait until `done()`, or until nothing is left to send (some messages failed for
    good); returns the monotonic time that was first seen."""
    deadline = time.monotonic() + timeout
    rounds = 0
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the fan-out did not finish")
        rounds += 1
        if rounds % 20 == 0 and not await _waiting(db):
            break
        await asyncio.sleep(0.05)
    return time.monotonic()


async def _failed_rows(db: Database) -> int:
    async with db.session() as session:
        return int(
            (
                await session.execute(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status == "failed")
                )
            ).scalar_one()
        )


async def _with_app(
    adapter_factory: Callable[[], object],
    run: Callable[[App], Awaitable[Result]],
) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'fanout.db'}")
        adapter = adapter_factory()
        app = App(db, SystemClock(), [adapter], registry=build_registry())  # type: ignore[list-item]
        await app.start()
        try:
            return await run(app)
        finally:
            await app.stop()
            await db.dispose()


async def slack(
    name: str,
    channels: int,
    dms: int,
    cap: int = WORKSPACE_PER_MINUTE,
    whole_seconds: bool = True,
) -> Result:
    """`channels` channel reminders and `dms` DMs in one workspace under Slack's limits, the
    workspace capped at `cap` a minute (circlebot configured for `WORKSPACE_PER_MINUTE`);
    without `whole_seconds` the fake's Retry-After has decimals."""
    limits = SlackRateLimits(workspace_per_minute=cap, whole_seconds=whole_seconds)
    async with FakeSlackWebAPI(rate_limits=limits, ts_clock=time.time) as fake:
        config = SlackConfig(
            bot_token=BOT_TOKEN,
            signing_secret=SIGNING_SECRET,
            api_url=fake.base_url,
            http_host="127.0.0.1",
            http_port=0,
            messages_per_minute=WORKSPACE_PER_MINUTE,
        )

        async def run(app: App) -> Result:
            targets: list[ConversationRef | UserRef] = [
                ConversationRef("slack", TEAM_ID, f"C{i:08d}") for i in range(channels)
            ] + [UserRef("slack", TEAM_ID, f"U{i:08d}") for i in range(dms)]
            before = len(fake.calls_to("chat.postMessage"))
            started, cpu = time.monotonic(), time.process_time()
            keys = await _queue(app, targets, name)
            wanted = set(keys)
            ended = await _until(lambda: wanted <= set(fake.arrivals()), app.db)
            cpu = time.process_time() - cpu
            # Let anything still in flight land (a duplicate would show up now).
            await _settled(app.db)
            arrived = fake.arrivals()
            return Result(
                name,
                len(keys),
                ended - started,
                limits.bound({str(t): 1 for t in targets}),
                sum(fake.rate_limited.values()),
                sum(1 for k in keys if k not in arrived),
                sum(1 for k in keys if arrived.get(k, 0) > 1),
                await _failed_rows(app.db),
                len(fake.calls_to("chat.postMessage")) - before,
                cpu,
            )

        return await _with_app(lambda: SlackAdapter(config, registry=build_registry()), run)


async def _waiting(db: Database) -> int:
    """Rows still pending or being sent."""
    async with db.session() as session:
        return int(
            (
                await session.execute(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status.in_(("pending", "sending")))  # type: ignore[attr-defined]
                )
            ).scalar_one()
        )


async def _settled(db: Database, timeout: float = 60.0) -> None:
    """Wait until no row is pending or being sent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not await _waiting(db):
            return
        await asyncio.sleep(0.1)


async def serve_discord(dms: int) -> None:
    """The fake Discord of `discord_dms` in a process of its own (as the real one is not in
    circlebot's): prints where it listens as one JSON line, answers ``GET /stats`` on a port
    of its own, and stops when its standard input closes."""
    async with FakeDiscord(rate_limits=DiscordRateLimits(), install=False) as fake:
        users = [int(fake.add_user(f"member{i}")["id"]) for i in range(dms)]

        async def stats(_request: web.Request) -> web.Response:
            per_channel = Counter(m["channel_id"] for m in fake.messages.values())
            return web.json_response(
                {
                    "arrived": [per_channel[str(fake.dm_channels.get(u, 0))] for u in users],
                    "rate_limited": fake.rate_limited,
                    "posts": len(fake.calls_to("POST", r"/channels/\d+/messages")),
                }
            )

        app = web.Application()
        app.router.add_get("/stats", stats)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        info = {
            "token": fake.token,
            "guild_id": fake.guild_id,
            "api_base": fake.api_base,
            "gateway_url": fake.gateway_url,
            "stats": f"http://127.0.0.1:{runner.addresses[0][1]}/stats",
            "users": users,
        }
        print(json.dumps(info), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await runner.cleanup()


async def discord_dms(name: str, dms: int) -> Result:
    """`dms` DMs (a DM channel to open, then the message) under Discord's limits, the fake
    Discord in a process of its own (`serve_discord`)."""
    limits = DiscordRateLimits()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.fanout",
        "--serve-discord",
        str(dms),
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stdin is not None
    info = json.loads(await process.stdout.readline())
    users: list[int] = info["users"]
    try:
        async with aiohttp.ClientSession() as http:

            async def stats() -> dict[str, Any]:
                async with http.get(info["stats"]) as response:
                    return dict(await response.json())

            async def run(app: App) -> Result:
                adapter = app.adapters[0]
                assert isinstance(adapter, DiscordAdapter)
                await adapter.wait_until_ready()
                before = (await stats())["posts"]
                started, cpu = time.monotonic(), time.process_time()
                keys = await _queue(
                    app, [UserRef("discord", WORKSPACE, str(u)) for u in users], name
                )
                rounds = 0
                while not all((now := await stats())["arrived"]):
                    if time.monotonic() > started + TIMEOUT:
                        raise TimeoutError("the fan-out did not finish")
                    rounds += 1
                    if rounds % 20 == 0 and not await _waiting(app.db):
                        break  # some failed for good
                    await asyncio.sleep(0.05)
                ended, cpu = time.monotonic(), time.process_time() - cpu
                await _settled(app.db)
                now = await stats()
                counts: list[int] = now["arrived"]
                return Result(
                    name,
                    len(keys),
                    ended - started,
                    limits.bound(2 * dms),  # open the DM channel, then post
                    sum(now["rate_limited"].values()),
                    counts.count(0),
                    sum(1 for c in counts if c > 1),
                    await _failed_rows(app.db),
                    now["posts"] - before,
                    cpu,
                )

            return await _with_app(
                lambda: DiscordAdapter(
                    info["token"],
                    registry=build_registry(),
                    dev_guild_id=info["guild_id"],
                    api_url=info["api_base"],
                    gateway_url=info["gateway_url"],
                    guild_ready_timeout=0.05,
                ),
                run,
            )
    finally:
        process.stdin.close()
        await asyncio.wait_for(process.wait(), 30)


SCENARIOS: dict[str, Callable[[bool], Awaitable[Result]]] = {
    "slack-channels": lambda q: slack(
        f"Slack: {200 if q else 1000} channels, one workspace", 200 if q else 1000, 0
    ),
    "slack-dms": lambda q: slack(
        f"Slack: {100 if q else 500} DMs, one workspace", 0, 100 if q else 500
    ),
    "slack-both": lambda q: slack(
        f"Slack: {200 if q else 1000} channels + {100 if q else 500} DMs, one workspace",
        200 if q else 1000,
        100 if q else 500,
    ),
    "slack-lower-cap": lambda q: slack(
        f"Slack: {200 if q else 1000} channels, the workspace capped at "
        f"{WORKSPACE_PER_MINUTE // 2}/min while circlebot is set to {WORKSPACE_PER_MINUTE}/min",
        200 if q else 1000,
        0,
        WORKSPACE_PER_MINUTE // 2,
    ),
    "slack-lower-cap-decimal": lambda q: slack(
        f"Slack: {200 if q else 500} channels, the workspace capped at "
        f"{WORKSPACE_PER_MINUTE // 2}/min while circlebot is set to {WORKSPACE_PER_MINUTE}/min, "
        "Retry-After with decimals",
        200 if q else 500,
        0,
        WORKSPACE_PER_MINUTE // 2,
        whole_seconds=False,
    ),
    "discord-dms": lambda q: discord_dms(f"Discord: {100 if q else 500} DMs", 100 if q else 500),
}


async def main(quick: bool, only: list[str]) -> None:
    print(
        f"P2 fan-out ({'quick' if quick else 'full'}), Python {platform.python_version()}, "
        f"Slack workspace cap {WORKSPACE_PER_MINUTE}/min",
        file=sys.stderr,
    )
    results = []
    for name, scenario in SCENARIOS.items():
        if only and name not in only:
            continue
        result = await scenario(quick)
        print(result.row(), file=sys.stderr)
        results.append(result)
    print(HEADER)
    for result in results:
        print(result.row())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a fifth of the sizes")
    parser.add_argument("--only", nargs="*", default=[], choices=sorted(SCENARIOS))
    parser.add_argument("--log", default="WARNING", help="log level (default WARNING)")
    parser.add_argument("--serve-discord", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=args.log, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args.serve_discord is not None:
        asyncio.run(serve_discord(args.serve_discord))
    else:
        asyncio.run(main(args.quick, args.only))
