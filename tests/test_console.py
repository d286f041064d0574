"""The console adapter, driven like a person would: transcripts compared line by line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import schedule_job, transcript

ROOT = Path(__file__).resolve().parent.parent
CIRCLEBOT = Path(sys.executable).parent / "circlebot"


async def test_setting_up_a_community_with_roles() -> None:
    lines = await transcript(
        """
        :as ana admin
        :in #cop-finger-lakes
        /cop setup "Finger Lakes CoP" America/New_York
        /cop facilitator add @ben
        :as cara
        /cop join
        /cop facilitator add @cara
        /cop members
        :as ben
        /cop members
        """
    )
    assert lines == [
        "you> :as ana admin",
        "ana> :in #cop-finger-lakes",
        'ana> /cop setup "Finger Lakes CoP" America/New_York',
        "[#cop-finger-lakes] Finger Lakes CoP is set up in this channel (time zone "
        "America/New_York, language en). Name facilitators with /cop facilitator add @name; "
        "members join with /cop join.",
        "ana> /cop facilitator add @ben",
        "[#cop-finger-lakes] ben is now a facilitator of Finger Lakes CoP.",
        "ana> :as cara",
        "cara> /cop join",
        "[#cop-finger-lakes] Welcome to Finger Lakes CoP, cara!",
        "cara> /cop facilitator add @cara",
        "[private @cara] Only a workspace admin can do that.",
        "cara> /cop members",
        "[private @cara] Only a facilitator of Finger Lakes CoP can do that.",
        "cara> :as ben",
        "ben> /cop members",
        "[private @ben] Members of Finger Lakes CoP (3):",
        "  • @ben (facilitator)",
        "  • @ana (member)",
        "  • @cara (member)",
    ]


async def test_refusals_are_one_private_sentence() -> None:
    lines = await transcript(
        """
        :as ana admin
        :in #cop
        /cop setup Circle Europe/Mars
        /cop setup Circle America/Chicago klingon
        /cop setup
        /cop facilitator
        /cop frobnicate
        /cop setup "unclosed
        :as dan
        :in #elsewhere
        /cop about
        """
    )
    replies = [line for line in lines if not line.startswith(("you>", "ana>", "dan>"))]
    assert replies == [
        '[private @ana] "Europe/Mars" is not a time zone I know; use an IANA name such as '
        "America/New_York.",
        '[private @ana] I can speak en, es so far, not "klingon".',
        "[private @ana] Please give name; the form is: /cop setup NAME [timezone=] [language=]",
        '[private @ana] "/cop facilitator" needs one of: add, remove.',
        '[private @ana] I don\'t know the command "frobnicate"; try /cop help.',
        '[private @ana] A quote is not closed; put the text in matching "double quotes".',
        "[private @dan] There is no community in this channel yet; a workspace admin can start "
        "one with /cop setup.",
    ]
    for reply in replies:
        assert reply.count(". ") + reply.count("; ") <= 2 and reply.endswith((".", "]"))


async def test_help_lists_only_what_the_asker_may_do() -> None:
    lines = await transcript(
        """
        :as ana admin
        :in #cop
        /cop setup Circle America/Chicago
        /cop facilitator add @ben
        /cop help
        :as ben
        /cop help
        :as cara
        /cop help
        """
    )
    text = "\n".join(lines)
    ana, ben, cara = (
        text.split(f"{who}> /cop help")[1].split("> ")[0] for who in ("ana", "ben", "cara")
    )
    assert "/cop facilitator add, remove" in ana and "/cop members" in ana
    assert "/cop facilitator" not in ben and "/cop members" in ben
    assert "/cop members" not in cara and "/cop join" in cara
    assert "/cop setup" not in ana  # this channel already has a community


async def test_settings_change_name_and_zone() -> None:
    lines = await transcript(
        """
        :as ana admin
        :in #cop
        /cop setup "@everyone <!channel> party" UTC
        /cop settings name="x" timezone=Asia/Tokyo
        /cop about
        """
    )
    assert "[private @ana] x now uses time zone Asia/Tokyo and language en." in lines
    assert any(line.startswith("[private @ana] x: time zone Asia/Tokyo") for line in lines)


def test_circlebot_console_reads_a_script_from_stdin() -> None:
    """The README's first try: `printf ... | circlebot console --script -` prints the help."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    result = subprocess.run(
        [str(CIRCLEBOT), "console", "--script", "-"],
        input=":as ana admin\n/cop help\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "[private @ana] What you can do with circlebot here:" in result.stdout
    assert "  Community: /cop help · /cop setup\n" in result.stdout
    assert result.stderr == ""


async def test_a_job_two_days_out_fires_once_on_advance_and_never_after_restart(tmp_path) -> None:
    """`:advance 2d` fires a scheduled job once; a restart on the same database does not repeat it."""
    from datetime import UTC, datetime, timedelta

    from adapters.console import run_script
    from bot.app import App
    from bot.events import ConversationRef
    from bot.features import build_registry
    from bot.ports import FakeClock
    from bot.ui import Message
    from storage.db import Database

    async def ping(ctx, n: int) -> None:  # type: ignore[no-untyped-def]
        await ctx.outbox.enqueue(
            key=f"test:ping:{n}",
            to=ConversationRef("console", "console", "cop"),
            message=Message(text=f"ping {n}"),
        )

    registry = build_registry()
    registry.jobs["test.ping"] = ping
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    clock = FakeClock(datetime(2026, 11, 2, 14, 0, tzinfo=UTC))

    db = Database(url)
    app = App(db, clock, [], manual=True, registry=registry)
    await app.start()
    await schedule_job(app, "test:ping:1", clock.now() + timedelta(days=2), "test.ping", [1])
    await db.dispose()

    first: list[str] = []
    db = Database(url)
    await run_script(
        [":advance 1d", ":advance 1d", ":advance 1d"],
        db,
        clock,
        write=first.append,
        registry=registry,
    )
    await db.dispose()
    assert first == [
        "you> :advance 1d",
        "you> :advance 1d",
        "~ Wed 4 Nov 2026, 14:00 UTC",
        "[#cop] ping 1",
        "you> :advance 1d",
    ]

    again: list[str] = []
    db = Database(url)
    await run_script([":advance 30d"], db, clock, write=again.append, registry=registry)
    await db.dispose()
    assert again == ["you> :advance 30d"]


async def test_leaving_and_rejoining_keeps_one_membership() -> None:
    lines = await transcript(
        """
        :as ana admin
        :in #cop
        /cop setup Circle UTC
        :as cara
        /cop join
        /cop leave
        /cop leave
        :as ana
        /cop about
        :as cara
        /cop join
        :as ana
        /cop about
        """
    )
    replies = [line for line in lines if line.startswith("[")]
    assert replies[1:] == [
        "[#cop] Welcome to Circle, cara!",
        "[private @cara] You have left Circle; your past answers stay private to you.",
        "[private @cara] You are not a member of Circle.",
        "[private @ana] Circle: time zone UTC, language en; members: 1; facilitators: none yet.",
        "[#cop] Welcome to Circle, cara!",
        "[private @ana] Circle: time zone UTC, language en; members: 2; facilitators: none yet.",
    ]


async def test_attachments_are_saved_and_their_path_printed(tmp_path) -> None:
    from datetime import UTC, datetime

    from adapters.console import run_script
    from bot.features.meetings.ics import parse_instants
    from bot.ports import FakeClock
    from storage.db import Database

    lines: list[str] = []
    db = Database("sqlite:///:memory:")
    script = [
        ":as ana admin",
        "/cop setup Circle America/Chicago",
        '/cop meeting series "once on 2026-12-08 at 18:30" title=CoP',
        "/cop meeting ics next",
    ]
    clock = FakeClock(datetime(2026, 11, 2, 15, tzinfo=UTC))
    await run_script(script, db, clock, write=lines.append, files_dir=tmp_path / "files")
    await db.dispose()
    saved = tmp_path / "files" / "meeting-1.ics"
    assert f"  saved {saved}" in lines
    assert parse_instants(saved.read_bytes()) == [datetime(2026, 12, 9, 0, 30, tzinfo=UTC)]
