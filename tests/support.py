"""Test helpers: a recording chat adapter and a console transcript runner."""

from __future__ import annotations

import os
import socket
import sqlite3
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from adapters.console import run_script
from bot.events import ConversationRef, MessageRef, UserRef
from bot.ports import Capabilities, DeliveryError, FakeClock, Handler
from bot.ui import Message
from storage.db import Database

if TYPE_CHECKING:
    from bot.app import App

CIRCLEBOT = Path(sys.executable).parent / "circlebot"
"""The installed `circlebot` command, for tests that run it as a real process."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (for a process to bind)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def slack_http_env(api_url: str, database_url: str, port: int, **extra: str) -> dict[str, str]:
    """The environment of `circlebot run` in Slack HTTP mode against a fake Web API on
    `api_url` (no other platform's settings leak in from the test's own environment)."""
    from tests.fakes.slack_fake import BOT_TOKEN, SIGNING_SECRET

    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))},
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api_url,
        "SLACK_HTTP_HOST": "127.0.0.1",
        "SLACK_HTTP_PORT": str(port),
        **extra,
    }


@dataclass
class Sent:
    kind: str  # send | dm | edit
    target: str
    message: Message
    thread: str | None = None  # the message id of the thread's parent, for a threaded reply
    ref: MessageRef | None = None  # where it landed (send and dm)


@dataclass
class RecordingAdapter:
    """A fake platform that records what was sent, edited and DM'd; failures can be queued.

    It has threads (`Capabilities.threads`): a reply is recorded with its parent's id in
    `Sent.thread`; pass ``capabilities=Capabilities()`` for a platform without them.
    """

    platform: ClassVar[str] = "fake"
    capabilities: Capabilities = field(default_factory=lambda: Capabilities(threads=True))
    sent: list[Sent] = field(default_factory=list)
    failures: list[DeliveryError] = field(default_factory=list)
    handle: Handler | None = None
    _n: int = 0

    async def start(self, handle: Handler) -> None:
        self.handle = handle

    async def stop(self) -> None:
        self.handle = None

    def _maybe_fail(self) -> None:
        if self.failures:
            raise self.failures.pop(0)

    async def send(self, to: ConversationRef, msg: Message) -> MessageRef:
        self._maybe_fail()
        self._n += 1
        ref = MessageRef(self.platform, to.channel_id, f"m{self._n}")
        self.sent.append(Sent("send", to.channel_id, msg, ref=ref))
        return ref

    async def send_in_thread(self, parent: MessageRef, msg: Message) -> MessageRef:
        self._maybe_fail()
        self._n += 1
        ref = MessageRef(self.platform, parent.channel_id, f"m{self._n}")
        self.sent.append(Sent("send", parent.channel_id, msg, thread=parent.message_id, ref=ref))
        return ref

    async def edit(self, ref: MessageRef, msg: Message) -> None:
        self._maybe_fail()
        self.sent.append(Sent("edit", f"{ref.channel_id}/{ref.message_id}", msg))

    async def send_dm(self, user: UserRef, msg: Message) -> MessageRef:
        self._maybe_fail()
        self._n += 1
        ref = MessageRef(self.platform, f"D-{user.user_id}", f"m{self._n}")
        self.sent.append(Sent("dm", user.user_id, msg, ref=ref))
        return ref


class _Template:
    """One SQLite file per test process migrated by the real migrations, copied into each
    fresh test database (migrating from scratch costs about half a second a time)."""

    path: ClassVar[Path | None] = None

    @classmethod
    async def get(cls) -> Path:
        if cls.path is None:
            path = Path(tempfile.mkdtemp(prefix="circlebot-template-")) / "circlebot.db"
            database = Database(f"sqlite:///{path}")
            await database.upgrade()
            await database.dispose()
            cls.path = path
        return cls.path


async def sqlite_template() -> Path:
    """The migrated SQLite template of this test process."""
    return await _Template.get()


def copy_sqlite(template: Path, target: Path) -> None:
    """Copy a SQLite database file with SQLite's backup API (consistent whatever its WAL)."""
    source, copy = sqlite3.connect(template), sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()


async def migrated_memory_db() -> Database:
    """An in-memory SQLite database at the head migration, copied from the template."""
    import aiosqlite

    template = await sqlite_template()
    database = Database("sqlite:///:memory:")
    async with database.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        target = raw.driver_connection
        async with aiosqlite.connect(template) as source:
            await source.backup(target)
    return database


async def transcript(
    script: str, *, db: Database | None = None, clock: FakeClock | None = None, zone: str = "UTC"
) -> list[str]:
    """Run a console script and return the printed lines."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    lines: list[str] = []
    own = db is None
    database = db or await migrated_memory_db()
    fake = clock or FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo(zone)))
    await run_script(script.strip().splitlines(), database, fake, zone=zone, write=lines.append)
    if own:
        await database.dispose()
    return lines


async def job_ids(db: Database) -> set[str]:
    """The ids of the jobs waiting in the job table (pending or running)."""
    from sqlalchemy import select

    from storage.models import Job, JobStatus

    async with db.session() as session:
        rows = await session.execute(select(Job.id).where(Job.status != JobStatus.FAILED))
        return set(rows.scalars())


async def schedule_job(
    app: App, job_id: str, when: datetime, kind: str, args: Sequence[int | str] = ()
) -> None:
    """Write one job the way a handler does: through ``ctx.schedule`` in a transaction."""
    from bot.context import background

    async with background(app.services) as ctx:
        await ctx.schedule.at(job_id, when, kind, args)


async def network_posts(db: Database) -> list[tuple[str, int]]:
    """What the networks feature stored of its posts: (kind, channels queued) each, and
    how many communities its networks hold, for the end-to-end tests to compare."""
    from sqlalchemy import func, select

    from storage.networks import NetworkCommunity, NetworkPost

    async with db.session() as session:
        posts = (await session.execute(select(NetworkPost.kind, NetworkPost.communities))).all()
        members = (
            await session.execute(select(func.count()).select_from(NetworkCommunity))
        ).scalar_one()
    return [(str(kind), int(n)) for kind, n in posts] + [("communities", int(members))]
