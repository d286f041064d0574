"""`circlebot doctor`: every check an operator would do by hand, one line each, in plain words.

Configuration (the settings as `circlebot run` reads them), the database (reachable, and its
migrations at the code's head), the platform credentials (Slack ``auth.test``, Discord
``GET /users/@me``; those checks live in the adapters and are handed in by `bot.cli`) and
the reflection key (readable, 32 bytes, and opening the newest stored reflection answer when
there is one). A failing check says what to do. Nothing printed
ever holds a token, a key or a password: settings errors name the setting only, and
connection errors are reduced to their first line with the URL's password hidden.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import col

from bot.config import Settings
from bot.sealed import KeyInvalid, SealBroken, Sealer, decode_key
from storage.db import Database, alembic_config, is_memory_sqlite
from storage.reflections import CheckinAnswer

#: How long one check may wait for a server before it counts as unreachable.
TIMEOUT = 10.0


@dataclass(frozen=True)
class Finding:
    """One check's outcome: `says` is one plain sentence (what is fine, or what to do)."""

    name: str
    ok: bool
    says: str

    def line(self) -> str:
        return f"{'✓' if self.ok else '✗'} {self.name}: {self.says}"


PlatformCheck = Callable[[Settings], Awaitable[Finding]]
"""A platform's credential check (from `adapters.*.credentials`), run only when configured."""


def first_line(err: BaseException) -> str:
    """An error's first line (its cause's for a driver error), or its type when it is silent."""
    cause = err.orig if isinstance(err, DBAPIError) and err.orig is not None else err
    message = str(cause).strip()
    return message.splitlines()[0] if message else type(cause).__name__


def _heads(connection: Connection) -> tuple[set[str], set[str]]:
    """(the revisions the database is at, the revisions the code has as heads)."""
    current = set(MigrationContext.configure(connection).get_current_heads())
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    return current, heads


def _missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file of `url` when it does not exist (connecting would create it empty)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or is_memory_sqlite(url):
        return None
    file = Path(parsed.database or "")
    return None if file.exists() else file


async def check_database(settings: Settings) -> list[Finding]:
    """Reachable (``SELECT 1``), then migrated to the code's head."""
    url = settings.database_url
    where = make_url(url).render_as_string(hide_password=True)
    if (file := _missing_sqlite_file(url)) is not None:
        return [
            Finding(
                "database",
                False,
                f"the SQLite file {file} does not exist; check DATABASE_URL, or run "
                "`circlebot db upgrade` to create it",
            )
        ]
    db = Database(url)
    try:
        async with asyncio.timeout(TIMEOUT), db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            current, heads = await conn.run_sync(_heads)
    except TimeoutError:
        return [Finding("database", False, f"{where} did not answer within {TIMEOUT:.0f} s")]
    except (DBAPIError, OSError) as err:
        return [
            Finding(
                "database",
                False,
                f"cannot open {where}: {first_line(err)}; check DATABASE_URL and that the "
                "database server is running",
            )
        ]
    finally:
        await db.dispose()
    found = [Finding("database", True, f"{where} answers")]
    if current == heads:
        found.append(Finding("migrations", True, "the database is at the code's latest revision"))
    elif not current:
        found.append(
            Finding(
                "migrations",
                False,
                "the database has no circlebot tables yet; run `circlebot db upgrade` "
                "(`circlebot run` does it too)",
            )
        )
    else:
        behind = ", ".join(sorted(heads - current)) or "?"
        found.append(
            Finding(
                "migrations",
                False,
                f"the database is behind the code (missing {behind}); run `circlebot db upgrade`",
            )
        )
    return found


def check_key(settings: Settings) -> Finding:
    """The reflection key: from REFLECTION_KEY (checked when settings load) or its file."""
    return load_key(settings)[0]


def load_key(settings: Settings) -> tuple[Finding, bytes | None]:
    """`check_key`'s finding, and the key when there is one to try on stored reflections."""
    if settings.reflection_key is not None:
        key = decode_key(settings.reflection_key.get_secret_value())
        return Finding("reflection key", True, "REFLECTION_KEY is set (32 bytes)"), key
    path = Path(settings.reflection_key_file)
    if not path.exists():
        return Finding(
            "reflection key",
            True,
            f"{path} does not exist yet: `circlebot run` creates it; back it up then (if "
            "this deployment already stored reflections, put their key back there first)",
        ), None
    try:
        key = decode_key(path.read_text(encoding="ascii"))
    except (OSError, UnicodeDecodeError):
        return Finding(
            "reflection key",
            False,
            f"cannot read {path}; give the user running circlebot read access to it",
        ), None
    except KeyInvalid:
        return Finding(
            "reflection key",
            False,
            f"{path} is not a key (32 random bytes in base64url, 44 characters); restore it "
            "from your backup: without the right key stored reflections cannot be read",
        ), None
    return Finding("reflection key", True, f"{path} is readable and holds a 32-byte key"), key


async def key_opens_stored(settings: Settings, key: bytes) -> Finding | None:
    """Whether `key` opens the newest stored reflection answer (None when there is none).

    A key that is well formed but not the one the answers were sealed with (a new key file,
    another deployment's key) leaves every stored reflection unreadable: worth saying before
    members find their journals empty.
    """
    db = Database(settings.database_url)
    try:
        async with asyncio.timeout(TIMEOUT), db.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(
                        col(CheckinAnswer.id),
                        col(CheckinAnswer.question),
                        col(CheckinAnswer.sealed),
                    )
                    .order_by(col(CheckinAnswer.id).desc())
                    .limit(1)
                )
            ).first()
    finally:
        await db.dispose()
    if row is None:
        return None
    answer_id, question, token = row
    try:
        Sealer(key).open(token, f"reflection:{answer_id}:{question}")
    except SealBroken:
        return Finding(
            "reflection key",
            False,
            "the key does not open the stored reflections (it is not the key they were sealed "
            "with); put back the key this deployment used, from your backup",
        )
    return Finding("reflection key", True, "the key opens the stored reflections")


async def diagnose(
    settings: Settings | None,
    settings_error: str | None,
    platforms: Sequence[tuple[bool, PlatformCheck]] = (),
) -> list[Finding]:
    """Every check in order; with settings that do not load, the configuration line alone."""
    if settings is None:
        return [
            Finding(
                "configuration",
                False,
                f"{settings_error}; fix it in .env or the environment (see .env.example)",
            )
        ]
    found = [Finding("configuration", True, "settings read from .env and the environment")]
    if gap := settings.slack_gap():
        found[0] = Finding("configuration", False, f"Slack is not fully configured: {gap}")
    found += await check_database(settings)
    enabled = [check for on, check in platforms if on]
    for check in enabled:
        found.append(await check(settings))
    if not enabled:
        found.append(
            Finding(
                "platforms", True, "no Slack or Discord tokens: `circlebot run` opens the console"
            )
        )
    key_finding, key = load_key(settings)
    found.append(key_finding)
    migrated = all(f.ok for f in found if f.name in ("database", "migrations"))
    if key is not None and migrated:
        try:
            opens = await key_opens_stored(settings, key)
        except (DBAPIError, OSError, TimeoutError):
            opens = None  # the database lines above already say what is wrong with it
        if opens is not None:
            found.append(opens)
    return found
