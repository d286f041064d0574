"""CSV that opens in Excel: UTF-8 with BOM, the option numbers members saw, one table per file.

Pure builders first, then `/cop poll export` on SQLite and PostgreSQL: the files arrive by DM
(never in the channel), and an anonymous poll's export names nobody.
"""

from __future__ import annotations

import csv
import io

import pytest

from bot.features.voting.ballots import tally
from bot.features.voting.chart import csv_file
from bot.features.voting.files import MAX_EXPORT_FILES, export_files
from bot.features.voting.tally import Method
from bot.i18n import Translator
from bot.ui import File
from storage.voting import Poll, PollOption
from tests.support import transcript
from tests.test_voting_integrity import Bot

T = Translator("en")
BOM = b"\xef\xbb\xbf"


def _rows(file: File) -> list[list[str]]:
    assert file.content.startswith(BOM)
    return list(csv.reader(io.StringIO(file.content.decode("utf-8-sig"))))


def _poll(method: str, labels: list[str], anonymous: bool = False) -> tuple[Poll, list[PollOption]]:
    poll = Poll(id=7, community_id=1, question="¿Qué tema?", method=method, created_by="b")
    poll.anonymous = anonymous
    poll.status = "closed"
    options = [
        PollOption(id=40 + i, poll_id=7, community_id=1, position=i, label=label)
        for i, label in enumerate(labels, 1)
    ]
    return poll, options


def test_csv_is_utf8_with_bom_and_accents_survive() -> None:
    content = csv_file(["opción", "votos"], [["Niños pequeños", 3]])
    assert content.startswith(BOM)
    assert content.decode("utf-8-sig") == "opción,votos\r\nNiños pequeños,3\r\n"


def test_formulas_are_defused_but_numbers_stay_numbers() -> None:
    content = csv_file(["a"], [['=HYPERLINK("x")'], ["+1"], ["-2"], ["@here"], [-3], ["ok"]])
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows == [["a"], ['\'=HYPERLINK("x")'], ["'+1"], ["'-2"], ["'@here"], ["-3"], ["ok"]]


def test_totals_and_ballots_are_separate_files_numbered_as_members_saw_them() -> None:
    poll, options = _poll("approval", ["Niños", "=cmd", "Familias"])
    ballots = [{41: 1, 43: 1}, {41: 1}]
    result = tally(Method.APPROVAL, [o.id for o in options], ballots)
    files = export_files(T, poll, options, result, [("Begoña", ballots[0]), ("@dan", ballots[1])])
    assert [f.filename for f in files] == ["poll-7-totals.csv", "poll-7-ballots.csv"]
    assert all(f.mime == "text/csv" for f in files)
    totals, votes = (_rows(f) for f in files)
    assert totals == [
        ["number", "option", "approvals", "winner"],
        ["1", "Niños", "2", "yes"],
        ["2", "'=cmd", "0", ""],
        ["3", "Familias", "1", ""],
    ]
    assert votes == [
        ["voter", "number", "option", "approval"],
        ["Begoña", "1", "Niños", "1"],
        ["Begoña", "3", "Familias", "1"],
        ["'@dan", "1", "Niños", "1"],
    ]
    # Database ids (41, 42, 43) appear nowhere.
    assert not any(cell in {"41", "42", "43"} for f in files for row in _rows(f) for cell in row)


def test_ranked_export_has_every_round_and_marks_the_tie() -> None:
    poll, options = _poll("ranked", ["Niños", "Familias", "Rutinas"])
    ballots = [[41], [42, 41], [43, 41], [41, 42]]
    result = tally(Method.RANKED, [o.id for o in options], ballots)
    files = export_files(T, poll, options, result, [(f"v{i}", b) for i, b in enumerate(ballots)])
    assert [f.filename for f in files] == [
        "poll-7-totals.csv",
        "poll-7-rounds.csv",
        "poll-7-ballots.csv",
    ]
    assert len(files) <= MAX_EXPORT_FILES
    totals, rounds, ranks = (_rows(f) for f in files)
    assert totals[0] == ["number", "option", "first choices", "winner"]
    assert totals[1] == ["1", "Niños", "2", "yes"]
    assert rounds == [
        ["round", "number", "option", "votes", "status"],
        ["1", "1", "Niños", "2", ""],
        ["1", "2", "Familias", "1", ""],
        ["1", "3", "Rutinas", "1", "eliminated (tie broken by listing order)"],
        ["1", "", "(exhausted ballots)", "0", ""],
        ["2", "1", "Niños", "3", "winner"],
        ["2", "2", "Familias", "1", ""],
        ["2", "", "(exhausted ballots)", "0", ""],
    ]
    assert ranks[0] == ["voter", "number", "option", "rank"]
    assert ["v1", "2", "Familias", "1"] in ranks and ["v1", "1", "Niños", "2"] in ranks


def test_anonymous_export_has_no_ballots_file() -> None:
    poll, options = _poll("single", ["A", "B"], anonymous=True)
    result = tally(Method.SINGLE, [o.id for o in options], [{41: 1}])
    files = export_files(T, poll, options, result, None)
    assert [f.filename for f in files] == ["poll-7-totals.csv"]


@pytest.fixture
async def bot(db, clock):  # type: ignore[no-untyped-def]
    b = await Bot(db, clock).start()
    await b.setup()
    yield b
    await b.app.stop()


def _dm_files(bot: Bot, user: str) -> tuple[str, dict[str, list[list[str]]]]:
    [sent] = [s for s in bot.fake.sent if s.kind == "dm" and s.target == user]
    files = {b.filename: _rows(b) for b in sent.message.blocks if isinstance(b, File)}
    return sent.message.text, files


async def test_export_reaches_the_facilitator_by_dm_on_both_databases(bot: Bot) -> None:
    await bot.cmd("ben", 'poll new "¿Qué tema?" options="Niños | Familias" method=ranked')
    await bot.submit("cara", "vote.ranked", "1", ballot="2 1")
    await bot.submit("dan", "vote.ranked", "1", ballot="1")
    before = [s for s in bot.fake.sent if s.kind == "send"]
    assert await bot.cmd("ben", "poll export 1") == (
        "Poll #1's spreadsheets (CSV) are in your direct messages."
    )
    assert [s for s in bot.fake.sent if s.kind == "send"] == before  # nothing in the channel
    text, files = _dm_files(bot, "ben")
    assert text.startswith("Poll #1 (¿Qué tema?; ballots: 2) as spreadsheets (CSV, UTF-8):")
    assert list(files) == ["poll-1-totals.csv", "poll-1-rounds.csv", "poll-1-ballots.csv"]
    assert files["poll-1-totals.csv"][1:] == [
        ["1", "Niños", "1", "leading"],
        ["2", "Familias", "1", ""],
    ]
    assert files["poll-1-ballots.csv"][1:] == [
        ["cara", "2", "Familias", "1"],
        ["cara", "1", "Niños", "2"],
        ["dan", "1", "Niños", "1"],
    ]


async def test_anonymous_export_names_nobody_on_both_databases(bot: Bot) -> None:
    await bot.cmd("ben", 'poll new "Secret?" options="Apples | Pears" anonymous=yes')
    await bot.press("cara", "vote:cast:1:1")
    await bot.press("dan", "vote:cast:1:2")
    await bot.cmd("ben", "poll close 1")
    await bot.cmd("ben", "poll export 1")
    text, files = _dm_files(bot, "ben")
    assert list(files) == ["poll-1-totals.csv"]
    assert "No ballots file: the poll is anonymous" in text
    cells = [cell for rows in files.values() for row in rows for cell in row]
    assert "cara" not in cells and "dan" not in cells


async def test_export_refusals_change_nothing(bot: Bot) -> None:
    await bot.cmd("ben", 'poll new "Snack?" options="Apples | Pears" results=hidden')
    assert await bot.cmd("ben", "poll export 1") == (
        "The results of this poll are hidden until it closes."
    )
    assert await bot.cmd("ben", "poll export 9") == "There is no poll #9 in this community."
    assert [s for s in bot.fake.sent if s.kind == "dm"] == []


EXPORT = """
:as ana admin
:in #cop
/cop setup "Finger Lakes CoP" America/New_York
/cop facilitator add @ben
:as ben
/cop poll new "¿Qué tema?" options="Niños | Familias" method=ranked
:as cara
:press Rank your choices
:submit ballot="2 1"
:as ben
/cop poll export
:as cara
/cop poll export
"""


async def test_console_export_goes_to_the_facilitators_dm_as_separate_files() -> None:
    lines = await transcript(EXPORT, zone="America/New_York")
    start = lines.index("cara> :as ben")
    assert lines[start + 1 : start + 5] == [
        "ben> /cop poll export",
        "[private @ben] Poll #1's spreadsheets (CSV) are in your direct messages.",
        "[dm @ben] Poll #1 (¿Qué tema?; ballots: 1) as spreadsheets (CSV, UTF-8):",
        "  poll-1-totals.csv, poll-1-rounds.csv, poll-1-ballots.csv",
    ]
    files = [line for line in lines[start + 5 :] if line.startswith("  [file: ")]
    assert [f.split(",")[0] for f in files] == [
        "  [file: poll-1-totals.csv",
        "  [file: poll-1-rounds.csv",
        "  [file: poll-1-ballots.csv",
    ]
    # A member is refused in one sentence and gets nothing.
    assert lines[-2] == "cara> /cop poll export"
    assert lines[-1].startswith("[private @cara] ") and "[dm @cara]" not in "\n".join(lines)


async def test_console_export_in_a_dm_is_the_answer_itself() -> None:
    lines = await transcript(
        """
        :as ana admin
        :in #cop
        /cop setup "Finger Lakes CoP" America/New_York
        /cop poll new Snack? options="Apples | Pears"
        /cop poll results
        :in dm
        /cop poll export
        """
    )
    start = lines.index("ana> /cop poll results")
    assert lines[start + 1 : start + 3] == [
        "[private @ana] Count so far of vote #1: Snack?",
        "  Nobody has voted yet.",
    ]
    assert lines[-4:] == [
        "[dm @ana] Poll #1 (Snack?; ballots: 0) as spreadsheets (CSV, UTF-8):",
        "  poll-1-totals.csv, poll-1-ballots.csv",
        "  [file: poll-1-totals.csv, " + lines[-2].split(", ")[1],
        "  [file: poll-1-ballots.csv, " + lines[-1].split(", ")[1],
    ]
    assert not any("in your direct messages" in line for line in lines)
