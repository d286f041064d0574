"""The console adapter: try circlebot with no Slack or Discord account."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from adapters.console.adapter import ConsoleAdapter
from adapters.console.session import ConsoleSession
from adapters.console.terminal import Terminal
from bot.app import App
from bot.commands import Registry
from bot.ports import FakeClock, SystemClock
from bot.sealed import Sealer
from storage.db import Database

__all__ = ["ConsoleAdapter", "ConsoleSession", "run_interactive", "run_script"]


async def run_script(
    lines: Iterable[str],
    db: Database,
    clock: FakeClock,
    *,
    zone: str = "UTC",
    write: Callable[[str], None] = print,
    files_dir: Path | None = None,
    default_timezone: str = "UTC",
    registry: Registry | None = None,
) -> App:
    """Play script lines against a bot on a fake clock; every line is echoed as ``name> line``."""
    adapter = ConsoleAdapter(write, files_dir)
    app = App(
        db, clock, [adapter], manual=True, default_timezone=default_timezone, registry=registry
    )
    session = ConsoleSession(app, adapter, zone=zone)
    await app.start()
    await app.worker.drain()
    for line in lines:
        await session.feed(line, echo=True)
    await app.stop()
    return app


async def run_interactive(
    db: Database,
    *,
    default_timezone: str = "UTC",
    zone: str = "UTC",
    files_dir: Path = Path("circlebot-files"),
    terminal: Terminal | None = None,
    sealer: Sealer | None = None,
) -> None:
    """A REPL on the real clock; scheduled jobs and deliveries run in the background.

    Attachments (charts, calendar files, CSV) are saved under `files_dir` and their path printed.
    """
    terminal = terminal or Terminal()
    adapter = ConsoleAdapter(terminal.write, files_dir)
    app = App(db, SystemClock(), [adapter], default_timezone=default_timezone, sealer=sealer)
    session = ConsoleSession(app, adapter, zone=zone)
    await app.start()
    try:
        while True:
            prompt = f"{session.user}{' (admin)' if session.admin else ''} #{session.channel}> "
            line = await terminal.readline(prompt)
            if line is None:
                break
            await session.feed(line)
    finally:
        await app.stop()
