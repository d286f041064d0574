"""Every word people see comes through the catalog: the console transcripts of the feature
tests, replayed with the community in a pseudo-locale (tests/pseudo_locale.py: each English
text becomes ``⟦Vóté…⟧``), show no word outside the brackets except what people typed (names,
titles, answers: every word of the script), numbers, dates and times, and the console's own
driver hints (``(message 4: :press 4 LABEL)``, a form's ``answer with :submit ...``, lines
starting with ``!`` or ``~``), which belong to the console as a test tool and no platform
shows. A sentence glued from fragments, an English word in code, or a key missing from the
catalog (the translator would raise) fails here.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests import pseudo_locale
from tests.support import transcript

# (test module, script variables joined by "+", lines added): the console transcripts
# replayed in the pseudo-locale.
SCRIPTS = [
    ("test_voting_console", "INTAKE_AND_VOTE"),
    ("test_reflections_transcript", "SCRIPT"),
    ("test_between_sessions", "SCRIPT"),
    ("test_quiet_invitations", "SCRIPT"),
    ("test_agreements", "SETUP"),
    ("test_agreements_consent", "SETUP"),
    ("test_meetings_console", "SETUP+SERIES", "/cop meeting list\n/cop meeting next\n"),
    ("test_survey", "SETUP"),
    ("test_challenges", "SETUP+BRING"),
    ("test_digest", "SETUP"),
    ("test_resources", "SETUP"),
    ("test_help", "SETUP", "/cop help\n/cop help meeting\n/cop help poll new\n/cop about\n"),
    ("test_dm_lists", "SETUP"),
    ("test_mydata", "SETUP"),
]

# Words of dates and times as the console prints them (Babel's English for a pseudo-locale
# it does not know), and the zone abbreviations of the test zones.
DATE_WORDS = {
    *"mon tue wed thu fri sat sun".split(),
    *"jan feb mar apr may jun jul aug sep oct nov dec".split(),
    *"january february march april june july august september october november december".split(),
    *"est edt cet cest utc gmt pst pdt cst cdt mst mdt".split(),
}

_PREFIX = re.compile(r"^\s*(\[(#|private |form |dm |thread |edit |file )[^\]]*\]\s*)?")
_CHROME = [
    re.compile(r"\(message \d+ updated\)"),
    re.compile(r"\(message \d+: :press \d+ LABEL\)"),
    re.compile(r"answer with :submit .*$"),
    re.compile(r"\((required|optional)(; one of [^)]*)?\)"),
    re.compile(r"^\s*\d+\) "),  # the console numbers the buttons it shows
    re.compile(r"^\s*[a-z][a-z0-9_]*: (?=⟦)"),  # a form field's name before its label
    re.compile(r"\[file: [^\]]*\]"),  # an attachment: its file name and size
]
_WORD = re.compile(r"[^\W\d_][^\W_]*(?:['’-][^\W\d_]+)*")


@pytest.fixture(scope="module")
def pseudo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    folder = tmp_path_factory.mktemp("pseudo")
    pseudo_locale.build(folder)
    yield
    pseudo_locale.remove(folder)


def _english_labels() -> dict[str, str]:
    with pseudo_locale.ENGLISH_PO.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    return {
        m.string: pseudo_locale.pseudo_text(m.string)
        for m in catalog
        if m.id and isinstance(m.string, str) and m.string and "{" not in m.string
    }


def in_pseudo_locale(script: str) -> str:
    """The script with its community set up in the pseudo-locale and its button presses
    naming the pseudo-locale's labels."""
    labels = _english_labels()
    out = []
    for line in script.splitlines():
        if line.lstrip().startswith("/cop setup "):
            line += f" language={pseudo_locale.PSEUDO}"
        press = re.match(r"^(\s*:press (?:\d+ )?)(.+)$", line)
        if press and press.group(2) in labels:
            line = press.group(1) + labels[press.group(2)]
        out.append(line)
    return "\n".join(out)


def command_words() -> set[str]:
    """The words of command syntax (``/cop meeting series SCHEDULE [title=]``): command
    names, parameter names and choices, in every language the same."""
    from bot.features import build_registry

    words: set[str] = set()
    for cmd in build_registry().commands.values():
        words |= {w.casefold() for w in _WORD.findall(cmd.usage())}
    return words


def leaks(lines: list[str], script: str) -> list[str]:
    """The output lines with a word that came neither through the catalog nor from the
    script (what people typed), nor is command syntax, each with the offending words."""
    typed = {w.casefold() for w in _WORD.findall(script)} | command_words()
    found = []
    for line in lines:
        if re.match(r"^\S+> ", line) or line.startswith(("!", "~", "you> ")):
            continue  # what was typed, the console's own errors and clock
        rest = _PREFIX.sub("", line, count=1)
        for chrome in _CHROME:
            rest = chrome.sub(" ", rest)
        rest = pseudo_locale.outside(rest)
        words = [w for w in _WORD.findall(rest) if w.casefold() not in typed | DATE_WORDS]
        if words:
            found.append(f"{line.strip()}  <- {' '.join(words)}")
    return found


@pytest.mark.long
@pytest.mark.parametrize("source", SCRIPTS, ids=lambda s: f"{s[0]}-{s[1]}")
async def test_every_visible_word_comes_through_the_catalog(
    pseudo: None, source: tuple[str, ...]
) -> None:
    module = importlib.import_module(f"tests.{source[0]}")
    script = "\n".join(getattr(module, name) for name in source[1].split("+"))
    script = in_pseudo_locale(script + "\n" + "".join(source[2:]))
    lines = await transcript(script, zone="America/New_York")
    shown = [line for line in lines if pseudo_locale.OPEN in line]
    assert len(shown) >= 3, "the community did not speak the pseudo-locale"
    found = leaks(lines, script) + [f"{line}  <- glued" for line in glued(lines)]
    assert found == [], "\n".join(found)


def test_the_pseudo_text_keeps_placeholders_and_marks_everything_else() -> None:
    assert glued(["⟦Çlóšéš⟧ Tue 3 Nov 2026, 18:30 EST⟦.⟧", "⟦Á.⟧ ⟦B.⟧", "1) ⟦Ý⟧ · 2) ⟦Ñ⟧"]) == [
        "⟦Çlóšéš⟧ Tue 3 Nov 2026, 18:30 EST⟦.⟧"
    ]
    assert pseudo_locale.pseudo_text("Vote #{id}: {question}") == "⟦Vóté #{id}: {question}⟧"
    assert pseudo_locale.pseudo_text(" ({count} more)") == " ⟦({count} móŕé)⟧"
    assert pseudo_locale.outside("a ⟦b ⟦c⟧ d⟧ e").split() == ["a", "e"]
    assert leaks(["[#cop] ⟦Hî⟧ Hello ana"], "/cop join ana") == ["[#cop] ⟦Hî⟧ Hello ana  <- Hello"]


def test_the_pseudo_locale_is_only_in_tests() -> None:
    assert not (Path(__file__).parent.parent / "bot/locale" / pseudo_locale.PSEUDO).exists()


def glued(lines: list[str]) -> list[str]:
    """Lines where two catalog texts sit side by side at the top level (``⟦a⟧ ⟦b⟧`` or
    ``⟦a⟧ Tue 3 Nov… ⟦b⟧``): a sentence glued from fragments. Two whole sentences (the
    first ends with . ? or !) and the items of a list (`` · ``, ``|``) are not."""
    found = []
    for line in lines:
        line = re.sub(r"(^|\s)\d+\) ", r"\1", line)  # the console's button numbers
        depth, top = 0, []
        for i, ch in enumerate(line):
            if ch == pseudo_locale.OPEN:
                if depth == 0:
                    top.append(i)
                depth += 1
            elif ch == pseudo_locale.CLOSE:
                depth -= 1
                if depth == 0:
                    top.append(i)
        for close, open_ in zip(top[1::2], top[2::2], strict=False):
            between = line[close + 1 : open_]
            sentence = line[close - 1] in ".?!"
            if between.strip() not in ("·", "|") and not (sentence and between == " "):
                found.append(line.strip())
                break
    return found
