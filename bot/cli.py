"""The `circlebot` command: run the bot, try it in a console, migrate, check, back up."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bot import backup, doctor, jobs, logs
from bot.app import App
from bot.commands import Registry
from bot.config import Settings, SettingsError, StartupError, load_settings
from bot.features import build_registry
from bot.i18n import translator
from bot.ops import OpsServer
from bot.ports import ChatAdapter, FakeClock, SystemClock
from bot.zones import ZoneRefused, canonical_zone
from storage.db import Database, is_memory_sqlite

log = logging.getLogger(__name__)

DEFAULT_START = "2026-11-02T09:00"
MEMORY_DB = "sqlite:///:memory:"
DEFAULT_FILES = Path("circlebot-files")  # where the interactive console saves attachments


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="circlebot", description="A chat companion for communities of practice."
    )
    parser.add_argument("--version", action="version", version=f"circlebot {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start on the platforms configured (the console when none are)")
    console = sub.add_parser("console", help="talk to circlebot in this terminal")
    console.add_argument("--script", help="read lines from FILE ('-' for stdin) instead of typing")
    console.add_argument("--db", help="database URL (script mode default: a fresh in-memory one)")
    console.add_argument("--start", help=f"start the fake clock here (default {DEFAULT_START})")
    console.add_argument("--tz", default="UTC", help="zone for :at times and clock headers")
    console.add_argument(
        "--files",
        help="folder to save attachments (charts, .ics, CSV) into; the interactive console "
        f"uses ./{DEFAULT_FILES} unless given",
    )
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"], help="apply migrations")
    db.add_argument("--db", help="database URL (default DATABASE_URL)")
    jobs_cmd = sub.add_parser("jobs", help="scheduled jobs: counts, the failed ones, retrying them")
    jobs_cmd.add_argument("action", nargs="?", choices=["list", "retry"], default="list")
    jobs_cmd.add_argument("ids", nargs="*", help="job ids to retry (see `circlebot jobs`)")
    jobs_cmd.add_argument("--all", action="store_true", help="retry every failed job")
    jobs_cmd.add_argument("--db", help="database URL (default DATABASE_URL)")
    sub.add_parser(
        "doctor", help="check settings, database, migrations, platform tokens and the key"
    )
    backup_cmd = sub.add_parser("backup", help="copy the SQLite database to PATH (while running)")
    backup_cmd.add_argument("path", help="the file to write (replaced atomically)")
    restore_cmd = sub.add_parser(
        "restore", help="replace the SQLite database with the backup in PATH (stop circlebot first)"
    )
    restore_cmd.add_argument("path", help="a file written by `circlebot backup`")
    return parser


def _version() -> str:
    try:
        return version("circlebot")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


class _DropMessages(logging.Filter):
    """Drops the records whose message starts with one of `prefixes`."""

    def __init__(self, *prefixes: str) -> None:
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.prefixes)


def _quiet_known_warnings() -> None:
    """Silence start-up warnings that are expected and say nothing to an operator."""
    # bolt reads SLACK_BOT_TOKEN from the environment itself and warns that the client we
    # give it (built from the same token) wins; that is the intent.
    logging.getLogger("slack_bolt.AsyncApp").addFilter(
        _DropMessages("As you gave `client` as well, `token` will be unused")
    )
    # circlebot never joins voice channels, so discord.py's voice libraries are not installed.
    logging.getLogger("discord.client").addFilter(
        _DropMessages("PyNaCl is not installed", "davey is not installed")
    )


#: Libraries that log whole request and response bodies at DEBUG (slack_sdk's "Sending a
#: request ... json_body", discord.http's "... with {data} has returned", aiosqlite's every
#: statement with its parameters): message text, shared reflections, who brought a private
#: challenge and exported data would reach the log. LOG_LEVEL=DEBUG is for circlebot's own
#: loggers; these stay at INFO whatever it says.
BODY_LOGGERS = ("slack_sdk", "slack_bolt", "discord", "aiohttp", "aiosqlite")


def keep_platform_bodies_out_of_logs() -> None:
    """Cap the libraries that would log message bodies at INFO (see `BODY_LOGGERS`)."""
    for name in BODY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO:
            logger.setLevel(logging.INFO)


async def _opened(url: str) -> Database:
    """The database at `url`, once a connection has worked; else one line saying why."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not is_memory_sqlite(url):
        folder = Path(parsed.database).parent
        if not folder.is_dir():
            raise StartupError(f"cannot open the SQLite database: folder {folder} does not exist")
    db = Database(url)
    try:
        async with db.engine.connect():
            pass
    except (DBAPIError, OSError) as err:
        await db.dispose()
        cause = err.orig if isinstance(err, DBAPIError) else err
        first = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        raise StartupError(f"cannot open the database: {first}") from None
    return db


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "doctor":
        return asyncio.run(_doctor())
    try:
        settings = load_settings()
    except SettingsError as err:
        print(f"circlebot: {err}", file=sys.stderr)
        return 2
    interactive_console = args.command == "console" and not args.script
    quiet = args.command in ("console", "jobs", "backup", "restore")
    logs.configure("WARNING" if quiet else settings.log_level, settings.log_format)
    _quiet_known_warnings()
    keep_platform_bodies_out_of_logs()
    try:
        if args.command == "db":
            return asyncio.run(_upgrade(args.db or settings.database_url))
        if args.command == "jobs":
            return asyncio.run(_jobs(args, args.db or settings.database_url))
        if args.command in ("backup", "restore"):
            return _backup(args.command, settings.database_url, Path(args.path))
        if args.command == "console":
            return asyncio.run(_console(args, settings, interactive_console))
        return asyncio.run(_run(settings))
    except KeyboardInterrupt:
        return 130
    except SettingsError as err:
        _say(settings, f"circlebot: {err}", logging.ERROR)
        return 2
    except StartupError as err:
        _say(settings, f"circlebot: {err}", logging.ERROR)
        return 1


def _say(settings: Settings, line: str, level: int = logging.WARNING) -> None:
    """A line for the person who started circlebot: on stderr as it is, or, with
    LOG_FORMAT=json, as a log record, so that every line a collector reads is JSON."""
    if settings.log_format == "json":
        log.log(level, "%s", line)
    else:
        print(line, file=sys.stderr)


async def _jobs(args: argparse.Namespace, url: str) -> int:
    """`circlebot jobs`: what is waiting and what failed; `jobs retry` queues failed ones again.

    A running circlebot picks retried jobs up within its poll interval (30 s)."""
    if args.action == "retry" and not (args.ids or args.all):
        print("circlebot: say which jobs to retry (their ids) or --all", file=sys.stderr)
        return 2
    db = await _opened(url)
    try:
        await db.upgrade()
        async with db.session() as session:
            if args.action == "retry":
                wanted = None if args.all else list(args.ids)
                retried = await jobs.retry_failed(session, SystemClock().now(), wanted)
                missing = sorted(set(args.ids) - set(retried))
                print(f"circlebot: {len(retried)} failed job(s) will run again now")
                for job_id in missing:
                    print(f"circlebot: {job_id} is not a failed job; left alone")
                return 1 if missing else 0
            counts = await jobs.counts(session)
            failed = await jobs.failed_jobs(session)
    finally:
        await db.dispose()
    summary = ", ".join(f"{counts.get(s, 0)} {s}" for s in ("pending", "running", "failed"))
    print(f"jobs: {summary}")
    for job in failed:
        when = job.updated_at.isoformat(timespec="seconds")
        print(f"  {job.id}  {job.kind}  {job.attempts} attempts, last at {when}: {job.last_error}")
    if failed:
        print("retry with: circlebot jobs retry ID ... (or --all)")
    return 0


async def _doctor() -> int:
    """`circlebot doctor`: one line per check (✓ or ✗, and what to do); 1 when any fails."""
    from adapters.discord.credentials import check_discord
    from adapters.slack.credentials import check_slack

    settings: Settings | None = None
    problem: str | None = None
    try:
        settings = load_settings()
    except SettingsError as err:
        problem = str(err)
    platforms = (
        []
        if settings is None
        else [(settings.slack_enabled, check_slack), (settings.discord_enabled, check_discord)]
    )
    findings = await doctor.diagnose(settings, problem, platforms)
    for finding in findings:
        print(finding.line())
    failed = sum(not f.ok for f in findings)
    print("circlebot: all checks passed" if not failed else f"circlebot: {failed} check(s) failed")
    return 1 if failed else 0


def _backup(command: str, url: str, path: Path) -> int:
    """`circlebot backup PATH` / `circlebot restore PATH` (SQLite; see `bot.backup`)."""
    try:
        if command == "backup":
            size = backup.backup(url, path)
            print(f"circlebot: database backed up to {path} ({size:,} bytes)")
            print("circlebot: the reflection key is not in it; keep a copy of the key as well")
        else:
            backup.restore(url, path)
            print(f"circlebot: database restored from {path}; start circlebot again")
    except backup.BackupRefused as refused:
        print(f"circlebot: {refused}", file=sys.stderr)
        return 1
    return 0


async def _upgrade(url: str) -> int:
    db = await _opened(url)
    await db.upgrade()
    await db.dispose()
    print("circlebot: database is up to date")
    return 0


def platform_adapters(settings: Settings, registry: Registry) -> list[ChatAdapter]:
    """The adapters whose tokens are configured (none means: use the console)."""
    adapters: list[ChatAdapter] = []
    if gap := settings.slack_gap():
        raise SettingsError(f"Slack is not fully configured: {gap}")
    if settings.slack_enabled:
        try:
            from adapters.slack import build_slack_adapter
        except ImportError as err:
            raise SettingsError(
                "Slack settings are given but the Slack adapter is missing"
            ) from err
        adapters.append(build_slack_adapter(settings, registry))
    if settings.discord_enabled:
        try:
            from adapters.discord import build_discord_adapter
        except ImportError as err:
            raise SettingsError("DISCORD_TOKEN is set but the Discord adapter is missing") from err
        adapters.append(build_discord_adapter(settings, registry))
    return adapters


async def _run(settings: Settings) -> int:
    registry = build_registry()
    adapters = platform_adapters(settings, registry)
    if not adapters:
        db = await _opened(settings.database_url)
        logging.getLogger().setLevel(logging.WARNING)  # keep the console readable
        print("circlebot: no Slack or Discord tokens configured; starting the console.")
        print("Type :help for console directives, /cop help for commands, Ctrl-D to quit.")
        return await _interactive(db, settings, zone="UTC")
    db = await _opened(settings.database_url)
    app = App(
        db,
        SystemClock(),
        adapters,
        default_timezone=settings.default_timezone,
        registry=registry,
        sealer=settings.sealer(announce=partial(_say, settings)),
    )
    ops: OpsServer | None = None
    if settings.ops_http_port is not None:
        # Up before the adapters: /healthz says 503 while they connect, not "refused".
        ops = OpsServer(app, settings.ops_http_host, settings.ops_http_port)
        try:
            await ops.start()
        except OSError as err:
            await db.dispose()
            raise StartupError(
                f"cannot serve /healthz on {settings.ops_http_host}:{settings.ops_http_port}: "
                f"{err.strerror or err}; change OPS_HTTP_PORT"
            ) from None
    try:
        await app.start()
    except StartupError:
        await app.stop()
        if ops is not None:
            await ops.stop()
        await db.dispose()
        raise
    log.info("circlebot running on %s", ", ".join(a.platform for a in adapters))
    try:
        await asyncio.Event().wait()
    finally:
        await app.stop()
        if ops is not None:
            await ops.stop()
        await db.dispose()
    return 0


async def _console(args: argparse.Namespace, settings: Settings, interactive: bool) -> int:
    try:
        args.tz = canonical_zone(args.tz)
    except ZoneRefused as refused:
        reason = translator("en")(refused.key, **refused.values)
        print(f"circlebot: --tz: {reason}", file=sys.stderr)
        return 2
    if interactive and not args.start:
        db = await _opened(args.db or settings.database_url)
        return await _interactive(db, settings, zone=args.tz, files=_files(args.files))
    try:
        start = datetime.fromisoformat(args.start or DEFAULT_START)
    except ValueError:
        print(f"circlebot: --start {args.start!r} is not an ISO date-time", file=sys.stderr)
        return 2
    if start.tzinfo is None:
        start = start.replace(tzinfo=ZoneInfo(args.tz))
    db = await _opened(args.db or MEMORY_DB)
    if args.script in (None, "-"):
        lines = sys.stdin.read().splitlines()
    else:
        try:
            text = await asyncio.to_thread(Path(args.script).read_text, encoding="utf-8")
            lines = text.splitlines()
        except OSError as err:
            print(f"circlebot: cannot read script {args.script}: {err.strerror}", file=sys.stderr)
            return 2
    from adapters.console import run_script

    await run_script(lines, db, FakeClock(start), zone=args.tz, files_dir=_files(args.files))
    await db.dispose()
    return 0


def _announce(line: str) -> None:
    print(line, file=sys.stderr)


def _files(folder: str | None) -> Path | None:
    return None if folder is None else Path(folder)


async def _interactive(
    db: Database, settings: Settings, zone: str, files: Path | None = None
) -> int:
    from adapters.console import run_interactive

    await run_interactive(
        db,
        default_timezone=settings.default_timezone,
        zone=zone,
        files_dir=files or DEFAULT_FILES,
        sealer=settings.sealer(announce=_announce),
    )
    await db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
