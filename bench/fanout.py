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
import logging
import platform
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

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

    def row(self) -> str:
        ratio = self.bound / self.actual if self.actual else 0.0
        per = self.requests / self.messages if self.messages else 0.0
        return (
            f"| {self.name} | {self.messages} | {self.actual:.1f} s | {self.bound:.1f} s | "
            f"{ratio:.2f} | {self.limited} | {self.lost} | {self.duplicated} | {self.failed} | "
            f"{per:.2f} |"
        )


HEADER = (
    "| scenario | messages | actual | bound | bound/actual | 429s | lost | duplicated "
    "| failed rows | posting requests per message |\n|---|---|---|---|---|---|---|---|---|---|"
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


async def _until(done: Callable[[], bool], timeout: float = TIMEOUT) -> float:
    """Wait until `done()`; returns the monotonic time it was first seen true."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the fan-out did not finish")
        await asyncio.sleep(0.02)
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
    name: str, channels: int, dms: int, cap: int = WORKSPACE_PER_MINUTE
) -> Result:
    """`channels` channel reminders and `dms` DMs in one workspace under Slack's limits, the
    workspace capped at `cap` a minute (circlebot configured for `WORKSPACE_PER_MINUTE`)."""
    limits = SlackRateLimits(workspace_per_minute=cap)
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
            started = time.monotonic()
            keys = await _queue(app, targets, name)
            wanted = set(keys)
            ended = await _until(lambda: wanted <= set(fake.arrivals()))
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
            )

        return await _with_app(
            lambda: SlackAdapter(config, registry=build_registry()), run
        )


async def _settled(db: Database, timeout: float = 60.0) -> None:
    """Wait until no row is pending or being sent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with db.session() as session:
            waiting = (
                await session.execute(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status.in_(("pending", "sending")))  # type: ignore[attr-defined]
                )
            ).scalar_one()
        if not waiting:
            return
        await asyncio.sleep(0.1)


async def discord_dms(name: str, dms: int) -> Result:
    """`dms` DMs (a DM channel to open, then the message) under Discord's limits."""
    limits = DiscordRateLimits()
    async with FakeDiscord(rate_limits=limits) as fake:
        users = [int(fake.add_user(f"member{i}")["id"]) for i in range(dms)]

        async def run(app: App) -> Result:
            adapter = app.adapters[0]
            assert isinstance(adapter, DiscordAdapter)
            await adapter.wait_until_ready()
            posts_before = len(fake.calls_to("POST", r"/channels/\d+/messages"))
            started = time.monotonic()
            keys = await _queue(
                app, [UserRef("discord", WORKSPACE, str(u)) for u in users], name
            )

            def per_user() -> list[int]:
                return [
                    len(fake.messages_in(fake.dm_channels[u])) if u in fake.dm_channels else 0
                    for u in users
                ]

            ended = await _until(lambda: all(per_user()))
            await _settled(app.db)
            counts = per_user()
            posts = len(fake.calls_to("POST", r"/channels/\d+/messages")) - posts_before
            return Result(
                name,
                len(keys),
                ended - started,
                limits.bound(2 * dms),  # open the DM channel, then post
                sum(fake.rate_limited.values()),
                counts.count(0),
                sum(1 for c in counts if c > 1),
                await _failed_rows(app.db),
                posts,
            )

        return await _with_app(
            lambda: DiscordAdapter(
                fake.token,
                registry=build_registry(),
                dev_guild_id=fake.guild_id,
                api_url=fake.api_base,
                gateway_url=fake.gateway_url,
                guild_ready_timeout=0.05,
            ),
            run,
        )


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
    args = parser.parse_args()
    logging.basicConfig(level=args.log, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(main(args.quick, args.only))
