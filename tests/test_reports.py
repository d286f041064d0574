"""Hours that count: a scripted season through the console, on SQLite and PostgreSQL.

Three monthly meetings of 90 minutes: #1 (cara and dan attend in full), #2 cancelled, #3
(cara in full, dan for 45 minutes). The facilitator's CSV is read back and matched to the
hours worked out by hand; the PNG charts are opened with Pillow; the PDF certificate is
checked for its header, its end marker and the verification code in its metadata, and that
code is confirmed by `/cop report verify` while a forged one is refused. A member cannot run
the report; the after-checkin rule keeps a meeting off a certificate until its check-in is
answered.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zlib
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import select

from adapters.console import run_script
from bot.features.reports.codes import ALPHABET, new_code, normalise, shown
from bot.features.reports.period import PeriodError, parse_period
from bot.ports import FakeClock
from storage.db import Database
from storage.models import OutboxMessage
from storage.reports import Certificate

NY = ZoneInfo("America/New_York")
SPAN = "2026-11-01-2026-12-31"

SEASON = """
:as ana admin
:in #cop
/cop setup "Finger Lakes CoP" America/New_York
/cop facilitator add @ben
:as cara
/cop join
:as dan
/cop join
:as ben
/cop meeting series "weekly on Tuesday at 16:00" title="Weekly CoP" duration=90
/cop checkins default
/cop meeting agenda 1 topic="Outdoor play" objectives="Plan one outdoor activity; Share a risk checklist"
/cop meeting cancel 2 reason="snow day"
/cop agreements draft pick=1,2
/cop poll new Which topic in January? options="Literacy | Families"
:as cara
:press 12 I agree
:press Literacy
:as dan
:press Families
:at 2026-11-17T18:00
:as ben
:in #cop
/cop meeting attended 1 @cara @dan
:at 2026-11-19T18:00
:as cara
:in dm
:press Answer
:submit q1="Water play held them" privacy=private
:at 2026-12-01T18:00
:as ben
:in #cop
/cop meeting attended 3 @cara
/cop report partial 3 @dan 45
/cop report summary 2026-11-01 2026-12-31
:as dan
/cop report summary
/cop my hours 2026-11-01 2026-12-31
"""


async def play(
    db: Database, script: str, files: Path, at: datetime = datetime(2026, 11, 11, 9, 0, tzinfo=NY)
) -> list[str]:
    """Run `script` in the console from `at` (New York), attachments saved under `files`."""
    lines: list[str] = []
    clock = FakeClock(at)
    await run_script(
        script.strip().splitlines(),
        db,
        clock,
        zone="America/New_York",
        write=lines.append,
        files_dir=files,
    )
    return lines


SEASON_MORE = """
:as dan
:in #cop
/cop report verify {lower}
/cop report verify {forged}
/cop report verify hello
:as ben
:in #cop
/cop report summary 2026-02-30
/cop report settings certificate=after-checkin
/cop report settings
:as cara
/cop my hours 2026-11-01 2026-12-31
:as dan
/cop my hours 2026-11-01 2026-12-31
"""


def private(lines: list[str], who: str) -> list[str]:
    """The first line of every private reply and DM `who` got, in order."""
    return [line for line in lines if line.startswith((f"[private @{who}]", f"[dm @{who}]"))]


def block(lines: list[str], first: str) -> list[str]:
    """The output that starts with the line `first`, with its indented continuation."""
    start = lines.index(first)
    out = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        out.append(line[2:])
    return out


def rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with the BOM
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def check_png(path: Path) -> None:
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(path) as image:
        image.verify()  # raises on a broken file
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size[0] > 300 and image.size[1] > 200


def pdf_code(path: Path) -> str:
    """The verification code a certificate PDF carries, after checking the file's shape."""
    raw = path.read_bytes()
    assert raw.startswith(b"%PDF-1.")
    assert raw.rstrip().endswith(b"%%EOF")
    assert b"/Type /Page" in raw and b"/FontFile2" in raw  # a page and an embedded font
    streams = re.findall(rb"/Filter /FlateDecode[^>]*?/Length (\d+)[^s]*stream\n", raw)
    assert streams
    start = raw.index(b"stream\n", raw.index(b"/Filter /FlateDecode")) + len(b"stream\n")
    assert zlib.decompress(raw[start : start + int(streams[0])])  # a real compressed stream
    match = re.search(rb"/Keywords \(([A-Z0-9-]+)\)", raw)
    assert match
    return match.group(1).decode()


@pytest.mark.long  # a season of three meetings through every job: about 15 s a database
async def test_a_season_counts_hours_by_hand_and_certificates_verify(
    db: Database, tmp_path: Path
) -> None:
    files = tmp_path / "files"
    lines = await play(db, SEASON, files)

    # The summary, privately to the facilitator; the files follow by DM, never in #cop.
    summary = block(
        lines, "[private @ben] Report for Finger Lakes CoP, Nov 1, 2026 to Dec 31, 2026."
    )
    assert summary[1:] == [
        "2 meetings held.",
        "1 cancelled meeting is not counted.",
        "Attendance and professional-development hours:",
        "• cara: 2 meetings, 3 h",
        "• dan: 2 meetings, 2.25 h",
        "Total: 5.25 h of professional development.",
        "1 poll: 2 ballots from 4 members (turnout 50%).",
        "Check-ins: 1 of 4 answered (25%) in 1 round.",
        "Agreements: 1 acknowledgement in this period; 1 of 4 members have agreed to the "
        "current version (1).",
        "The CSV files and charts are in your direct messages.",
    ]
    dm = block(lines, "[dm @ben] Report for Finger Lakes CoP, Nov 1, 2026 to Dec 31, 2026.")
    assert f"[file: attendance-{SPAN}.csv" in "\n".join(dm)
    assert not any(".csv" in line or ".png" in line for line in lines if line.startswith("[#cop]"))

    # The CSV, against the hours worked out by hand: 90 + 90 for cara, 90 + 45 for dan.
    table = rows(files / f"attendance-{SPAN}.csv")
    assert table[0] == ["date", "meeting", "topic", "member", "attended", "minutes", "hours"]
    assert len(table) == 1 + 2 * 4  # two meetings held (not the cancelled one) x four people
    assert {r[0] for r in table[1:]} == {"2026-11-17", "2026-12-01"}
    assert [r[2] for r in table[1:5]] == ["Outdoor play"] * 4
    minutes: dict[str, int] = {}
    for r in table[1:]:
        minutes[r[3]] = minutes.get(r[3], 0) + int(r[5])
        assert float(r[6]) == round(int(r[5]) / 60, 2)
        assert (r[4] == "yes") == (int(r[5]) > 0)
    assert minutes == {"ana": 0, "ben": 0, "cara": 180, "dan": 135}
    assert ["2026-12-01", "3", "Weekly CoP", "dan", "yes", "45", "0.75"] in table
    assert rows(files / f"hours-{SPAN}.csv") == [
        ["member", "meetings attended", "minutes", "hours"],
        ["ana", "0", "0", "0.0"],
        ["ben", "0", "0", "0.0"],
        ["cara", "2", "180", "3.0"],
        ["dan", "2", "135", "2.25"],
        ["Total", "4", "315", "5.25"],
    ]
    check_png(files / f"attendance-{SPAN}.png")
    check_png(files / f"participation-{SPAN}.png")

    # A member cannot run the report.
    assert "[private @dan] Only a facilitator of Finger Lakes CoP can do that." in lines

    # dan's statement: each meeting with its date, topic, objectives and hours; his PDF.
    statement = block(
        lines,
        "[dm @dan] Your professional-development hours in Finger Lakes CoP, "
        "Nov 1, 2026 to Dec 31, 2026:",
    )
    assert statement[1:4] == [
        "• Nov 17, 2026: Outdoor play (1.5 h)",
        "  Learning objectives: Plan one outdoor activity; Share a risk checklist",
        "• Dec 1, 2026: Weekly CoP (0.75 h)",
    ]
    assert statement[4] == "Total: 2.25 h from 2 meetings."
    code = re.search(r"verification code is ([A-Z0-9-]{12})", statement[5])
    assert code
    pdfs = list(files.glob("certificate-*.pdf"))
    assert [p.name for p in pdfs] == [f"certificate-{code.group(1)}.pdf"]
    assert pdf_code(pdfs[0]) == code.group(1)

    # Verification: typed loosely it is confirmed; one changed letter and nonsense are refused.
    genuine = code.group(1)
    forged = genuine[:-1] + ("A" if genuine[-1] != "A" else "B")
    lower = " ".join(genuine.lower().split("-"))
    later = datetime(2026, 12, 1, 18, 5, tzinfo=NY)
    more = await play(db, SEASON_MORE.format(lower=lower, forged=forged), files, later)
    said = private(more, "dan")
    assert said[0] == (
        f"[private @dan] Certificate {genuine} is genuine: dan took part in Finger Lakes CoP "
        "from Nov 1, 2026 to Dec 31, 2026, 2.25 hours of professional development "
        "(issued Dec 1, 2026)."
    )
    assert said[1] == (
        f"[private @dan] No certificate has the code {forged}; please compare it with the one "
        "printed on the PDF."
    )
    assert said[2] == (
        "[private @dan] hello is not a certificate code; a code looks like ABCD-EFGH-JK."
    )
    assert (
        "[private @ben] 2026-02-30 is not a date that exists; please check the month and the day."
        in more
    )
    assert (
        "[private @ben] Certificates count a meeting once the member has answered its reflection "
        "check-in; to count every meeting attended, type /cop report settings certificate=always"
        in more
    )
    # after-checkin: cara answered meeting 1's check-in, not yet meeting 3's; dan answered none.
    cara = block(
        more,
        "[dm @cara] Your professional-development hours in Finger Lakes CoP, "
        "Nov 1, 2026 to Dec 31, 2026:",
    )
    assert cara[3] == (
        "• Dec 1, 2026: Weekly CoP (1.5 h), on the certificate once you answer its check-in"
    )
    assert cara[4:6] == [
        "Total: 3 h from 2 meetings.",
        "On the certificate: 1.5 h from 1 meeting whose check-in you answered.",
    ]
    assert block(more, said[-1])[1:] == [
        "• Nov 17, 2026: Outdoor play (1.5 h), on the certificate once you answer its check-in",
        "  Learning objectives: Plan one outdoor activity; Share a risk checklist",
        "• Dec 1, 2026: Weekly CoP (0.75 h), on the certificate once you answer its check-in",
        "Total: 2.25 h from 2 meetings.",
        "No certificate yet: in this community a meeting counts once you have answered its "
        "reflection check-in.",
    ]
    async with db.session() as session:
        certs = list(
            (await session.execute(select(Certificate).order_by(Certificate.id))).scalars()
        )
        assert [(c.member_name, c.minutes, c.meetings) for c in certs] == [
            ("dan", 135, 2),
            ("cara", 90, 1),
        ]
        assert [(c.period_from, c.period_to) for c in certs] == [
            (date(2026, 11, 1), date(2026, 12, 31))
        ] * 2
        assert all(normalise(c.code) == c.code for c in certs)
        # The DMs with names and hours were sealed in the outbox and blanked once delivered.
        dms = (
            await session.execute(
                select(OutboxMessage).where(
                    OutboxMessage.key.like("report:%") | OutboxMessage.key.like("hours:%")  # type: ignore[attr-defined]
                )
            )
        ).scalars()
        sent = list(dms)
        assert sent and all(m.sealed and m.status == "sent" for m in sent)
        assert all("dan" not in m.payload for m in sent)


ONE_MEETING = """
:as ana admin
:in #cop
/cop setup "Círculo Niños" America/New_York
:as begoña
/cop join
:as ana
/cop meeting series "weekly on Wednesday at 10:00" title="Taller de juego" duration=120
:at 2026-11-11T12:30
/cop meeting attended 1 @begoña
/cop report partial 1 @begoña 150
/cop report partial 1 @begoña 0
/cop report partial 9 @begoña 30
/cop report partial 1 @nobody 30
/cop report partial 1 @begoña 60
/cop report summary 2026-11-11 2026-11-10
:as begoña
/cop report partial 1 @begoña 120
/cop report settings certificate=always
:in dm
/cop my hours
/cop my hours
/cop my hours 2026-12-01 2026-12-31
/cop my-data export
"""


async def test_one_meeting_certificate_verifies_and_refusals_are_one_sentence(
    db: Database, tmp_path: Path
) -> None:
    lines = await play(db, ONE_MEETING, tmp_path)
    said = [line for line in lines if line.startswith("[private @ana]")]
    assert said[-6:] == [
        "[private @ana] Meeting 1 lasted 120 minutes; give the minutes attended as a number "
        "from 1 to 120.",
        "[private @ana] Meeting 1 lasted 120 minutes; give the minutes attended as a number "
        "from 1 to 120.",
        "[private @ana] There is no meeting 9 here; /cop meeting list past shows the numbers.",
        "[private @ana] I don't know nobody in this community yet; they can join with /cop join "
        "first.",
        "[private @ana] Recorded: begoña attended 60 of the 120 minutes of meeting 1.",
        "[private @ana] The period starts after it ends (2026-11-11 is after 2026-11-10); put the "
        "earlier date first.",
    ]
    assert lines.count("[private @begoña] Only a facilitator of Círculo Niños can do that.") == 2
    # In a DM the statement is the answer itself, with the PDF; asking twice gives the same code.
    statements = [line for line in lines if line.startswith("[dm @begoña] Your professional")]
    assert len(statements) == 2
    codes = re.findall(r"\[file: certificate-([A-Z0-9-]{12})\.pdf", "\n".join(lines))
    assert len(codes) == 2 and codes[0] == codes[1]
    assert block(lines, statements[0])[1:3] == [
        "• Nov 11, 2026: Taller de juego (1 h)",
        "Total: 1 h from 1 meeting.",
    ]
    assert pdf_code(tmp_path / f"certificate-{codes[0]}.pdf") == codes[0]
    # Her export holds the certificate as a verifier sees it.
    [community] = json.loads((tmp_path / "my-data.json").read_text())["communities"]
    assert community["certificates"] == [
        {
            "code": codes[0],
            "name": "begoña",
            "from": "2025-11-12",
            "to": "2026-11-11",
            "minutes": 60,
            "meetings": 1,
            "issued_at": "2026-11-11T17:30:00+00:00",
        }
    ]
    assert (
        "[private @begoña] You have no attended meetings recorded in Círculo Niños from "
        "Dec 1, 2026 to Dec 31, 2026."
    ) in lines
    checked = await play(
        db,
        f":as zoe\n:in dm\n/cop report verify {codes[0]}\n/cop report verify ABCD-EFGH-JK\n"
        ":as begoña\n:in dm\n/cop my-data erase\n:press Erase my data\n"
        f":as zoe\n:in dm\n/cop report verify {codes[0]}",
        tmp_path,
        datetime(2026, 11, 12, 9, 0, tzinfo=NY),
    )
    assert [line for line in checked if line.startswith("[private @zoe]")] == [
        f"[private @zoe] Certificate {codes[0]} is genuine: begoña took part in Círculo Niños "
        "from Nov 12, 2025 to Nov 11, 2026, 1 hour of professional development "
        "(issued Nov 11, 2026).",
        "[private @zoe] No certificate has the code ABCD-EFGH-JK; please compare it with the "
        "one printed on the PDF.",
        # Erasing her data withdrew begoña's certificate: its code no longer verifies.
        f"[private @zoe] No certificate has the code {codes[0]}; please compare it with the "
        "one printed on the PDF.",
    ]


def test_codes_are_random_unambiguous_and_read_forgivingly() -> None:
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == 10 and set(c) <= set(ALPHABET) for c in codes)
    assert not set("01IO") & set(ALPHABET) and len(set(ALPHABET)) == 32
    assert shown("ABCDEFGHJK") == "ABCD-EFGH-JK"
    assert normalise(" abcd-efgh-jk ") == normalise("ABCD EFGH JK") == "ABCDEFGHJK"
    for bad in ("ABCD-EFGH-J", "ABCD-EFGH-JKL", "ABCD-EFGH-J0", "ABCD-EFGH-JI", "", "A" * 40):
        assert normalise(bad) is None


def test_period_defaults_to_twelve_months_and_refuses_impossible_dates() -> None:
    now = datetime(2026, 12, 7, 3, 0, tzinfo=ZoneInfo("UTC"))  # still 6 December in New York
    p = parse_period(None, None, NY, now)
    assert (p.start, p.end) == (date(2025, 12, 7), date(2026, 12, 6))
    assert p.since == datetime(2025, 12, 7, 5, 0, tzinfo=ZoneInfo("UTC"))
    assert p.until == datetime(2026, 12, 7, 5, 0, tzinfo=ZoneInfo("UTC"))
    leap = parse_period(None, "2028-02-29", NY, now)
    assert leap.start == date(2027, 3, 1)
    for args, key in (
        (("2026-02-30", None), "reports.refuse.date_impossible"),
        (("2026-13-01", None), "reports.refuse.date_impossible"),
        (("26-01-01", None), "reports.refuse.date_format"),
        (("1900-01-01", None), "reports.refuse.date_range"),
        (("2026-12-31", "2026-01-01"), "reports.refuse.date_order"),
    ):
        with pytest.raises(PeriodError) as err:
            parse_period(*args, NY, now)
        assert err.value.key == key


SPANISH = """
:as ana admin
:in #cop
/cop setup "Círculo Niños" America/New_York language=es
:as begoña
/cop join
:as ana
/cop meeting series "weekly on Wednesday at 10:00" title="Taller de juego" duration=90
/cop meeting agenda 1 topic="Juego al aire libre" objectives="Planificar una actividad; ¿Qué riesgos?"
:at 2026-11-11T12:30
/cop meeting attended 1 @begoña
/cop report partial 1 @begoña 75
/cop report summary 2026-11-01 2026-11-30
/cop report summary 2026-02-30
:as begoña
:in dm
/cop my hours 2026-11-01 2026-11-30
"""


async def test_a_spanish_community_gets_its_report_statement_and_certificate_in_spanish(
    db: Database, tmp_path: Path
) -> None:
    lines = await play(db, SPANISH, tmp_path)
    text = "\n".join(lines)
    assert (
        "[private @ana] Registrado: begoña asistió 75 de los 90 minutos de la reunión 1." in lines
    )
    assert block(lines, "[private @ana] Informe de Círculo Niños, del 1 nov 2026 al 30 nov 2026.")[
        1:5
    ] == [
        "1 reunión celebrada.",
        "Asistencia y horas de desarrollo profesional:",
        "• begoña: 1 reunión, 1,25 h",
        "Total: 1,25 h de desarrollo profesional.",
    ]
    assert "[private @ana] 2026-02-30 no es una fecha que exista; revise el mes y el día." in lines
    statement = block(
        lines,
        "[dm @begoña] Sus horas de desarrollo profesional en Círculo Niños, "
        "del 1 nov 2026 al 30 nov 2026:",
    )
    assert statement[1:4] == [
        "• 11 nov 2026: Juego al aire libre (1,25 h)",
        "  Objetivos de aprendizaje: Planificar una actividad; ¿Qué riesgos?",
        "Total: 1,25 h de 1 reunión.",
    ]
    code = re.search(r"código de verificación es ([A-Z0-9-]{12})", statement[4])
    assert code
    assert pdf_code(tmp_path / f"certificate-{code.group(1)}.pdf") == code.group(1)
    headers = rows(tmp_path / "hours-2026-11-01-2026-11-30.csv")
    assert headers[0] == ["miembro", "reuniones con asistencia", "minutos", "horas"]
    assert headers[1:] == [
        ["ana", "0", "0", "0.0"],
        ["begoña", "1", "75", "1.25"],
        ["Total", "1", "75", "1.25"],
    ]
    assert "Report for" not in text and "Your professional" not in text


def test_charts_draw_attendance_per_meeting_and_participation_per_month() -> None:
    from collections import Counter

    from bot.features.reports.files import attendance_figure, months, participation_figure
    from bot.features.reports.gather import Held, Person, Season
    from bot.features.reports.period import Period
    from bot.i18n import Translator

    utc = ZoneInfo("UTC")
    held = [
        Held(7, 1, datetime(2026, 11, 17, 21, tzinfo=utc), 90, "Weekly CoP", "Outdoor play", []),
        Held(9, 3, datetime(2026, 12, 1, 21, tzinfo=utc), 90, "Weekly CoP", None, []),
    ]
    season = Season(
        meetings=held,
        cancelled=1,
        people=[Person("U1", "cara"), Person("U2", "dan")],
        attended={(7, "U1"): 90, (7, "U2"): 90, (9, "U1"): 90},
        members=2,
        polls=[],
        asked=0,
        answered=0,
        rounds=0,
        acks=0,
        version=None,
        agreed_current=0,
        votes_by_month=Counter({"2026-11": 2}),
        answers_by_month=Counter({"2026-12": 1}),
    )
    period = Period(date(2026, 11, 1), date(2027, 1, 31), NY)
    assert months(period) == [date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)]
    t = Translator("es")
    ax = attendance_figure(t, season, period).axes[0]
    assert [bar.get_height() for bar in ax.patches] == [2, 1]
    assert [tick.get_text() for tick in ax.get_xticklabels()] == ["#1\n17 nov", "#3\n1 dic"]
    assert ax.get_title() == "Asistencia por reunión"
    ax = participation_figure(t, season, period).axes[0]
    assert [bar.get_height() for bar in ax.patches] == [2, 0, 0, 0, 1, 0]  # votes, then answers
    assert ax.get_legend_handles_labels()[1] == ["votos", "reflexiones respondidas"]
