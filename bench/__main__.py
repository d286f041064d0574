"""Runs every benchmark and prints a Markdown table; results are recorded in bench/RESULTS.md.

Usage: ``make bench`` (or ``python -m bench [--quick]``). PostgreSQL rows appear when
PostgreSQL answers on 127.0.0.1:5432. The start-up rows come from `bench.startup`, which also
runs on its own (``python -m bench.startup``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import startup
from bot.app import App, Limits
from bot.events import Actor, CommandInvoked, ConversationRef, Place, UserRef
from bot.outbox import DeliveryWorker, Outbox
from bot.ports import Capabilities, FakeClock
from bot.ui import Message
from storage.db import Database

Row = tuple[str, str, str]


class _NullAdapter:
    platform = "bench"
    capabilities = Capabilities()

    async def start(self, handle):  # type: ignore[no-untyped-def]
        pass

    async def stop(self) -> None:
        pass

    async def send(self, to, msg):  # type: ignore[no-untyped-def]
        from bot.events import MessageRef

        return MessageRef("bench", to.channel_id, "1")

    async def edit(self, ref, msg) -> None:  # type: ignore[no-untyped-def]
        pass

    async def send_dm(self, user, msg):  # type: ignore[no-untyped-def]
        from bot.events import MessageRef

        return MessageRef("bench", "D", "1")


def _pg_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return True
    except OSError:
        return False


async def _with_db(kind: str, fn: Callable[[Database], Awaitable[list[Row]]]) -> list[Row]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
            await db.upgrade()
            try:
                return await fn(db)
            finally:
                await db.dispose()
    import psycopg

    name = f"circlebot_bench_{uuid.uuid4().hex[:8]}"
    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db = Database(f"postgresql://postgres@127.0.0.1:5432/{name}")
    try:
        await db.upgrade()
        return await fn(db)
    finally:
        await db.dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def bench_commands(db: Database, n: int, label: str) -> list[Row]:
    """Latency of a command through the dispatcher (parse excluded), with role lookups."""
    clock = FakeClock(datetime(2026, 11, 2, 14, tzinfo=UTC))
    app = App(db, clock, [_NullAdapter()], manual=True)
    await app.start(migrate=False)
    conv = ConversationRef("bench", "W", "C")
    admin = Actor(UserRef("bench", "W", "ana"), "ana", True)
    await app.dispatcher.handle(
        CommandInvoked(admin, Place(conv, "c"), ("setup",), {"name": "Bench", "timezone": "UTC"})
    )
    samples = []
    for i in range(n):
        actor = Actor(UserRef("bench", "W", f"u{i % 50}"), f"u{i % 50}")
        start = time.perf_counter()
        await app.dispatcher.handle(CommandInvoked(actor, Place(conv, "c"), ("about",), {}))
        samples.append((time.perf_counter() - start) * 1000)
    await app.stop()
    samples.sort()
    p50, p95 = statistics.median(samples), samples[int(len(samples) * 0.95)]
    return [
        (
            f"`/cop about` through the dispatcher ({label})",
            f"{n} commands",
            f"p50 {p50:.1f} ms, p95 {p95:.1f} ms",
        )
    ]


async def bench_outbox(db: Database, n: int, label: str) -> list[Row]:
    """Enqueue n messages (one transaction each) and deliver them all."""
    clock = FakeClock(datetime(2026, 11, 2, 14, tzinfo=UTC))
    outbox = Outbox(clock)
    start = time.perf_counter()
    for i in range(n):
        async with db.session() as s:
            await outbox.enqueue(
                s,
                key=f"b:{i}",
                to=ConversationRef("bench", "W", f"C{i % 20}"),
                message=Message(text="x"),
            )
    enq = time.perf_counter() - start
    worker = DeliveryWorker(db, {"bench": _NullAdapter()}, clock)
    start = time.perf_counter()
    delivered = await worker.drain(max_rounds=10_000)
    dlv = time.perf_counter() - start
    assert delivered == n
    return [
        (f"outbox enqueue ({label})", f"{n} messages", f"{n / enq:,.0f} messages/s"),
        (f"outbox delivery, no network ({label})", f"{n} messages", f"{n / dlv:,.0f} messages/s"),
    ]


async def bench_jobs(db: Database, n: int, label: str) -> list[Row]:
    """Write n jobs (one transaction each, as handlers do), then claim and run them all.

    The jobs go through the real path: ``ctx.schedule.at`` in a background context, then a
    `JobRunner` at the app's production concurrency claiming them with leases and running
    each through the dispatcher in its own transaction (a no-op handler, so the figure is
    the job table's own cost).
    """
    from bot.commands import Registry
    from bot.context import background
    from bot.feature import Feature
    from bot.features import FEATURES
    from bot.jobs import JobRunner

    ran = 0

    async def noop(ctx, i) -> None:  # type: ignore[no-untyped-def]
        nonlocal ran
        ran += 1

    registry = Registry.of([*FEATURES, Feature(name="bench", jobs={"bench.noop": noop})])
    clock = FakeClock(datetime(2026, 11, 2, 14, tzinfo=UTC))
    app = App(db, clock, [_NullAdapter()], manual=True, registry=registry)
    start = time.perf_counter()
    for i in range(n):
        async with background(app.services) as ctx:
            await ctx.schedule.at(
                f"bench:{i}", clock.now() + timedelta(minutes=i + 1), "bench.noop", [i]
            )
    add = time.perf_counter() - start
    clock.advance(timedelta(minutes=n + 1))
    runner = JobRunner(db, clock, app.dispatcher.run_job, concurrency=Limits.for_database(db).jobs)
    start = time.perf_counter()
    fired = await runner.run_due()
    run = time.perf_counter() - start
    assert fired == ran == n, (fired, ran, n)
    return [
        (
            f"jobs: write, then claim + run (job table, {label})",
            f"{n} jobs",
            f"{n / add:,.0f} writes/s, {n / run:,.0f} runs/s",
        )
    ]


async def bench_votes(db: Database, n: int, label: str) -> list[Row]:
    """Button votes through the dispatcher, each with its coalesced in-place poll edit."""
    from bot.events import ActionClicked
    from bot.ui import ActionId

    clock = FakeClock(datetime(2026, 11, 2, 14, tzinfo=UTC))
    app = App(db, clock, [_NullAdapter()], manual=True)
    await app.start(migrate=False)
    conv = ConversationRef("bench", "W", "C")
    admin = Actor(UserRef("bench", "W", "ana"), "ana", True)
    where = Place(conv, "c")
    await app.dispatcher.handle(
        CommandInvoked(admin, where, ("setup",), {"name": "Bench", "timezone": "UTC"})
    )
    await app.dispatcher.handle(
        CommandInvoked(admin, where, ("poll", "new"), {"question": "Q?", "options": "A|B|C"})
    )
    await app.worker.drain()
    samples = []
    for i in range(n):
        voter = Actor(UserRef("bench", "W", f"v{i}"), f"v{i}")
        click = ActionClicked(voter, where, ActionId("vote", "cast", 1, 1 + i % 3))
        start = time.perf_counter()
        await app.dispatcher.handle(click)
        samples.append((time.perf_counter() - start) * 1000)
    clock.advance(timedelta(seconds=5))
    delivered = await app.worker.drain()
    await app.stop()
    samples.sort()
    p50, p95 = statistics.median(samples), samples[int(len(samples) * 0.95)]
    return [
        (
            f"vote by button, first-time voters ({label})",
            f"{n} votes",
            f"p50 {p50:.1f} ms, p95 {p95:.1f} ms; {delivered} coalesced edit(s)",
        )
    ]


def bench_tally(n: int) -> list[Row]:
    """Counting is a pure function of the ballots: time and peak memory of a large count."""
    import random
    import tracemalloc

    from bot.features.voting.tally import Method, count_irv, count_totals

    rng = random.Random(7)
    options = list(range(1, 26))  # the most a poll may have
    ranked = [rng.sample(options, rng.randint(1, 25)) for _ in range(n)]
    approval = [{o: 1 for o in rng.sample(options, rng.randint(1, 5))} for _ in range(n)]
    # Timed without tracemalloc (it slows every allocation several times), best of five;
    # the peak memory comes from a separate, traced run.
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        irv = count_irv(options, ranked)
        timings.append((time.perf_counter() - start) * 1000)
    irv_ms = min(timings)
    tracemalloc.start()
    count_irv(options, ranked)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    start = time.perf_counter()
    count_totals(Method.APPROVAL, options, approval)
    approval_ms = (time.perf_counter() - start) * 1000
    return [
        (
            "ranked-choice count, 25 options",
            f"{n:,} ballots, {len(irv.rounds)} rounds",
            f"{irv_ms:.0f} ms, peak {peak / 1e6:.1f} MB",
        ),
        ("approval count, 25 options", f"{n:,} ballots", f"{approval_ms:.0f} ms"),
    ]


def _load() -> str:
    """The machine's 1-minute load average: other work slows every wall-clock figure."""
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "unknown"


PARTS = ("commands", "outbox", "jobs", "votes", "tally", "startup")


async def main(quick: bool, only: str | None = None) -> None:
    load_before = _load()
    n = 200 if quick else 1000
    rows: list[Row] = []
    kinds = ["sqlite"] + (["postgresql"] if _pg_up() else [])

    def wanted(part: str) -> bool:
        return only is None or only == part

    for kind in kinds:
        if wanted("commands"):
            rows += await _with_db(kind, lambda db, k=kind: bench_commands(db, n, k))
        if wanted("outbox"):
            rows += await _with_db(kind, lambda db, k=kind: bench_outbox(db, n, k))
        if wanted("jobs"):
            rows += await _with_db(kind, lambda db, k=kind: bench_jobs(db, n // 2, k))
        if wanted("votes"):
            rows += await _with_db(kind, lambda db, k=kind: bench_votes(db, n // 2, k))
    if wanted("tally"):
        rows += bench_tally(2_000 if quick else 10_000)

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    if wanted("startup"):
        rows += await startup.run(
            1_000 if quick else 10_000,
            kinds,
            upgrade_communities=0 if quick else 1_000,
            progress=progress,
        )
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}, "
        f"Python {sys.version.split()[0]}; load average {load_before} at the start, "
        f"{_load()} at the end"
    )
    print()
    print("| what | size | result |")
    print("|---|---|---|")
    for what, size, result in rows:
        print(f"| {what} | {size} | {result} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", choices=PARTS, help="run one part of the benchmarks")
    args = parser.parse_args()
    asyncio.run(main(args.quick, args.only))
