"""The privacy proof: a private reflection answer is seen by its author and nobody else.

A unique canary string is typed into a private answer through the real check-in form (the
console's), then a whole community's life runs around it: a meeting, a vote, agreements, a
round of check-ins answered with every privacy choice, every facilitator and admin report and
status command (in the channel and by DM) before, during and after the round, the author's
journal and export, another member's journal and export, and a second meeting. Logs are
captured at DEBUG from every logger.

The canary may then be found only where its author alone looks: the journal's private reply,
the export sent to the author by DM, the commitment asked back by DM (and the author's own
typing); the author's note on how the commitment went carries it too. It must not be in
any other message, file, channel post or thread reply, any outbox payload, any log line,
any row of any table, or the raw bytes of the SQLite database and its write-ahead log.
"""

from __future__ import annotations

import base64
import logging
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from adapters.console.adapter import ConsoleAdapter
from adapters.console.session import ConsoleSession
from bot.app import App
from bot.commands import Role
from bot.features import build_registry
from bot.ports import FakeClock
from bot.sealed import Sealer
from bot.ui import File, Message
from storage.db import Database
from storage.models import OutboxMessage
from storage.tables import metadata

NY = "America/New_York"
CANARY = "zq-canary-48151623-Jamal-bit-Priya"
AUTHOR = "dan"

SETUP = """
:as ana admin
:in #cop
/cop setup "Finger Lakes CoP" America/New_York
/cop facilitator add @ben
:as cara
/cop join
:as dan
/cop join
:as eve
/cop join
:as ben
/cop checkins default
/cop agreements draft pick=1,2
/cop poll new "Next topic?" options="Outdoor play | Families" anonymous=yes
:as cara
:press Outdoor play
:as dan
:press Families
:as ben
/cop poll close 1
/cop meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP"
:as dan
:press Going
:at 2026-11-03T18:30
:as dan
:press I agree
:at 2026-11-03T19:40
:as dan
/cop meeting attended 1
:as cara
/cop meeting attended 1
:at 2026-11-05T19:31
"""

#: Who answers what, with which privacy: (person, form values); ``ANSWER`` presses the
#: Answer button of that person's check-in DM, found by its message number.
ANSWER = "ANSWER"
#: ``PRESS who text|label``: press `label` on the DM to `who` whose text holds `text`.
PRESS = "PRESS"
ANSWERS: list[tuple[str, str]] = [
    (
        AUTHOR,
        f'q1="{CANARY} noticed at nap time" q2="{CANARY} will try a visual timer" '
        f'q3="{CANARY} needs an hour" privacy=private',
    ),
    ("cara", 'q1="Water play held them twenty minutes" q2="Water table outside" privacy=named'),
    ("eve", 'q3="More planning time" privacy=anonymous'),
    ("ana", 'q2="Ask families about bedtime" privacy=facilitators'),
]


def answering() -> str:
    lines = []
    for who, values in ANSWERS:
        lines += [f":as {who}", ":in dm", f"{ANSWER} {who}", f":submit {values}"]
    # The author opens the form again (it holds their answers) and closes it.
    return "\n".join([*lines, f":as {AUTHOR}", f"{ANSWER} {AUTHOR}", ":cancel"])


#: What facilitators and admins can ask to see: every report, status and list.
REPORTS = [
    "/cop help",
    "/cop help checkins",
    "/cop about",
    "/cop members",
    "/cop home",
    "/cop checkins list",
    "/cop checkins status",
    "/cop checkins status 1",
    "/cop poll list",
    "/cop poll results 1",
    "/cop poll export 1",
    "/cop topics list",
    "/cop meeting list",
    "/cop meeting list past",
    "/cop meeting agenda 1",
    "/cop meeting attendance 1",
    "/cop meeting ics 1",
    "/cop agreements show",
    "/cop agreements status",
    "/cop agreements history",
    "/cop agreements proposals",
    "/cop agreements recap",
    "/cop journal",
    "/cop my-data export",
]

#: Facilitator commands that change check-ins, run last (their answers are checked too).
CHANGES = [
    "/cop checkins question 1 add How confident do you feel? kind=scale",
    "/cop checkins add Before we meet timing=before:5d open=3d",
    "/cop checkins retention 12",
    "/cop checkins stop 1",
    "/cop checkins default",
    "/cop checkins status 1",
]


def sweep(*who: str) -> str:
    """Every report, by each of `who`, in the channel and then by direct message."""
    lines = []
    for person in who:
        for place in (":in #cop", ":in dm"):
            lines += [f":as {person}", place, *REPORTS]
    return "\n".join(lines)


class Recording(ConsoleAdapter):
    """The console, also keeping each message it shows (with its files) and who saw it."""

    def __init__(self, write, files_dir: Path) -> None:  # type: ignore[no-untyped-def]
        super().__init__(write, files_dir)
        self.shown: list[tuple[str, Message]] = []

    def show(self, prefix: str, msg: Message, *args: Any, **kwargs: Any) -> None:
        self.shown.append((prefix, msg))
        super().show(prefix, msg, *args, **kwargs)


_OWNED = re.compile(r"^\s*(?:↳ )?\[(?:private|dm|form) @([^\]\s]+)\]")
_CHANNEL = re.compile(r"^\s*(?:↳ )?\[#")
_ECHO = re.compile(r"^(\S+)> ")


def owners(lines: list[str]) -> list[tuple[str, str]]:
    """Each output line with who sees it: a person's name, ``#channel``, ``typed:NAME`` for a
    person's own typing echoed, or ``console`` (clock headers, directive errors)."""
    out: list[tuple[str, str]] = []
    owner = "console"
    for line in lines:
        if m := _OWNED.match(line):
            owner = m.group(1)
        elif _CHANNEL.match(line):
            owner = "#channel"
        elif m := _ECHO.match(line):
            owner = f"typed:{m.group(1)}"
        elif line.startswith(("~ ", "! ")):
            owner = "console"
        out.append((owner, line))
    return out


def owner_of(prefix: str) -> str:
    m = _OWNED.match(prefix)
    return m.group(1) if m else "#channel"


async def rows_holding(db: Database, needle: str) -> list[str]:
    """Every table and column whose stored value holds `needle` in clear."""
    hits = []
    async with db.session() as session:
        for table in metadata.sorted_tables:
            for row in (await session.execute(select(table))).mappings():
                for column, value in row.items():
                    raw = value if isinstance(value, str | bytes) else str(value)
                    if holds(raw, needle):
                        hits.append(f"{table.name}.{column}")
    return hits


def encodings(needle: str) -> list[bytes]:
    """`needle` as stored bytes could hold it: plain UTF-8, or inside base64 (file contents in
    a message's JSON), at each of the three alignments, standard and URL-safe."""
    raw = needle.encode()
    found = [raw]
    for shift in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            coded = encode(b"\0" * shift + raw)
            # Drop the characters that mix in the padding bytes or what follows.
            found.append(coded[(shift * 4 + 2) // 3 + 1 : -4])
    return found


def holds(data: bytes | str, needle: str) -> bool:
    raw = data.encode() if isinstance(data, str) else data
    return any(form in raw for form in encodings(needle))


def file_bytes(path: Path) -> dict[str, bytes]:
    return {
        f.name: f.read_bytes()
        for f in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))
        if f.exists()
    }


async def test_a_private_answer_is_seen_by_its_author_alone(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, circlebot's and the libraries'
    lines: list[str] = []
    adapter = Recording(lines.append, tmp_path / "files")
    clock = FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo(NY)))
    app = App(db, clock, [adapter], manual=True, sealer=Sealer.generate())
    console = ConsoleSession(app, adapter, zone=NY)
    script = "\n".join(
        [
            SETUP,
            sweep("ben"),
            answering(),
            sweep("ben", "ana", "cara"),
            ":as ben\n:in #cop\n:at 2026-11-10T19:31",  # the round closes
            sweep("ben", "ana"),
            ":as ben\n:in #cop\n:at 2026-11-30T12:00",  # commitments asked back by DM
            f":as {AUTHOR}\n:in dm\nPRESS {AUTHOR} You said you'd try|Tell how it went",
            f':submit how=tried note="{CANARY} the timer helped" privacy=private',
            ":as cara\n:in dm\nPRESS cara You said you'd try|Tell how it went",
            ':submit how=tried note="Outside was calmer" privacy=named',
            sweep("ben"),
            ":at 2026-12-01T19:40",  # the next meeting
            f":as {AUTHOR}\n:in dm\n/cop journal\n/cop my-data export",
            ":as cara\n:in dm\n/cop journal\n/cop my-data export",
            sweep("ben"),
            ":as ben\n:in #cop\n" + "\n".join(CHANGES),
        ]
    )
    await app.start()
    await app.worker.drain()
    for line in script.splitlines():
        if line.startswith(PRESS):
            who, _, rest = line[len(PRESS) + 1 :].partition(" ")
            needle, label = rest.split("|")
            [number] = [
                n
                for n, posted in adapter.posted.items()
                if posted.dm_user == who and needle in posted.message.text
            ]
            line = f":press {number} {label}"
        if line.startswith(ANSWER):
            who = line.split()[1]
            [number] = [
                n
                for n, posted in adapter.posted.items()
                if posted.dm_user == who and "Time to reflect" in posted.message.text
            ]
            line = f":press {number} Answer"
        await console.feed(line, echo=True)
    await app.stop()

    # The scenario ran: every report answered, nobody met a directive error or an apology.
    assert not [line for line in lines if line.startswith("! ")]
    assert not [line for line in lines if "Something went wrong" in line]
    registry = build_registry()
    facilitator_reports = {
        " ".join(c.path)
        for c in registry.commands.values()
        if c.path[0] == "checkins" and c.role == Role.FACILITATOR
    }
    asked = {" ".join(line.split()[1:3]) for line in [*REPORTS, *CHANGES]}
    assert facilitator_reports <= asked | {"checkins question"}, facilitator_reports - asked

    # Text: only the author sees it (and typed it).
    seen = [(who, line) for who, line in owners(lines) if CANARY in line]
    assert seen, "the canary was never shown, not even to its author"
    assert {who for who, _ in seen} <= {AUTHOR, f"typed:{AUTHOR}"}, [
        (who, line) for who, line in seen if who not in (AUTHOR, f"typed:{AUTHOR}")
    ]
    # ...in the journal's private reply,
    journal = lines.index(f"{AUTHOR}> /cop journal")
    reply = [line for who, line in owners(lines)[journal + 1 :] if who == AUTHOR][:6]
    assert reply[0].startswith(f"[private @{AUTHOR}] Your journal")
    assert sum(CANARY in line for line in reply) >= 3
    # ...and in the export sent to the author by DM, nowhere else as a file.
    files = [
        (owner_of(prefix), block.filename, block.content)
        for prefix, msg in adapter.shown
        for block in msg.blocks
        if isinstance(block, File)
    ]
    holding = [(who, name) for who, name, content in files if holds(content, CANARY)]
    [own] = [c for who, name, c in files if (who, name) == (AUTHOR, "my-data.json")]
    assert f"{CANARY} the timer helped".encode() in own  # the note on the commitment too
    assert any(
        who == AUTHOR and line.startswith(f"[dm @{AUTHOR}] You said you'd try: “{CANARY}")
        for who, line in seen
    )
    assert sorted(holding) == [(AUTHOR, "my-data.json"), (AUTHOR, "my-reflections.csv")]
    exported = {name for _, name, _ in files}
    assert "poll-1-totals.csv" in exported, exported  # the other exports did run
    # No message the author was not the only one to see carries it, in any part.
    for prefix, msg in adapter.shown:
        if owner_of(prefix) != AUTHOR:
            assert not holds(msg.model_dump_json(), CANARY), prefix

    # Logs at DEBUG, every logger.
    assert caplog.records, "nothing was logged at all"
    for record in caplog.records:
        logged = record.getMessage() + (record.exc_text or "")
        assert CANARY not in logged, record.name

    # Storage: no outbox payload, no row of any table.
    async with db.session() as session:
        payloads = list((await session.execute(select(OutboxMessage))).scalars())
    assert payloads and not [o.key for o in payloads if holds(o.payload, CANARY)]
    [export] = [o for o in payloads if o.key.startswith(f"mydata:export:console:console:{AUTHOR}")]
    assert (export.sealed, export.status, export.payload) == (True, "sent", "")
    assert await rows_holding(db, "Finger Lakes CoP")  # the search does find clear text
    assert await rows_holding(db, CANARY) == []

    # The raw SQLite file and its write-ahead log, before and after a checkpoint.
    url = make_url(db.url)
    if url.get_backend_name() == "sqlite":
        path = Path(str(url.database))
        before = file_bytes(path)
        assert any(b"Finger Lakes CoP" in raw for raw in before.values())
        assert [name for name, raw in before.items() if holds(raw, CANARY)] == []
        async with db.session() as session:
            await session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        after = file_bytes(path)
        assert [name for name, raw in after.items() if holds(raw, CANARY)] == []
