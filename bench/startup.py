"""Start-up with many communities: `circlebot run` as a real process, timed to its first answer.

The database is seeded fast (`bench.seed`) with communities shaped as the commands leave them,
then `circlebot run` starts in Slack HTTP mode against the loopback fake Web API. The figures:
time from process start until a signed ``/cop help`` (from one of the seeded channels) gets
its 200 answer, and until the log says the background reconcile has finished; the process's
peak resident memory. The "upgrade" case seeds no jobs, as a database from a release before
the job table: reconciling then re-plans every series while interactions are answered.

Usage: ``python -m bench.startup [--communities N] [--quick]`` (also part of ``python -m bench``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.seed import TEAM_ID, channel_id, seed, user_id, verify
from storage.db import Database
from tests.fakes.slack_fake import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlackWebAPI,
    encode_for_http,
    post_signed,
    slash_command_payload,
)

Row = tuple[str, str, str]

TARGET_SECONDS = 10.0  # first interaction after start, with 10,000 communities
RECONCILE_TIMEOUT = 900.0
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
RECONCILED = re.compile(r"reconcile finished in ([\d.]+) s")


def pg_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def database(kind: str) -> AsyncIterator[str]:
    """A fresh, empty database URL: a SQLite file, or a throwaway PostgreSQL database."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'circlebot.db'}"
        return
    import psycopg

    name = f"circlebot_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def circlebot_command() -> list[str]:
    script = Path(sys.executable).parent / "circlebot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def cpu_seconds(pid: int) -> float | None:
    """CPU time the process has used (user + system), where /proc has it.

    Unlike wall-clock time it does not grow when other work shares the machine.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident set (VmHWM), where /proc has it."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else None


@dataclass
class LogWatch:
    """Reads the process's log as it comes, noting when each awaited line appeared."""

    started: float
    lines: list[str] = field(default_factory=list)
    seen: dict[str, float] = field(default_factory=dict)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def follow(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            text = line.decode(errors="replace").rstrip()
            now = time.perf_counter() - self.started
            async with self.changed:
                self.lines.append(text)
                for mark in ("slack: listening", "reconcile finished", "Traceback"):
                    if mark in text and mark not in self.seen:
                        self.seen[mark] = now
                self.changed.notify_all()
        async with self.changed:
            self.seen.setdefault("exit", time.perf_counter() - self.started)
            self.changed.notify_all()

    async def wait_for(self, mark: str, timeout: float) -> float:
        async with self.changed:
            await asyncio.wait_for(
                self.changed.wait_for(lambda: mark in self.seen or "exit" in self.seen), timeout
            )
        if mark not in self.seen:
            tail = "\n".join(self.lines[-20:])
            raise RuntimeError(f"circlebot exited before {mark!r}:\n{tail}")
        return self.seen[mark]


@dataclass
class Startup:
    seed_seconds: float
    seeded_rows: int
    listening: float
    first_answer: float
    reconciled: float
    reconcile_log: float
    cpu_at_answer: float | None  # CPU seconds the process had used when it first answered
    peak_rss_mb: float | None
    # How long each /cop help took while the reconcile ran (seconds, in order asked).
    latencies: list[float]


async def first_answer(url: str, fake: FakeSlackWebAPI, i: int, deadline: float) -> str:
    """POST a signed /cop help until the server answers 200; returns the answer's text."""
    while True:
        body = encode_for_http(
            slash_command_payload(
                "help", fake=fake, team_id=TEAM_ID, channel_id=channel_id(i), user_id=user_id(i)
            )
        )
        try:
            status, text = await post_signed(url, body)
        except OSError:
            status, text = 0, ""
        if status == 200:
            return text
        if time.perf_counter() > deadline:
            raise RuntimeError(f"no answer to /cop help (last status {status})")
        await asyncio.sleep(0.02)


async def measure(
    url: str, communities: int, *, with_jobs: bool = True, seeded: bool = False
) -> Startup:
    """Seed `communities` into the empty database at `url`, start circlebot, time it.

    `seeded`: the database already holds them (`bench.scale` creates them through the
    commands, named and placed as `bench.seed` does), so nothing is written first.
    """
    seed_seconds, rows = 0.0, 0
    if not seeded:
        db = Database(url)
        await db.upgrade()
        begin = time.perf_counter()
        rows = await seed(db, communities, datetime.now(UTC), with_jobs=with_jobs)
        seed_seconds = time.perf_counter() - begin
        await db.dispose()
    port = free_port()
    async with FakeSlackWebAPI() as fake:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))},
            "DATABASE_URL": url,
            "LOG_LEVEL": "INFO",
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.base_url,
            "SLACK_HTTP_HOST": "127.0.0.1",
            "SLACK_HTTP_PORT": str(port),
        }
        with tempfile.TemporaryDirectory() as cwd:
            started = time.perf_counter()
            process = await asyncio.create_subprocess_exec(
                *circlebot_command(),
                "run",
                cwd=cwd,
                env=env,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            assert process.stderr is not None
            watch = LogWatch(started)
            reader = asyncio.create_task(watch.follow(process.stderr))
            try:
                endpoint = f"http://127.0.0.1:{port}/slack/events"
                middle = max(1, communities // 2)
                text = await first_answer(endpoint, fake, middle, started + RECONCILE_TIMEOUT)
                answered = time.perf_counter() - started
                cpu_at_answer = cpu_seconds(process.pid)
                reply = json.loads(text)
                # Answered from the community's own channel, so the help names it.
                expected = f"What you can do with circlebot in Community {middle}:"
                if not reply.get("text", "").startswith(expected):
                    raise RuntimeError(f"unexpected answer to /cop help: {text[:200]}")
                # Keep asking while the reconcile runs: interactions must interleave with it.
                latencies: list[float] = []
                while "reconcile finished" not in watch.seen and "exit" not in watch.seen:
                    if time.perf_counter() - started > RECONCILE_TIMEOUT:
                        raise RuntimeError("the reconcile did not finish")
                    asked = time.perf_counter()
                    await first_answer(endpoint, fake, 1 + len(latencies) % communities, asked + 60)
                    latencies.append(time.perf_counter() - asked)
                    await asyncio.sleep(0.2)
                reconciled = await watch.wait_for("reconcile finished", RECONCILE_TIMEOUT)
                listening = await watch.wait_for("slack: listening", 1)
                rss = peak_rss_mb(process.pid)
            finally:
                if process.returncode is None:
                    process.terminate()
                await asyncio.wait_for(process.wait(), 30)
                await asyncio.wait_for(reader, 10)
    logged = next(
        float(m.group(1)) for line in watch.lines if (m := RECONCILED.search(line)) is not None
    )
    return Startup(
        seed_seconds,
        rows,
        listening,
        answered,
        reconciled,
        logged,
        cpu_at_answer,
        rss,
        latencies,
    )


def rows_for(label: str, communities: int, result: Startup, case: str) -> list[Row]:
    size = f"{communities:,} communities"
    met = "meets" if result.first_answer <= TARGET_SECONDS else "MISSES"
    out = [
        (
            f"start-up{case}: process start to first `/cop help` answer ({label})",
            size,
            f"{result.first_answer:.1f} s ({met} the {TARGET_SECONDS:.0f} s target); "
            f"listening at {result.listening:.1f} s"
            + (f"; {result.cpu_at_answer:.1f} s of CPU" if result.cpu_at_answer else ""),
        ),
        (
            f"start-up{case}: process start to reconcile finished ({label})",
            size,
            f"{result.reconciled:.1f} s (reconcile itself {result.reconcile_log:.1f} s)",
        ),
    ]
    if result.latencies:
        ordered = sorted(result.latencies)
        out.append(
            (
                f"start-up{case}: `/cop help` answered while the reconcile runs ({label})",
                f"{len(ordered)} commands",
                f"p50 {statistics.median(ordered) * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms",
            )
        )
    if result.peak_rss_mb is not None:
        out.append(
            (
                f"start-up{case}: peak RSS of the process ({label})",
                size,
                f"{result.peak_rss_mb:.0f} MB",
            )
        )
    out.append(
        (
            f"start-up{case}: bulk seeding, not circlebot's path ({label})",
            f"{result.seeded_rows:,} rows",
            f"{result.seed_seconds:.1f} s",
        )
    )
    return out


async def check_shape() -> None:
    """Seeded communities must look like ones the commands create (raises when not)."""
    db = Database("sqlite:///:memory:")
    await db.upgrade()
    try:
        await verify(db, datetime.now(UTC))
    finally:
        await db.dispose()


async def run(
    communities: int,
    kinds: list[str],
    *,
    upgrade_communities: int,
    progress: Callable[[str], None],
) -> list[Row]:
    """Every start-up figure on each database; the upgrade case (when not 0) has its own size,
    since re-planning every series costs the same per series at any size."""
    await check_shape()
    progress("start-up: seeded communities have the shape the commands give them")
    rows: list[Row] = []
    cases = [("", communities, True)]
    if upgrade_communities:
        cases.append((" after an upgrade (no jobs yet)", upgrade_communities, False))
    for kind in kinds:
        for case, size, with_jobs in cases:
            async with database(kind) as url:
                result = await measure(url, size, with_jobs=with_jobs)
            progress(f"start-up{case} ({kind}, {size} communities): {result.first_answer:.1f} s")
            rows += rows_for(kind, size, result, case)
    return rows


def print_table(rows: list[Row]) -> None:
    print("| what | size | result |")
    print("|---|---|---|")
    for what, size, result in rows:
        print(f"| {what} | {size} | {result} |")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.startup")
    parser.add_argument("--communities", type=int, default=10_000)
    parser.add_argument(
        "--upgrade-communities",
        type=int,
        default=1_000,
        help="communities for the upgrade case (0 skips it)",
    )
    parser.add_argument("--quick", action="store_true", help="1,000 communities, no upgrade case")
    args = parser.parse_args()
    communities = 1_000 if args.quick else args.communities
    upgrade = 0 if args.quick else args.upgrade_communities
    kinds = ["sqlite"] + (["postgresql"] if pg_up() else [])

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    before = os.getloadavg()[0]
    rows = asyncio.run(run(communities, kinds, upgrade_communities=upgrade, progress=progress))
    print(f"Load average {before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    print()
    print_table(rows)


if __name__ == "__main__":
    main()
