"""Issue 15, first "done when": two console transcripts, on SQLite and PostgreSQL.

1. An English community with one Spanish-speaking member (rosa, ``/cop my language es``): her
   meeting reminder DM, her poll ballot confirmation, her check-in invitation, her agreements
   recap by DM (the reminder to agree) and the welcome note of a second community she joins
   are in Spanish, while dan (no language of his own) reads them in English and every channel
   post stays English.
2. A Spanish community (``/cop setup ... language=es``): setup, a schedule typed in Spanish
   ("mensual el primer martes a las 18:30"), its card and reminders, a refused schedule and a
   refused deadline, all in Spanish.

The Spanish catalog is being filled in key by key (a key without Spanish text shows the
English one), so each line is compared with what the Spanish catalog renders for its key:
the test says which language each message was written in, and reads Spanish wherever the
catalog does. The lines whose keys already have Spanish prove it today
(`mydata.language.*`, reminder offsets, the Spanish schedule said back).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from adapters.console import run_script
from bot.features.meetings.core import offset_words
from bot.i18n import Translator, translator
from bot.ports import FakeClock
from bot.schedule import parse_schedule
from storage.db import Database

NY = "America/New_York"
ES = translator("es")
EN = translator("en")

ENGLISH_COMMUNITY = """
:as ana admin
:in #cop2
/cop setup "Infant Care Circle" America/New_York
/cop agreements draft pick=1,2
:in #cop
/cop setup "Finger Lakes CoP" America/New_York
/cop facilitator add @ben
:as rosa
/cop join
/cop my language es
:as dan
/cop join
:as ben
/cop agreements draft pick=1,2,6
/cop meeting series "monthly on the first Tuesday at 16:00" title="Monthly CoP" reminders="1h" dm=yes
:as rosa
:press Going
:as dan
:press Going
:as ben
/cop checkins default
/cop poll new "Snack?" options="Apples | Pears"
:as rosa
:press Apples
:as dan
:press Pears
:as rosa
:in #cop2
/cop join
:in #cop
:at 2026-11-05T17:01
"""

SPANISH_COMMUNITY = """
:as ana admin
:in #circulo
/cop setup "Círculo de Cuidado" America/New_York language=es
/cop facilitator add @ben
:as luz
/cop join
:as ben
/cop meeting series "mensual el primer martes a las 18:30" title="Reunión mensual" reminders="1h" dm=yes
/cop meeting series "cada martes de luna llena"
/cop poll new "¿Merienda?" options="Manzanas | Peras" closes="ayer"
:as luz
:press Asistiré
/cop my language
:at 2026-11-03T17:31
"""


async def _run(db: Database, tmp_path: Path, script: str) -> list[str]:
    lines: list[str] = []
    await run_script(
        [line.strip() for line in script.strip().splitlines()],
        db,
        FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo(NY))),
        zone=NY,
        write=lines.append,
        files_dir=tmp_path,
    )
    return lines


def first_line(lines: list[str], start: str) -> str:
    """The text of the first line that starts with `start` (its audience tag removed)."""
    found = [line for line in lines if line.startswith(start)]
    assert found, f"no line starts with {start!r}"
    return found[0].split("] ", 1)[1]


def channel(lines: list[str], name: str) -> list[str]:
    """What the channel showed: its posts, their continuation lines and thread replies."""
    out: list[str] = []
    inside = False
    for line in lines:
        if line.startswith(("[", "~ ", "  ↳")) or "> " in line.split(" ", 1)[0] + " ":
            inside = line.startswith((f"[{name}]", f"  ↳ [{name}]"))
        if inside:
            out.append(line)
    return out


def reminder(t: Translator) -> str:
    return t(
        "meetings.card.reminder", title="Monthly CoP", offset=offset_words(t, timedelta(hours=1))
    )


def said_to(lines: list[str], who: str, text: str) -> bool:
    """Whether `who` got `text` as a whole line, by DM or as a private answer."""
    return f"[dm @{who}] {text}" in lines or f"[private @{who}] {text}" in lines


async def test_a_spanish_member_in_an_english_community(db: Database, tmp_path: Path) -> None:
    lines = await _run(db, tmp_path, ENGLISH_COMMUNITY)

    # What rosa set, said in the language she chose (a key Spanish has today).
    chosen = ES("mydata.language.set", language="español")
    assert chosen != EN("mydata.language.set", language="Spanish")
    assert said_to(lines, "rosa", chosen)

    # Her ballot confirmation, privately; dan's in English.
    assert said_to(lines, "rosa", ES("voting.vote.saved_change", choice="Apples"))
    assert said_to(lines, "dan", EN("voting.vote.saved_change", choice="Pears"))

    # The welcome note of the second community she joins: Spanish, since she chose it.
    welcome = {"community": "Infant Care Circle", "version": 1}
    assert said_to(lines, "rosa", ES("agreements.welcome", **welcome))

    # The meeting reminder by DM: Spanish for rosa, English for dan and the channel.
    assert said_to(lines, "rosa", reminder(ES))
    assert said_to(lines, "dan", reminder(EN))

    # The agreements recap by DM (the one reminder to agree), three days after the draft.
    recap = {"community": "Finger Lakes CoP", "version": 1}
    assert said_to(lines, "rosa", ES("agreements.reminder", **recap))
    assert said_to(lines, "dan", EN("agreements.reminder", **recap))

    # The check-in invitation two days after the meeting.
    invited = {"checkin": 1, "community": "Finger Lakes CoP", "title": "Individual reflection"}
    assert said_to(lines, "rosa", ES("reflections.round.dm", **invited))
    assert said_to(lines, "dan", EN("reflections.round.dm", **invited))

    # Channel posts stay English: the joins, the agreements, the meeting card and its
    # reminder are the community's, whoever caused them.
    posts = channel(lines, "#cop")
    assert f"[#cop] {EN('communities.joined', name='Finger Lakes CoP', member='rosa')}" in posts
    assert f"[#cop] {EN('agreements.new_version', version=1)}" in posts
    assert f"[#cop] {reminder(EN)}" in posts
    # Her reminder's words ("1 hora") are Spanish today, and never reach the channel.
    assert reminder(ES) != reminder(EN)
    assert not any(reminder(ES) in line for line in posts)


async def test_a_spanish_community_entirely_in_spanish(db: Database, tmp_path: Path) -> None:
    lines = await _run(db, tmp_path, SPANISH_COMMUNITY)
    posts = channel(lines, "#circulo")
    setup = ES("communities.setup_done", name="Círculo de Cuidado", timezone=NY, language="es")
    assert f"[#circulo] {setup}" in posts
    joined = ES("communities.joined", name="Círculo de Cuidado", member="luz")
    assert f"[#circulo] {joined}" in posts

    # The schedule typed in Spanish is read, and said back in Spanish.
    schedule = parse_schedule("monthly on the first Tuesday at 18:30", NY)
    said = schedule.describe(ES)
    assert said != schedule.describe(EN)
    card = ES("meetings.card.announce", title="Reunión mensual", schedule=said)
    assert f"[#circulo] {card}" in posts

    # The refusals, to ben alone, in Spanish.
    assert said_to(lines, "ben", ES("schedule.generic"))
    assert said_to(lines, "ben", ES("voting.deadline.unreadable", text="ayer"))
    # luz's own language is the community's, Spanish.
    assert said_to(
        lines,
        "luz",
        ES("mydata.language.community", language="español", community="Círculo de Cuidado"),
    )

    # The reminder at 17:30, an hour before the meeting: in the channel and by DM, in Spanish.
    head = ES(
        "meetings.card.reminder",
        title="Reunión mensual",
        offset=offset_words(ES, timedelta(hours=1)),
    )
    assert head != EN(
        "meetings.card.reminder",
        title="Reunión mensual",
        offset=offset_words(EN, timedelta(hours=1)),
    )
    assert f"[#circulo] {head}" in posts
    assert said_to(lines, "luz", head)
