"""P1 interaction overhead: a vote button press through circlebot against a bare app, interleaved.

Usage: ``python -m bench.interaction [--quick] [--presses N] [--only slack|discord ...]
[--ballots N ...] [--profile FILE]``. Results are recorded in bench/RESULTS.md.

Slack: circlebot (the real `App`, its outbox worker and job runner, on a SQLite file, with
the real `SlackAdapter` in HTTP mode) and a bare slack-bolt ``AsyncApp`` whose action
listener only acks, served the same way (bolt's aiohttp server on loopback, same signing
secret, same Web API fake). Signed ``block_actions`` requests of the same shape (a vote
button of an open poll that already holds many ballots) go to one and then the other, N
times. For each press: the time to the HTTP 200 (the ack), and for circlebot also the time
until the voter's private confirmation reaches the fake (the adapter answers through the
``response_url``; the fake notes when the request arrived, before reading it). Each
circlebot press comes from a person who has not voted yet, so it is a first vote (a new
member row, a ``users.info`` lookup, a ballot).

Discord: the same against the loopback gateway fake: circlebot's `DiscordAdapter` and a bare
discord.py ``Client`` whose persistent ``DynamicItem`` button only answers
(``interaction.response.send_message(ephemeral=True)``), each on its own gateway
connection. Measured: ``INTERACTION_CREATE`` dispatched to the interaction callback's arrival
at the fake (for circlebot, that callback is the confirmation).

Everything runs in one process and one event loop (the fakes, the client and both apps), on
a real clock; the presses are sequential, so each one sees whatever background work the
previous ones left (circlebot's poll refresh job and its edit of the poll message).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import logging
import math
import os
import platform
import re
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import discord
from aiohttp import web
from slack_bolt.app.async_server import AsyncSlackAppServer
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import insert, select
from sqlmodel import col

from adapters.discord import DiscordAdapter
from adapters.slack import SlackAdapter, SlackConfig
from bot.app import App
from bot.cli import keep_platform_bodies_out_of_logs
from bot.features import build_registry
from bot.features.voting.ballots import encode
from bot.logs import TEXT_FORMAT
from bot.ports import SystemClock
from storage.db import Database
from storage.models import Member
from storage.voting import Ballot, Poll, PollOption
from tests.fakes.discord_fake import FakeDiscord, running_client
from tests.fakes.slack_fake import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlackWebAPI,
    block_actions_payload,
    encode_for_http,
    post_signed,
    sign,
    slash_command_payload,
)

log = logging.getLogger(__name__)

PRESSES = 400
QUICK_PRESSES = 40
#: Presses of each kind made first and not counted (connections, caches, bolt's first
#: auth.test, SQLite's first pages).
WARMUP = 10
BALLOTS = (10, 2000)
EVENTS_PATH = "/slack/events"
ADMIN = "U0ADMIN001"
OPTIONS = ("Outdoor play", "Family engagement", "Transitions")
#: How long one answer may take before the run stops as broken.
ANSWER_TIMEOUT = 10.0
ADMIN_PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, use_application_commands=True, manage_guild=True
).value


# -- figures ------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of `values`."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class Result:
    """Milliseconds per press, each list in press order."""

    platform: str
    ballots: int
    bare_ack: list[float] = field(default_factory=list)
    bot_ack: list[float] = field(default_factory=list)
    bot_confirmed: list[float] = field(default_factory=list)
    # CPU milliseconds the whole process used from sending a press to its answer (the client
    # and fake included, the same for both): a figure the machine's load does not stretch.
    bare_cpu: list[float] = field(default_factory=list)
    bot_cpu: list[float] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        out = {
            "bare_ack_p50": percentile(self.bare_ack, 0.5),
            "bare_ack_p99": percentile(self.bare_ack, 0.99),
            "confirmed_p50": percentile(self.bot_confirmed, 0.5),
            "confirmed_p99": percentile(self.bot_confirmed, 0.99),
        }
        if self.bot_ack:
            out["bot_ack_p50"] = percentile(self.bot_ack, 0.5)
            out["bot_ack_p99"] = percentile(self.bot_ack, 0.99)
        out["ratio"] = out["confirmed_p50"] / out["bare_ack_p50"]
        out["bare_cpu_p50"] = percentile(self.bare_cpu, 0.5)
        out["bot_cpu_p50"] = percentile(self.bot_cpu, 0.5)
        return out

    def row(self) -> str:
        f = self.figures()
        bot_ack = (
            f"{f['bot_ack_p50']:.1f} / {f['bot_ack_p99']:.1f}" if "bot_ack_p50" in f else "(none)"
        )
        return (
            f"| {self.platform} | {self.ballots:,} | {len(self.bot_confirmed)} "
            f"| {f['bare_ack_p50']:.1f} / {f['bare_ack_p99']:.1f} | {bot_ack} "
            f"| {f['confirmed_p50']:.1f} / {f['confirmed_p99']:.1f} | {f['ratio']:.2f} "
            f"| {f['bare_cpu_p50']:.1f} / {f['bot_cpu_p50']:.1f} |"
        )


HEADER = (
    "| platform | ballots already on the poll | presses of each | bare app ack p50 / p99 (ms) "
    "| circlebot ack p50 / p99 (ms) | circlebot confirmation p50 / p99 (ms) "
    "| confirmation p50 / bare ack p50 | CPU a press p50, bare / circlebot (ms) |\n"
    "|---|---|---|---|---|---|---|---|"
)


# -- shared set-up ------------------------------------------------------------------------------


async def seed_ballots(db: Database, count: int, prefix: str) -> None:
    """`count` members who have voted on the one open poll, written in bulk (not the vote path:
    these are the ballots the poll already holds before the measured presses)."""
    now = datetime.now(UTC)
    async with db.session() as session:
        poll = (await session.execute(select(Poll))).scalars().one()
        options = [
            o.id
            for o in (
                await session.execute(select(PollOption).where(col(PollOption.poll_id) == poll.id))
            ).scalars()
        ]
        await session.execute(
            insert(Member),
            [
                {
                    "community_id": poll.community_id,
                    "user_id": f"{prefix}{i:07d}",
                    "display_name": f"seed{i}",
                    "joined_at": now,
                }
                for i in range(count)
            ],
        )
        members = (
            await session.execute(
                select(col(Member.id))
                .where(col(Member.user_id).startswith(prefix))
                .order_by(col(Member.id))
            )
        ).scalars()
        await session.execute(
            insert(Ballot),
            [
                {
                    "poll_id": poll.id,
                    "community_id": poll.community_id,
                    "member_id": member_id,
                    "choices": encode({options[i % len(options)]: 1}),
                    "cast_at": now,
                    "updated_at": now,
                }
                for i, member_id in enumerate(members)
            ],
        )


@asynccontextmanager
async def circlebot(adapter: Any, tmp: Path) -> AsyncIterator[App]:
    """The real App (real clock, outbox worker, job runner) on a SQLite file."""
    db = Database(f"sqlite:///{tmp / 'p1.db'}")
    app = App(db, SystemClock(), [adapter], registry=adapter.registry)
    await app.start()
    try:
        yield app
    finally:
        await app.stop()
        await db.dispose()


# -- Slack --------------------------------------------------------------------------------------


class TimedSlackFake(FakeSlackWebAPI):
    """The Web API fake, noting when each ``response_url`` request arrived."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.waiting: dict[str, asyncio.Future[float]] = {}

    def expect(self, path: str) -> asyncio.Future[float]:
        """A future that gets the arrival time (``perf_counter``) of a post to `path`."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[path] = future
        return future

    async def _handle_response_url(self, request: web.Request) -> web.StreamResponse:
        arrived = time.perf_counter()
        future = self.waiting.pop(request.path, None)
        if future is not None and not future.done():
            future.set_result(arrived)
        return await super()._handle_response_url(request)


@asynccontextmanager
async def bare_bolt(fake: FakeSlackWebAPI) -> AsyncIterator[str]:
    """A slack-bolt app whose one action listener only acks, served as circlebot's is; its URL."""
    app = AsyncApp(
        signing_secret=SIGNING_SECRET,
        client=AsyncWebClient(token=BOT_TOKEN, base_url=fake.base_url),
    )

    @app.action(re.compile(".*"))
    async def only_ack(ack: AsyncAck) -> None:
        await ack()

    server = AsyncSlackAppServer(port=0, path=EVENTS_PATH, app=app, host="127.0.0.1")
    runner = web.AppRunner(server.web_app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}{EVENTS_PATH}"
    finally:
        await runner.cleanup()


async def _command(url: str, fake: FakeSlackWebAPI, text: str) -> dict[str, Any]:
    payload = slash_command_payload(text, fake=fake, user_id=ADMIN)
    status, body = await post_signed(url, encode_for_http(payload))
    if status != 200:
        raise RuntimeError(f"/cop {text}: HTTP {status} {body}")
    return dict(json.loads(body))


async def _slack_poll(url: str, fake: FakeSlackWebAPI) -> tuple[str, list[str]]:
    """A community and an open poll, set up by signed commands; the poll's ts and action ids."""
    await _command(url, fake, 'setup "Bench CoP" UTC')
    await _command(
        url,
        fake,
        f'poll new "Which topic next?" options="{" | ".join(OPTIONS)}" closes="in 2 days"',
    )
    [posted] = await fake.wait_for("chat.postMessage", timeout=15)
    actions = [
        e["action_id"]
        for b in posted.json_param("blocks")
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "button"
    ]
    return posted.params.get("ts") or fake.messages[posted.params["channel"]][0]["ts"], actions[
        : len(OPTIONS)
    ]


def _press(fake: FakeSlackWebAPI, ts: str, action_id: str, user: str, n: int) -> tuple[str, str]:
    """A click on a poll button by `user`: the form body and its response_url's path."""
    payload = block_actions_payload(action_id, "", user_id=user, message_ts=ts, fake=fake)
    payload["user"].update(name=user.lower(), username=user.lower())
    payload["actions"][0]["action_ts"] = f"{1_800_000_000 + n}.{n:06d}"
    return encode_for_http(payload).body, "/" + payload["response_url"].split("/", 3)[3]


async def _post(http: aiohttp.ClientSession, url: str, body: str) -> float:
    """POST a signed interaction; returns the ``perf_counter`` it was sent at."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    headers.update(sign(body, SIGNING_SECRET))
    started = time.perf_counter()
    async with http.post(url, data=body.encode(), headers=headers) as response:
        await response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status} from {url}")
    return started


async def slack(ballots: int, presses: int, tmp: Path) -> Result:
    result = Result("Slack", ballots)
    fake = TimedSlackFake(ts_clock=time.time)
    async with fake:
        fake.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
        config = SlackConfig(
            bot_token=BOT_TOKEN,
            signing_secret=SIGNING_SECRET,
            api_url=fake.base_url,
            http_host="127.0.0.1",
            http_port=0,
            http_path=EVENTS_PATH,
        )
        adapter = SlackAdapter(config, registry=build_registry())
        async with circlebot(adapter, tmp) as app, bare_bolt(fake) as bare_url:
            bot_url = f"http://127.0.0.1:{adapter.http_port}{EVENTS_PATH}"
            ts, actions = await _slack_poll(bot_url, fake)
            await seed_ballots(app.db, ballots, "USEED")
            async with aiohttp.ClientSession() as http:
                for n in range(WARMUP + presses):
                    action = actions[n % len(actions)]
                    body, path = _press(fake, ts, action, f"U0V{n:07d}", n)
                    answered = fake.expect(path)
                    cpu = time.process_time()
                    started = await _post(http, bot_url, body)
                    acked = time.perf_counter()
                    confirmed = await asyncio.wait_for(answered, ANSWER_TIMEOUT)
                    bot_cpu = time.process_time() - cpu
                    bare_body, _ = _press(fake, ts, action, f"U0B{n:07d}", n)
                    cpu = time.process_time()
                    bare_started = await _post(http, bare_url, bare_body)
                    bare_acked = time.perf_counter()
                    bare_cpu = time.process_time() - cpu
                    if n >= WARMUP:
                        result.bot_cpu.append(bot_cpu * 1000)
                        result.bare_cpu.append(bare_cpu * 1000)
                        result.bot_ack.append((acked - started) * 1000)
                        result.bot_confirmed.append((confirmed - started) * 1000)
                        result.bare_ack.append((bare_acked - bare_started) * 1000)
    return result


# -- Discord ------------------------------------------------------------------------------------

CALLBACK = re.compile(r"/interactions/(\d+)/[^/]+/callback$")


class TimedDiscord(FakeDiscord):
    """The Discord fake, noting when each interaction callback arrived."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.waiting: dict[int, asyncio.Future[float]] = {}

    def expect(self, interaction_id: int) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[interaction_id] = future
        return future

    async def _handle_http(self, request: web.Request) -> web.StreamResponse:
        arrived = time.perf_counter()
        found = CALLBACK.search(request.path)
        if found is not None:
            future = self.waiting.pop(int(found[1]), None)
            if future is not None and not future.done():
                future.set_result(arrived)
        return await super()._handle_http(request)


class BareVote(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"vote:(?P<rest>.+)"):
    """A persistent button matching circlebot's vote buttons that only answers."""

    def __init__(self, rest: str) -> None:
        super().__init__(discord.ui.Button(label="vote", custom_id=f"vote:{rest}"))

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> BareVote:
        return cls(match["rest"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_message("Your vote is saved.", ephemeral=True)


def _custom_ids(components: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for c in components:
        if "custom_id" in c:
            out.append(c["custom_id"])
        out.extend(_custom_ids(c.get("components", [])))
    return out


async def _interact(fake: FakeDiscord, command: str, options: dict[str, str]) -> None:
    call = await fake.interact(
        fake.slash_command_interaction(command, options, member_permissions=ADMIN_PERMISSIONS),
        timeout=15,
    )
    if call.status != 200:
        raise RuntimeError(f"/{command}: HTTP {call.status} {call.response}")


async def _timed_dispatch(fake: TimedDiscord, payload: dict[str, Any], connection: Any) -> float:
    """Dispatch an interaction to one client; milliseconds until its callback arrived."""
    answered = fake.expect(int(payload["id"]))
    started = time.perf_counter()
    await fake.dispatch("INTERACTION_CREATE", payload, connection=connection)
    return (await asyncio.wait_for(answered, ANSWER_TIMEOUT) - started) * 1000


async def discord_run(ballots: int, presses: int, tmp: Path) -> Result:
    result = Result("Discord", ballots)
    fake = TimedDiscord()
    async with fake:
        adapter = DiscordAdapter(
            fake.token,
            registry=build_registry(),
            api_url=fake.api_base,
            gateway_url=fake.gateway_url,
            guild_ready_timeout=0.05,
            dev_guild_id=fake.guild_id,
        )
        async with circlebot(adapter, tmp) as app:
            await adapter.wait_until_ready()
            bot_connection = await fake.wait_for_connection()
            await _interact(fake, "cop setup", {"name": "Bench CoP", "timezone": "UTC"})
            await _interact(
                fake,
                "cop poll new",
                {
                    "question": "Which topic next?",
                    "options": " | ".join(OPTIONS),
                    "closes": "in 2 days",
                },
            )
            posts = rf"/channels/{fake.channel_id}/messages"
            await fake.wait_for_call("POST", posts, timeout=15)
            [poll] = [c for c in fake.calls_to("POST", posts) if c.json.get("components")]
            buttons = [b for b in _custom_ids(poll.json["components"]) if b.startswith("vote:")]
            buttons = buttons[: len(OPTIONS)]
            await seed_ballots(app.db, ballots, "9000000")
            voters = [fake.add_user(f"voter{n}") for n in range(WARMUP + presses)]
            bare = discord.Client(intents=discord.Intents(guilds=True), guild_ready_timeout=0.05)
            bare.add_dynamic_items(BareVote)
            async with running_client(bare, fake):
                [bare_connection] = [
                    c for c in fake.connections if not c.closed and c is not bot_connection
                ]
                for n in range(WARMUP + presses):
                    button = buttons[n % len(buttons)]
                    mine = fake.button_interaction(button, user=voters[n])
                    cpu = time.process_time()
                    confirmed = await _timed_dispatch(fake, mine, bot_connection)
                    bot_cpu = time.process_time() - cpu
                    theirs = fake.button_interaction(button, user=voters[n])
                    cpu = time.process_time()
                    answered = await _timed_dispatch(fake, theirs, bare_connection)
                    bare_cpu = time.process_time() - cpu
                    if n >= WARMUP:
                        result.bot_cpu.append(bot_cpu * 1000)
                        result.bare_cpu.append(bare_cpu * 1000)
                        result.bot_confirmed.append(confirmed)
                        result.bare_ack.append(answered)
    return result


# -- running ------------------------------------------------------------------------------------


def _logging(tmp: Path, level: str) -> None:
    """Log as `circlebot run` does (INFO by default), to a file, so logging costs what it
    costs in production without filling the terminal."""
    handler = logging.FileHandler(tmp / "circlebot.log")
    handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    keep_platform_bodies_out_of_logs()


async def run(
    platforms: list[str], ballots: list[int], presses: int, profile: Path | None
) -> list[Result]:
    profiler = cProfile.Profile() if profile else None
    results = []
    for name in platforms:
        for count in ballots:
            with tempfile.TemporaryDirectory() as folder:
                tmp = Path(folder)
                scenario = slack if name == "slack" else discord_run
                if profiler is not None:
                    profiler.enable()
                try:
                    result = await scenario(count, presses, tmp)
                finally:
                    if profiler is not None:
                        profiler.disable()
            print(result.row(), file=sys.stderr, flush=True)
            results.append(result)
    if profiler is not None and profile is not None:
        profiler.dump_stats(profile)
    return results


def main(argv: list[str] | None = None) -> list[Result]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_PRESSES} presses of each")
    parser.add_argument("--presses", type=int, help=f"presses of each (default {PRESSES})")
    parser.add_argument(
        "--only", nargs="*", default=[], choices=["slack", "discord"], help="platforms"
    )
    parser.add_argument(
        "--ballots", nargs="*", type=int, default=list(BALLOTS), help="ballots already cast"
    )
    parser.add_argument("--log", default="INFO", help="circlebot's log level (default INFO)")
    parser.add_argument("--profile", type=Path, help="write cProfile stats of the runs here")
    args = parser.parse_args(argv)
    presses = args.presses or (QUICK_PRESSES if args.quick else PRESSES)
    platforms = args.only or ["slack", "discord"]
    with tempfile.TemporaryDirectory() as logs:
        _logging(Path(logs), args.log)
        load = os.getloadavg()
        print(
            f"P1 interaction overhead: {presses} presses of each, Python "
            f"{platform.python_version()}, {os.cpu_count()} CPUs, load {load[0]:.1f} at start",
            file=sys.stderr,
            flush=True,
        )
        results = asyncio.run(run(platforms, args.ballots, presses, args.profile))
        after = os.getloadavg()
    print(HEADER)
    for result in results:
        print(result.row())
    print(f"\nload average (1 min) {load[0]:.1f} at start, {after[0]:.1f} at end")
    return results


if __name__ == "__main__":
    main()
